"""The world, built through the services: reviews, declarations and phase moves are made the
way users make them, by the service functions the pages call, so a test never holds rows that
only its reader knows. The fixtures in conftest.py and the scenario builders use these."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import Any

from reviewer_app.extensions import db
from reviewer_app.models import Assignment, Call, Document, Phase, Proposal, Review, User

COMMENT = "A comment long enough for the scheme's minimum, written by the test. " * 2


def decide_as_ranked(call: Call, actor: User) -> None:
    """Record, for every proposal without a decision, the outcome its ranking status suggests
    (an incomplete one is rejected, with a rationale), as a coordinator accepting the page's
    suggestions would."""
    from reviewer_app.coordinator.decisions import (
        DecisionEntry,
        missing_decisions,
        prefill_outcome,
        record_decisions,
    )
    from reviewer_app.models import DecisionOutcome
    from reviewer_app.ranking import rank_call

    ranking = rank_call(call)
    entries = []
    for proposal in missing_decisions(call):
        outcome = prefill_outcome(ranking.row(proposal.reference).status)
        if outcome is None:
            entries.append(
                DecisionEntry(proposal, DecisionOutcome.REJECTED, "The evaluation is incomplete.")
            )
        else:
            entries.append(DecisionEntry(proposal, outcome))
    record_decisions(call, entries, actor, ranking)
    db.session.commit()


def advance_call(call: Call, to: Phase, *, actor: User | None = None) -> Call:
    """Move ``call`` forward, phase by phase, to ``to`` (every confirmation given). Closing the
    call needs a decision for every proposal: the ones missing are recorded as the ranking
    suggests (``decide_as_ranked``), by ``actor`` or a coordinator made for it."""
    from reviewer_app.coordinator.phases import move_phase, next_phase

    while call.phase is not to:
        step = next_phase(call.phase)
        assert step is not None, f"{call.key} cannot move past {call.phase} to {to}"
        if step is Phase.DECIDED:
            decide_as_ranked(call, actor or _decider())
        move_phase(
            call,
            step,
            confirm_open_reviews=True,
            confirm_unfinished_consensus=True,
            confirm_close=True,
            actor=actor,
        )
        db.session.commit()
    return call


def _decider() -> User:
    """A coordinator for the steps only a coordinator takes (made once per test)."""
    from sqlalchemy import select

    from reviewer_app.models import Role

    email = "decider@example.org"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        (user,) = add_users(
            {"email": email, "name": "Deciding coordinator", "role": Role.COORDINATOR}
        )
    return user


CONSENSUS_COMMENT = "The panel's agreed assessment of this criterion, written for the applicant."


def write_consensus(
    proposal: Any,
    values: dict[str, str],
    *,
    final: bool = True,
    justification: str = "",
    coordinator: User | None = None,
) -> Any:
    """The consensus report as the pages write it: the rapporteur's draft (every criterion of
    ``values`` with a comment), then, if ``final``, a coordinator's finalising. The call must
    be in its consensus phase."""
    from reviewer_app.consensus.finalising import finalise
    from reviewer_app.consensus.services import save_draft

    rapporteur = next(a.expert for a in proposal.assignments if a.is_rapporteur)
    current = proposal.consensus.version if proposal.consensus is not None else None
    report = save_draft(
        proposal,
        rapporteur,
        {key: (Decimal(value), CONSENSUS_COMMENT) for key, value in values.items()},
        version=current,
        justification=justification,
    )
    db.session.commit()
    if final:
        finalise(proposal, coordinator or _decider(), version=report.version)
        db.session.commit()
    return report


def declare_for(assignment: Assignment, *, conflict: str | None = None) -> None:
    """The expert's declaration: no conflict (confidentiality accepted), or ``conflict``."""
    from reviewer_app.expert.services import declare

    declare(
        assignment,
        has_conflict=conflict is not None,
        reason=conflict or "",
        confidentiality_accepted=conflict is None,
    )
    db.session.commit()


