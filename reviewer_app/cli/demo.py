from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.command("demo")
@click.option("--reset", is_flag=True, help="Delete everything in the database first.")
@with_appcontext
def demo_command(reset: bool) -> None:
    """Seed the AI Factories demo call (7 proposals, 6 experts) and print the logins."""
    from ..demo import DemoRefused, seed_demo

    try:
        seed = seed_demo(reset=reset)
    except DemoRefused as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"Demo call '{seed.call_key}' is ready: 7 proposals based on public "
        "announcements; experts, scores and comments are simulated."
    )
    click.echo("")
    click.echo(f"Sign in at http://127.0.0.1:5000 with password '{seed.password}':")
    width = max(len(login.email) for login in seed.logins)
    for login in seed.logins:
        click.echo(f"  {login.email:<{width}}  {login.role:<11}  {login.name} ({login.note})")


def register(main: click.Group) -> None:
    main.add_command(demo_command)
