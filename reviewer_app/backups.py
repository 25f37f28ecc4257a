"""Backups of the whole site: every call, review, version, audit event and uploaded document.

Uploaded documents live in the database (``documents.content``), so one copy of the database
is a copy of everything. Each database is copied with its own tool, which keeps it consistent
while the site runs: SQLite's online backup API (``sqlite3.Connection.backup``), and
``pg_dump`` (custom format) / ``pg_restore`` for PostgreSQL. A backup made from SQLite restores
into SQLite, one from PostgreSQL into PostgreSQL.

The audit log's HMAC chain travels with the rows; ``reviewer-app audit verify`` on the restored
copy passes only with the same ``AUDIT_KEY`` (or ``SECRET_KEY``) as the original.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from .audit.events import BackupMade, BackupRestored
from .errors import DomainError
from .extensions import db, try_refresh_planner_statistics
from .models import Call, User
from .models.audit import record

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(DomainError):
    """The backup or the restore cannot be done; the message says why."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    size_bytes: int
    calls: int
    users: int


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Call.id))) or 0,
        db.session.scalar(select(func.count(User.id))) or 0,
    )


def _database() -> tuple[str, str]:
    """(kind, URL) of the database the app uses: kind is ``sqlite`` or ``postgresql``."""
    url = make_url(str(db.engine.url))
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {backend}.")
    return backend, url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed; install the PostgreSQL client tools "
            "(Debian: apt install postgresql-client)."
        )
    return found


def _pg_url(url: str) -> str:
    """The URL as libpq reads it (no SQLAlchemy driver suffix)."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _with_site_database(copy: Callable[[sqlite3.Connection], object]) -> None:
    """Run ``copy`` on the site's own SQLite connection (the backup API copies between two)."""
    raw = db.engine.raw_connection()
    try:
        site = raw.driver_connection
        assert isinstance(site, sqlite3.Connection)
        copy(site)
    finally:
        raw.close()


def backup(path: Path) -> BackupSummary:
    """Write a consistent copy of the whole database to ``path`` (replaced if it exists).

    :raises BackupError: an unsupported database, a missing tool, or a failed copy.
    """
    kind, url = _database()
    calls, users = _counts()
    db.session.commit()  # nothing of ours in flight; the copy sees what is committed
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    if kind == "sqlite":
        target = sqlite3.connect(partial)
        try:
            _with_site_database(lambda site: site.backup(target))
        finally:
            target.close()
    else:
        # Only the schema the site uses (a deployment may share the database; so do the tests).
        schema = db.session.scalar(text("SELECT current_schema()"))
        done = subprocess.run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                f"--schema={schema}",
                f"--file={partial}",
                _pg_url(url),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    partial.replace(path)  # a backup file is whole or absent, never half-written
    size = path.stat().st_size
    # Recorded after the copy (which therefore does not hold its own event): everything left.
    record(BackupMade(file=path.name, size_bytes=size), actor_id=None)
    db.session.commit()
    return BackupSummary(path, size, calls, users)


def restore(path: Path, *, force: bool = False) -> BackupSummary:
    """Replace the database's contents with the backup at ``path``.

    :raises BackupError: no such file, a file that is not a backup of this kind of database,
        a database that holds data without ``force``, or a failed restore.
    """
    kind, url = _database()
    if not path.is_file():
        raise BackupError(f"{path}: no such file.")
    head = path.read_bytes()[:16]
    expected = SQLITE_MAGIC if kind == "sqlite" else PG_MAGIC
    if not head.startswith(expected):
        other = (
            "SQLite"
            if head.startswith(SQLITE_MAGIC)
            else ("PostgreSQL" if head.startswith(PG_MAGIC) else None)
        )
        raise BackupError(
            f"{path} is a {other} backup; this site runs on {kind}."
            if other
            else f"{path} is not a backup made by reviewer-app backup."
        )
    if any(_counts()) and not force:
        raise BackupError(
            "The database holds data; restoring replaces all of it. "
            "Run again with --force to do so."
        )
    db.session.commit()
    db.session.close()
    if kind == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            _with_site_database(source.backup)
        finally:
            source.close()
        db.engine.dispose()  # other pooled connections must not keep the old pages
    else:
        db.engine.dispose()
        done = subprocess.run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_pg_url(url)}",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    record(BackupRestored(file=path.name), actor_id=None)
    db.session.commit()
    # pg_restore brings no planner statistics: until autovacuum came by, the ranking of a large
    # call was planned as if its tables were empty (twice as slow at 10,000 proposals). The
    # restore is committed: should this fail, the daily `reviewer-app cleanup` does it.
    try_refresh_planner_statistics()
    calls, users = _counts()
    return BackupSummary(path, path.stat().st_size, calls, users)
