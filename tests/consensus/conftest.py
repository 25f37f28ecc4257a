from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest

from .helpers import Panel, build_panel


@pytest.fixture
def panel(make_user, make_call, make_proposal, make_assignment) -> Callable[..., Panel]:
    """A proposal in a call in the consensus phase with three experts who all submitted."""
    return partial(build_panel, make_call, make_proposal, make_user, make_assignment)
