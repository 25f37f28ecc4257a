"""Outgoing e-mail: SMTP from the MAIL_* settings, or the console and an outbox folder.

Without ``MAIL_SERVER`` (demo, development) every message is logged and written as an ``.eml``
file to ``OUTBOX_DIR``, so invitation links can be followed without a mail server.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import force_locale

if TYPE_CHECKING:
    from .models import Proposal, User


class MailError(Exception):
    """The mail server could not be reached or refused a message."""


def build_message(to: str, subject: str, body: str, *, to_name: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    # Address() quotes and encodes a display name with commas or umlauts correctly.
    message["To"] = Address(display_name=to_name, addr_spec=to)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="reviewer-app")
    message.set_content(body)
    return message


@contextmanager
def in_language_of(user: User) -> Iterator[None]:
    """Texts made inside are in ``user``'s language (their own, else the site's): a message
    is written for its reader, whoever's request sends it."""
    with force_locale(user.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        yield


def message_to(user: User, subject: str, body: str) -> EmailMessage:
    return build_message(user.email, subject, body, to_name=user.name)


def public_url(path: str = "/") -> str:
    """A link into the site as its users reach it (``PUBLIC_BASE_URL``)."""
    base: str = current_app.config["PUBLIC_BASE_URL"]
    return base.rstrip("/") + path


def proposal_lines(proposals: Sequence[Proposal]) -> str:
    """Proposals as a message lists them: one indented line each, label and title."""
    return "\n".join(f"  - {p.label}: {p.title}" for p in proposals)


def send_messages(messages: Iterable[EmailMessage]) -> int:
    """Send every message over one connection; returns how many were sent.

    :raises MailError: the server is unreachable or refuses a message (the caller rolls back,
        so nothing claims a mail was sent that was not).
    """
    messages = list(messages)
    if not messages:
        return 0
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        _write_outbox(messages)
        return len(messages)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=15) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            for message in messages:
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.error("sending mail failed: %s", exc)
        raise MailError(str(exc)) from exc
    return len(messages)


def send_mail(to: str, subject: str, body: str, *, to_name: str = "") -> None:
    """:raises MailError: see :func:`send_messages`."""
    send_messages([build_message(to, subject, body, to_name=to_name)])


def _write_outbox(messages: list[EmailMessage]) -> None:
    outbox = Path(current_app.config["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    for number, message in enumerate(messages, start=1):
        current_app.logger.warning(
            "mail (no MAIL_SERVER set, kept in %s):\n%s", outbox, message.as_string()
        )
        (outbox / f"{stamp}-{number:03d}.eml").write_bytes(message.as_bytes())
