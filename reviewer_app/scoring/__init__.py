"""The scoring rules of an evaluation. Pure: no Flask, no SQLAlchemy, standard library only.

Every page, export and report computes its numbers through this package, so they cannot disagree.
"""

from .scheme import (
    ConflictRules,
    CriterionSpec,
    Problem,
    Rules,
    Scale,
    Scheme,
    SchemeError,
    load_scheme_file,
    parse_scheme,
    scheme_from_mapping,
)

__all__ = [
    "ConflictRules",
    "CriterionSpec",
    "Problem",
    "Rules",
    "Scale",
    "Scheme",
    "SchemeError",
    "load_scheme_file",
    "parse_scheme",
    "scheme_from_mapping",
]
