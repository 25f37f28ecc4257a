"""The fixed columns of the imports and exports, defined once.

Criterion keys become columns too (``compute`` and ``compute_comment``), so the scheme loader
refuses a key that is one of these names; the exports write exactly these names. Pure: the
scheme loader (standard library only) and the exports both import it.
"""

from __future__ import annotations

COMMENT_SUFFIX = "_comment"

# The ranking CSV (and the ranking sheet of the exports): these, with the criterion keys between.
RANKING_LEADING = ("rank", "reference", "title", "reviews")
RANKING_TRAILING = ("total", "weighted_total", "status", "flags")
RANKING_MONEY = ("requested_funding_eur", "cumulative_funding_eur")

# The reviews export: these, then ``<key>`` and ``<key>_comment`` per criterion.
REVIEW_COLUMNS = (
    "proposal",
    "acronym",
    "title",
    "expert",
    "expert_name",
    "rapporteur",
    "conflict",
    "conflict_reason",
    "review_status",
    "submitted_at",
)

# The reviews and consensus imports: these, then the criterion columns.
REVIEW_IMPORT_COLUMNS = ("proposal", "expert")
# The consensus import's optional columns: why the consensus crosses a threshold, and the
# panel's overall comment for the applicant.
CONSENSUS_JUSTIFICATION = "justification"
CONSENSUS_OVERALL = "overall_comment"

RESERVED = frozenset(
    (
        *RANKING_LEADING,
        *RANKING_TRAILING,
        *RANKING_MONEY,
        *REVIEW_COLUMNS,
        *REVIEW_IMPORT_COLUMNS,
        CONSENSUS_JUSTIFICATION,
        CONSENSUS_OVERALL,
    )
)


def criterion_columns(key: str) -> tuple[str, str]:
    """The two columns of a criterion: its score and its comment."""
    return key, f"{key}{COMMENT_SUFFIX}"
