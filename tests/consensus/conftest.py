from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from reviewer_app.models import Assignment, Call, Phase, Proposal, Role, User

from .helpers import submit_review


@dataclass
class Panel:
    call: Call
    proposal: Proposal
    rapporteur: User
    experts: list[User]  # the rapporteur first
    assignments: list[Assignment]
    coordinator: User


@pytest.fixture
def panel(make_user, make_call, make_proposal, make_assignment) -> Callable[..., Panel]:
    """A proposal in a call in the consensus phase with three experts who all submitted."""

    def build(
        scores: list[dict[str, str]] | None = None,
        *,
        phase: Phase = Phase.CONSENSUS,
        submit: tuple[bool, ...] = (True, True, True),
        **call_overrides: Any,
    ) -> Panel:
        call = make_call(phase=phase, **call_overrides)
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
        for assignment, values, done in zip(assignments, scores, submit, strict=False):
            if done:
                submit_review(assignment, values)
        return Panel(call, proposal, experts[0], experts, assignments, make_user(Role.COORDINATOR))

    return build
