"""Text that experts wrote is shown as text, and reports fetch nothing but their own assets."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from reviewer_app.reports import render
from reviewer_app.reports.render import PackageAssetFetcher, html_to_pdf

from .conftest import INJECTION, Rendered, pdftotext


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.org/logo.png",
        "https://example.org/x.css",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "ftp://example.org/x",
        "reviewer-app:../render.py",
        "reviewer-app:templates/reports/decision.html",
        "reviewer-app:fonts/../../../../../../etc/passwd",
    ],
)
def test_fetcher_refuses_everything_but_package_assets(url: str) -> None:
    fetcher = PackageAssetFetcher()
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_serves_fonts_and_the_stylesheet() -> None:
    fetcher = PackageAssetFetcher()
    font = fetcher.fetch("reviewer-app:fonts/DejaVuSans.ttf")
    assert font.read()[:4] == b"\x00\x01\x00\x00"
    css = fetcher.fetch("reviewer-app:static/report.css")
    assert b"@font-face" in css.read()
    assert fetcher.refused == []


def test_markup_that_reaches_weasyprint_fetches_nothing(app: Flask) -> None:
    """Even raw markup (not escaped) cannot make the renderer read a file or the network."""
    fetcher = PackageAssetFetcher()
    html = (
        '<html><body><p>x</p><img src="file:///etc/passwd">'
        '<link rel="stylesheet" href="http://example.org/evil.css">'
        '<img src="http://127.0.0.1:9/track.png"></body></html>'
    )
    pdf = html_to_pdf(html, fetcher=fetcher)
    assert pdf.startswith(b"%PDF")
    assert set(fetcher.refused) == {
        "file:///etc/passwd",
        "http://example.org/evil.css",
        "http://127.0.0.1:9/track.png",
    }


def test_injected_image_in_a_comment_shows_as_text(rendered: Rendered, tmp_path: Path) -> None:
    text = pdftotext(rendered.draft_en, tmp_path)
    assert '<img src="file:///etc/passwd">' in text
    assert "Überzeugend & <b>solide</b>" in text
    assert "root:" not in text


def test_rendering_the_report_fetches_only_package_assets(
    scene,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from reviewer_app.reports.services import decision_report_pdf

    fetchers: list[PackageAssetFetcher] = []

    class Recording(PackageAssetFetcher):
        def __init__(self) -> None:
            super().__init__()
            fetchers.append(self)

    monkeypatch.setattr(render, "PackageAssetFetcher", Recording)
    decision_report_pdf(scene.call, "en")
    assert fetchers
    assert all(f.refused == [] for f in fetchers)
    served = [url for f in fetchers for url in f.served]
    assert served and all(
        u.startswith(("reviewer-app:fonts/", "reviewer-app:static/")) for u in served
    )
    assert INJECTION  # the scene's comment carries the image markup
