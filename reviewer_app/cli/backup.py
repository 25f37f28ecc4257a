"""``reviewer-app backup`` and ``reviewer-app restore``: a copy of everything, and back."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Copy the whole database (every call, review, version, audit event and document) to
    FILE, consistently while the site runs: SQLite's online backup, or pg_dump."""
    from ..backups import BackupError, backup

    try:
        made = backup(file)
    except BackupError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"Backup written to {made.path} ({made.size_bytes:,} bytes): "
        f"{made.calls} calls, {made.users} accounts."
    )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(file: Path, force: bool) -> None:
    """Replace the database's contents with the backup FILE (refused over data without
    --force). Run `reviewer-app audit verify` afterwards, with the same AUDIT_KEY."""
    from ..backups import BackupError, restore

    try:
        done = restore(file, force=force)
    except BackupError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Restored {done.path}: {done.calls} calls, {done.users} accounts.")


def register(main: click.Group) -> None:
    main.add_command(backup_command)
    main.add_command(restore_command)
