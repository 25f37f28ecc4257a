"""`make test` type-checks the whole package, strictly: the configuration says so and excuses
no module of reviewer_app (issue 10, point 1). The check itself runs as `make types`."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _mypy() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def test_mypy_checks_the_whole_package_strictly() -> None:
    config = _mypy()
    assert config["files"] == ["reviewer_app"] and config["strict"] is True
    assert "ignore_missing_imports" not in config  # only named libraries may lack types
    for override in config.get("overrides", []):
        modules = (
            override["module"] if isinstance(override["module"], list) else [override["module"]]
        )
        assert not any(m.startswith("reviewer_app") for m in modules), modules
        assert set(override) <= {"module", "ignore_missing_imports"}, override


def test_make_test_runs_the_type_check() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: .*\btypes\b", makefile, re.M)
    assert re.search(r"^types:.*\n\t\$\(BIN\)/mypy\s*$", makefile, re.M)


def test_no_blanket_type_ignores_in_the_package() -> None:
    """Every remaining `type: ignore` names its error code, so a new kind of error shows."""
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "reviewer_app").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"type:\s*ignore(?!\[)", line)
    ]
    assert bare == []


def test_a_type_error_planted_in_a_coordinator_view_is_caught(tmp_path: Path) -> None:
    """The check is real: the same view with one wrong return type fails it. mypy reads the
    planted copy in place of the module (--shadow-file), so its cache from `make types` holds."""
    view = ROOT / "reviewer_app" / "coordinator" / "call_views.py"
    planted = tmp_path / "call_views.py"
    planted.write_text(
        view.read_text(encoding="utf-8") + '\n\ndef _planted() -> int:\n    return "a text"\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--shadow-file", str(view), str(planted)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "call_views.py" in result.stdout and "[return-value]" in result.stdout
