"""The scoring rules of an evaluation. Pure: no Flask, no SQLAlchemy, standard library only.

Every page, export and report computes its numbers through this package, so they cannot disagree.
"""

from .engine import (
    ConsensusIn,
    CriterionResult,
    CriterionSummary,
    EvaluationError,
    EvaluationIn,
    ProposalIn,
    ProposalResult,
    Ranking,
    ReviewIn,
    ScoresNotLoaded,
    Status,
    SummaryIn,
    evaluate,
)
from .numbers import format_money, format_score, to_decimal
from .scheme import ConflictRules, CriterionSpec, Problem, Rules, Scale, Scheme, SchemeError
from .scheme_parser import load_scheme_file, parse_scheme, scheme_from_mapping

__all__ = [
    "ConflictRules",
    "ConsensusIn",
    "CriterionResult",
    "CriterionSpec",
    "CriterionSummary",
    "EvaluationError",
    "EvaluationIn",
    "Problem",
    "ProposalIn",
    "ProposalResult",
    "Ranking",
    "ReviewIn",
    "Rules",
    "Scale",
    "Scheme",
    "SchemeError",
    "ScoresNotLoaded",
    "Status",
    "SummaryIn",
    "evaluate",
    "format_money",
    "format_score",
    "load_scheme_file",
    "parse_scheme",
    "scheme_from_mapping",
    "to_decimal",
]
