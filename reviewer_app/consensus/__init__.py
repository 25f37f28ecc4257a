"""Consensus phase: the rapporteur drafts, the other experts of the proposal approve or comment."""

from flask import Blueprint

bp = Blueprint("consensus", __name__, url_prefix="/consensus", template_folder="templates")

from . import views  # noqa: E402,F401
