"""The pure packages stay pure: importing all of scoring/ and planning/ (and the pseudonym
function) loads neither Flask nor SQLAlchemy."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["scoring", "planning"])
def test_pure_packages_import_no_flask_and_no_sqlalchemy(package: str) -> None:
    code = (
        f"import sys, pkgutil, importlib, reviewer_app.{package} as s\n"
        f"for m in pkgutil.walk_packages(s.__path__, 'reviewer_app.{package}.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "('flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug', 'jinja2'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_pseudonym_function_is_pure_too() -> None:
    """Every page, export and report letters experts through it; it needs nothing but Python."""
    code = (
        "import sys, reviewer_app.pseudonyms\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "('flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug', 'jinja2'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
