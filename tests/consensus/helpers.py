"""Rows that the consensus, ranking and decision tests start from: submitted reviews."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reviewer_app.models import (
    Assignment,
    Call,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    Role,
    User,
)

from ..factories import advance_call, declare_for, write_review


def submit_review(
    assignment: Assignment,
    scores: dict[str, str | Decimal],
    *,
    comment: str | None = None,
    status: ReviewStatus = ReviewStatus.SUBMITTED,
) -> Review:
    """A review with one score per criterion key, written through the expert's services (the
    call is in evaluation); comments say who wrote them."""
    return write_review(
        assignment, scores, submitted=status is ReviewStatus.SUBMITTED, comment=comment
    )


def declare_conflict(assignment: Assignment, reason: str = "Former colleague") -> None:
    declare_for(assignment, conflict=reason)


def uniform(value: str) -> dict[str, str]:
    return {"compute": value, "expertise": value, "funding": value}


# reference -> (requested funding, one score dict per submitted review)
SCENARIO: dict[str, tuple[str | None, list[dict[str, str]]]] = {
    "AIF-01": ("1000000", [uniform("4.5")] * 3),
    "AIF-02": ("1000000", [uniform("4")] * 3),
    "AIF-03": ("1000000", [uniform("4")] * 3),  # ex aequo with AIF-02
    "AIF-04": (
        "1000000",
        [  # compute 2, 4.5, 4: the experts disagree
            {"compute": "2", "expertise": "3.5", "funding": "3.5"},
            {"compute": "4.5", "expertise": "3.5", "funding": "3.5"},
            {"compute": "4", "expertise": "3.5", "funding": "3.5"},
        ],
    ),
    "AIF-05": ("500000", [{"compute": "2", "expertise": "4", "funding": "4"}] * 3),
    "AIF-06": ("750000", [uniform("4")] * 2),  # one review short: incomplete
    "AIF-07": (
        None,
        [{"compute": "3.5", "expertise": "3.5", "funding": "3"}] * 3,
    ),  # total exactly 10
}


def build_scenario(make_call, make_proposal, make_user, make_assignment, **call_overrides):
    """Seven proposals around a 3.5 M EUR funding line: a tie, a disagreement, a proposal below
    threshold, an incomplete one and one without a funding amount."""
    phase = call_overrides.pop("phase", Phase.RANKING)
    call_overrides.setdefault("budget_eur", Decimal("3500000"))
    call = make_call(**call_overrides)
    experts = [make_user(Role.EXPERT) for _ in range(3)]
    proposals = {}
    panels: dict[str, list[Assignment]] = {}  # in the experts' order, as the scores are listed
    for reference, (funding, _reviews) in SCENARIO.items():
        proposal = make_proposal(
            call,
            reference=reference,
            requested_funding_eur=Decimal(funding) if funding else None,
        )
        proposals[reference] = proposal
        panels[reference] = [
            make_assignment(proposal, expert, is_rapporteur=index == 0)
            for index, expert in enumerate(experts)
        ]
    advance_call(call, Phase.EVALUATION)
    for reference, (_funding, reviews) in SCENARIO.items():
        for assignment, values in zip(panels[reference], reviews, strict=False):
            submit_review(assignment, values)
    advance_call(call, phase)
    return call, proposals


def build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment, **overrides):
    """The scenario with 2.5 M EUR and a panel review: AIF-01 (1 M) on the main list, then
    AIF-02 and AIF-03 tied at 4.0 (1 M each), which do not fit whole and go to the reserve list
    together until the panel orders them."""
    overrides.setdefault("budget_eur", Decimal("2500000"))
    overrides.setdefault("panel_review", True)
    return build_scenario(make_call, make_proposal, make_user, make_assignment, **overrides)


# The case for build_panel: means of 10/3, 10/3 and 19/6 make 59/6 = 9.83, below the
# overall threshold of 10; the means rounded to the scale (3.5, 3.5, 3) make 10.
GREEK = [{"compute": "3", "expertise": "3.5", "funding": "3"}] * 2 + [
    {"compute": "4", "expertise": "3", "funding": "3.5"}
]


@dataclass
class Panel:
    call: Call
    proposal: Proposal
    rapporteur: User
    experts: list[User]  # the rapporteur first
    assignments: list[Assignment]
    coordinator: User


def build_panel(
    make_call,
    make_proposal,
    make_user,
    make_assignment,
    scores: list[dict[str, str]] | None = None,
    *,
    phase: Phase = Phase.CONSENSUS,
    submit: tuple[bool, ...] = (True, True, True),
    **call_overrides: Any,
) -> Panel:
    """A proposal of a call in ``phase`` with three experts (the first is the rapporteur)."""
    call = make_call(**call_overrides)
    proposal = make_proposal(call)
    experts = [make_user(Role.EXPERT, name=n) for n in ("Ada Lovelace", "Bob Noyce", "Cy Ray")]
    assignments = [
        make_assignment(proposal, e, is_rapporteur=(i == 0)) for i, e in enumerate(experts)
    ]
    scores = scores or [
        {"compute": "4", "expertise": "3.5", "funding": "3"},
        {"compute": "4.5", "expertise": "3", "funding": "3"},
        {"compute": "3", "expertise": "3", "funding": "4"},
    ]
    advance_call(call, Phase.EVALUATION)
    for assignment, values, done in zip(assignments, scores, submit, strict=False):
        if done:
            submit_review(assignment, values)
    advance_call(call, phase)
    return Panel(call, proposal, experts[0], experts, assignments, make_user(Role.COORDINATOR))
