"""Reports: plain report data, SVG charts, PDF rendering, and their download routes."""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="templates")

from . import views  # noqa: E402,F401
