from flask import Blueprint

bp = Blueprint("expert", __name__, url_prefix="/expert", template_folder="templates")

from . import views  # noqa: E402,F401
