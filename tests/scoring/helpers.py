"""Small builders for engine tests: a scheme from keyword arguments, reviews from numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reviewer_app.scoring.engine import ConsensusIn, EvaluationIn, ProposalIn, ReviewIn
from reviewer_app.scoring.scheme import Scheme
from reviewer_app.scoring.scheme_parser import scheme_from_mapping

KEYS = ("compute", "expertise", "funding")


def make_scheme(
    *,
    criteria: tuple[str, ...] = KEYS,
    weights: dict[str, str] | None = None,
    thresholds: dict[str, str] | None = None,
    **rules: Any,
) -> Scheme:
    weights = weights or {}
    thresholds = thresholds or {}
    items = []
    for key in criteria:
        item: dict[str, Any] = {"key": key, "title": key.title()}
        if key in weights:
            item["weight"] = Decimal(weights[key])
        if key in thresholds:
            item["threshold"] = Decimal(thresholds[key])
        items.append(item)
    rule_table: dict[str, Any] = {"min_reviews": 1}
    for name, value in rules.items():
        numeric = name in ("overall_threshold", "disagreement_spread")
        rule_table[name] = Decimal(value) if numeric else value
    return scheme_from_mapping(
        {
            "key": "test",
            "title": "Test",
            "scale": {"min": 0, "max": 5, "step": Decimal("0.5")},
            "rules": rule_table,
            "criteria": items,
        }
    )


def review(
    proposal: str,
    expert: str,
    *values: str,
    keys: tuple[str, ...] = KEYS,
    submitted: bool = True,
    conflicted: bool = False,
) -> ReviewIn:
    return ReviewIn(
        proposal=proposal,
        expert=expert,
        scores=tuple((k, Decimal(v)) for k, v in zip(keys, values, strict=True)),
        submitted=submitted,
        conflicted=conflicted,
    )


def consensus(proposal: str, *values: str, keys: tuple[str, ...] = KEYS) -> ConsensusIn:
    return ConsensusIn(
        proposal=proposal, scores=tuple((k, Decimal(v)) for k, v in zip(keys, values, strict=True))
    )


def proposal(reference: str, funding: str | None = "100") -> ProposalIn:
    return ProposalIn(
        reference=reference,
        title=f"Title {reference}",
        requested_funding=None if funding is None else Decimal(funding),
    )


def data(
    scheme: Scheme,
    proposals: list[ProposalIn],
    reviews: list[ReviewIn] = (),  # type: ignore[assignment]
    consensus_: list[ConsensusIn] = (),  # type: ignore[assignment]
    budget: str | None = None,
) -> EvaluationIn:
    return EvaluationIn(
        scheme=scheme,
        proposals=tuple(proposals),
        reviews=tuple(reviews),
        consensus=tuple(consensus_),
        budget=None if budget is None else Decimal(budget),
    )
