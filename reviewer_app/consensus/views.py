"""Consensus views: the rapporteur drafts, the other experts respond, the coordinator finalises."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..auth.access import role_required
from ..auth.stash import keeps_input_on_expiry, pop_stashed_form
from ..display import criterion_titles, decimal_sign, display_change, display_score
from ..extensions import db
from ..labels import expert_letter_label
from ..loaders import call_or_404
from ..models import Phase, Proposal, Role, utcnow
from ..refusals import back_on_refusal
from ..scoring.consensus import OVERALL, ConsensusEffect
from . import bp
from .discussion import author_labels, discussion_notices, post_message, thread
from .finalising import finalise, finalise_approved, finalise_problems, reopen
from .forms import (
    DiscussionForm,
    MinorityViewForm,
    ResponseForm,
    VersionForm,
    VersionlessForm,
    draft_form_class,
    draft_values,
)
from .lists import consensus_page, expert_work, is_overdue
from .services import (
    Access,
    ConsensusError,
    Part,
    StaleReport,
    access_for,
    approval_is_current,
    effect_of,
    expert_labels,
    load_proposal,
    panel,
    prefill,
    record_minority_view,
    report_values,
    respond,
    save_draft,
    scores_of,
    submitted_reviews,
)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    from ..coordinator.view_helpers import coordinator_helpers

    # The call pages share the coordinator's breadcrumb and tabs, which need its helpers.
    return {
        **coordinator_helpers(),
        # In the reader's language; the page's script writes with the same decimal sign.
        "format_score": display_score,
        "format_change": display_change,
        "decimal_sign": decimal_sign(),
    }


def _load(proposal_id: int) -> tuple[Proposal, Any]:
    """The proposal and the user's access; 404 for anyone without a part in it."""
    proposal = load_proposal(proposal_id)
    if proposal is None:
        abort(404)
    access = access_for(proposal, current_user)
    if access.part is None:
        abort(404)
    return proposal, access


@bp.route("/")
@role_required(Role.EXPERT)
def index() -> Any:
    """The expert's consensus work: proposals of calls in the consensus phase."""
    return render_template(
        "consensus/index.html",
        items=expert_work(current_user),
        today=utcnow().date(),
        is_overdue=is_overdue,
    )


@bp.route("/calls/<key>")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def call_progress_page(key: str) -> Any:
    """Consensus progress of a call, per proposal."""
    call = call_or_404(key)
    shown = consensus_page(
        call,
        page=request.args.get("page", 1, type=int) or 1,
        state=request.args.get("state", ""),
        query=request.args.get("q", "")[:200],
    )
    return render_template(
        "consensus/call.html",
        call=call,
        shown=shown,
        rows=shown.rows,
    )


@bp.route("/calls/<key>/finalise-approved", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".call_progress_page")
def finalise_approved_reports(key: str) -> Any:
    """Mark final every draft of the call that all its other experts approved."""
    call = call_or_404(key)
    if not VersionlessForm().validate_on_submit():
        abort(400)
    done = finalise_approved(call, current_user)
    db.session.commit()
    flash(
        _(
            "Consensus reports made final: %(list)s.",
            list=", ".join(p.reference for p in done),
        )
        if done
        else _("No draft is approved by all its experts yet."),
        "success" if done else "info",
    )
    return redirect(url_for(".call_progress_page", key=call.key))


@bp.route("/calls/<key>/remind", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".call_progress_page")
def remind_rapporteurs(key: str) -> Any:
    """E-mail the rapporteurs whose consensus reports are not final yet."""
    from ..mail import MailError
    from .reminders import remind_rapporteurs as remind

    call = call_or_404(key)
    if not VersionlessForm().validate_on_submit():
        abort(400)
    try:
        told = remind(call, actor=current_user)
        db.session.commit()
    except MailError:
        db.session.rollback()
        flash(_("The mail server refused: no reminder was sent. Try again later."), "error")
    else:
        flash(
            ngettext(
                "A reminder was sent to %(num)d rapporteur.",
                "Reminders were sent to %(num)d rapporteurs.",
                told,
            ),
            "success",
        )
    return redirect(url_for(".call_progress_page", key=call.key))


