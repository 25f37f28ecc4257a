"""The analytics stay pure, like scoring/: importing every module of the package loads neither
Flask nor SQLAlchemy, so the command, a background job and the tests can use it alone."""

import subprocess
import sys


def test_the_analytics_import_no_flask_and_no_sqlalchemy() -> None:
    code = (
        "import sys, pkgutil, importlib, reviewer_app.analytics as a\n"
        "for m in pkgutil.walk_packages(a.__path__, 'reviewer_app.analytics.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "('flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug', 'jinja2'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
