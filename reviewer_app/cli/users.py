"""``reviewer-app users``: add one user or import many; each gets an invitation link."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ..extensions import db
from ..importers import Row, Table, import_users
from ..models import User
from ._common import FORMAT_OPTION, commit_import, fail, load_table


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """User accounts: experts, coordinators, observers."""


@users_group.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Full name as shown to others.")
@click.option("--role", required=True, type=click.Choice(["expert", "coordinator", "observer"]))
@click.option("--organisation", default="", help="Employer, for the conflict rules.")
@click.option("--country", default="", help="Two-letter country code, for the conflict rules.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of printing an invitation link.",
)
def add(
    email: str, name: str, role: str, organisation: str, country: str, password_stdin: bool
) -> None:
    """Add a user. Without --password-stdin, print a one-time invitation link to set one."""
    from ..auth.services import MIN_PASSWORD_LENGTH

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < MIN_PASSWORD_LENGTH:
            fail(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    values = {
        "email": email,
        "name": name,
        "role": role,
        "organisation": organisation,
        "country": country,
    }
    table = Table(tuple(values), (Row(None, values),))
    (user,) = commit_import("users add", lambda: _create(table, password))
    if password is not None:
        click.echo(f"Added {user.role.value} {user.email}; they can sign in with that password.")
    else:
        url = _invite(user)
        db.session.commit()
        click.echo(f"Added {user.role.value} {user.email}. One-time invitation link:")
        click.echo(url)


def _create(table: Table, password: str | None) -> list[User]:
    from ..auth.services import set_password

    users = import_users(table)
    if password is not None:
        set_password(users[0], password)
    return users


def _invite(user: User) -> str:
    from ..auth.services import create_invitation, invitation_url

    return invitation_url(create_invitation(user))


@users_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@FORMAT_OPTION
def import_command(file: Path, fmt: str | None) -> None:
    """Import users from FILE and print a one-time invitation link for each.

    CSV columns: email, name, role (expert, coordinator or observer); optionally organisation,
    country, language. An e-mail already registered is an error. One bad row and nothing is
    imported.
    """
    table = load_table(file, fmt)

    def create_and_invite() -> list[tuple[User, str]]:
        return [(user, _invite(user)) for user in import_users(table)]

    invited = commit_import(file, create_and_invite)
    click.echo(f"Imported {len(invited)} users. One-time invitation links:")
    for user, url in invited:
        click.echo(f"{user.email}\t{url}")


def register(main: click.Group) -> None:
    main.add_command(users_group)
