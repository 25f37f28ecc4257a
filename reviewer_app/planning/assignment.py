"""Automatic assignment of experts to proposals: a pure function of its inputs.

Rules, in order of precedence:

1. Never assign an expert who is blocked for a proposal: a declared conflict, or an automatic
   conflict rule of the scheme (``same_country``: the expert's country is the proposal's;
   ``same_organisation``: the expert's organisation is the applicant, ignoring case and
   surrounding spaces).
2. Give every proposal at least ``min_reviews`` unblocked experts, counting those already
   assigned. A proposal with too few eligible experts gets all it can and is reported as a
   shortfall with the reason.
3. Keep loads even: each place goes to the eligible expert with the lowest load (then the lowest
   id), so without blocking rules the loads end within one of each other. Proposals with the
   fewest eligible experts are served first, because they have the least choice.
4. A proposal without a rapporteur gets one: its assigned expert with the fewest rapporteur
   roles (then the lowest load, then the lowest id).

Deterministic: the same input gives the same output, whatever the order of the input lists.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class BlockReason(StrEnum):
    DECLARED_CONFLICT = "declared_conflict"
    SAME_COUNTRY = "same_country"
    SAME_ORGANISATION = "same_organisation"


@dataclass(frozen=True)
class ProposalSlot:
    id: int
    country: str | None = None
    applicant: str = ""


@dataclass(frozen=True)
class ExpertSlot:
    id: int
    country: str | None = None
    organisation: str = ""


@dataclass(frozen=True)
class AssignmentInput:
    proposals: tuple[ProposalSlot, ...]
    experts: tuple[ExpertSlot, ...]
    min_reviews: int
    # (proposal id, expert id) pairs already assigned; conflicted ones are listed in conflicts.
    existing: frozenset[tuple[int, int]] = frozenset()
    conflicts: frozenset[tuple[int, int]] = frozenset()
    rapporteurs: frozenset[tuple[int, int]] = frozenset()
    same_country: bool = False
    same_organisation: bool = False


@dataclass(frozen=True)
class Shortfall:
    proposal_id: int
    assigned: int
    needed: int
    blocked: dict[BlockReason, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AssignmentPlan:
    new: tuple[tuple[int, int], ...]
    rapporteurs: tuple[tuple[int, int], ...]
    shortfalls: tuple[Shortfall, ...]
    loads: dict[int, int]


def _norm(text: str | None) -> str:
    return (text or "").strip().casefold()


def block_reason(
    data: AssignmentInput, proposal: ProposalSlot, expert: ExpertSlot
) -> BlockReason | None:
    """Why ``expert`` may not evaluate ``proposal``, or None."""
    if (proposal.id, expert.id) in data.conflicts:
        return BlockReason.DECLARED_CONFLICT
    if (
        data.same_country
        and _norm(proposal.country)
        and _norm(proposal.country) == _norm(expert.country)
    ):
        return BlockReason.SAME_COUNTRY
    if (
        data.same_organisation
        and _norm(proposal.applicant)
        and _norm(proposal.applicant) == _norm(expert.organisation)
    ):
        return BlockReason.SAME_ORGANISATION
    return None


def pair_block_reason(
    proposal: ProposalSlot, expert: ExpertSlot, *, same_country: bool, same_organisation: bool
) -> BlockReason | None:
    """The automatic conflict rules for one pair: the web toggle and the CSV import ask here."""
    data = AssignmentInput(
        proposals=(proposal,),
        experts=(expert,),
        min_reviews=1,
        same_country=same_country,
        same_organisation=same_organisation,
    )
    return block_reason(data, proposal, expert)


def plan_assignments(data: AssignmentInput) -> AssignmentPlan:
    """New assignments and rapporteurs that satisfy the rules above, and what falls short."""
    proposals = sorted(data.proposals, key=lambda p: p.id)
    experts = sorted(data.experts, key=lambda e: e.id)
    expert_ids = {e.id for e in experts}
    # Only unconflicted existing assignments are work (a conflicted expert reviews nothing).
    assigned = {pair for pair in data.existing if pair not in data.conflicts}
    load = Counter({e.id: 0 for e in experts})
    for _pid, eid in assigned:
        if eid in expert_ids:
            load[eid] += 1

    eligible: dict[int, list[int]] = {}
    blocked: dict[int, Counter[BlockReason]] = {}
    for proposal in proposals:
        eligible[proposal.id] = []
        blocked[proposal.id] = Counter()
        for expert in experts:
            reason = block_reason(data, proposal, expert)
            if reason is not None:
                blocked[proposal.id][reason] += 1
            elif (proposal.id, expert.id) not in assigned:
                eligible[proposal.id].append(expert.id)

    def have(pid: int) -> int:
        return sum(1 for p, _e in assigned if p == pid)

    order = sorted(proposals, key=lambda p: (len(eligible[p.id]), p.id))
    new: list[tuple[int, int]] = []
    shortfalls: list[Shortfall] = []
    for proposal in order:
        count = have(proposal.id)
        candidates = eligible[proposal.id]
        while count < data.min_reviews and candidates:
            chosen = min(candidates, key=lambda eid: (load[eid], eid))
            candidates.remove(chosen)
            new.append((proposal.id, chosen))
            assigned.add((proposal.id, chosen))
            load[chosen] += 1
            count += 1
        if count < data.min_reviews:
            shortfalls.append(
                Shortfall(
                    proposal_id=proposal.id,
                    assigned=count,
                    needed=data.min_reviews,
                    blocked=dict(sorted(blocked[proposal.id].items())),
                )
            )

    rapporteur_load = Counter(eid for pid, eid in data.rapporteurs if (pid, eid) in assigned)
    has_rapporteur = {pid for pid, eid in data.rapporteurs if (pid, eid) in assigned}
    rapporteurs: list[tuple[int, int]] = []
    for proposal in proposals:
        if proposal.id in has_rapporteur:
            continue
        team = [eid for pid, eid in assigned if pid == proposal.id and eid in expert_ids]
        if not team:
            continue
        chosen = min(team, key=lambda eid: (rapporteur_load[eid], load[eid], eid))
        rapporteur_load[chosen] += 1
        rapporteurs.append((proposal.id, chosen))

    return AssignmentPlan(
        new=tuple(sorted(new)),
        rapporteurs=tuple(rapporteurs),
        shortfalls=tuple(sorted(shortfalls, key=lambda s: s.proposal_id)),
        loads=dict(sorted(load.items())),
    )