@bp.route("/proposals/<int:proposal_id>", methods=["GET", "POST"])
@role_required(Role.EXPERT, Role.COORDINATOR, Role.OBSERVER)
@keeps_input_on_expiry()
def proposal(proposal_id: int) -> Any:
    """The individual reviews side by side and the consensus report (draft form for editors)."""
    proposal, access = _load(proposal_id)
    if access.refusal is not None:
        return render_template("consensus/not_yet.html", proposal=proposal, access=access), 403
    call = proposal.call
    report = proposal.consensus
    editable = (
        access.part in (Part.RAPPORTEUR, Part.COORDINATOR)
        and call.phase is Phase.CONSENSUS
        and (report is None or not report.is_final)
    )
    if request.method == "POST" and not editable:
        if access.part in (Part.RAPPORTEUR, Part.COORDINATOR):
            flash(_("The consensus report cannot be edited now."), "error")
            return redirect(url_for(".proposal", proposal_id=proposal.id))
        abort(403)
    labels = expert_labels(proposal, expert_letter_label)
    suggested = prefill(proposal)
    # Input sent after the session had expired comes back once, into the form it came from.
    respond_path = url_for(".respond_to_draft", proposal_id=proposal.id)
    minority_path = url_for(".minority_view", proposal_id=proposal.id)
    discussion_path = url_for(".discussion", proposal_id=proposal.id)
    restored = (
        pop_stashed_form(request.path, respond_path, minority_path, discussion_path)
        if request.method == "GET"
        else None
    )
    if restored is not None:
        db.session.commit()  # the stash is handed out once
        flash(_("We restored your unsaved input. Check it and send it again."), "warning")
    form = None
    if editable:
        form_class = draft_form_class(call)
        if restored is not None and restored[0] == request.path:
            form = form_class(formdata=MultiDict(restored[1]))
        else:
            form = form_class(
                data=None if request.method == "POST" else _form_data(proposal, suggested)
            )
        if form.validate_on_submit():
            try:
                save_draft(
                    proposal,
                    current_user,
                    draft_values(form, call),
                    version=form.version.data,
                    justification=form.justification.data or "",
                    overall_comment=form.overall_comment.data or "",
                )
            except StaleReport as exc:
                db.session.rollback()
                flash(str(exc), "error")
                # Keep the editor's text for merging by hand; the next save answers the
                # version now shown beside it, so nothing is overwritten unseen.
                proposal, access = _load(proposal_id)
                report = proposal.consensus
                form.version.data = report.version if report is not None else None
                form.version.raw_data = [str(form.version.data or "")]
                return _render(
                    proposal, access, labels, suggested, form=form, conflict=True, status=409
                )
            except ConsensusError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash(_("The consensus draft is saved."), "success")
                return redirect(url_for(".proposal", proposal_id=proposal.id))
    response_form = minority_form = None
    if restored is not None and restored[0] == respond_path:
        response_form = ResponseForm(formdata=MultiDict(restored[1]))
    if restored is not None and restored[0] == minority_path:
        minority_form = _minority_form(proposal, access, labels, MultiDict(restored[1]))
    discussion_form = None
    if restored is not None and restored[0] == discussion_path:
        discussion_form = DiscussionForm(formdata=MultiDict(restored[1]), prefix=DISCUSSION)
    return _render(
        proposal,
        access,
        labels,
        suggested,
        form=form,
        response_form=response_form,
        minority_form=minority_form,
        discussion_form=discussion_form,
    )


def _form_data(proposal: Proposal, suggested: Any) -> dict[str, Any]:
    report = proposal.consensus
    source = report_values(report, proposal) if report is not None else suggested
    data: dict[str, Any] = {
        "version": report.version if report is not None else None,
        "justification": report.justification if report is not None else "",
        "overall_comment": report.overall_comment if report is not None else "",
    }
    for item in source.criteria:
        data[f"c_{item.key}"] = {
            "score": "" if item.value is None else f"{item.value.normalize():f}",
            "comment": item.comment,
        }
    return data


def _proposed(form: Any, proposal: Proposal) -> dict[str, Decimal | None]:
    """The scores chosen in the draft form (None where none is, or one off the scale)."""
    scale = proposal.call.scheme.scale
    on_scale = {f"{v.normalize():f}": v for v in scale.values()}
    return {
        c.key: on_scale.get(form[f"c_{c.key}"].score.data or "") for c in proposal.call.criteria
    }


