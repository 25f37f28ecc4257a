"""The coordinator's writes and queries on proposals and their documents.

Services add and flush; the view commits once.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..audit.events import DocumentDeleted, DocumentUploaded, ProposalCreated, ProposalUpdated
from ..errors import DomainError
from ..extensions import db
from ..models import Call, Document, Phase, Proposal, User
from ..models.audit import record
from ..paging import window

PROPOSAL_FIELDS = (
    "reference",
    "acronym",
    "title",
    "applicant",
    "country",
    "requested_funding_eur",
    "summary",
)
SORTS = {
    "reference": Proposal.reference,
    "acronym": Proposal.acronym,
    "title": Proposal.title,
    "applicant": Proposal.applicant,
    "country": Proposal.country,
    "funding": Proposal.requested_funding_eur,
}


class ProposalError(DomainError):
    """The proposal cannot be saved; the message says why."""


class DocumentError(ProposalError):
    """The upload is not an acceptable document."""


@dataclass(frozen=True)
class ProposalPage:
    items: list[Proposal]
    total: int
    page: int
    pages: int
    query: str
    sort: str


def references_by_id(call: Call) -> dict[int, str]:
    """Every proposal's reference by its id, for messages about many proposals at once."""
    rows = db.session.execute(
        select(Proposal.id, Proposal.reference).where(Proposal.call_id == call.id)
    )
    return dict(rows.tuples().all())


def search_proposals(
    call: Call, *, query: str = "", sort: str = "reference", page: int = 1, per_page: int = 25
) -> ProposalPage:
    """One page of the call's proposals matching ``query`` (reference, acronym, title,
    applicant, country), sorted by a key of ``SORTS`` (``-key`` for descending)."""
    if sort.lstrip("-") not in SORTS:
        sort = "reference"
    descending = sort.startswith("-")
    column = SORTS[sort.lstrip("-")]
    where = [Proposal.call_id == call.id]
    query = query.strip()
    if query:
        pattern = f"%{query.lower()}%"
        where.append(
            or_(
                *(
                    func.lower(c).like(pattern)
                    for c in (
                        Proposal.reference,
                        Proposal.acronym,
                        Proposal.title,
                        Proposal.applicant,
                        Proposal.country,
                    )
                )
            )
        )
    total = db.session.scalar(select(func.count(Proposal.id)).where(*where)) or 0
    shown = window(total, page, per_page)
    page, pages = shown.page, shown.pages
    order = column.desc().nulls_last() if descending else column.asc().nulls_last()
    items = list(
        db.session.scalars(
            select(Proposal)
            .where(*where)
            .order_by(order, Proposal.reference)
            .offset(shown.offset)
            .limit(per_page)
            .options(selectinload(Proposal.documents), selectinload(Proposal.assignments))
        )
    )
    return ProposalPage(items, total, page, pages, query, sort)


def _check_editable(call: Call, *, adding: bool) -> None:
    if adding and call.phase is not Phase.SETUP:
        raise ProposalError(_("Proposals can be added only while the call is in set-up."))
    if call.phase not in (Phase.SETUP, Phase.EVALUATION):
        raise ProposalError(
            _("Proposals can be changed only during set-up and evaluation; the call is past that.")
        )


def _reference_taken(call: Call, reference: str, except_id: int | None = None) -> bool:
    found = db.session.scalar(
        select(Proposal.id).where(Proposal.call_id == call.id, Proposal.reference == reference)
    )
    return found is not None and found != except_id


def create_proposal(
    call: Call, *, actor: User | None, extra: dict[str, Any] | None = None, **values: Any
) -> Proposal:
    """A new proposal of ``call`` from the form's fields (``PROPOSAL_FIELDS``) and, from an
    import or the API, its ``extra`` fields.

    :raises ProposalError: the call is past set-up, or the reference is taken.
    """
    _check_editable(call, adding=True)
    if _reference_taken(call, values["reference"]):
        raise ProposalError(_("Another proposal of this call has this reference."), "reference")
    proposal = Proposal(
        call=call, extra=dict(extra or {}), **{k: values.get(k) for k in PROPOSAL_FIELDS}
    )
    proposal.country = proposal.country or None
    db.session.add(proposal)
    db.session.flush()
    record(
        ProposalCreated(reference=proposal.reference),
        proposal,
        call_id=call.id,
        actor_id=actor.id if actor else None,
    )
    return proposal


