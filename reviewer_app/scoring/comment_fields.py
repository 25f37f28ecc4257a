"""Criteria with several comment boxes (``[[criteria.comment_fields]]``): reading them from a
scheme file, and the one way their texts become a criterion's comment and back.

A review keeps the boxes' texts apart (``Score.parts``) so the form can show them again; every
reader of a comment (the reports, the consensus page, the exports) reads the one composed text,
"Strengths:" and its text, a blank line, "Weaknesses:" and its text, in the scheme's own
language. Pure: standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import limits
from .scheme import CRITERION_KEY, CommentField

if TYPE_CHECKING:
    from .scheme_parser import _Checker


def read_comment_fields(
    check: _Checker, item: Mapping[str, Any], prefix: str
) -> tuple[CommentField, ...]:
    """The ``comment_fields`` of one criterion table, each problem reported at its place."""
    raw = item.get("comment_fields")
    if raw is None:
        return ()
    where = f"{prefix}.comment_fields"
    if not isinstance(raw, list) or not all(isinstance(f, Mapping) for f in raw):
        check.add(where, "must be a list of [[criteria.comment_fields]] tables")
        return ()
    if check.limited and len(raw) > limits.COMMENT_FIELDS:
        check.add(where, f"at most {limits.COMMENT_FIELDS} comment fields, got {len(raw)}")
        return ()
    if len(raw) == 1:
        check.add(where, "give two or more fields, or none (one comment box is the default)")
    fields: list[CommentField] = []
    seen: set[str] = set()
    for index, table in enumerate(raw, start=1):
        at = f"{where}[{index}]"
        check.unknown(table, {"key", "label", "min_chars"}, f"{at}.")
        key = check.text(table, "key", f"{at}.key", required=True)
        if key and not CRITERION_KEY.fullmatch(key):
            check.add(
                f"{at}.key",
                "use lowercase letters, digits and '_', starting with a letter, at most 40 "
                "characters",
            )
        elif key in seen:
            check.add(f"{at}.key", f"duplicate comment field '{limits.excerpt(key)}'")
        seen.add(key)
        label = check.text(
            table, "label", f"{at}.label", required=True, max_length=limits.CRITERION_TITLE
        )
        minimum = check.integer(
            table, "min_chars", f"{at}.min_chars", default=0, low=0, high=limits.COMMENT
        )
        fields.append(CommentField(key=key, label=label, min_chars=minimum))
    return tuple(fields)


def compose(fields: tuple[CommentField, ...], parts: Mapping[str, str]) -> str:
    """The criterion's comment made of its boxes' texts (empty boxes left out)."""
    return "\n\n".join(
        f"{field.label}:\n{text}" for field in fields if (text := parts.get(field.key, "").strip())
    )


def parts_for_form(
    fields: tuple[CommentField, ...], parts: Mapping[str, str] | None, comment: str
) -> dict[str, str]:
    """What each box shows: the texts kept apart, or (a comment written before the scheme had
    boxes, or imported as one column) the whole comment in the first box."""
    if parts is not None:
        return {field.key: str(parts.get(field.key, "")) for field in fields}
    return {field.key: comment if index == 0 else "" for index, field in enumerate(fields)}


def too_short(fields: tuple[CommentField, ...], parts: Mapping[str, str]) -> list[CommentField]:
    """The boxes whose text is shorter than their minimum."""
    return [f for f in fields if len(parts.get(f.key, "").strip()) < f.min_chars]
