"""Extensions, created unbound; ``create_app`` binds them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# One naming convention for every constraint, so Alembic can diff and drop them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def table_of(model: type[Base]) -> Table:
    """A model's table, for the Core statements that lock rows (the call, the audit chain)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


# Every model's base class. At run time Flask-SQLAlchemy's ``db.Model`` (built from ``Base``:
# same metadata and registry, plus the session binding); to the type checker ``Base`` itself,
# which it understands, where ``db.Model`` is an attribute it cannot see through.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


def init_migrations(app: Any, directory: str) -> None:
    """Flask-Migrate for ``app``. Imported here, not at the top: it brings Alembic (a tenth of
    a second), which only ``reviewer-app db`` and the test set-up need."""
    from flask_migrate import Migrate

    Migrate(render_as_batch=True, compare_type=True).init_app(app, db, directory=directory)


login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
# Storage and strategy come from the config (RATELIMIT_STORAGE_URI: Redis with REDIS_URL, else
# memory); no limit applies by default, only where a view asks (auth.throttle).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers work while an expert saves.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def refresh_planner_statistics() -> None:
    """Refresh the query planner's statistics (``ANALYZE``). SQLite never gathers them by
    itself: without them it picks poor plans for large calls (the progress page of a
    10,000-proposal call took 0.5 s instead of 0.17 s). PostgreSQL's autovacuum does this on
    its own; running it there as well does no harm. Commits."""
    from sqlalchemy import text

    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def try_refresh_planner_statistics() -> bool:
    """``refresh_planner_statistics`` after work that is committed already (an import, a
    restore): a failure (a busy SQLite file, a statement timeout) must not read as the work's.
    Rolls back and returns False on a database error; the next ``reviewer-app cleanup``
    refreshes them."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        refresh_planner_statistics()
    except SQLAlchemyError:
        db.session.rollback()
        logging.getLogger(__name__).warning("ANALYZE failed", exc_info=True)
        return False
    return True
