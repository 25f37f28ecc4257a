"""Forms of the expert area; the scoring form is built at runtime from the call's criteria."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    RadioField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from .. import limits
from ..formhelpers import choice, strip
from ..scoring.scheme import CommentField, CriterionSpec, Scale, Scheme
from ..security import MAX_ID
from .services import ScoreInput


class DeclarationForm(FlaskForm):
    has_conflict = RadioField(
        _l("Do you have a conflict of interest with this proposal?"),
        choices=[
            choice("no", _l("No, I have no conflict of interest")),
            choice("yes", _l("Yes, I have a conflict of interest")),
        ],
        validators=[InputRequired(message=_l("Please answer this question."))],
    )
    reason = TextAreaField(
        _l("Reason for the conflict"),
        validators=[Length(max=limits.CONFLICT_REASON)],
        filters=[strip],
    )
    confidentiality = BooleanField(
        _l("I will keep the proposal and its evaluation confidential and use them only for it.")
    )
    submit = SubmitField(_l("Send declaration"))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.has_conflict.data == "yes" and not self.reason.data:
            self.reason.errors = [
                *self.reason.errors,
                _l("Please give the reason for the conflict."),
            ]
            valid = False
        if self.has_conflict.data == "no" and not self.confidentiality.data:
            self.confidentiality.errors = [
                *self.confidentiality.errors,
                _l("Please accept the confidentiality terms to open the proposal."),
            ]
            valid = False
        return valid


class LateConflictForm(FlaskForm):
    """A conflict found after the proposal opened (the first declaration said none)."""

    reason = TextAreaField(
        _l("Reason for the conflict"),
        validators=[
            # DataRequired: the stripped text, so that spaces alone are no reason.
            DataRequired(message=_l("Please give the reason for the conflict.")),
            Length(max=limits.CONFLICT_REASON),
        ],
        filters=[strip],
    )
    understood = BooleanField(
        _l("I understand that my review of this proposal will no longer count."),
        validators=[DataRequired(message=_l("Please confirm that your review stops counting."))],
    )
    declare = SubmitField(_l("Declare the conflict"))


def scale_value(value: Decimal) -> str:
    """The canonical form of a score in forms and JSON: ``4.5``, ``4`` (never ``4.50``)."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class CriterionFields:
    criterion: CriterionSpec
    score: RadioField
    comment: TextAreaField | None  # None: the criterion has several boxes (``parts``)
    parts: tuple[tuple[CommentField, TextAreaField], ...] = ()

    def boxes(self) -> list[TextAreaField]:
        return [self.comment] if self.comment is not None else [box for _f, box in self.parts]


def box_limit(boxes: int) -> int:
    """The longest text of one of ``boxes`` comment boxes: together with their labels they
    make one comment, which must fit ``limits.COMMENT`` like any other (exports, imports)."""
    return limits.COMMENT // boxes - limits.CRITERION_TITLE - 4  # "Label:\n" and "\n\n"


def part_name(criterion: str, field: str) -> str:
    """The input name of one comment box of a criterion with several."""
    return f"part_{criterion}__{field}"


