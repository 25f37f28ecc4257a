from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from flask.cli import with_appcontext

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass


@click.command("demo")
@click.option("--reset", is_flag=True, help="Delete everything in the database first.")
@click.option(
    "--synthetic",
    is_flag=True,
    help="Add a synthetic call of any size (simulated data) instead of the AI Factories demo.",
)
@click.option("--proposals", type=click.IntRange(1, 1_000_000), default=1_000, show_default=True)
@click.option("--experts", type=click.IntRange(2, 1_000_000), default=300, show_default=True)
@click.option("--reviews-per-proposal", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same call.")
@click.option("--key", default="synthetic", show_default=True, help="The synthetic call's key.")
@with_appcontext
def demo_command(
    reset: bool,
    synthetic: bool,
    proposals: int,
    experts: int,
    reviews_per_proposal: int,
    seed: int,
    key: str,
) -> None:
    """Seed the AI Factories demo call (7 proposals, 6 experts) and print the logins; or, with
    --synthetic, a deterministic call of any size in the ranking phase."""
    from ..extensions import db

    if synthetic:
        _synthetic(reset, proposals, experts, reviews_per_proposal, seed, key)
        return
    from ..demo import DemoRefused, seed_demo

    try:
        seed_ = seed_demo(reset=reset)
    except DemoRefused as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"Demo call '{seed_.call_key}' is ready: 7 proposals based on public "
        "announcements; experts, scores and comments are simulated."
    )
    click.echo("")
    click.echo(f"Sign in at http://127.0.0.1:5000 with password '{seed_.password}':")
    width = max(len(login.email) for login in seed_.logins)
    for login in seed_.logins:
        click.echo(f"  {login.email:<{width}}  {login.role:<11}  {login.name} ({login.note})")


def _synthetic(
    reset: bool, proposals: int, experts: int, reviews: int, seed: int, key: str
) -> None:
    import time

    from sqlalchemy import select

    from ..demo import clear_database
    from ..demo.synthetic import seed_synthetic
    from ..extensions import db, refresh_planner_statistics
    from ..models import Call
    from .calls import CALL_KEY

    if not CALL_KEY.fullmatch(key):
        click.echo(
            f"Error: --key: letters, digits, '-', '_' or '.', at most 64 characters, got {key!r}",
            err=True,
        )
        sys.exit(2)
    if reset:
        clear_database()
    if db.session.scalar(select(Call.id).where(Call.key == key)) is not None:
        click.echo(f"Error: a call with the key {key!r} exists; choose another --key.", err=True)
        sys.exit(1)
    started = time.perf_counter()
    try:
        made = seed_synthetic(
            key=key,
            proposals=proposals,
            experts=experts,
            reviews_per_proposal=reviews,
            seed=seed,
        )
    except ValueError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    db.session.commit()
    # Bulk-written: the planner needs its statistics before the first page is served.
    refresh_planner_statistics()
    click.echo(
        f"Synthetic call '{made.call_key}' is ready in {time.perf_counter() - started:.1f} s "
        f"(simulated data): {made.proposals:,} proposals, {made.experts:,} experts, "
        f"{made.reviews:,} submitted reviews, {made.conflicts:,} conflicts declared, "
        f"{made.consensus:,} final consensus reports. Phase: ranking."
    )
    click.echo(
        f"Sign in at http://127.0.0.1:5000 as {made.coordinator_email} "
        f"with password '{made.password}'."
    )


def register(main: click.Group) -> None:
    main.add_command(demo_command)
