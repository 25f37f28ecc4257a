"""Forms of the coordinator's pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
)

from .. import limits
from ..formhelpers import add_error, choice
from ..formhelpers import strip as _strip
from ..security import MAX_ID


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


CENT = Decimal("0.01")


def _amount(_form: Any, field: Any) -> None:
    """A finite amount in euros from 0 to ``limits.MAX_EUR``, in whole cents.

    Checked in this order, stopping at the first problem: ``NaN`` fails every comparison, and
    ``1e26`` cannot even be rounded to cents.
    """
    value = field.data
    if not isinstance(value, Decimal):
        return
    if not value.is_finite():
        raise StopValidation(_l("Enter an amount in euros, e.g. 1500000.00."))
    if not 0 <= value <= limits.MAX_EUR:
        raise StopValidation(_l("The amount must be 0 or more, and less than a trillion euros."))
    if value != value.quantize(CENT):
        raise StopValidation(_l("Use at most two decimals (cents)."))


def amount_field(label: Any, **kwargs: Any) -> DecimalField:
    """An optional amount in euros (see :func:`_amount`)."""
    return DecimalField(label, places=2, validators=[Optional(), _amount], **kwargs)


def id_field(*, required: bool = True) -> IntegerField:
    """The id of a row that a page posts in a hidden input (an expert, a proposal).

    A whole number from 1 to ``MAX_ID``, as in URLs: a 25-digit or negative id is a form error
    (it names no row, and SQLite could not even compare it: OverflowError).
    """
    return IntegerField(
        validators=[InputRequired() if required else Optional(), NumberRange(min=1, max=MAX_ID)]
    )


CALL_KEY = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
COUNTRY = r"^[A-Z]{2}$"


def country_field(description: Any) -> StringField:
    """An optional ISO 3166 alpha-2 code, upper-cased as typed (proposals and experts alike)."""
    return StringField(
        _l("Country"),
        validators=[
            Optional(),
            Regexp(COUNTRY, message=_l("Use the two-letter country code, e.g. DE.")),
        ],
        filters=[_upper],
        description=description,
    )


class CallSettingsForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(), Length(max=limits.CALL_TITLE)], filters=[_strip]
    )
    budget_eur = amount_field(
        _l("Budget (EUR)"),
        description=_l(
            "Leave empty when the call has no budget: every passing proposal is then funded."
        ),
    )
    deadline = DateField(_l("Deadline for reviews"), validators=[Optional()])
    consensus_deadline = DateField(
        _l("Deadline for consensus reports"),
        description=_l("The rapporteurs' due date; reports not final by then are marked overdue."),
        validators=[Optional()],
    )
    anonymise_experts = BooleanField(
        _l("Show experts to each other as “Expert A, B, C” during consensus"), default=True
    )
    reviews_open_after_submit = BooleanField(
        _l("An expert who submitted a review may read the other experts' reviews of the proposal"),
        description=_l(
            "Off: each expert sees only their own review until the consensus. On: once their "
            "own review is submitted, an expert reads the panel's other submitted reviews."
        ),
        default=False,
    )
    lottery_low_percent = IntegerField(
        _l("Partial lottery: from a funded probability of (%)"),
        validators=[Optional(), NumberRange(min=1, max=99)],
        description=_l(
            "Optional. With both bounds, the budget left after the clearly fundable proposals "
            "is drawn by lot among those whose funded probability (Analytics) lies between them."
        ),
    )
    lottery_high_percent = IntegerField(
        _l("Partial lottery: up to a funded probability of (%)"),
        validators=[Optional(), NumberRange(min=1, max=99)],
    )
    panel_review = BooleanField(
        _l("A panel review in the ranking phase"),
        description=_l(
            "On: the panel orders the members of ex aequo groups (a reason for each place), "
            "comments on proposals and writes a report, all in the decision report. Off: "
            "ties stay ex aequo as the rules leave them."
        ),
        default=False,
    )
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators: Any = None) -> bool:
        return super().validate(extra_validators) and _check_lottery(self)


def lottery_percent(form: CallSettingsForm) -> tuple[int, int] | None:
    """The lottery's bounds as the form gives them (validated): both, or None."""
    low, high = form.lottery_low_percent.data, form.lottery_high_percent.data
    return None if low is None or high is None else (low, high)


def _check_lottery(form: CallSettingsForm) -> bool:
    """Both bounds or neither, the lower below the upper."""
    low, high = form.lottery_low_percent.data, form.lottery_high_percent.data
    if (low is None) != (high is None):
        add_error(
            form.lottery_high_percent if high is None else form.lottery_low_percent,
            _l("Give both bounds of the lottery, or neither."),
        )
        return False
    if low is not None and high is not None and low >= high:
        add_error(form.lottery_high_percent, _l("The upper bound must be above the lower one."))
        return False
    return True


class CallCreateForm(CallSettingsForm):
    key = StringField(
        _l("Key"),
        validators=[
            DataRequired(),
            Regexp(
                CALL_KEY, message=_l("Use letters, digits, '-', '_' or '.', at most 64 characters.")
            ),
        ],
        filters=[_strip],
        description=_l(
            "A short identifier used in addresses and on the command line, e.g. ai-factories-2024."
        ),
    )
    scheme_file = SelectField(_l("Scheme from the criteria folder"), choices=[], default="")
    scheme_upload = FileField(_l("… or upload a scheme file (TOML)"))
    submit = SubmitField(_l("Create call"))


