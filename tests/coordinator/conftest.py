"""Helpers of the coordinator tests: reviews and conflict declarations in a given state."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from flask import Flask

from reviewer_app.extensions import db
from reviewer_app.models import (
    Assignment,
    ConflictDeclaration,
    Review,
    ReviewStatus,
    Score,
    utcnow,
)


@pytest.fixture
def make_review(app_ctx: Flask) -> Callable[..., Review]:
    def make(assignment: Assignment, *, submitted: bool = True, value: str = "4") -> Review:
        criteria = list(assignment.proposal.call.criteria)
        if assignment.declaration is None:
            assignment.declaration = ConflictDeclaration(
                has_conflict=False, confidentiality_accepted=True
            )
        review = Review(
            assignment=assignment,
            status=ReviewStatus.SUBMITTED if submitted else ReviewStatus.DRAFT,
            submitted_at=utcnow() if submitted else None,
        )
        review.scores = [
            Score(criterion=c, value=Decimal(value), comment="A comment long enough. " * 3)
            for c in criteria
        ]
        db.session.add(review)
        db.session.commit()
        return review

    return make


@pytest.fixture
def declare_conflict(app_ctx: Flask) -> Callable[..., ConflictDeclaration]:
    def declare(
        assignment: Assignment, reason: str = "I work for the applicant."
    ) -> ConflictDeclaration:
        declaration = ConflictDeclaration(assignment=assignment, has_conflict=True, reason=reason)
        db.session.add(declaration)
        db.session.commit()
        return declaration

    return declare


class Inbox:
    """The messages an aiosmtpd server on 127.0.0.1 received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        raw = envelope.original_content or envelope.content  # type: ignore[attr-defined]
        self.messages.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_inbox(app: Flask) -> Iterator[Inbox]:
    """A real SMTP server for the test; the app sends its mail there."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield inbox
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
        controller.stop()
