"""Helpers for the WTForms forms of every area: errors found after validation, and the groups
of fields that runtime-built forms (one group per criterion or proposal) are made of."""

from __future__ import annotations

from typing import Any

from wtforms import Field, Form, FormField
from wtforms.fields import choices as _choices


def choice(value: str, label: str) -> tuple[str, str]:
    """One option of a select or radio field: WTForms' ``SelectChoice`` (its plain-tuple form
    is deprecated), a named tuple that starts with the value and the label. The stubs of
    WTForms predate it, so it is reached here, once."""
    made: tuple[str, str] = getattr(_choices, "SelectChoice")(value, label)  # noqa: B009
    return made


def strip(value: Any) -> Any:
    """A field filter: text without the spaces around it (None and files pass unchanged)."""
    return value.strip() if isinstance(value, str) else value


def add_error(field: Field, message: str) -> None:
    """Show ``message`` beside ``field``: an error found after validation (by a service, or a
    check across fields)."""
    # WTForms keeps a field's errors in a list after validation; its stubs promise only a
    # sequence, so the list is rebuilt rather than appended to.
    field.errors = [*field.errors, message]


def subform(form: Form, name: str) -> FormField[Any]:
    """The group of fields ``name`` of a runtime-built form (``form.c_compute.score``)."""
    field = form[name]
    if not isinstance(field, FormField):
        raise TypeError(f"{name!r} is not a group of fields")
    return field
