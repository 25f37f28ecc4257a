from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from . import account_views, views  # noqa: E402,F401
