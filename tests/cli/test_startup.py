"""The command line starts light (issue 11, point 2): listing the commands imports neither the
models, nor the web layer, nor Alembic; they come when a command needs them. Checked by what
is imported, not by a time."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("reviewer_app.models", "reviewer_app.web", "reviewer_app.importers", "alembic")


def _imported_after(
    code: str, heavy: tuple[str, ...] = HEAVY, env: dict[str, str] | None = None
) -> set[str]:
    listed = f"','.join(m for m in {heavy!r} if m in sys.modules)"
    probe = f"import sys\n{code}\nprint('IMPORTED:' + {listed})\n"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"REVIEWER_APP_MODE": "demo", "PATH": "", **(env or {})},
    )
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("IMPORTED:"), done.stdout
    return set(filter(None, line.removeprefix("IMPORTED:").split(",")))


def test_listing_the_commands_imports_nothing_heavy() -> None:
    code = (
        "from reviewer_app.cli import main\n"
        "try:\n"
        "    main(['--help'], prog_name='reviewer-app')\n"
        "except SystemExit:\n"
        "    pass"
    )
    assert _imported_after(code) == set()


def test_a_command_that_needs_no_database_stays_light(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    scheme = Path(__file__).resolve().parents[2] / "criteria" / "ai-factories-2024.toml"
    code = (
        "from reviewer_app.cli import main\n"
        "try:\n"
        f"    main(['criteria', 'check', {str(scheme)!r}], prog_name='reviewer-app')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code"
    )
    assert _imported_after(code) == set()


def test_the_migration_commands_work_through_the_light_group(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`make demo` runs `reviewer-app db upgrade`: Flask-Migrate's group, loaded on use, still
    gets its options and its callback (it failed with "AttributeError: directory")."""
    import os
    from pathlib import Path

    env = {
        **os.environ,
        "REVIEWER_APP_MODE": "demo",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
    }
    command = str(Path(sys.executable).parent / "reviewer-app")
    for args in (["db", "upgrade"], ["db", "current"], ["db", "--help"]):
        done = subprocess.run(
            [command, *args], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "(head)"
        in subprocess.run(
            [command, "db", "current"], env=env, capture_output=True, text=True, check=True
        ).stdout
    )


def test_a_database_command_leaves_out_what_it_does_not_use(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A command that reads the database builds the app, but not Alembic (only `db` needs it),
    nor the pages, nor numpy (the analytics), nor WeasyPrint, nor the QR codes' imaging
    library, nor the password checker's word lists."""
    import os
    from pathlib import Path

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    command = str(Path(sys.executable).parent / "reviewer-app")
    subprocess.run(
        [command, "db", "upgrade"],
        env={**os.environ, "REVIEWER_APP_MODE": "demo", "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    code = (
        "from reviewer_app.cli import main\n"
        "try:\n"
        "    main(['call', 'list'], prog_name='reviewer-app')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code"
    )
    heavy = (
        *("reviewer_app.models", "alembic", "flask_migrate", "qrcode", "PIL", "zxcvbn"),
        *("reviewer_app.web", "reviewer_app.coordinator.call_views", "numpy", "weasyprint"),
    )
    assert _imported_after(code, heavy, {"DATABASE_URL": url}) == {"reviewer_app.models"}


def test_the_server_command_has_every_route(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`reviewer-app run` (and `routes`, `shell`) build the whole web side: the routes are
    there."""
    import os
    from pathlib import Path

    env = {**os.environ, "REVIEWER_APP_MODE": "demo", "DATABASE_URL": "sqlite://"}
    command = str(Path(sys.executable).parent / "reviewer-app")
    done = subprocess.run([command, "routes"], env=env, capture_output=True, text=True, check=True)

    for endpoint in (
        "auth.login",
        "expert.assignments",
        "coordinator.calls",
        "reports.decision_report",
    ):
        assert endpoint in done.stdout


def test_a_command_renders_the_areas_templates_without_the_pages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`reviewer-app report` builds the app without the pages, yet the report's templates (in
    the reports area) are found: the PDF is made and verifies."""
    import os
    from pathlib import Path

    env = {
        **os.environ,
        "REVIEWER_APP_MODE": "demo",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'report.db'}",
    }
    command = str(Path(sys.executable).parent / "reviewer-app")
    pdf = tmp_path / "report.pdf"
    for args in (["db", "upgrade"], ["demo"], ["report", "ai-factories-2024", "-o", str(pdf)]):
        done = subprocess.run(
            [command, *args], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    verified = subprocess.run(
        [command, "report", "verify", str(pdf)], env=env, capture_output=True, text=True
    )
    assert verified.stdout.rstrip().endswith("verified"), verified.stdout + verified.stderr
