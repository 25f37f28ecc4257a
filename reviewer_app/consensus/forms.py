"""Consensus forms; the draft form is built from the call's criteria."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, FormField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from .. import limits
from ..display import scheme_for_reader
from ..formhelpers import choice, strip, subform
from ..models import Call
from ..security import MAX_ID


def version_field(*, required: bool) -> IntegerField:
    """The report version the page was loaded with, in a hidden input (empty: no report yet).

    A whole number up to ``MAX_ID``; anything else is a form error, not a server error.
    """
    return IntegerField(
        widget=HiddenInput(),
        validators=[InputRequired() if required else Optional(), NumberRange(min=1, max=MAX_ID)],
    )


class DraftForm(FlaskForm):
    """The consensus draft's fixed fields; ``draft_form_class`` adds one group per criterion."""

    version = version_field(required=False)
    justification = TextAreaField(
        _l("Justification"),
        description=_l(
            "Required before the report is final when the consensus meets a threshold "
            "that the reviews' aggregate does not, or fails one that it meets. For the "
            "decision report; the applicant does not receive it."
        ),
        validators=[Length(max=limits.APPROVAL_COMMENT)],
    )
    overall_comment = TextAreaField(
        _l("Overall comment"),
        description=_l(
            "The panel's overall view of the proposal, for the applicant: it opens their "
            "evaluation summary, before the comments per criterion. Never name an expert."
        ),
        validators=[Length(max=limits.APPROVAL_COMMENT)],
    )


class DiscussionForm(FlaskForm):
    """A message to the proposal's discussion."""

    text = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(message=_l("Write a message first.")),
            Length(max=limits.APPROVAL_COMMENT),
        ],
        filters=[strip],
    )


def draft_form_class(call: Call) -> type[DraftForm]:
    """One score select and one comment box per criterion, labelled with the criterion title."""
    scheme = scheme_for_reader(call.scheme)
    scale = scheme.scale

    def choices() -> list[tuple[str, str]]:
        out = [choice("", _l("Choose a score"))]
        for value in scale.values():
            label = scale.label_for(value)
            text = f"{value.normalize():f}"  # the value sent: the machine's, as the script reads it
            shown = str(format_decimal(value))  # what the reader sees: 3,5 in German
            out.append(choice(text, f"{shown} · {label}" if label else shown))
        return out

    class CallDraftForm(DraftForm):
        pass

    for criterion in scheme.criteria:

        class CriterionForm(Form):  # the enclosing form carries the CSRF token
            score = SelectField(
                _l("Score"),
                choices=choices(),
                validators=[InputRequired(_l("Choose a score."))],
            )
            comment = TextAreaField(_l("Comment"), validators=[Length(max=limits.COMMENT)])

        setattr(
            CallDraftForm, f"c_{criterion.key}", FormField(CriterionForm, label=criterion.title)
        )
    return CallDraftForm


def draft_values(form: FlaskForm, call: Call) -> dict[str, tuple[Decimal, str]]:
    return {
        c.key: (
            Decimal(subform(form, f"c_{c.key}").score.data),
            subform(form, f"c_{c.key}").comment.data or "",
        )
        for c in call.criteria
    }


class ResponseForm(FlaskForm):
    """The other experts' answer to the draft."""

    approved = RadioField(
        _l("Your answer"),
        choices=[
            choice("yes", _l("I approve this consensus report")),
            choice("no", _l("I ask for changes")),
        ],
        validators=[InputRequired(_l("Choose whether you approve the report."))],
    )
    comment = TextAreaField(
        _l("Comment"), validators=[Optional(), Length(max=limits.APPROVAL_COMMENT)]
    )

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.approved.data == "no" and not (self.comment.data or "").strip():
            self.comment.errors = [*self.comment.errors, _l("Say what should change in the draft.")]
            return False
        return ok


class MinorityViewForm(FlaskForm):
    """An expert's minority view on the consensus; empty withdraws it. The choices of
    ``expert`` are the panel members the user may speak for."""

    expert = SelectField(_l("Minority view of"), coerce=int, validate_choice=True)
    text = TextAreaField(
        _l("Minority view"),
        description=_l(
            "Where you do not share the consensus, and why. It appears in the decision "
            "report, not in the applicant's summary. Leave it empty to withdraw it."
        ),
        validators=[Optional(), Length(max=limits.APPROVAL_COMMENT)],
    )


class VersionForm(FlaskForm):
    """Finalise or reopen: just the version the coordinator looked at."""

    version = version_field(required=True)


class VersionlessForm(FlaskForm):
    """A button that acts on a whole call: only the CSRF token."""
