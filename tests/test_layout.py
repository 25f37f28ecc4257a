"""The package's shape (issue 10): modules that each hold one subject, loaded by explicit
imports."""

from __future__ import annotations

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
