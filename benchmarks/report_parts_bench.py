"""The decision report of a large call, laid out in parts: time and peak memory.

    .venv/bin/python benchmarks/report_parts_bench.py                      # 1,000 proposals
    .venv/bin/python benchmarks/report_parts_bench.py --proposals 1000 10000
    .venv/bin/python benchmarks/report_parts_bench.py --processes 2

For each N, a synthetic call (``reviewer-app demo --synthetic``, 5 reviews per proposal) in a
fresh SQLite database, then ``reviewer-app report KEY -o FILE`` as a process of its own, whose
peak resident memory is read from the kernel (``wait4``: the process and the processes it
waited for, so with ``--processes`` the largest of them), then ``reviewer-app report verify``.

Floors, measured in the same run: bare WeasyPrint's time per page on the demo call's report
as one document (``HTML(string=...).write_pdf()``, no PDF/A, no parts); the memory goal is
issue 11's, under 1 GB at 10,000 proposals.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))


def cli(env: dict[str, str], *args: str) -> tuple[float, int, str]:
    """Runs ``reviewer-app ARGS``: (wall seconds, peak resident memory in MB, output)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "reviewer-app"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"reviewer-app {' '.join(args)} failed:\n{output}")
    return wall, usage.ru_maxrss // 1024, output


def bare_seconds_per_page() -> tuple[float, int]:
    """Bare WeasyPrint on the demo call's decision report HTML (one document)."""
    from flask_babel import force_locale
    from flask_migrate import upgrade
    from pypdf import PdfReader
    from weasyprint import HTML

    from reviewer_app import create_app
    from reviewer_app.demo import seed_demo
    from reviewer_app.extensions import db
    from reviewer_app.models import Call
    from reviewer_app.reports.decision import decision_report
    from reviewer_app.reports.parts import whole
    from reviewer_app.reports.records import load_records
    from reviewer_app.reports.render import ASSET_SCHEME, PackageAssetFetcher, render_html
    from reviewer_app.reports.services import page_css

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/demo.db",
                "SECRET_KEY": "benchmark",
                "REVIEWER_APP_MODE": "test",
                "TESTING": True,
            },
            migrations=True,
        )
        with app.app_context():
            upgrade()
            key = seed_demo().call_key
            db.session.commit()
            call = db.session.query(Call).filter_by(key=key).one()
            report = decision_report(load_records(call), "en")
            with force_locale("en"):
                css = page_css(header="bench", marker="CONFIDENTIAL", footer_left="x")
                html = render_html(
                    "reports/decision.html",
                    {"report": report, "part": whole(report), "page_css": css, "author": "b"},
                )
            start = time.perf_counter()
            pdf = HTML(string=html, url_fetcher=PackageAssetFetcher(), base_url=ASSET_SCHEME)
            content = pdf.write_pdf()
            seconds = time.perf_counter() - start
            db.engine.dispose()
    import io

    pages = len(PdfReader(io.BytesIO(content)).pages)
    return seconds / pages, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, nargs="+", default=[1000])
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()

    per_page, demo_pages = bare_seconds_per_page()
    print(f"floor: bare WeasyPrint {per_page * 1000:.0f} ms a page ({demo_pages}-page demo report)")
    print(
        "| N | reviews | pages | PDF | report (wall) | per page | / floor | peak memory | verify |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for proposals in args.proposals:
        with tempfile.TemporaryDirectory() as folder:
            env = {
                **os.environ,
                "DATABASE_URL": f"sqlite:///{folder}/bench.db",
                "REVIEWER_APP_MODE": "demo",
                "REPORT_PROCESSES": str(args.processes),
            }
            cli(env, "db", "upgrade")
            key = f"parts{proposals}"
            cli(
                env,
                *("demo", "--synthetic", "--key", key, "--proposals", str(proposals)),
                *("--experts", str(max(60, proposals // 20)), "--reviews-per-proposal", "5"),
            )
            out = Path(folder) / "report.pdf"
            wall, memory, _output = cli(env, "report", key, "-o", str(out))
            verify_wall, _verify_memory, verified = cli(env, "report", "verify", str(out))
            import pikepdf

            with pikepdf.open(out) as pdf:
                pages = len(pdf.pages)
            ok = "verified" if verified.rstrip().endswith("verified") else "FAILED"
            print(
                f"| {proposals:,} | {proposals * 5:,} | {pages:,} | "
                f"{out.stat().st_size / 1e6:.0f} MB | {wall:.0f} s | "
                f"{wall / pages * 1000:.0f} ms | {wall / pages / per_page:.2f}x | "
                f"{memory:,} MB | {ok} ({verify_wall:.0f} s) |",
                flush=True,
            )


if __name__ == "__main__":
    main()
