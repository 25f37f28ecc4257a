"""reviewer_app: independent experts score funding proposals; coordinators rank and decide."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask stays unimported so that reviewer_app.scoring can be imported pure
    from flask import Flask


def areas() -> tuple[ModuleType, ...]:
    """The role areas: each a package with its blueprint ``bp`` (and templates), whose
    ``blueprint()`` adds the routes. Importing one does not import its pages."""
    from . import auth, consensus, coordinator, expert, reports

    return (auth, expert, coordinator, consensus, reports)


def create_app(
    config: Mapping[str, Any] | None = None, *, migrations: bool = True, web: bool = True
) -> Flask:
    """Build the application; ``config`` overrides every other source (tests, the demo).

    ``migrations=False`` leaves out Flask-Migrate (and Alembic), ``web=False`` the pages and
    their routes: the command line's commands start faster without what they do not use."""
    from flask import Flask

    from . import models  # noqa: F401  (registers every table with the metadata)
    from .config import load_config
    from .extensions import babel, bootstrap, csrf, db, init_migrations, limiter, login_manager

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
    if web:
        from .web import register_web

        register_web(app)
    else:
        # Reports and messages are rendered from the areas' templates. Without the pages the
        # app reads those folders itself: the blueprints would bring their routes along.
        from jinja2 import ChoiceLoader, FileSystemLoader

        blueprints = [area.bp for area in areas()]
        folders = [Path(app.root_path) / "templates"]
        folders.extend(Path(bp.root_path) / bp.template_folder for bp in blueprints)
        app.jinja_loader = ChoiceLoader([FileSystemLoader(folder) for folder in folders])
    return app


def _migrations_dir() -> Any:
    # The migrations live beside the package in a checkout; an installed copy ships them inside.
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "migrations", here / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    return here.parent / "migrations"
