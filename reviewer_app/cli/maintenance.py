"""``reviewer-app check-config`` and ``reviewer-app cleanup``: running the site safely."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


@click.command("check-config")
def check_config() -> None:
    """Report what is missing or unsafe for production; exit 1 if anything is.

    Reads the same settings the server reads (environment, instance/config.py). Advice that
    does not block production is printed too, and does not change the exit status.
    """
    from flask import Flask

    from .. import create_app  # noqa: F401  (the package's own app, for its root path)
    from ..config import ConfigError, load_config
    from ..security import production_problems

    app = Flask("reviewer_app", instance_relative_config=True)
    try:
        load_config(app, None, require_secret=False)
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    problems = production_problems(app.config)
    blocking = [p for p in problems if p.blocking]
    for problem in problems:
        label = "UNSAFE" if problem.blocking else "advice"
        click.echo(f"{label:7} {problem.setting} {problem.message}")
    if blocking:
        click.echo(
            f"{len(blocking)} setting(s) must change before production; see docs/security.md.",
            err=True,
        )
        sys.exit(1)
    click.echo("The configuration is ready for production.")


@click.command("cleanup")
@with_appcontext
def cleanup() -> None:
    """Remove what has expired: stashed form input past its time, ended sign-in sessions; then
    refresh the database's planner statistics (SQLite gathers none by itself).

    Safe to run at any time; run it daily (cron or a systemd timer).
    """
    from ..auth.sessions import delete_old_sessions
    from ..auth.stash import delete_expired_stashes
    from ..extensions import db, refresh_planner_statistics

    stashes = delete_expired_stashes()
    sessions = delete_old_sessions()
    db.session.commit()
    refresh_planner_statistics()
    click.echo(f"Removed {stashes} expired stash(es) and {sessions} old session record(s).")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (for scripts and tests).")
@with_appcontext
def worker(burst: bool) -> None:
    """Make reports in the background: an RQ worker on the report queue in Redis.

    Needs REDIS_URL (then REPORT_JOBS is "rq"). Run one or more on any host that reaches the
    database and Redis; each job runs in a process of its own.
    """
    from flask import current_app
    from rq import Worker

    from ..extensions import db
    from ..reports.jobs import queue

    backend = current_app.config["REPORT_JOBS"]
    if backend != "rq":
        click.echo(
            f"Error: REPORT_JOBS is {backend!r}: reports are made by the app server itself. "
            "Set REDIS_URL (and REPORT_JOBS=rq) to make them in workers.",
            err=True,
        )
        sys.exit(1)
    # Each job runs in a forked process: it must open connections of its own.
    db.engine.dispose()
    reports = queue()
    Worker([reports], connection=reports.connection).work(burst=burst)


def register(main: click.Group) -> None:
    main.add_command(check_config)
    main.add_command(cleanup)
    main.add_command(worker)
