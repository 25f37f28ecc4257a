"""The coordinator's area: calls, proposals, experts, assignment, progress, ranking, decisions.

Every module named ``views.py`` or ``*_views.py`` is imported here, so a new page module needs
no change to this file.
"""

import importlib
import pkgutil

from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/calls", template_folder="templates")

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name == "views" or _info.name.endswith("_views"):
        importlib.import_module(f"{__name__}.{_info.name}")