def write_review(
    assignment: Assignment,
    values: dict[str, Any],
    *,
    submitted: bool = True,
    comment: str | Mapping[str, str] | None = None,
) -> Review:
    """The expert's review as the review page writes it: declaration first, then a save (or a
    submit) with one score per key of ``values``. The call must be in evaluation, as for the
    expert. ``comment`` is the comment of every criterion, or one per key; a comment shorter
    than the scheme's minimum is padded to it."""
    from reviewer_app.expert.services import ScoreInput, current_version, save_draft, submit_review
    from reviewer_app.scoring.comment_fields import compose

    if assignment.declaration is None:
        declare_for(assignment)
    call = assignment.proposal.call
    minimum = call.scheme.rules.comment_min_chars

    def text(key: str) -> str:
        if isinstance(comment, Mapping):
            given = comment[key]
            return given if len(given) >= minimum else f"{given} ".ljust(minimum, "·")
        given = comment if comment is not None else f"{key} comment from reviewer "
        given = given if comment is not None else given + str(assignment.expert_id)
        return given if len(given) >= minimum else f"{given} ".ljust(minimum, "·")

    def score(key: str, value: Any) -> ScoreInput:
        fields = call.scheme.criterion(key).comment_fields
        if not fields:
            return ScoreInput(Decimal(value), text(key))
        # A criterion with several comment boxes (the EU's strengths and weaknesses): each box
        # filled to its own minimum, the comment composed as the review page composes it.
        parts = {f.key: f"{text(key)} ({f.key})".ljust(f.min_chars, "·") for f in fields}
        return ScoreInput(Decimal(value), compose(fields, parts), parts)

    given = {key: score(key, value) for key, value in values.items()}
    write = submit_review if submitted else save_draft
    review = write(assignment, current_version(assignment), given)
    db.session.commit()
    return review


def plant_phase(call: Call, phase: Phase) -> Call:
    """Put ``call`` in ``phase`` without the move's checks or its audit event: a state no
    service makes (for example evaluation with fewer experts than the scheme asks for), for
    tests of a page that needs only the phase. Build the call's proposals and assignments
    through the factories first: they refuse what a coordinator could not do in that phase."""
    call.phase = phase
    db.session.commit()
    return call


@contextmanager
def in_phase(call: Call, phase: Phase) -> Iterator[Call]:
    """Act on ``call`` through the factories and services as if it were in ``phase``, then put
    it back in its own (``plant_phase``): for a test that needs one more proposal, assignment
    or declaration in a call already past the phase where a user would have made it."""
    own = call.phase
    plant_phase(call, phase)
    try:
        yield call
    finally:
        plant_phase(call, own)


def in_setup(call: Call) -> AbstractContextManager[Call]:
    """``in_phase(call, Phase.SETUP)``: add proposals to a call already under way."""
    return in_phase(call, Phase.SETUP)


def pdf_bytes(pages: int = 1) -> bytes:
    """A real PDF of blank A4 pages, as an upload must be."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def attach_pdf(
    proposal: Proposal, filename: str = "annex.pdf", content: bytes | None = None
) -> Document:
    """A document uploaded as the coordinator uploads one (``attach_document``)."""
    from reviewer_app.coordinator.proposals import attach_document

    document = attach_document(
        proposal,
        filename,
        content if content is not None else pdf_bytes(),
        max_bytes=20 * 1024 * 1024,
        uploaded_by=None,
    )
    db.session.commit()
    return document


def add_users(*people: Mapping[str, Any], password: str | None = None) -> list[User]:
    """Users added as ``reviewer-app users import`` adds them (``import_users``: e-mail, name,
    role, and optionally organisation, country, language), each with ``password`` when given
    (hashed once for all of them: they share it)."""
    from reviewer_app.auth.services import set_password
    from reviewer_app.importers import Row, Table, import_users

    if not people:
        return []
    columns = ("email", "name", "role", "organisation", "country", "language")
    rows = tuple(
        Row(n, {c: "" if person.get(c) is None else str(person.get(c)) for c in columns})
        for n, person in enumerate(people, start=2)
    )
    users = import_users(Table(columns, rows), actor=None)
    if password and users:
        set_password(users[0], password)
        for user in users[1:]:
            user.password_hash, user.password_changed_at = (
                users[0].password_hash,
                users[0].password_changed_at,
            )
    db.session.flush()
    return users
