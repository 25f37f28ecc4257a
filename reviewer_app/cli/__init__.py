"""The ``reviewer-app`` command: one click group per noun, over ``create_app``.

Each module of this package adds its commands through ``register(main)``; the list at the end
names them all, so a new module of commands is one line more.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import FlaskGroup


class ReviewerAppGroup(FlaskGroup):
    """Lists its own commands without building the app, so ``--help`` works before set-up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(click.Group.list_commands(self, ctx))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        # Our own commands are found without building the app (FlaskGroup would build it to
        # look for plugins first): the app is made when a command needs it, not for --help.
        return click.Group.get_command(self, ctx, cmd_name) or super().get_command(ctx, cmd_name)


# Set when `reviewer-app db ...` is chosen, before the app is made: only those commands need
# Flask-Migrate and Alembic.
_wants_migrations = False
# Flask's own commands that serve or inspect the web side; every other command works without
# the pages, and starts without importing them.
WEB_COMMANDS = frozenset({"run", "shell", "routes"})


def _create_app() -> object:
    from .. import create_app

    return create_app(migrations=_wants_migrations, web=_command_name() in WEB_COMMANDS)


def _command_name() -> str:
    """The name of the command chosen under ``reviewer-app`` ("report" for ``report verify``)."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None and ctx.parent.parent is not None:
        ctx = ctx.parent
    return ctx.info_name or "" if ctx is not None else ""


@click.group(
    cls=ReviewerAppGroup,
    create_app=_create_app,
    add_default_commands=True,
    add_version_option=False,
    load_dotenv=False,
)
def main() -> None:
    """reviewer_app: evaluation of funding proposals by independent experts."""


class _MigrationsGroup(click.Group):
    """``reviewer-app db``: Flask-Migrate's commands, imported (with Alembic) only when used."""

    def _real(self) -> click.Group:
        from flask_migrate.cli import db

        group: click.Group = db
        return group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # Run as Flask-Migrate's own group: its options (--directory, -x) and its callback,
        # which keeps them for the subcommands (`reviewer-app db upgrade` failed without it).
        global _wants_migrations
        _wants_migrations = True
        return self._real().make_context(info_name, args, parent=parent, **extra)


main.add_command(_MigrationsGroup("db", help="Perform database migrations."))


def run() -> None:
    """The console script: a bug shows as one line, its traceback goes to a file for us.

    Set REVIEWER_APP_TRACEBACK=1 to see the traceback itself.
    """
    import os
    import sys
    import tempfile
    import traceback

    try:
        main(prog_name="reviewer-app")
    except Exception as exc:
        if os.environ.get("REVIEWER_APP_TRACEBACK"):
            raise
        with tempfile.NamedTemporaryFile(
            "w", prefix="reviewer-app-error-", suffix=".txt", delete=False
        ) as fh:
            traceback.print_exc(file=fh)
        click.echo(
            f"Error: an unexpected {type(exc).__name__} stopped the command; nothing more was "
            f"done. The details are in {fh.name}: please send them to the maintainers.",
            err=True,
        )
        sys.exit(70)


# After ``main`` exists: each module adds its commands to it.
from . import (  # noqa: E402
    analytics,
    assign,
    audit,
    backup,
    calls,
    consensus,
    criteria,
    decisions,
    demo,
    export,
    maintenance,
    proposals,
    ranking,
    report,
    reviews,
    users,
)

for _module in (
    analytics,
    assign,
    audit,
    backup,
    calls,
    consensus,
    criteria,
    decisions,
    demo,
    export,
    maintenance,
    proposals,
    ranking,
    report,
    reviews,
    users,
):
    _module.register(main)
