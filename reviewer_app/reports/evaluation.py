"""``evaluation.json``: the data a decision rests on, in one canonical document, and back.

The decision report carries this document inside the PDF; its SHA-256 is the report's
fingerprint. Anyone holding the PDF can rebuild the engine's input from it
(``evaluation_in_from_json``) and recompute the ranking, years later, without the database.

Canonical form: UTF-8, keys sorted, no insignificant whitespace, numbers as decimal strings
(JSON numbers are floats to most readers), lists in a fixed order. Experts appear only as stable
pseudonyms (``E01``, ``E02`` ... in the order of their accounts), never by name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import DomainError
from ..scoring.engine import ConsensusIn, EvaluationIn, ProposalIn, ReviewIn
from ..scoring.scheme import Scheme

if TYPE_CHECKING:
    from ..panel import PanelRecord

FORMAT = "reviewer-app/evaluation/1"


class EvaluationFormatError(DomainError, ValueError):
    """An ``evaluation.json`` that is not one this application wrote."""


@dataclass(frozen=True)
class ProposalFacts:
    """What the engine does not need but the record should keep about a proposal."""

    reference: str
    acronym: str
    applicant: str
    country: str | None


@dataclass(frozen=True)
class DecisionFacts:
    proposal: str
    outcome: str
    rationale: str
    decided_at: datetime
    amount_eur: Decimal | None = None  # the granted amount; None: as requested


@dataclass(frozen=True)
class CallFacts:
    key: str
    title: str
    decided_at: datetime | None


def expert_pseudonyms(expert_ids: Sequence[str]) -> dict[str, str]:
    """``E01``, ``E02`` ... by account id: stable while the call's experts stay the same."""
    ordered = sorted(set(expert_ids), key=lambda e: (len(e), e))  # numeric order of str ids
    width = max(2, len(str(len(ordered))))
    return {expert: f"E{i:0{width}d}" for i, expert in enumerate(ordered, start=1)}


def evaluation_document(
    call: CallFacts,
    data: EvaluationIn,
    *,
    pseudonyms: Mapping[str, str],
    proposals: Mapping[str, ProposalFacts],
    review_comments: Mapping[tuple[str, str], Mapping[str, str]],
    consensus_comments: Mapping[str, Mapping[str, str]],
    decisions: Sequence[DecisionFacts],
    audit: Mapping[str, Any] | None = None,
    consensus_justifications: Mapping[str, str] | None = None,
    minority_views: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    consensus_overall: Mapping[str, str] | None = None,
    panel: PanelRecord | None = None,
) -> dict[str, Any]:
    """The evaluation as plain JSON data. Drafts are left out (they never count); submitted
    reviews by an expert with a conflict stay in, marked, because the record should show them.

    ``review_comments`` is keyed by (proposal reference, expert id) and
    ``consensus_comments`` by proposal reference; both map criterion key -> comment. A
    consensus carries its ``overall_comment`` and ``justification`` (reference -> text) and its
    ``minority_views`` (reference -> (expert id, text) in order) only where it has them, so the
    documents of reports made before these existed stay the same. ``panel`` (a call with a
    panel review) adds a ``panel`` object: its places with their reasons (the engine's
    ``panel_order``, read back by ``evaluation_in_from_json``), comments and report.
    """
    justifications = consensus_justifications or {}
    overall = consensus_overall or {}
    minorities = minority_views or {}
    keys = data.scheme.criterion_keys

    def scores(pairs: tuple[tuple[str, Decimal], ...]) -> dict[str, str]:
        return {key: _number(value) for key, value in pairs}

    def comments(by_key: Mapping[str, str]) -> dict[str, str]:
        return {key: by_key[key] for key in keys if by_key.get(key)}

    reviews = [
        {
            "proposal": r.proposal,
            "expert": pseudonyms[r.expert],
            "conflicted": r.conflicted,
            "scores": scores(r.scores),
            "comments": comments(review_comments.get((r.proposal, r.expert), {})),
        }
        for r in data.reviews
        if r.submitted
    ]
    reviews.sort(key=lambda r: (str(r["proposal"]), str(r["expert"])))
    consensus = []
    for c in sorted(data.consensus, key=lambda c: c.proposal):
        entry: dict[str, Any] = {
            "proposal": c.proposal,
            "scores": scores(c.scores),
            "comments": comments(consensus_comments.get(c.proposal, {})),
        }
        if overall.get(c.proposal):
            entry["overall_comment"] = overall[c.proposal]
        if justifications.get(c.proposal):
            entry["justification"] = justifications[c.proposal]
        if minorities.get(c.proposal):
            entry["minority_views"] = [
                {"expert": pseudonyms.get(expert, expert), "text": text}
                for expert, text in minorities[c.proposal]
            ]
        consensus.append(entry)
    document: dict[str, Any] = {
        "format": FORMAT,
        "call": {
            "key": call.key,
            "title": call.title,
            "budget_eur": None if data.budget is None else _number(data.budget),
            "decided_at": _timestamp(call.decided_at),
        },
        "scheme": data.scheme.to_json(),
        "proposals": [
            {
                "reference": p.reference,
                "title": p.title,
                "acronym": proposals[p.reference].acronym if p.reference in proposals else "",
                "applicant": proposals[p.reference].applicant if p.reference in proposals else "",
                "country": proposals[p.reference].country if p.reference in proposals else None,
                "requested_funding_eur": (
                    None if p.requested_funding is None else _number(p.requested_funding)
                ),
            }
            for p in sorted(data.proposals, key=lambda p: p.reference)
        ],
        "reviews": reviews,
        "consensus": consensus,
        "decisions": [
            {
                "proposal": d.proposal,
                "outcome": d.outcome,
                "rationale": d.rationale,
                "decided_at": _timestamp(d.decided_at),
                # Only when a grant was cut: decisions as requested keep their fingerprint.
                **({} if d.amount_eur is None else {"amount_eur": _number(d.amount_eur)}),
            }
            for d in sorted(decisions, key=lambda d: d.proposal)
        ],
    }
    if panel is not None:
        document["panel"] = {
            "places": [
                {"proposal": p.reference, "place": p.place, "reason": p.reason}
                for p in sorted(panel.places, key=lambda p: p.reference)
            ],
            "comments": [
                {"proposal": reference, "comment": panel.comments[reference]}
                for reference in sorted(panel.comments)
            ],
            "report": panel.report,
        }
    if audit is not None:
        # The audit chain's state the data was read at: {"chain", "seq", "digest"}.
        document["audit"] = dict(audit)
    return document