def effect_states(effect: ConsensusEffect) -> set[str]:
    """The names of what holds for ``effect``, as the page's script names them: the server
    shows the page as the script would (``data-show-when``) before the script runs."""
    states = set()
    for key, meets in (
        *((c.key, c.proposed_meets) for c in effect.criteria),
        (OVERALL, effect.proposed_meets_overall),
    ):
        states.add(f"{'unscored' if meets is None else 'met' if meets else 'not-met'}:{key}")
    states.update(f"crosses:{key}" for key in effect.crossings)
    passes = effect.proposed_passes
    states.add("incomplete" if passes is None else "passes" if passes else "fails")
    if effect.turn is not None:
        states.add(f"turn:{effect.turn.value}")
    elif effect.crossings:
        states.add("crossing")
    if effect.needs_justification:
        states.add("needs-justification")
    return states


def _minority_form(
    proposal: Proposal, access: Access, labels: dict[int, str], formdata: Any = None
) -> MinorityViewForm:
    """The minority-view form with the experts the user may speak for: themselves (an expert),
    or any expert of the panel with a submitted review (the rapporteur, a coordinator)."""
    report = proposal.consensus
    own = (
        next((v.text for v in report.minority_views if v.expert_id == current_user.id), "")
        if report is not None
        else ""
    )
    form = MinorityViewForm(
        formdata=formdata,
        data=None if access.part is not Part.EXPERT else {"text": own},
    )
    if access.part is Part.EXPERT:
        form.expert.choices = [(current_user.id, labels.get(current_user.id, ""))]
        if formdata is None:
            form.expert.data = current_user.id
    else:
        form.expert.choices = [
            (a.expert_id, labels.get(a.expert_id, "")) for a in submitted_reviews(proposal)
        ]
    return form


def _render(
    proposal: Proposal,
    access: Any,
    labels: dict[int, str],
    suggested: Any,
    *,
    form: Any = None,
    response_form: ResponseForm | None = None,
    minority_form: MinorityViewForm | None = None,
    discussion_form: DiscussionForm | None = None,
    conflict: bool = False,
    status: int = 200,
) -> Any:
    report = proposal.consensus
    call = proposal.call
    own = None
    if report is not None and access.part is Part.EXPERT:
        own = next((a for a in report.approvals if a.expert_id == current_user.id), None)
    if (
        response_form is None
        and access.part is Part.EXPERT
        and report is not None
        and not report.is_final
        and call.phase is Phase.CONSENSUS
    ):
        response_form = ResponseForm(
            data={"approved": ("yes" if own.approved else "no"), "comment": own.comment}
            if own is not None
            else None
        )
    open_draft = report is not None and not report.is_final and call.phase is Phase.CONSENSUS
    if (
        minority_form is None
        and open_draft
        and access.part in (Part.EXPERT, Part.RAPPORTEUR, Part.COORDINATOR)
    ):
        minority_form = _minority_form(proposal, access, labels)
    if form is not None:
        effect = effect_of(proposal, _proposed(form, proposal))
    elif report is not None:
        effect = effect_of(proposal, scores_of(report, proposal))
    else:
        effect = None
    saved_effect = (
        effect_of(proposal, scores_of(report, proposal))
        if conflict and report is not None
        else None
    )
    members = panel(proposal)
    messages = thread(proposal)
    writes = call.phase is Phase.CONSENSUS and access.part is not Part.OBSERVER
    return (
        render_template(
            "consensus/proposal.html",
            proposal=proposal,
            call=call,
            titles=criterion_titles(call.scheme),
            access=access,
            Part=Part,
            labels=labels,
            members=members,
            reviewed=[a for a in members if a.review is not None and a.review.is_submitted],
            pending=[a for a in members if a.review is None or not a.review.is_submitted],
            suggested=suggested,
            report=report,
            current=report_values(report, proposal) if report is not None else None,
            approval_is_current=approval_is_current,
            form=form,
            response_form=response_form,
            minority_form=minority_form if open_draft else None,
            effect=effect,
            shown=effect_states(effect) if effect is not None else set(),
            saved_effect=saved_effect,
            saved_shown=effect_states(saved_effect) if saved_effect is not None else set(),
            problems=(
                finalise_problems(report, proposal) if open_draft and report is not None else []
            ),
            version_form=VersionForm(data={"version": report.version if report else None}),
            is_open=call.phase is Phase.CONSENSUS,
            conflict=conflict,
            messages=messages,
            authors=author_labels(proposal, messages),
            discussion_form=(
                (discussion_form or DiscussionForm(formdata=None, prefix=DISCUSSION))
                if writes
                else None
            ),
        ),
        status,
    )