class ReviewForm(FlaskForm):
    """Base of the runtime-built scoring forms; see :func:`make_review_form`."""

    # Optimistic locking: the review's version when the page was loaded (0: no review yet).
    version = IntegerField(widget=HiddenInput(), validators=[NumberRange(min=0, max=MAX_ID)])
    save = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit"))

    criteria: Sequence[CriterionSpec] = ()
    scale: Scale
    comment_min_chars: int = 0

    @property
    def is_submit(self) -> bool:
        return bool(self.submit.data)

    def criterion_fields(self) -> list[CriterionFields]:
        return [
            CriterionFields(
                c,
                self[f"score_{c.key}"],  # type: ignore[arg-type]
                None if c.comment_fields else self[f"comment_{c.key}"],  # type: ignore[arg-type]
                tuple((f, self[part_name(c.key, f.key)]) for f in c.comment_fields),  # type: ignore[misc]
            )
            for c in self.criteria
        ]

    def validate(self, extra_validators: Any = None) -> bool:
        """Drafts: given values on the scale. Submit: also every value and long enough comments."""
        valid = super().validate(extra_validators)
        for fields in self.criterion_fields():
            value = self._value_of(fields.score)
            if value is None and fields.score.data not in (None, ""):
                fields.score.errors = [_l("Choose a score on the scale.")]
                valid = False
            elif self.is_submit and value is None:
                fields.score.errors = [_l("Choose a score for this criterion.")]
                valid = False
            boxes = (
                [(fields.comment, self.comment_min_chars)]
                if fields.comment is not None
                else [(box, f.min_chars) for f, box in fields.parts]
            )
            for box, minimum in boxes:
                comment = (box.data or "").strip()
                if self.is_submit and len(comment) < minimum:
                    box.errors = [
                        *box.errors,
                        _l(
                            "Write at least %(min)s characters (now %(count)s).",
                            min=minimum,
                            count=len(comment),
                        ),
                    ]
                    valid = False
        return valid

    def _value_of(self, field: Field) -> Decimal | None:
        raw = field.data
        if raw in (None, ""):
            return None
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            return None
        return value if value.is_finite() and self.scale.contains(value) else None

    def score_inputs(self) -> dict[str, ScoreInput]:
        """The typed input per criterion key, for the services (call after validate)."""
        # The boxes of a criterion with several are composed by the service, in the scheme's
        # own words (the form shows them in the reader's language).
        return {
            f.criterion.key: ScoreInput(
                self._value_of(f.score),
                (f.comment.data or "").strip() if f.comment is not None else "",
                {field.key: (box.data or "").strip() for field, box in f.parts}
                if f.parts
                else None,
            )
            for f in self.criterion_fields()
        }

    def stash_data(self) -> dict[str, str]:
        """Name -> value of every input, as the browser would post it."""
        data = {"version": str(self.version.data or 0)}
        for f in self.criterion_fields():
            data[f.score.name] = f.score.data or ""
            for box in f.boxes():
                data[box.name] = box.data or ""
        return data


def make_review_form(
    criteria: Sequence[CriterionSpec], scale: Scale, comment_min_chars: int = 0
) -> type[ReviewForm]:
    """A form class with a radio group (the scale) and a comment per criterion.

    Field names are ``score_<key>`` and ``comment_<key>``: criterion keys may be any identifier,
    and the prefixes keep them clear of the fixed fields (``version``, ``submit``).
    """
    choices = [choice(scale_value(v), format_decimal(v)) for v in scale.values()]
    attrs: dict[str, Any] = {
        "criteria": tuple(criteria),
        "scale": scale,
        "comment_min_chars": comment_min_chars,
    }
    for criterion in criteria:
        attrs[f"score_{criterion.key}"] = RadioField(
            criterion.title, choices=choices, validate_choice=False, default=None
        )
        if criterion.comment_fields:
            for field in criterion.comment_fields:
                attrs[part_name(criterion.key, field.key)] = TextAreaField(
                    field.label,
                    validators=[Length(max=box_limit(len(criterion.comment_fields)))],
                )
        else:
            attrs[f"comment_{criterion.key}"] = TextAreaField(
                _l("Comment"),
                validators=[Length(max=limits.COMMENT)],
            )
    return type("ScoringForm", (ReviewForm,), attrs)


def rules_data(scheme: Scheme) -> dict[str, Any]:
    """What the page's script needs to show the running total, each threshold met or not and
    the summary before submitting: numbers in integer hundredths (scores have at most two
    decimals), so the script adds and compares integers, as the engine decides on exact values.
    The server checks the same rules when the review is submitted."""

    def hundredths(value: Decimal | None) -> int | None:
        return None if value is None else int(value * 100)

    return {
        "criteria": [
            {"key": c.key, "title": c.title, "threshold": hundredths(c.threshold)}
            for c in scheme.criteria
        ],
        "overall_threshold": hundredths(scheme.rules.overall_threshold),
        "max_total": hundredths(scheme.scale.max * len(scheme.criteria)),
        "min_chars": scheme.rules.comment_min_chars,
    }
