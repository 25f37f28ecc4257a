"""The one base of every refusal a service makes: the rules say no, and the message says why.

A view (or command) that lets a ``DomainError`` through gets its blueprint's handler
(``refusals.register_refusals``): the transaction is rolled back, the message is flashed and the
user goes back to the page they came from. A view catches one itself only to do more, such as
showing the message beside a form field (``field``).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the rules refuse. ``message`` is for the user, in their language (a lazy
    translation is fine); ``field`` names the form field it belongs beside, if any."""

    #: How the message is flashed when it reaches the user through the handler.
    category = "error"

    def __init__(self, message: Any = "", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message) if self.message != "" else super().__str__()