class PhaseForm(FlaskForm):
    target = HiddenField(validators=[DataRequired()])
    confirm_open_reviews = BooleanField(
        _l("Close the evaluation although some reviews are still open")
    )
    confirm_unfinished_consensus = BooleanField(
        _l("Move to ranking although some consensus reports are not final")
    )
    submit = SubmitField(_l("Move the call"))


class CloseCallForm(FlaskForm):
    """Closing the call is confirmed in the form itself: no script, no dialog."""

    confirm = BooleanField(
        _l("I have checked these decisions and close the call for good."),
        validators=[
            DataRequired(message=_l("Tick the box to confirm that the call closes for good."))
        ],
    )
    submit = SubmitField(_l("Close the call"))


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Give a reason for reopening the review.")),
            Length(max=limits.REOPEN_REASON),
        ],
        filters=[_strip],
        description=_l("The expert receives the reason by e-mail; the audit log keeps it."),
    )
    submit = SubmitField(_l("Reopen the review"))


class ProposalForm(FlaskForm):
    reference = StringField(
        _l("Reference"),
        validators=[DataRequired(), Length(max=limits.PROPOSAL_REFERENCE)],
        filters=[_strip],
    )
    acronym = StringField(
        _l("Acronym"), validators=[Length(max=limits.PROPOSAL_ACRONYM)], filters=[_strip]
    )
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(max=limits.PROPOSAL_TITLE)],
        filters=[_strip],
    )
    applicant = StringField(
        _l("Applicant (organisation)"),
        validators=[Length(max=limits.PROPOSAL_APPLICANT)],
        filters=[_strip],
    )
    country = country_field(_l("Two-letter code (ISO 3166), e.g. DE, FR, IT."))
    requested_funding_eur = amount_field(_l("Requested funding (EUR)"))
    summary = TextAreaField(
        _l("Summary"), validators=[Length(max=limits.PROPOSAL_SUMMARY)], filters=[_strip]
    )
    submit = SubmitField(_l("Save proposal"))


class UploadForm(FlaskForm):
    file = FileField(_l("File"))
    submit = SubmitField(_l("Upload"))


class InviteForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=limits.USER_NAME)], filters=[_strip]
    )
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Email(), Length(max=limits.USER_EMAIL)],
        filters=[_strip],
    )
    organisation = StringField(
        _l("Organisation"), validators=[Length(max=limits.USER_ORGANISATION)], filters=[_strip]
    )
    country = country_field(_l("Two-letter code (ISO 3166); used by the automatic conflict rules."))
    expertise = StringField(
        _l("Expertise keywords"),
        validators=[Length(max=limits.EXPERTISE)],
        filters=[_strip],
        description=_l("Separated by commas, e.g. HPC, machine learning, procurement."),
    )
    language = SelectField(
        _l("Language of the invitation"),
        choices=[choice("en", "English"), choice("de", "Deutsch")],
    )
    submit = SubmitField(_l("Invite expert"))


class PairForm(FlaskForm):
    """One cell of the assignment matrix."""

    proposal_id = id_field()
    expert_id = id_field()


class ReminderForm(FlaskForm):
    expert_id = id_field(required=False)  # none: every expert with open work
    submit = SubmitField(_l("Send reminders"))


class DueDateForm(FlaskForm):
    expert_id = id_field()
    due_date = DateField(_l("Due date"), validators=[Optional()])
    submit = SubmitField(_l("Set"))


class PanelPlaceForm(Form):
    """One member of an ex aequo group: the panel's place for it and why (no CSRF field of
    its own: it is part of ``PanelOrderForm``)."""

    reference = HiddenField(validators=[DataRequired(), Length(max=limits.PROPOSAL_REFERENCE)])
    place = IntegerField(_l("Place"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    reason = TextAreaField(
        _l("Reason"), validators=[Length(max=limits.PANEL_REASON)], filters=[_strip]
    )


class PanelOrderForm(FlaskForm):
    # As many rows as the group has (the service checks them against it): a group of a large
    # call may hold hundreds of proposals.
    members = FieldList(FormField(PanelPlaceForm), min_entries=0)
    save = SubmitField(_l("Save the panel's order"))
    clear = SubmitField(_l("Leave them ex aequo"))


class PanelCommentForm(FlaskForm):
    reference = StringField(
        _l("Proposal reference"),
        validators=[DataRequired(), Length(max=limits.PROPOSAL_REFERENCE)],
        filters=[_strip],
    )
    comment = TextAreaField(
        _l("The panel's comment"),
        validators=[Length(max=limits.PANEL_COMMENT)],
        filters=[_strip],
        description=_l("In the decision report, never in the applicant's summary. Empty: none."),
    )
    save_comment = SubmitField(_l("Save the comment"))


class PanelReportForm(FlaskForm):
    report = TextAreaField(
        _l("The panel's report"),
        validators=[Length(max=limits.PANEL_REPORT)],
        filters=[_strip],
        description=_l("How the panel worked and what it decided; printed in the decision report."),
    )
    save_report = SubmitField(_l("Save the report"))


class LotterySeedForm(FlaskForm):
    seed = IntegerField(
        _l("Seed of the draw"),
        validators=[InputRequired(), NumberRange(min=0, max=2**63 - 1)],
        description=_l(
            "A whole number fixed before the draw, for example the digits of a public lottery "
            "result; anyone can repeat the draw with it."
        ),
    )
    confirm = BooleanField(
        _l("I publish this seed: it cannot change afterwards, and the draw follows from it."),
        validators=[DataRequired(message=_l("Please confirm that the seed is final."))],
    )
    publish = SubmitField(_l("Publish the seed"))


class LotteryDrawForm(FlaskForm):
    draw = SubmitField(_l("Draw the lottery"))
