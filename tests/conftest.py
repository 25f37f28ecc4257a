"""Shared fixtures: one application and database per test session, emptied after each test.

The suite runs on SQLite; with TEST_DATABASE_URL set it runs on that PostgreSQL database, each
xdist worker in a schema of its own. The schema is built by the migrations, not create_all, so
every test also exercises them.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, select, text

from reviewer_app import create_app
from reviewer_app.extensions import db as _db
from reviewer_app.models import Assignment, Call, Proposal, Role, User
from reviewer_app.scoring.scheme_parser import load_scheme_file

from .factories import COMMENT, add_users, advance_call, plant_phase, write_review

ROOT = Path(__file__).resolve().parent.parent
CRITERIA_DIR = ROOT / "criteria"
DEMO_SCHEME = CRITERIA_DIR / "ai-factories-2024.toml"
PASSWORD = "correct horse battery"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _database_url(tmp_root: Path, prefix: str = "test") -> str:
    """A fresh, empty database: a SQLite file under ``tmp_root``, or a new PostgreSQL schema."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_root / f'{prefix}.db'}"
    from reviewer_app.config import normalise_database_url

    url = normalise_database_url(url)
    # Per process, so that two runs at once (two developers, or CI beside a developer) never meet.
    schema = f"{prefix}_{WORKER}_{os.getpid()}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    # No wait for the disk at each commit: a test needs no durability across a server crash,
    # and what it sees (isolation, constraints, locks) does not change.
    return f"{url}{separator}options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"


def is_postgres() -> bool:
    return bool(os.environ.get("TEST_DATABASE_URL"))


