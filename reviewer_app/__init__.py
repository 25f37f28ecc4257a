"""reviewer_app: independent experts score funding proposals; coordinators rank and decide."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask stays unimported so that reviewer_app.scoring can be imported pure
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None, *, migrations: bool = True) -> Flask:
    """Build the application; ``config`` overrides every other source (tests, the demo).

    ``migrations=False`` leaves out Flask-Migrate (and Alembic): the command line's other
    commands start faster without them."""
    from flask import Flask

    from . import models  # noqa: F401  (registers every table with the metadata)
    from .config import load_config
    from .extensions import babel, bootstrap, csrf, db, init_migrations, limiter, login_manager
    from .web import register_web

    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)

    db.init_app(app)
    if migrations:
        init_migrations(app, str(_migrations_dir()))
    login_manager.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    from .i18n import init_i18n

    init_i18n(app, babel)
    register_web(app)
    return app


def _migrations_dir() -> Any:
    from pathlib import Path

    # The migrations live beside the package in a checkout; an installed copy ships them inside.
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "migrations", here / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    return here.parent / "migrations"
