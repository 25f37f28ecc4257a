"""What every response carries, what every URL accepts, and what production must set.

- Headers (OWASP ASVS 14.4): a Content-Security-Policy that allows no inline script or style and
  no framing, nosniff, a Referrer-Policy, and ``Cache-Control: no-store`` on everything but the
  static files: pages and downloads show proposals, reviews and decisions, which must not stay in
  a shared computer's cache or a proxy.
- URLs: ids are whole numbers that fit the database's integer; a longer one is a 404, not a
  database error.
- ``production_problems``: the settings ``reviewer-app check-config`` reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

MAX_ID = 2**31 - 1
SAFE_METHODS = frozenset(
    {"GET", "HEAD", "OPTIONS"}
)  # INTEGER on PostgreSQL; ids beyond it cannot exist

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


class IdConverter(IntegerConverter):
    """``<int:...>`` limited to 1 .. 2**31-1: a 25-digit id matches no route (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_security(app: Flask) -> None:
    """Install the converter (before any route is added) and the response headers."""
    app.url_map.converters["int"] = IdConverter
    if int(app.config.get("TRUSTED_PROXIES") or 0) > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))

    def refuse_cross_site_writes() -> Response | None:
        # A form on another site posting here: the browser sends no session cookie (SameSite),
        # so the answer would be a fresh session whose cookie replaces the user's own and signs
        # them out. A bare 403, before anything touches the session, writes no cookie.
        if request.method in SAFE_METHODS:
            return None
        if request.headers.get("Sec-Fetch-Site") != "cross-site":
            return None
        return Response("Cross-site request refused.", status=403, mimetype="text/plain")

    def refuse_nul_characters() -> Response | None:
        # No form field or address may carry a NUL: PostgreSQL cannot store it in text and would
        # answer the write with an error (SQLite would store it).
        values = [*request.args.values(), *request.form.values(), request.path]
        if not any("\x00" in value for value in values):
            return None
        return Response(
            "The request holds a NUL character (byte 0), which no field accepts.",
            status=400,
            mimetype="text/plain",
        )

    # First of all hooks: before CSRFProtect's, whose error page would write the session.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_cross_site_writes)
    app.before_request_funcs[None].insert(1, refuse_nul_characters)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if not (request.endpoint or "").endswith("static"):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response


@dataclass(frozen=True)
class ConfigProblem:
    setting: str
    message: str
    blocking: bool = True  # False: advice, not a reason to refuse production


def production_problems(config: Mapping[str, Any]) -> list[ConfigProblem]:
    """What is missing or unsafe for a production install, in the order to fix it."""
    problems: list[ConfigProblem] = []

    def add(setting: str, message: str, blocking: bool = True) -> None:
        problems.append(ConfigProblem(setting, message, blocking))

    mode = config.get("REVIEWER_APP_MODE")
    if mode != "production":
        add("REVIEWER_APP_MODE", f"is {mode!r}: production needs 'production' (the default).")
    secret = config.get("SECRET_KEY") or ""
    if not secret:
        add("SECRET_KEY", "is not set: sessions, CSRF tokens and links need a long random key.")
    elif len(secret) < 32:
        add("SECRET_KEY", f"has {len(secret)} characters: use at least 32 random ones.")
    if not config.get("SESSION_COOKIE_SECURE"):
        add("SESSION_COOKIE_SECURE", "is off: the session cookie would travel over plain http.")
    uri = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if uri.startswith("sqlite"):
        add("DATABASE_URL", "points to SQLite: production runs on PostgreSQL.")
    if not config.get("MAIL_SERVER"):
        add("MAIL_SERVER", "is not set: invitations and password resets would not be sent.")
    if config.get("TWO_FACTOR_REQUIRED_FOR") == "none":
        add(
            "TWO_FACTOR_REQUIRED_FOR", "is 'none': coordinators (at least) should need two factors."
        )
    base = str(config.get("PUBLIC_BASE_URL") or "")
    if not base.startswith("https://"):
        add("PUBLIC_BASE_URL", f"is {base!r}: links sent by e-mail must use https.")
    if not config.get("AUDIT_KEY"):
        add(
            "AUDIT_KEY",
            "is not set: the audit log is sealed with a key derived from SECRET_KEY, so a new "
            "SECRET_KEY would make the events recorded so far fail verification.",
            blocking=False,
        )
    if not config.get("REDIS_URL"):
        add(
            "REDIS_URL",
            "is not set: sign-in limits are counted per server process, not for the whole site.",
            blocking=False,
        )
    return problems