# Every test that reaches the test database does so through one of these fixtures (directly or
# through another fixture): ``--database-tests-only`` keeps exactly those.
DATABASE_FIXTURES = frozenset({"app", "new_database_url"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help=(
            "run only the tests that use the test database (the app, or a database of their "
            "own): `make test`'s second pass on PostgreSQL, after the whole suite on SQLite"
        ),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow tests first: the load test (two minutes on PostgreSQL) started last kept one
    worker busy while the other had nothing left. On the PostgreSQL pass, a test that never
    touches the test database (the scoring engine, mypy, a command on a SQLite file of its
    own) would only repeat, byte for byte, what the SQLite pass ran."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable
    if not config.getoption("--database-tests-only"):
        return
    kept, left = [], []
    for item in items:
        names = getattr(item, "fixturenames", ())
        (kept if DATABASE_FIXTURES.intersection(names) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture
def new_database_url(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """A maker of fresh, empty databases beside the session's (a SQLite file, or a PostgreSQL
    schema of its own, dropped afterwards): for a test that migrates or serves its own."""
    made: list[str] = []

    def make(prefix: str) -> str:
        url = _database_url(tmp_path, prefix=prefix)
        made.append(url)
        return url

    yield make
    for url in made:
        drop_schema(url)


class Client(FlaskClient):
    """Each request in a fresh app context, as in production: ``g`` (the signed-in user, the
    locale) and the database session never leak from the test's own context into a request."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    root = tmp_path_factory.mktemp("instance")
    app = create_app(
        {
            "TESTING": True,
            "REVIEWER_APP_MODE": "test",
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": _database_url(root),
            "WTF_CSRF_ENABLED": False,
            "OUTBOX_DIR": str(root / "outbox"),
            "SERVER_NAME": None,
            # Strong hashing costs ~0.4 s a password; the suite checks behaviour, not strength.
            "PASSWORD_HASH_PROFILE": "CHEAPEST",
            # Most tests sign in with a password alone; tests/auth/ switch the rule on.
            "TWO_FACTOR_REQUIRED_FOR": "none",
            "RATELIMIT_STORAGE_URI": "memory://",
            # Reports in the request, for the tests that only read them; tests/reports/test_jobs.py
            # runs the background (thread and RQ on the real Redis).
            "REPORT_JOBS": "inline",
        }
    )
    app.test_client_class = Client
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()
    drop_schema(app.config["SQLALCHEMY_DATABASE_URI"])


def drop_schema(url: str) -> None:
    if "search_path%3D" not in url:
        return
    schema = url.rsplit("%3D", 1)[1]
    engine = create_engine(url.split("?")[0])
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(autouse=True)
def _empty_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from an empty database, whatever it committed."""
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    from reviewer_app.extensions import limiter

    with app.app_context():
        limiter.reset()  # sign-in failures counted in one test must not lock the next one out
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        _db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class CliRunner(FlaskCliRunner):
    """Invokes the real ``reviewer-app`` group (not ``app.cli``) against the test application."""

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Any:
        from reviewer_app.cli import main

        return super().invoke(cli or main, args, **kwargs)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return CliRunner(app)


@pytest.fixture
def csrf_enabled(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def make_user(app_ctx: Flask) -> Callable[..., User]:
    """A user added as ``reviewer-app users add --password-stdin`` adds one (``add_users``).
    ``active=False`` is planted: no service switches an account off."""
    counter = iter(range(1, 10_000))

    def make(role: Role | str = Role.EXPERT, **overrides: Any) -> User:
        n = next(counter)
        role = Role(role)
        password = overrides.pop("password", PASSWORD)
        active = overrides.pop("active", True)
        values: dict[str, Any] = {
            "email": f"{role.value}{n}@example.org",
            "name": f"{role.value.title()} {n}",
            "organisation": f"Organisation {n}",
            "role": role.value,
        }
        values.update(overrides)
        (user,) = add_users(values, password=password or None)
        user.active = active
        _db.session.commit()
        return user

    return make


@pytest.fixture
def make_call(app_ctx: Flask) -> Callable[..., Call]:
    from reviewer_app.coordinator.calls import create_call

    counter = iter(range(1, 10_000))

    def make(scheme_path: Path = DEMO_SCHEME, **overrides: Any) -> Call:
        n = next(counter)
        scheme = load_scheme_file(scheme_path)
        phase = overrides.pop("phase", None)
        values: dict[str, Any] = {"key": f"call-{n}", "title": f"Test call {n}"}
        values.update(overrides)
        call = create_call(scheme, scheme_path.read_text(encoding="utf-8"), **values, actor=None)
        _db.session.commit()
        # An empty call in a later phase: planted, as no service moves a call without proposals.
        return plant_phase(call, phase) if phase is not None else call

    return make


@pytest.fixture
def make_proposal(app_ctx: Flask) -> Callable[..., Proposal]:
    """A proposal added as the coordinator adds one (``create_proposal``): the call must be
    in set-up, as it must be for the coordinator."""
    from reviewer_app.coordinator.proposals import create_proposal

    counter = iter(range(1, 10_000))

    def make(call: Call, **overrides: Any) -> Proposal:
        n = next(counter)
        values: dict[str, Any] = {
            "reference": f"P-{n:03d}",
            "acronym": f"ACR{n}",
            "title": f"Proposal {n}",
            "applicant": f"Applicant {n}",
            "country": "ES",
            "requested_funding_eur": Decimal("1000000.00"),
            "summary": "A summary.",
        }
        values.update(overrides)
        proposal = create_proposal(call, actor=None, **values)
        _db.session.commit()
        return proposal

    return make


@pytest.fixture
def make_assignment(app_ctx: Flask) -> Callable[..., Assignment]:
    """An assignment made as the coordinator makes one: the matrix's toggle, then the
    rapporteur choice and the expert's due date when asked for (set-up or evaluation)."""
    from reviewer_app.coordinator.experts import set_rapporteur, toggle_assignment
    from reviewer_app.coordinator.progress import set_due_date

    def make(
        proposal: Proposal,
        expert: User,
        *,
        is_rapporteur: bool = False,
        due_date: date | None = None,
    ) -> Assignment:
        call = proposal.call
        assert toggle_assignment(call, proposal, expert, actor=None), "already assigned"
        if is_rapporteur:
            set_rapporteur(call, proposal, expert, actor=None)
        if due_date is not None:
            set_due_date(call, expert, due_date, actor=None)
        _db.session.commit()
        return _db.session.scalars(
            select(Assignment).filter_by(proposal_id=proposal.id, expert_id=expert.id)
        ).one()

    return make


@pytest.fixture
def login_as(client: FlaskClient, request: pytest.FixtureRequest) -> Callable[..., FlaskClient]:
    """Sign in and return the client: as ``who``, a user, or as a new user of the role ``who``
    (a Role or its value, made as ``make_user`` makes one) for a test that needs no more of
    the user than being signed in."""

    def login(who: User | Role | str, password: str = PASSWORD) -> FlaskClient:
        if not isinstance(who, User):
            # Only a role given: make_user (and the app context it pushes) only then.
            who = request.getfixturevalue("make_user")(Role(who), password=password)
        response = client.post("/login", data={"email": who.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return login


class Inbox:
    """The messages an aiosmtpd server on 127.0.0.1 received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        raw = envelope.original_content or envelope.content  # type: ignore[attr-defined]
        self.messages.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_inbox(app: Flask) -> Iterator[Inbox]:
    """A real SMTP server for the test; the app sends its mail there."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield inbox
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
        controller.stop()


@pytest.fixture
def evaluated_call(app_ctx: Flask, make_call, make_user, make_proposal) -> Call:
    """A call set up and moved to evaluation by the services (the real writers of its log):
    one proposal, three experts assigned."""
    from reviewer_app.coordinator.experts import toggle_assignment
    from reviewer_app.coordinator.phases import move_phase
    from reviewer_app.models import Phase

    call = make_call()
    proposal = make_proposal(call)
    for _ in range(3):
        toggle_assignment(call, proposal, make_user("expert"), actor=None)
    _db.session.commit()
    move_phase(call, Phase.EVALUATION)
    _db.session.commit()
    return call


# --- the world, built through the services (tests/factories.py) ---------------------------------------------------
# Tests build reviews, consensus reports and phase moves the way users do, through the service
# functions the pages call, so a test never holds rows only its reader knows.


@pytest.fixture
def advance(app_ctx: Flask) -> Callable[..., Call]:
    """Move ``call`` forward, phase by phase, to ``to`` (every confirmation given)."""
    return advance_call


@pytest.fixture
def make_review(app_ctx: Flask) -> Callable[..., Any]:
    """A review written as the expert writes it: declaration, then the save (or submit) of
    the review page. ``value`` gives every criterion the same score; ``values`` one each.
    The call must be in its evaluation phase, as for the expert."""

    def make(
        assignment: Assignment,
        *,
        submitted: bool = True,
        value: str = "4",
        values: dict[str, str] | None = None,
        comment: str = COMMENT,
    ) -> Any:
        criteria = assignment.proposal.call.criteria
        given = {c.key: (values or {}).get(c.key, value) for c in criteria}
        return write_review(assignment, given, submitted=submitted, comment=comment)

    return make


# The real Redis of this machine and of CI (job and rate-limit tests use it).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def on_redis(app: Flask) -> Iterator[str]:
    """Report jobs queued for RQ on the real Redis, in a queue of this test's own (tests run
    side by side); no worker runs unless the test starts one, so a job waits as it waits for a
    worker in production. The queue is emptied afterwards."""
    from reviewer_app.reports import jobs

    name = f"reviewer-app-test-{uuid.uuid4().hex}"
    app.config.update(REPORT_JOBS="rq", REDIS_URL=REDIS_URL, REPORT_JOBS_QUEUE=name)
    yield name
    with app.app_context():
        jobs.queue().delete(delete_jobs=True)
    app.config.update(REPORT_JOBS="inline", REDIS_URL=None)
    app.config.pop("REPORT_JOBS_QUEUE")
