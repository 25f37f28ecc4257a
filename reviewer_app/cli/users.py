"""``reviewer-app users``: add one user or import many; each gets an invitation link."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from ._common import FORMAT_OPTION, commit_import, fail, load_table

if TYPE_CHECKING:  # imported where used: the command line starts without them
    from ..importers import Table
    from ..models import User


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
    from ..extensions import db
    from ..importers import Row, Table

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        _check_password(email, name, password)
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


def _check_password(email: str, name: str, password: str) -> None:
    from ..auth.passwords import password_problem

    problem = password_problem(password, user_inputs=(email, name))
    if problem is not None:
        fail(f"the password is refused: {problem.message}")


def _create(table: Table, password: str | None) -> list[User]:
    from ..auth.services import set_password
    from ..importers import import_users

    users = import_users(table, actor=None)
    if password is not None:
        set_password(users[0], password)
    return users


def _invite(user: User) -> str:
    from ..auth.links import issue_link, link_url
    from ..models import LinkPurpose

    return link_url(issue_link(user, LinkPurpose.INVITATION), LinkPurpose.INVITATION)


def _find_user(email: str) -> User:
    from sqlalchemy import select

    from ..extensions import db
    from ..models import User

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        fail(f"no user with the e-mail {email.strip().lower()!r}")
    return user


@users_group.command("invite")
@click.argument("email")
def invite(email: str) -> None:
    """Print a fresh one-time link for EMAIL to set a password.

    Every earlier invitation or reset link of the account stops working. For an account that
    already has a password, the link sets a new one (the old one works until then).
    """
    from ..extensions import db

    user = _find_user(email)
    if not user.active:
        fail(f"{user.email} is deactivated; a link would not work")
    url = _invite(user)
    db.session.commit()
    click.echo(f"One-time link for {user.email} (earlier links no longer work):")
    click.echo(url)


@users_group.command("reset-2fa")
@click.argument("email")
def reset_two_factor_command(email: str) -> None:
    """Turn two-factor sign-in off for EMAIL (a lost phone and lost recovery codes).

    Every session of the account ends. Where two-factor sign-in is required for the account's
    role, the user sets it up again at the next sign-in.
    """
    from ..auth.services import reset_two_factor
    from ..extensions import db

    user = _find_user(email)
    if not user.has_two_factor:
        fail(f"{user.email} has no two-factor sign-in to reset")
    ended = reset_two_factor(user)
    db.session.commit()
    click.echo(
        f"Two-factor sign-in of {user.email} is reset; {ended} session(s) ended. "
        "They set it up again at their next sign-in if their role requires it."
    )


@users_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@FORMAT_OPTION
def import_command(file: Path, fmt: str | None) -> None:
    """Import users from FILE and print a one-time invitation link for each.

    CSV columns: email, name, role (expert, coordinator or observer); optionally organisation,
    country, language. An e-mail already registered is an error. One bad row and nothing is
    imported.
    """
    from ..importers import import_users

    table = load_table(file, fmt)

    def create_and_invite() -> list[tuple[User, str]]:
        return [(user, _invite(user)) for user in import_users(table, actor=None)]

    invited = commit_import(file, create_and_invite)
    click.echo(f"Imported {len(invited)} users. One-time invitation links:")
    for user, url in invited:
        click.echo(f"{user.email}\t{url}")


def register(main: click.Group) -> None:
    main.add_command(users_group)
