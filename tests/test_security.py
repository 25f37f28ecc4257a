"""Headers on every response, ids that cannot exist, and the production configuration check."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from reviewer_app.security import CONTENT_SECURITY_POLICY, MAX_ID


def test_every_page_carries_the_security_headers(client: FlaskClient, make_user, login_as) -> None:
    pages = [client.get("/login")]
    login_as(make_user("expert"))
    pages.append(client.get("/expert/"))
    pages.append(client.get("/account"))
    pages.append(client.get("/nothing-here"))
    for response in pages:
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client: FlaskClient) -> None:
    response = client.get("/static/js/app.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_no_template_has_inline_script_or_style() -> None:
    """What the policy would refuse in a browser, caught in the source."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "reviewer_app"
    offenders = []
    for path in root.rglob("*.html"):
        if "reports" in path.parts:  # rendered to PDF by WeasyPrint, never served as a page
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text):
            offenders.append(f"{path.name}: inline <script>: {match.group(0)}")
        for match in re.finditer(r"\son[a-z]+=|\sstyle=|<style", text):
            offenders.append(f"{path.name}: {match.group(0).strip()}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("value", [str(10**25), str(MAX_ID + 1), "0", "-1"])
def test_an_id_that_cannot_exist_is_a_404(
    client: FlaskClient, make_user, login_as, value: str
) -> None:
    login_as(make_user("expert"))
    assert client.get(f"/expert/assignments/{value}").status_code == 404
    assert client.post(f"/expert/assignments/{value}/declaration").status_code == 404


@pytest.mark.parametrize(
    "target",
    [
        "/expert/\r\nSet-Cookie: x=1",
        "/expert/\n",
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_a_bad_next_is_ignored(client: FlaskClient, make_user, target: str) -> None:
    user = make_user("expert")
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200
    response = client.post(
        "/login", data={"email": user.email, "password": "correct horse battery", "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/expert/"


def test_check_config_passes_a_production_configuration(runner, monkeypatch) -> None:
    from reviewer_app.cli.maintenance import check_config

    for key, value in {
        "REVIEWER_APP_MODE": "production",
        "SECRET_KEY": "s" * 48,
        "DATABASE_URL": "postgresql://reviewer@db.example.org/reviewer",
        "MAIL_SERVER": "smtp.example.org",
        "PUBLIC_BASE_URL": "https://reviewer.example.org",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TWO_FACTOR_REQUIRED_FOR", raising=False)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    result = runner.invoke(check_config)
    assert result.exit_code == 0, result.output
    assert "ready for production" in result.output


def test_check_config_lists_what_is_unsafe(runner, monkeypatch, tmp_path) -> None:
    from reviewer_app.cli.maintenance import check_config

    monkeypatch.setenv("REVIEWER_APP_MODE", "production")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "false")
    monkeypatch.setenv("TWO_FACTOR_REQUIRED_FOR", "none")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    for key in ("SECRET_KEY", "MAIL_SERVER", "REDIS_URL", "PUBLIC_BASE_URL", "AUDIT_KEY"):
        monkeypatch.delenv(key, raising=False)
    result = runner.invoke(check_config)
    assert result.exit_code == 1
    for setting in (
        "SECRET_KEY",
        "SESSION_COOKIE_SECURE",
        "DATABASE_URL",
        "MAIL_SERVER",
        "TWO_FACTOR_REQUIRED_FOR",
        "PUBLIC_BASE_URL",
    ):
        assert f"UNSAFE  {setting}" in result.output, result.output
    assert "advice  REDIS_URL" in result.output
    assert "advice  AUDIT_KEY" in result.output


def test_headers_survive_a_server_error(tmp_path) -> None:
    from reviewer_app import create_app

    app = create_app(
        {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    )

    @app.route("/__boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = app.test_client().get("/__boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"


def test_a_post_from_another_site_is_refused_without_touching_the_session(
    client: FlaskClient, make_user, login_as
) -> None:
    login_as(make_user("expert"))
    # The browser sends no cookie with another site's POST (SameSite=Lax): a client without one.
    response = client.application.test_client().post(
        "/password/forgot",
        data={"email": "x@example.org"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers
    assert client.get("/expert/").status_code == 200  # still signed in
    same_site = client.post(
        "/password/forgot",
        data={"email": "x@example.org"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert same_site.status_code == 302
