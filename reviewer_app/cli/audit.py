"""``reviewer-app audit``: verify the tamper-evident audit chains; export a call's log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from ._common import find_call, record_read

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """The audit log: verify its chains, export a call's events."""


@audit_group.command("verify")
@click.argument("key", required=False)
def verify(key: str | None) -> None:
    """Check that no audit event was changed, removed or reordered.

    With KEY, the chain of that call; without, every chain (the site's and each call's).
    Exit status 0 with the count of events checked when intact; 1 naming the first event
    (by id) that was changed, removed or reordered.
    """
    from ..audit import chain as audit_chain
    from ..extensions import db
    from ..models.audit import chain_of

    names = [chain_of(find_call(key).id)] if key else audit_chain.chains(db.session)
    broken = False
    for name in names:
        report = audit_chain.verify(db.session, name)
        if report.intact:
            click.echo(f"{name}: {report.count} events, intact; head {report.head}")
            continue
        broken = True
        where = f"event {report.event_id}" if report.event_id is not None else "the end"
        click.echo(
            f"{name}: BROKEN at {where} (after {report.count} intact events): {report.problem}",
            err=True,
        )
    if broken:
        sys.exit(1)
    if not names:
        click.echo("No audit events yet.")


@audit_group.command("export")
@click.argument("key")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
def export(key: str, fmt: str, output: Path | None) -> None:
    """Every audit event of call KEY, oldest first, with its digest (confidential fields too)."""
    from ..audit import chain as audit_chain
    from ..audit import log as audit_log
    from ..audit.events import ExportDownloaded
    from ..exports import csv_text
    from ..extensions import db
    from ..models.audit import chain_of

    call = find_call(key)
    rows = audit_log.rows(call, audit_log.AuditFilter(), confidential=True)
    if fmt == "csv":
        text = csv_text(audit_log.COLUMNS, (row.cells() for row in rows))
    else:
        head_seq, head_digest = audit_chain.head_of(db.session, chain_of(call.id))
        document = {
            "call": call.key,
            "chain": chain_of(call.id),
            "head": {"seq": head_seq, "digest": head_digest},
            "events": [row.as_dict() for row in rows],
        }
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    record_read(call, ExportDownloaded(what="audit", format=fmt))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}.", err=True)


def register(main: click.Group) -> None:
    main.add_command(audit_group)