def canonical_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def fingerprint(evaluation_json: bytes) -> str:
    """The report's fingerprint: SHA-256 of the exact bytes of ``evaluation.json``."""
    return hashlib.sha256(evaluation_json).hexdigest()


def evaluation_json(call: Any) -> bytes:
    """The canonical ``evaluation.json`` of ``call`` as the database holds it now."""
    from .records import load_records

    return load_records(call).evaluation_json


def evaluation_in_from_json(data: bytes | str | Mapping[str, Any]) -> EvaluationIn:
    """The engine's input rebuilt from ``evaluation.json``: ``evaluate()`` of it gives the
    ranking the report printed.

    :raises EvaluationFormatError: not an evaluation document, or one with missing fields.
    """
    if isinstance(data, bytes | str):
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise EvaluationFormatError(f"not valid JSON: {exc}") from exc
        except RecursionError:  # '[' * 100000: json reads nesting by recursion
            raise EvaluationFormatError("not valid JSON: nested too deeply") from None
    else:
        document = data
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise EvaluationFormatError(f"not a {FORMAT} document")
    try:
        scheme = Scheme.from_json(document["scheme"], source="evaluation.json")
        budget = document["call"]["budget_eur"]
        return EvaluationIn(
            scheme=scheme,
            proposals=tuple(
                ProposalIn(
                    reference=p["reference"],
                    title=p["title"],
                    requested_funding=_decimal(p["requested_funding_eur"]),
                )
                for p in document["proposals"]
            ),
            reviews=tuple(
                ReviewIn(
                    proposal=r["proposal"],
                    expert=r["expert"],
                    scores=_score_pairs(scheme, r["scores"]),
                    submitted=True,
                    conflicted=bool(r["conflicted"]),
                )
                for r in document["reviews"]
            ),
            consensus=tuple(
                ConsensusIn(proposal=c["proposal"], scores=_score_pairs(scheme, c["scores"]))
                for c in document["consensus"]
            ),
            budget=_decimal(budget),
            panel_order=_panel_order(document),
        )
    except (KeyError, TypeError, ArithmeticError, ValueError) as exc:
        if isinstance(exc, EvaluationFormatError):
            raise
        raise EvaluationFormatError(f"incomplete or malformed evaluation data: {exc!r}") from exc


def _panel_order(document: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    """The panel's places as ``evaluation_document`` writes them (no ``panel``: no panel)."""
    if "panel" not in document:
        return ()
    panel = document["panel"]
    places = panel.get("places") if isinstance(panel, Mapping) else None
    if not isinstance(places, list):
        raise EvaluationFormatError("panel: not an object with a list of places")
    order = []
    for place in places:
        if not (
            isinstance(place, Mapping)
            and isinstance(place.get("proposal"), str)
            and type(place.get("place")) is int
        ):
            raise EvaluationFormatError(f"panel: malformed place {place!r}"[:200])
        order.append((place["proposal"], place["place"]))
    return tuple(order)


def _score_pairs(scheme: Scheme, scores: Mapping[str, str]) -> tuple[tuple[str, Decimal], ...]:
    order = {key: i for i, key in enumerate(scheme.criterion_keys)}
    return tuple(
        (key, Decimal(value))
        for key, value in sorted(scores.items(), key=lambda kv: order.get(kv[0], len(order)))
    )


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise EvaluationFormatError(f"expected a decimal string, got {value!r}")
    return Decimal(value)


def _number(value: Decimal) -> str:
    """Two decimals, as stored: the same text on SQLite and PostgreSQL."""
    return str(value.quantize(Decimal("0.01")))


def _timestamp(value: datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat()
