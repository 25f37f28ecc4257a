"""``reviewer-app analytics``: how much the experts agree, how lenient each is, and how sure
the ranking is (docs/analytics.md)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ._common import fail, find_call

# The analytics package's defaults, repeated here so that listing the commands imports no
# numpy; tests/cli/test_analytics.py checks that they agree.
DEFAULT_SAMPLES = 2000
DEFAULT_SEED = 20241001


@click.command("analytics")
@click.argument("key")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="json: one object; csv: one figure per row (section, key, measure, value).",
)
@click.option(
    "--samples",
    type=click.IntRange(1, 100_000),
    default=DEFAULT_SAMPLES,
    show_default=True,
    help="Bootstrap samples for the funded probability and the rank intervals.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=DEFAULT_SEED,
    show_default=True,
    help="The random seed: the same data and seed give the same figures.",
)
@click.option(
    "--draw",
    "draw_seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    help="Print instead the call's partial lottery drawn with this seed (as JSON): who is "
    "funded before the draw, who is in it, the drawn order and who is funded.",
)
@with_appcontext
def analytics_command(key: str, fmt: str, samples: int, seed: int, draw_seed: int | None) -> None:
    """Print the decision analytics of call KEY: Krippendorff's alpha and ICC(1) per criterion
    and for the total, each expert's leniency offset, and each proposal's funded probability
    and 90% rank interval over bootstrap samples of its individual reviews (final consensus
    scores are not resampled); once the call's partial lottery is drawn, the draw as well.
    Beside the ranking, never instead of it.
    """
    import json

    from ..call_analytics import (
        analytics_csv,
        analytics_json_text,
        call_analytics,
        lottery_draw,
        lottery_json,
        lottery_rule,
        published_draw,
    )
    from ..scoring.engine import EvaluationError

    call = find_call(key)
    rule = lottery_rule(call)
    if draw_seed is not None and rule is None:
        fail(f"call {key} has no partial lottery: set its bounds in the call's settings")
    try:
        made = call_analytics(call, samples=samples, seed=seed)
    except EvaluationError as exc:
        fail("the stored scores cannot be evaluated:", *exc.problems)
    if draw_seed is not None and rule is not None:
        result = lottery_draw(made, rule, draw_seed)
        click.echo(json.dumps(lottery_json(result), indent=2, ensure_ascii=False))
        return
    drawn = published_draw(call)  # the call's own draw, once made
    if fmt == "csv":
        click.echo(analytics_csv(made, lottery=drawn), nl=False)
    else:
        click.echo(analytics_json_text(made, lottery=drawn), nl=False)


def register(main: click.Group) -> None:
    main.add_command(analytics_command)
