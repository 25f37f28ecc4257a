"""Limits of what users may enter: how long each free text may be, how large amounts, scores and
files may get, how deeply a file may nest.

One place for the models' columns, the forms, the imports and the scheme loader, so that what a
form accepts an import accepts too, and the database can always hold it. Standard library only:
``scoring/`` reads it and stays pure. ``docs/limits.md`` lists the limits for users; a test checks
that it names every one with its value. Ids (1 to ``security.MAX_ID``) are limited in
``security.py``, where the URL converter is.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

# --- free text, in characters -------------------------------------------------------------------
# A limit that is also a column's length (``String(n)``) must not change without a migration.

CALL_KEY = 64
CALL_TITLE = 300
PROPOSAL_REFERENCE = 64
PROPOSAL_ACRONYM = 100
PROPOSAL_TITLE = 500
PROPOSAL_APPLICANT = 300
PROPOSAL_SUMMARY = 10_000
EXTRA_FIELD_NAME = 64  # a proposal's extra field: an unknown column of an import
EXTRA_FIELD_VALUE = 2_000
USER_EMAIL = 254  # RFC 5321
USER_NAME = 200
USER_ORGANISATION = 300
EXPERTISE = 1_000
CONFLICT_REASON = 2_000
COMMENT = 20_000  # the comment on one criterion, in a review or a consensus report
APPROVAL_COMMENT = 5_000
DECISION_RATIONALE = 10_000
PANEL_REASON = 5_000  # why the panel placed a proposal where it did inside a tie
PANEL_COMMENT = 20_000
PANEL_REPORT = 100_000
REOPEN_REASON = 2_000

# The criteria file (scheme)
SCHEME_TITLE = 300
SCHEME_DESCRIPTION = 5_000
CRITERION_TITLE = 300
CRITERION_QUESTION = 2_000
SCALE_LABEL = 300

# --- numbers ------------------------------------------------------------------------------------

MAX_EUR = Decimal(
    "999999999999.99"
)  # under a trillion euros: far above any call, fits BIGINT cents
MAX_SCHEME_NUMBER = Decimal(1_000_000)  # scale bounds, weights, thresholds: fit INTEGER hundredths
SCALE_VALUES = 101  # each value of the scale is one choice in the review form
CRITERIA = 50
COMMENT_FIELDS = 6  # comment boxes of one criterion (strengths, weaknesses ...)
SCHEME_LANGUAGES = 24  # translations of one criteria file
MIN_REVIEWS = 100

# --- files --------------------------------------------------------------------------------------

IMPORT_BYTES = 20 * 1024 * 1024
IMPORT_ROWS = 10_000
# The command line takes the files of a call of 10,000 proposals whole (issue 11).
CLI_IMPORT_BYTES = 250 * 1024 * 1024
CLI_IMPORT_ROWS = 100_000
SCHEME_BYTES = 1024 * 1024
# A file embedded in a decision report, as `report verify` unpacks it: evaluation.json holds
# every review with its comments (about 85 MB at 10,000 proposals x 5 reviews). pypdf's own
# default (75 MB) refused it; a bound still stops a PDF that unpacks without end.
REPORT_EMBEDDED_BYTES = 512 * 1024 * 1024
NESTING = 20  # levels of lists and tables in a JSON or TOML file


def nesting_depth(value: object) -> int:
    """How deeply lists and tables (dicts) nest in a parsed JSON or TOML value: 0 for a plain
    value, 1 for a flat list. Without recursion, so that no depth can break it; it stops counting
    once past ``NESTING``."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack and deepest <= NESTING:
        item, level = stack.pop()
        if isinstance(item, Mapping):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


# --- error messages -----------------------------------------------------------------------------

ECHO_CHARS = 40  # how much of a refused value an error message repeats


def excerpt(text: str) -> str:
    """``text`` cut to ``ECHO_CHARS`` characters, for an error message that repeats a bad value.

    A message names the value so that it can be found, but a refused 1 MB cell must not come back
    as a 1 MB line.
    """
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "…"
