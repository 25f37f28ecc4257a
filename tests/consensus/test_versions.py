"""Every version of the consensus report kept: each save (also a save again after a stale page),
finalising and reopening keep what the report then held, and their audit events name it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import (
    AuditEvent,
    ConsensusStatus,
    ConsensusVersion,
    SavedThrough,
)

from .test_consensus import agreed, draft_data, report_of, url

MINE = "My own careful wording, typed while the rapporteur saved theirs."
WHY = "The hosting site lost its power supply contract after the reviews were written."


def test_every_write_of_the_report_keeps_a_version(panel, login_as) -> None:
    p = panel()
    rapporteur = login_as(p.rapporteur)
    assert rapporteur.post(url(p), data=draft_data(compute="4")).status_code == 302
    loaded = report_of(p).version
    assert rapporteur.post(url(p), data=draft_data(str(loaded), compute="5")).status_code == 302

    coordinator = login_as(p.coordinator)
    # Compute 1 fails its threshold where the reviews' mean (3.83) meets it: justified.
    stale = dict(
        draft_data(str(loaded), compute="1", justification=WHY), **{"c_compute-comment": MINE}
    )
    assert coordinator.post(url(p), data=stale).status_code == 409
    current = report_of(p).version
    assert coordinator.post(url(p), data=dict(stale, version=str(current))).status_code == 302
    version = str(report_of(p).version)
    assert coordinator.post(f"{url(p)}/finalise", data={"version": version}).status_code == 302
    version = str(report_of(p).version)
    assert coordinator.post(f"{url(p)}/reopen", data={"version": version}).status_code == 302

    report = report_of(p)
    versions = db.session.scalars(
        select(ConsensusVersion)
        .where(ConsensusVersion.report_id == report.id)
        .order_by(ConsensusVersion.number)
    ).all()
    assert [(v.path, v.status, v.saved_by_id) for v in versions] == [
        (SavedThrough.PAGE, ConsensusStatus.DRAFT, p.rapporteur.id),
        (SavedThrough.PAGE, ConsensusStatus.DRAFT, p.rapporteur.id),
        (SavedThrough.PAGE, ConsensusStatus.DRAFT, p.coordinator.id),
        (SavedThrough.FINALISE, ConsensusStatus.FINAL, p.coordinator.id),
        (SavedThrough.REOPEN, ConsensusStatus.DRAFT, p.coordinator.id),
    ]
    assert versions[-1].number == report.version
    compute = [next(s for s in v.scores if s.criterion.key == "compute") for v in versions]
    assert [(s.value, s.comment) for s in compute[:3]] == [
        (Decimal(4), agreed("compute")),
        (Decimal(5), agreed("compute")),  # the rapporteur's, replaced after the 409
        (Decimal(1), MINE),
    ]
    # The justification is kept with the versions that had it, and named by finalising.
    assert [v.justification for v in versions] == ["", "", WHY, WHY, WHY]

    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.like("consensus.%"), AuditEvent.object_id == report.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.data["version"]) for e in events] == [
        ("consensus.save", versions[0].number),
        ("consensus.save", versions[1].number),
        ("consensus.save", versions[2].number),
        ("consensus.finalise", versions[3].number),
        ("consensus.reopen", versions[4].number),
    ]
    assert events[3].data["crossed"] == ["compute", "overall"]  # 1 + 3.5 + 3.5 = 8 < 10
    assert events[3].data["justification"] == WHY
    history = coordinator.get(f"/calls/{p.call.key}/proposals/{p.proposal.id}/history")
    assert WHY in history.get_data(as_text=True)
