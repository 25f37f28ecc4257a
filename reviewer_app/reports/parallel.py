"""The applicants' feedback reports of a large call, rendered by several processes.

One feedback report takes WeasyPrint about a quarter of a second, so a 10,000-proposal call
needs 40 minutes in one process. The batch hands the call's records (read once, in the parent)
to a pool of fresh processes (``spawn``: nothing of the parent's threads, locks or database
connections comes along), each renders its share with an application of its own, and the
parent writes the files in reference order, so the ZIP is byte for byte the one a single
process makes.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .records import CallRecords
from .services import ReportFile

# Below this many proposals, starting the processes costs more than it saves.
PARALLEL_FROM = 50
# What a rendering process's application needs: templates, translations, no database.
RENDER_CONFIG = {
    "SECRET_KEY": "feedback-renderer",
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "REPORT_JOBS": "inline",
    "RATELIMIT_STORAGE_URI": "memory://",
}

_records: CallRecords | None = None
_lang = "en"


def feedback_files(
    records: CallRecords, references: list[str], lang: str, processes: int
) -> Iterator[ReportFile]:
    """Each reference's feedback report, in the order given."""
    from .services import feedback_file

    if processes <= 1 or len(references) < PARALLEL_FROM:
        for reference in references:
            yield feedback_file(records, reference, lang)
        return
    chunk = max(1, len(references) // (processes * 8))
    with ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start,
        initargs=(records, lang),
    ) as pool:
        yield from pool.map(_render, references, chunksize=chunk)


def _start(records: CallRecords, lang: str) -> None:
    global _records, _lang
    from .. import create_app

    _records, _lang = records, lang
    # Without the pages (and Alembic): a process renders reports from records only.
    app: Any = create_app(RENDER_CONFIG, migrations=False, web=False)
    app.app_context().push()  # this process renders and then ends


def _render(reference: str) -> ReportFile:
    from .services import feedback_file

    assert _records is not None
    return feedback_file(_records, reference, _lang)
