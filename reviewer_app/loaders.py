"""One loader per object named in a URL: the object, or 404. Views call these and hold no
queries of their own for it; whether the signed-in user may see the object is the view's
check (an expert's objects answer 404 too, see auth/access.py)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import undefer
from sqlalchemy.orm.interfaces import ORMOption

from .extensions import db
from .models import Assignment, Call, Document, Proposal, ReportJob, Review, Role, User


def call_or_404(key: str, *options: ORMOption) -> Call:
    """The call with ``key``, loaded with ``options`` (eager loads the page needs)."""
    call: Call = db.one_or_404(select(Call).where(Call.key == key).options(*options))
    return call


def user_or_none(user_id: int) -> User | None:
    """The account ``user_id`` (a sign-in half done), or None when it is gone."""
    return db.session.get(User, user_id)


def user_or_404(user_id: int | None) -> User:
    """Any account ``user_id`` (from the URL or a form field)."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        abort(404)
    return user


def expert_or_404(user_id: int | None) -> User:
    """The expert's account ``user_id`` (from the URL or a form field); any other account is
    404, as a missing one is."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or user.role is not Role.EXPERT:
        abort(404)
    return user


def proposal_or_404(call: Call, proposal_id: int | None, *options: ORMOption) -> Proposal:
    """The proposal ``proposal_id`` of ``call``; one of another call is 404, as a missing one is."""
    proposal: Proposal = db.one_or_404(
        select(Proposal)
        .where(Proposal.id == proposal_id, Proposal.call_id == call.id)
        .options(*options)
    )
    return proposal


def document_or_404(call: Call, document_id: int, *, with_content: bool = False) -> Document:
    """A document of a proposal of ``call``; its bytes are loaded only when asked for."""
    statement = (
        select(Document)
        .join(Document.proposal)
        .where(Document.id == document_id, Proposal.call_id == call.id)
    )
    if with_content:
        statement = statement.options(undefer(Document.content))
    document: Document = db.one_or_404(statement)
    return document


def review_or_404(call: Call, review_id: int, *options: ORMOption) -> Review:
    """A review of an assignment in ``call``."""
    review: Review = db.one_or_404(
        select(Review)
        .join(Review.assignment)
        .join(Assignment.proposal)
        .where(Review.id == review_id, Proposal.call_id == call.id)
        .options(*options)
    )
    return review


def report_job_or_404(call: Call, job_id: int) -> ReportJob:
    """A report job of ``call`` (404 for another call's, as for every object in a URL)."""
    job: ReportJob = db.first_or_404(
        select(ReportJob).where(ReportJob.id == job_id, ReportJob.call_id == call.id)
    )
    return job