def update_proposal(
    proposal: Proposal, *, actor: User | None, **values: Any
) -> dict[str, tuple[str, str]]:
    """Change a proposal's fields; returns what changed (old, new), as audited.

    :raises ProposalError: the call is past evaluation, or the new reference is taken.
    """
    call = proposal.call
    _check_editable(call, adding=False)
    if _reference_taken(call, values["reference"], except_id=proposal.id):
        raise ProposalError(_("Another proposal of this call has this reference."), "reference")
    values["country"] = values.get("country") or None
    changes = {}
    for name in PROPOSAL_FIELDS:
        old, new = getattr(proposal, name), values.get(name)
        if isinstance(old, Decimal) and isinstance(new, Decimal) and old == new:
            continue
        if old != new:
            changes[name] = (str(old), str(new))
            setattr(proposal, name, new)
    if changes:
        db.session.flush()
        record(
            ProposalUpdated(changes={k: list(v) for k, v in changes.items()}),
            proposal,
            call_id=call.id,
            actor_id=actor.id if actor else None,
        )
    return changes


def check_pdf(content: bytes, max_bytes: int) -> None:
    """Accept a PDF by its content, not its name.

    :raises DocumentError: empty, too large, not a PDF, or a PDF that cannot be read.
    """
    if not content:
        raise DocumentError(_("The file is empty."))
    if len(content) > max_bytes:
        raise DocumentError(
            _(
                "The file is larger than the limit of %(limit)s MB.",
                limit=f"{max_bytes / 1024 / 1024:g}",
            )
        )
    if not content.startswith(b"%PDF-"):
        raise DocumentError(_("The file is not a PDF (its content does not start like one)."))
    from pypdf import PdfReader

    try:
        pages = len(PdfReader(io.BytesIO(content)).pages)
    except (
        Exception
    ):  # pypdf raises many error types for broken files; any of them means "unreadable"
        raise DocumentError(_("The PDF is damaged or encrypted and cannot be opened.")) from None
    if pages == 0:
        raise DocumentError(_("The PDF has no pages."))


def attach_document(
    proposal: Proposal, filename: str, content: bytes, *, max_bytes: int, uploaded_by: User | None
) -> Document:
    """Attach a PDF to ``proposal``.

    :raises DocumentError: the file is refused (see :func:`check_pdf`) or the call is frozen.
    """
    if proposal.call.phase not in (Phase.SETUP, Phase.EVALUATION):
        raise DocumentError(_("Documents can be changed only during set-up and evaluation."))
    check_pdf(content, max_bytes)
    name = PurePath(filename.replace("\\", "/")).name.strip() or "document.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    document = Document(
        proposal=proposal,
        filename=name[-255:],
        content_type="application/pdf",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by_id=uploaded_by.id if uploaded_by else None,
    )
    db.session.add(document)
    db.session.flush()
    record(
        DocumentUploaded(
            proposal=proposal.reference, filename=document.filename, sha256=document.sha256
        ),
        document,
        call_id=proposal.call_id,
        actor_id=uploaded_by.id if uploaded_by else None,
    )
    return document


def remove_document(document: Document, *, actor: User | None) -> None:
    """:raises DocumentError: the call is past evaluation."""
    proposal = document.proposal
    if proposal.call.phase not in (Phase.SETUP, Phase.EVALUATION):
        raise DocumentError(_("Documents can be changed only during set-up and evaluation."))
    record(
        DocumentDeleted(proposal=proposal.reference, filename=document.filename),
        document,
        call_id=proposal.call_id,
        actor_id=actor.id if actor else None,
    )
    db.session.delete(document)
    db.session.flush()
