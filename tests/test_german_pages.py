"""Every page in German writes numbers and dates the German way (day month year, 24-hour
clock) and shows no stored value where a label belongs (issue 12, point 1): signed in as each role that reads pages, in the access table's
world (tests/test_access_table.py), every page the table answers is read as text."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient

from reviewer_app.models import Phase, Role

from .test_access_table import (
    OK,
    TABLE,
    Actor,
    World,
    build_url,
    requests_in_order,
    sign_in,
    world,  # noqa: F401  (the fixture)
)

ENGLISH_DECIMAL = re.compile(r"(?<![\d.,])\d+\.\d{1,2}(?![\d.])")
# 11/30/26, 8:40 PM: the month first and a 12-hour clock.
US_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}:\d\d\s?[AP]M\b")
# What is stored, which a German page must show through its label.
STORED = {p.value for p in Phase} | {Role.COORDINATOR.value, Role.OBSERVER.value}
STORED |= {"mean", "median", "submitted", "draft"}
# Not inside a dotted action name ("consensus.save"), which the audit log shows as its id.
RAW = re.compile(r"(?<![\w.])(" + "|".join(sorted(STORED)) + r")(?![\w.])")


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_every_page_in_german_writes_german_numbers_and_labels(
    app: Flask,
    client: FlaskClient,
    world: World,  # noqa: F811
) -> None:
    problems: list[str] = []
    pages = 0
    for actor in (Actor.COORDINATOR, Actor.ASSIGNED, Actor.OBSERVER):
        client.post("/logout")
        sign_in(client, world, actor)
        client.post("/language", data={"language": "de", "next": "/"})
        for endpoint, method in requests_in_order():
            if method != "GET" or TABLE[endpoint][method][actor] is not OK:
                continue
            response = client.get(build_url(app, endpoint, world, actor))
            if response.mimetype != "text/html":
                continue
            pages += 1
            text = visible_text(response.get_data(as_text=True))
            if found := sorted(set(ENGLISH_DECIMAL.findall(text))):
                problems.append(f"{endpoint} as {actor}: English numbers {found[:5]}")
            if dates := sorted(set(US_DATE.findall(text))):
                problems.append(f"{endpoint} as {actor}: dates the American way {dates[:5]}")
            if "€" in text or "$" in text:  # money is written one way: 1.000,00 EUR
                problems.append(f"{endpoint} as {actor}: a currency sign")
            if raw := sorted(set(RAW.findall(text))):
                problems.append(f"{endpoint} as {actor}: stored values {raw[:5]}")
    assert pages > 30  # the sweep reads the pages, not an empty list
    assert not problems, "\n".join(problems)
