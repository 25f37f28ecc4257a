"""Every refusal of a service is a DomainError; one that no view catches is answered the same
way everywhere: nothing saved, the message shown, back to the page the user came from."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import select

from reviewer_app import create_app
from reviewer_app.errors import DomainError
from reviewer_app.extensions import db
from reviewer_app.models import Role, User

PACKAGE = Path(__file__).resolve().parents[1] / "reviewer_app"
# Failures of the machinery or of the stored data (a bug, or tampering), not refusals by the rules.
NOT_REFUSALS = {"MailError", "DomainError", "EvaluationError"}


def test_every_error_class_of_the_package_is_a_domain_error() -> None:
    loose = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith(
                ("Error", "Refused", "Rejected", "Taken", "Frozen", "Locked", "Declared")
            ):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if bases & {"Exception", "ValueError", "LookupError", "RuntimeError"} and not (
                    bases & {"DomainError"}
                ):
                    loose.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert [n for n in loose if n.split(":")[1] not in NOT_REFUSALS] == []


def _app_with_a_refusing_page(tmp_path: Path, app) -> object:  # type: ignore[no-untyped-def]
    refusing = create_app(
        {**app.config, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    )

    def refuse() -> str:
        db.session.add(User(email="half@example.org", name="Half saved", role=Role.EXPERT))
        db.session.flush()
        raise DomainError("The rules say no to this.")

    refusing.add_url_rule("/refuse", "refuse", refuse, methods=["GET", "POST"])
    return refusing


def test_an_unhandled_refusal_rolls_back_and_goes_back_with_the_message(
    app, app_ctx, tmp_path: Path
) -> None:
    refusing = _app_with_a_refusing_page(tmp_path, app)
    client = refusing.test_client()
    response = client.post("/refuse", headers={"Referer": "http://localhost/calls/"})
    assert response.status_code == 302 and response.location.endswith("/calls/")
    with client.session_transaction() as session:
        assert ("error", "The rules say no to this.") in session["_flashes"]
    with refusing.app_context():
        assert db.session.scalar(select(User).where(User.email == "half@example.org")) is None

    # No page to go back to (or only itself): the message on an error page, never a 500.
    for headers in (
        {},
        {"Referer": "http://elsewhere.example/x"},
        {"Referer": "http://localhost/refuse"},
    ):
        page = client.get("/refuse", headers=headers)
        assert page.status_code == 409
        assert "The rules say no to this." in page.get_data(as_text=True)


def test_a_view_names_where_its_refusals_go(app, app_ctx, tmp_path: Path) -> None:
    """With @back_on_refusal the target is built from the view's own URL arguments, whatever
    the browser sends as referrer (or withholds); the message keeps its kind."""
    from reviewer_app.coordinator.progress import ReminderError
    from reviewer_app.refusals import back_on_refusal

    refusing = _app_with_a_refusing_page(tmp_path, app)

    @back_on_refusal("calls")
    def refuse_one(key: str) -> str:
        raise ReminderError("Nobody has open work.")

    refusing.add_url_rule("/calls/<key>/refuse", "refuse_one", refuse_one, methods=["POST"])
    refusing.add_url_rule("/calls/<key>", "calls", lambda key: key)
    client = refusing.test_client()
    for headers in ({}, {"Referer": "http://localhost/elsewhere"}):
        response = client.post("/calls/c-1/refuse", headers=headers)
        assert response.status_code == 302 and response.location.endswith("/calls/c-1")
        with client.session_transaction() as session:
            assert session.pop("_flashes") == [("warning", "Nobody has open work.")]


def test_the_coordinators_actions_go_back_to_their_page_when_refused(
    client, login_as, make_call, make_user
) -> None:
    """A real case: reinviting an expert who has set a password is refused on the matrix."""
    call = make_call()
    expert = make_user(Role.EXPERT)
    login_as(make_user(Role.COORDINATOR))
    response = client.post(f"/calls/{call.key}/experts/{expert.id}/reinvite")
    assert response.status_code == 302
    assert response.location.endswith(f"/calls/{call.key}/assignments")
    with client.session_transaction() as session:
        assert session["_flashes"] == [("error", f"{expert.name} has already set a password.")]
