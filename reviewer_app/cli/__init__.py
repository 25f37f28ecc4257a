"""The ``reviewer-app`` command: one click group per noun, over ``create_app``."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup
from flask_migrate.cli import db as db_group


def _create_app() -> object:
    from .. import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=True,
    add_version_option=False,
    load_dotenv=False,
)
def main() -> None:
    """reviewer_app: evaluation of funding proposals by independent experts."""


main.add_command(db_group)

from . import criteria, demo  # noqa: E402  (each module adds its commands to ``main``)

for _module in (criteria, demo):
    _module.register(main)
