"""HTML to PDF with WeasyPrint: PDF/A-3b, the package's own fonts, nothing fetched from outside.

Reports are rendered from text that experts and applicants wrote. Jinja escapes it, and as a
second line of defence the URL fetcher serves only files of this package addressed as
``reviewer-app:<path>`` (fonts, the stylesheet) and refuses ``file:``, ``http:``, ``data:`` and
every other URL, so no report can read the server's files or call out to the network.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import render_template

ASSET_SCHEME = "reviewer-app:"
ASSETS_DIR = Path(__file__).resolve().parent
# Only these folders of the package are served; templates and Python files are not.
SERVED_DIRS = ("fonts", "static")
PDF_VARIANT = "pdf/a-3b"

# WeasyPrint logs every refused resource and every CSS property it ignores at WARNING. A refused
# URL is the fetcher doing its job (it keeps the list), so the log line is noise for users.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


@dataclass(frozen=True)
class EmbeddedFile:
    """A file carried inside the PDF (PDF/A-3 associated file)."""

    name: str
    content: bytes
    description: str


class PackageAssetFetcher:
    """Serves ``reviewer-app:fonts/...`` and ``reviewer-app:static/...``; refuses all else.

    ``refused`` lists every URL asked for and refused, so tests (and callers) can see that
    nothing was fetched.
    """

    def __init__(self) -> None:
        from weasyprint.urls import URLFetcher

        # Composition over WeasyPrint's class: its ``fetch`` opens file: and http: URLs, and a
        # subclass that forgot one code path would fall back to it.
        self._base = URLFetcher(allowed_protocols=())
        self._fail_on_errors = False  # read by weasyprint.urls.fetch
        self.refused: list[str] = []
        self.served: list[str] = []

    def __call__(self, url: str) -> Any:
        return self.fetch(url)

    def fetch(self, url: str, headers: Any = None) -> Any:
        from weasyprint.urls import URLFetcherResponse

        path = self._resolve(url)
        if path is None:
            self.refused.append(url)
            raise ValueError(f"refused to fetch {url[:80]!r}: reports use only their own assets")
        self.served.append(url)
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".ttf":
            mime_type = "font/ttf"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime_type})

    @staticmethod
    def _resolve(url: str) -> Path | None:
        if not url.startswith(ASSET_SCHEME):
            return None
        relative = url[len(ASSET_SCHEME) :].split("?", 1)[0].split("#", 1)[0]
        path = (ASSETS_DIR / relative).resolve()
        # resolve() removes "..": the file must still be inside one of the served folders.
        if not any(path.is_relative_to(ASSETS_DIR / folder) for folder in SERVED_DIRS):
            return None
        return path if path.is_file() else None


def render_html(template: str, context: dict[str, Any]) -> str:
    """The final HTML of a report (Jinja autoescapes every value of ``context``)."""
    return render_template(template, **context)


def html_to_pdf(
    html: str,
    *,
    attachments: tuple[EmbeddedFile, ...] = (),
    timestamp: datetime | None = None,
    identifier: str = "",
    fetcher: PackageAssetFetcher | None = None,
) -> bytes:
    """Bare WeasyPrint on finished HTML: PDF/A-3b with ``attachments`` embedded.

    ``timestamp`` dates the embedded files (the document's own dates come from the HTML's
    ``dcterms.created``/``dcterms.modified``); ``identifier`` becomes the PDF file identifier.
    Both come from the data, never from the clock, so the same data gives the same bytes.
    """
    fetcher = fetcher or PackageAssetFetcher()
    content = write_pdf(
        lay_out(html, fetcher),
        attachments=attachments,
        timestamp=timestamp,
        identifier=identifier,
        fetcher=fetcher,
    )
    assert content is not None  # no target: WeasyPrint returns the bytes
    return content


def lay_out(html: str, fetcher: PackageAssetFetcher | None = None) -> Any:
    """WeasyPrint's laid-out document (pages with their anchors and bookmarks), not yet a PDF."""
    from weasyprint import HTML

    return HTML(
        string=html, url_fetcher=fetcher or PackageAssetFetcher(), base_url=ASSET_SCHEME
    ).render()


def write_pdf(
    document: Any,
    *,
    attachments: tuple[EmbeddedFile, ...] = (),
    timestamp: datetime | None = None,
    identifier: str = "",
    fetcher: PackageAssetFetcher | None = None,
    target: str | None = None,
) -> bytes | None:
    """A laid-out document as PDF/A-3b: the bytes, or None when written to the file ``target``."""
    from weasyprint import Attachment

    fetcher = fetcher or PackageAssetFetcher()
    when = timestamp or datetime(2000, 1, 1)
    # WeasyPrint lists the files in a name tree in the order given, and a name tree must be
    # sorted by name (ISO 32000-1, 7.9.6).
    files = [
        Attachment(
            string=f.content,
            name=f.name,
            description=f.description,
            created=when,
            modified=when,
            relationship="Data",
            url_fetcher=fetcher,
        )
        for f in sorted(attachments, key=lambda f: f.name.encode())
    ]
    written = document.write_pdf(
        target,
        pdf_variant=PDF_VARIANT,
        attachments=files,
        pdf_identifier=identifier.encode("ascii")[:32] or b"reviewer-app",
        uncompressed_pdf=False,
    )
    return None if written is None else bytes(written)


def render_pdf(
    template: str,
    context: dict[str, Any],
    *,
    attachments: tuple[EmbeddedFile, ...] = (),
    timestamp: datetime | None = None,
    identifier: str = "",
    fetcher: PackageAssetFetcher | None = None,
) -> bytes:
    """Render ``template`` with plain ``context`` data to PDF/A-3b bytes."""
    return html_to_pdf(
        render_html(template, context),
        attachments=attachments,
        timestamp=timestamp,
        identifier=identifier,
        fetcher=fetcher,
    )
