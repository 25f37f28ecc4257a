"""Outgoing mail: through a real SMTP server when configured, else to the outbox folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer_app.mail import MailError, build_message, send_mail, send_messages
from tests.conftest import _free_port


def test_mail_goes_through_smtp(app_ctx, smtp_inbox) -> None:
    send_mail("anna@example.org", "Hello Ünïcode", "Line one\nGrüße", to_name="Anna Berg")
    send_mail("b@example.org", "Hi", "Body", to_name="Müller, Jörg")
    message, second = smtp_inbox.messages
    assert second["To"].addresses[0].display_name == "Müller, Jörg"
    assert message["To"] == "Anna Berg <anna@example.org>"
    assert message["Subject"] == "Hello Ünïcode"
    assert message["From"] == app_ctx.config["MAIL_SENDER"]
    assert "Grüße" in message.get_content()


def test_several_messages_over_one_connection(app_ctx, smtp_inbox) -> None:
    sent = send_messages([build_message(f"e{i}@example.org", "Reminder", "Body") for i in range(3)])
    assert sent == 3
    assert sorted(m["To"] for m in smtp_inbox.messages) == [
        "e0@example.org",
        "e1@example.org",
        "e2@example.org",
    ]


def test_without_a_server_mail_is_kept_in_the_outbox(app_ctx) -> None:
    outbox = Path(app_ctx.config["OUTBOX_DIR"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    send_mail("bob@example.org", "Invitation", "Open https://example.org/invitation/abc")
    [written] = set(outbox.glob("*.eml")) - before
    text = written.read_text()
    assert "To: bob@example.org" in text
    assert "https://example.org/invitation/abc" in text


def test_unreachable_server_raises_mail_error(app_ctx) -> None:
    app_ctx.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    try:
        with pytest.raises(MailError):
            send_mail("bob@example.org", "Invitation", "Body")
    finally:
        app_ctx.config.update(MAIL_SERVER=None, MAIL_PORT=25)