# The discussion form shares the page with the consensus forms: its own field names.
DISCUSSION = "discussion"


@bp.route("/proposals/<int:proposal_id>/discussion", methods=["POST"])
@role_required(Role.EXPERT, Role.COORDINATOR)
@keeps_input_on_expiry(back_to=lambda proposal_id: url_for(".proposal", proposal_id=proposal_id))
@back_on_refusal(".proposal")
def discussion(proposal_id: int) -> Any:
    """A message to the proposal's discussion; the panel hears of it by e-mail."""
    from ..mail import MailError, send_messages

    proposal, access = _load(proposal_id)
    if access.refusal is not None:
        return render_template("consensus/not_yet.html", proposal=proposal, access=access), 403
    form = DiscussionForm(prefix=DISCUSSION)
    if form.validate_on_submit():
        post_message(proposal, current_user, form.text.data or "")
        notices = discussion_notices(proposal, current_user)
        db.session.commit()  # the call's lock goes before the mail server is asked
        try:
            send_messages(notices)
        except MailError:
            flash(
                _("Your message is posted, but the panel could not be told by e-mail."), "warning"
            )
        else:
            flash(_("Your message is posted."), "success")
        return redirect(url_for(".proposal", proposal_id=proposal.id, _anchor="discussion"))
    labels = expert_labels(proposal, expert_letter_label)
    return _render(proposal, access, labels, prefill(proposal), discussion_form=form, status=400)


@bp.route("/proposals/<int:proposal_id>/respond", methods=["POST"])
@role_required(Role.EXPERT)
@keeps_input_on_expiry(back_to=lambda proposal_id: url_for(".proposal", proposal_id=proposal_id))
def respond_to_draft(proposal_id: int) -> Any:
    """Another expert of the proposal approves the draft or asks for changes."""
    proposal, access = _load(proposal_id)
    if access.refusal is not None:
        return render_template("consensus/not_yet.html", proposal=proposal, access=access), 403
    form = ResponseForm()
    if form.validate_on_submit():
        try:
            respond(
                proposal,
                current_user,
                approved=form.approved.data == "yes",
                comment=form.comment.data or "",
            )
        except ConsensusError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(
                _("Your approval is recorded.")
                if form.approved.data == "yes"
                else _("Your comment is recorded."),
                "success",
            )
            return redirect(url_for(".proposal", proposal_id=proposal.id))
    labels = expert_labels(proposal, expert_letter_label)
    return _render(proposal, access, labels, prefill(proposal), response_form=form, status=400)


@bp.route("/proposals/<int:proposal_id>/minority-view", methods=["POST"])
@role_required(Role.EXPERT, Role.COORDINATOR)
@keeps_input_on_expiry(back_to=lambda proposal_id: url_for(".proposal", proposal_id=proposal_id))
@back_on_refusal(".proposal")
def minority_view(proposal_id: int) -> Any:
    """An expert's minority view on the consensus draft, or one recorded on their behalf."""
    proposal, access = _load(proposal_id)
    if access.refusal is not None:
        return render_template("consensus/not_yet.html", proposal=proposal, access=access), 403
    labels = expert_labels(proposal, expert_letter_label)
    form = _minority_form(proposal, access, labels, request.form)
    if form.validate_on_submit():
        text = (form.text.data or "").strip()
        record_minority_view(proposal, current_user, form.expert.data, text)
        db.session.commit()
        flash(
            _("The minority view is recorded.") if text else _("The minority view is withdrawn."),
            "success",
        )
        return redirect(url_for(".proposal", proposal_id=proposal.id))
    return _render(proposal, access, labels, prefill(proposal), minority_form=form, status=400)


@bp.route("/proposals/<int:proposal_id>/finalise", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".proposal")
def finalise_report(proposal_id: int) -> Any:
    """The coordinator marks the consensus final: its scores now count."""
    return _version_action(proposal_id, finalise, _("The consensus report is final."))


@bp.route("/proposals/<int:proposal_id>/reopen", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".proposal")
def reopen_report(proposal_id: int) -> Any:
    """The coordinator turns a final consensus back into a draft."""
    return _version_action(proposal_id, reopen, _("The consensus report is a draft again."))


def _version_action(proposal_id: int, action: Any, done: str) -> Any:
    proposal, _access = _load(proposal_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    action(proposal, current_user, version=form.version.data)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".proposal", proposal_id=proposal.id))
