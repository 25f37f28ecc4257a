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

from .test_consensus import draft_data, report_of, url

MINE = "My own careful wording, typed while the rapporteur saved theirs."


def test_every_write_of_the_report_keeps_a_version(panel, login_as) -> None:
    p = panel()
    rapporteur = login_as(p.rapporteur)
    assert rapporteur.post(url(p), data=draft_data(compute="4")).status_code == 302
    loaded = report_of(p).version
    assert rapporteur.post(url(p), data=draft_data(str(loaded), compute="5")).status_code == 302

    coordinator = login_as(p.coordinator)
    stale = dict(draft_data(str(loaded), compute="1"), **{"c_compute-comment": MINE})
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
        (Decimal(4), "Agreed view on compute."),
        (Decimal(5), "Agreed view on compute."),  # the rapporteur's, replaced after the 409
        (Decimal(1), MINE),
    ]

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
