"""Bulk imports: proposals, users, assignments, offline reviews, consensus reports, decisions.

Shared by the command line and the web upload. Each import is all-or-nothing: it reads the
whole table (``tables``), checks every row against the database (``checks``), and raises
:class:`ImportRejected` listing every bad row (row number, column, reason) before it writes
anything. Only a table without a single problem is written; the functions add and flush, the
caller commits once. One module per kind of record.
"""

from .assignments import import_assignments
from .checks import PROPOSAL_COLUMNS, USER_COLUMNS
from .consensus import import_consensus
from .decisions import DECISION_COLUMNS, import_decisions
from .proposals import import_proposals
from .reviews import import_reviews, score_columns
from .tables import ImportRejected, Row, RowError, Table, read_table
from .users import import_users

__all__ = [
    "DECISION_COLUMNS",
    "PROPOSAL_COLUMNS",
    "USER_COLUMNS",
    "ImportRejected",
    "Row",
    "RowError",
    "Table",
    "import_assignments",
    "import_consensus",
    "import_decisions",
    "import_proposals",
    "import_reviews",
    "import_users",
    "read_table",
    "score_columns",
]
