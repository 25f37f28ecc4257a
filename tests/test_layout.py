"""The package's shape (issue 10): modules that each hold one subject, loaded by explicit
imports."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reviewer_app"
MAX_LINES = 600


def test_no_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_nothing_is_loaded_by_file_name() -> None:
    """Blueprint and command modules are imported by name, never discovered (pkgutil)."""
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "pkgutil" in path.read_text() or "import_module(" in path.read_text()
    ]
    assert offenders == []


def test_criterion_scores_have_one_write_path() -> None:
    """The expert's page, the consensus page, the imports and the demo all write scores through
    models.reviews.write_scores; nothing else makes score rows."""
    makers = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).as_posix() != "models/reviews.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\b(Consensus)?Score\(", line)
    ]
    assert makers == []


def test_views_hold_no_queries() -> None:
    """Views load, check, call a service and answer; reading the database is the loaders' and
    the services' work (issue 10, point 3)."""
    views = [
        path
        for path in PACKAGE.rglob("*.py")
        if path.name == "views.py" or path.name.endswith("_views.py")
    ]
    assert len(views) >= 10
    query = re.compile(r"\bselect\(|db\.session\.(scalar|scalars|execute|get|query)\b")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in views
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if query.search(line)
    ]
    assert offenders == []
