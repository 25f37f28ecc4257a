"""Importing accounts (experts, coordinators, observers)."""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import select

from .. import limits
from ..audit.events import (
    UserCreated,
)
from ..extensions import db
from ..models import (
    Role,
    User,
)
from ..models.audit import record
from .checks import IMPORTABLE_ROLES, Check, country_message, normalise_email
from .tables import Table

# --- users --------------------------------------------------------------------------------------


def import_users(table: Table, *, actor: User | None) -> list[User]:
    """Create the table's users (columns ``email``, ``name``, ``role``; optional
    ``organisation``, ``country``, ``language``), without passwords: each needs an invitation.

    :raises ImportRejected: a bad row, an e-mail twice in the file or already registered.
    """
    check = Check()
    check.require_columns(table, ("email", "name", "role"))
    check.raise_if_any()
    rows = [(row, normalise_email(check, row, "email")) for row in table.rows]
    emails = {email for _, email in rows if email}
    registered = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    seen: dict[str, int | None] = {}
    users: list[User] = []
    for row, email in rows:
        if email:
            check.unique(row, "email", email, seen)
            if email in registered:
                check.add(
                    row,
                    "email",
                    gettext("%(email)s already has an account", email=email),
                )
        name = check.text(row, "name", required=True, max_length=limits.USER_NAME)
        role_name = check.text(row, "role", required=True).lower()
        role = Role(role_name) if role_name in {r.value for r in IMPORTABLE_ROLES} else None
        if role is None and role_name:
            check.add(
                row,
                "role",
                gettext(
                    "must be expert, coordinator or observer, got %(value)s",
                    value=limits.excerpt(repr(role_name)),
                ),
            )
        country = check.text(row, "country").upper() or None
        if country is not None and not (len(country) == 2 and country.isalpha()):
            check.add(row, "country", country_message(country))
        language = check.text(row, "language", max_length=5).lower() or None
        if role is not None:
            users.append(
                User(
                    email=email,
                    name=name,
                    role=role,
                    organisation=check.text(
                        row, "organisation", max_length=limits.USER_ORGANISATION
                    ),
                    country=country,
                    language=language,
                )
            )
    if not table.rows:
        check.add(None, None, gettext("the file has no users"))
    check.raise_if_any()
    db.session.add_all(users)
    db.session.flush()
    for user in users:
        record(
            UserCreated(email=user.email, role=user.role.value),
            user,
            actor_id=actor.id if actor else None,
        )
    return users
