from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/calls", template_folder="templates")

from . import views  # noqa: E402,F401
