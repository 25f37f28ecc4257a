"""The scoring package stays pure: importing all of it loads neither Flask nor SQLAlchemy."""

import subprocess
import sys


def test_scoring_imports_no_flask_and_no_sqlalchemy() -> None:
    code = (
        "import sys, pkgutil, importlib, reviewer_app.scoring as s\n"
        "for m in pkgutil.walk_packages(s.__path__, 'reviewer_app.scoring.'):\n"
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
