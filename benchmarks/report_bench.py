"""How long the decision report takes, next to bare WeasyPrint on the same final HTML.

    .venv/bin/python benchmarks/report_bench.py                 # demo call, then 1,000 x 5
    .venv/bin/python benchmarks/report_bench.py --proposals 200 # a smaller synthetic call
    .venv/bin/python benchmarks/report_bench.py --demo-only

Each call is built in a temporary SQLite database. For each, the script times:

* data:   ``load_records`` + ``decision_report`` (queries, the scoring engine, evaluation.json,
          formatting, the SVG charts);
* html:   the Jinja templates;
* pdf:    ``html_to_pdf`` (WeasyPrint with PDF/A-3b and the two embedded files);
* bare:   ``weasyprint.HTML(string=html).write_pdf()`` on the same HTML, default options.

Overhead = data + html + (pdf - bare), as a share of bare. Not a test: the figures depend on the
machine; benchmarks/README.md records the ones measured.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def make_app(db_path: Path) -> Any:
    from reviewer_app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "SECRET_KEY": "benchmark",
            "REVIEWER_APP_MODE": "test",
            "TESTING": True,
        }
    )


def seed_demo_call() -> str:
    from reviewer_app.demo import seed_demo
    from reviewer_app.extensions import db

    seed = seed_demo()
    db.session.commit()
    return seed.call_key


def seed_synthetic_call(proposals: int, reviews: int, experts: int = 60) -> str:
    """``proposals`` proposals with ``reviews`` submitted reviews each, comments included: the
    call ``reviewer-app demo --synthetic`` makes."""
    from reviewer_app.demo.synthetic import seed_synthetic
    from reviewer_app.extensions import db

    seed_synthetic(
        key="synthetic",
        proposals=proposals,
        experts=max(experts, reviews + 1),
        reviews_per_proposal=reviews,
        seed=1000,
    )
    db.session.commit()
    return "synthetic"


def measure(
    key: str, lang: str = "en", repeat: int = 1, quick: bool | str = False
) -> dict[str, float]:
    """The fastest of ``repeat`` runs of each step (the machine's noise only adds time).

    ``quick``: one WeasyPrint run only (bare); for calls where each run takes many minutes.
    """
    runs = [_measure_once(key, lang, quick) for _ in range(repeat)]
    return {k: min(r[k] for r in runs) for k in runs[0]}


def _measure_once(key: str, lang: str, quick: bool | str) -> dict[str, float]:
    from flask_babel import force_locale
    from sqlalchemy import select
    from weasyprint import HTML

    from reviewer_app.extensions import db
    from reviewer_app.models import Call
    from reviewer_app.reports import services
    from reviewer_app.reports.decision import decision_report
    from reviewer_app.reports.parts import whole
    from reviewer_app.reports.records import load_records
    from reviewer_app.reports.render import (
        ASSET_SCHEME,
        EmbeddedFile,
        PackageAssetFetcher,
        html_to_pdf,
        render_html,
    )

    db.session.expire_all()
    call = db.session.scalar(select(Call).where(Call.key == key))

    def build() -> tuple[Any, Any]:
        records = load_records(call)
        return records, decision_report(records, lang)

    (records, report), t_data = timed(build)
    with force_locale(lang):
        css = services.page_css(header=records.title, marker="CONFIDENTIAL", footer_left="x")
        html, t_html = timed(
            lambda: render_html(
                "reports/decision.html",
                {"report": report, "part": whole(report), "page_css": css, "author": "bench"},
            )
        )
    files = (
        EmbeddedFile("evaluation.json", records.evaluation_json, "evaluation"),
        EmbeddedFile("ranking.csv", records.ranking_csv.encode(), "ranking"),
    )
    if quick == "no-pdf":
        return {
            "proposals": len(records.proposals),
            "reviews": records.stats.reviews_submitted,
            "pages": float("nan"),
            "data": t_data,
            "html": t_html,
            "pdf": float("nan"),
            "bare": float("nan"),
            "full": float("nan"),
            "bytes": len(html.encode()),
        }
    bare, t_bare = timed(
        lambda: HTML(
            string=html, url_fetcher=PackageAssetFetcher(), base_url=ASSET_SCHEME
        ).write_pdf()
    )
    if quick:
        t_pdf = t_full = float("nan")
        content = bare
    else:
        _pdf, t_pdf = timed(
            lambda: html_to_pdf(
                html, attachments=files, timestamp=records.as_of.replace(microsecond=0)
            )
        )
        # As one document, like the HTML timed above (a large call is otherwise laid out in
        # parts: report_parts_bench.py).
        one = services.PartSizes(proposals=10**9, rows=10**9)
        full, t_full = timed(lambda: services.decision_report_pdf(call, lang, sizes=one))
        content = full.content
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(content)).pages)
    return {
        "proposals": len(records.proposals),
        "reviews": records.stats.reviews_submitted,
        "pages": pages,
        "data": t_data,
        "html": t_html,
        "pdf": t_pdf,
        "bare": t_bare,
        "full": t_full,
        "bytes": len(content),
    }


def report(name: str, m: dict[str, float]) -> None:
    overhead = m["data"] + m["html"] + (m["pdf"] - m["bare"])
    ours = m["data"] + m["html"]
    print(
        f"\n{name}: {m['proposals']:,} proposals, {m['reviews']:,} reviews, {m['pages']:,} pages, "
        f"{m['bytes'] / 1e6:.1f} MB (PDF; HTML with --no-pdf)"
    )
    print(f"  data (queries, engine, evaluation.json, charts) {m['data']:8.2f} s")
    print(f"  templates                                        {m['html']:8.2f} s")
    print(f"  WeasyPrint, PDF/A-3b + attachments               {m['pdf']:8.2f} s")
    print(f"  bare WeasyPrint, same HTML                       {m['bare']:8.2f} s")
    print(f"  decision_report_pdf end to end                   {m['full']:8.2f} s")
    print(f"  data + templates / bare                          {ours / m['bare']:8.1%}")
    print(f"  all overhead (incl. PDF/A, attachments) / bare   {overhead / m['bare']:8.1%}")


def run(name: str, seed: Callable[[], str], repeat: int = 1, quick: bool | str = False) -> None:
    from flask_migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp) / "bench.db")
        with app.app_context():
            upgrade()
            key, t_seed = timed(seed)
            print(f"{name}: data built in {t_seed:.1f} s")
            report(name, measure(key, repeat=repeat, quick=quick))
            from reviewer_app.extensions import db

            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=1000)
    parser.add_argument("--reviews", type=int, default=5)
    parser.add_argument("--demo-only", action="store_true")
    parser.add_argument("--synthetic-only", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="synthetic call: one WeasyPrint run (bare) only"
    )
    parser.add_argument(
        "--no-pdf", action="store_true", help="synthetic call: time data and templates only"
    )
    args = parser.parse_args()
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    if not args.synthetic_only:
        run("demo call (AI Factories)", seed_demo_call, repeat=3)
    if not args.demo_only:
        run(  # one run: WeasyPrint alone takes minutes here
            f"synthetic call {args.proposals} x {args.reviews}",
            lambda: seed_synthetic_call(args.proposals, args.reviews),
            quick="no-pdf" if args.no_pdf else args.quick,
        )


if __name__ == "__main__":
    main()
