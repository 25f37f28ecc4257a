"""The charts of the decision analytics (issue 14), as SVG like ``charts.py``: each
proposal's rank interval against the funding line, and each expert's leniency with its
uncertainty. The same SVG goes into the web page and the PDF; fixed coordinates printed with
two decimals, so the same figures give the same bytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from .charts import ACCENT, GRID, INK, LINE, MUTED, RESERVE, _clip, _n, _text


@dataclass(frozen=True)
class Interval:
    label: str
    low: int  # the 5th percentile of the proposal's rank over the samples
    high: int  # the 95th
    official: int | None  # its rank in the official ranking (None: not ranked)
    crosses: bool  # the interval reaches both sides of the funding line


@dataclass(frozen=True)
class Offset:
    label: str
    value: float
    stderr: float | None


def _open(kind: str, width: float, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" role="img" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}">'
        f"<title>{escape(title)}</title>"
    )


def rank_intervals_chart(
    rows: Sequence[Interval],
    *,
    ranks: int,
    line_after: int | None,
    title: str,
    axis_label: str,
    line_label: str,
) -> Markup:
    """One row per proposal (in the official order): a bar from its 5th to its 95th
    percentile rank, a dot at its official rank, the funding line as a dashed red line after
    rank ``line_after`` (None: no budget). Rows whose interval crosses the line are drawn in
    the accent colour, the others muted."""
    width, left, right = 640.0, 150.0, 620.0
    row_h, top = 16.0, 24.0
    height = top + row_h * len(rows) + 34
    span = max(ranks, 2) - 1

    def x(rank: float) -> float:
        return left + (rank - 1) / span * (right - left)

    parts = [_open("intervals", width, height, title)]
    for tick in _ticks(ranks):
        parts.append(
            f'<line x1="{_n(x(tick))}" y1="{_n(top)}" x2="{_n(x(tick))}" '
            f'y2="{_n(top + row_h * len(rows))}" stroke="{GRID}" stroke-width="0.6"/>'
        )
        parts.append(
            _text(x(tick), top + row_h * len(rows) + 13, str(tick), size=9, anchor="middle",
                  fill=MUTED)
        )  # fmt: skip
    parts.append(
        _text((left + right) / 2, height - 4, axis_label, size=9, anchor="middle", fill=MUTED)
    )
    for index, row in enumerate(rows):
        mid = top + row_h * index + row_h / 2
        colour = ACCENT if row.crosses else RESERVE
        parts.append(_text(0, mid + 3.5, _clip(row.label, 24), size=9))
        parts.append(
            f'<line x1="{_n(x(row.low))}" y1="{_n(mid)}" x2="{_n(x(row.high))}" y2="{_n(mid)}" '
            f'stroke="{colour}" stroke-width="5" stroke-linecap="round"/>'
        )
        if row.official is not None:
            parts.append(f'<circle cx="{_n(x(row.official))}" cy="{_n(mid)}" r="3" fill="{INK}"/>')
    if line_after is not None and 0 < line_after < ranks:
        at = x(line_after + 0.5)
        parts.append(
            f'<line x1="{_n(at)}" y1="{_n(top - 6)}" x2="{_n(at)}" '
            f'y2="{_n(top + row_h * len(rows))}" stroke="{LINE}" stroke-width="1.4" '
            f'stroke-dasharray="5 3"/>'
        )
        parts.append(_text(at + 3, top - 9, line_label, size=9, fill=LINE))
    parts.append("</svg>")
    return Markup("".join(parts))


def offsets_chart(
    rows: Sequence[Offset],
    *,
    title: str,
    axis_label: str,
    tick_text: Callable[[float], str],
) -> Markup:
    """One row per expert: a bar from 0 to the offset (right: more lenient, left: stricter)
    and a whisker of 1.96 standard errors either side, where there is one."""
    width, left, right = 640.0, 150.0, 620.0
    row_h, top = 16.0, 10.0
    height = top + row_h * len(rows) + 34
    reach = max(
        [abs(r.value) + 1.96 * (r.stderr or 0.0) for r in rows] + [0.5]
    )  # the widest row, whiskers included
    mid_x = (left + right) / 2

    def x(value: float) -> float:
        return mid_x + value / reach * (right - left) / 2

    parts = [_open("offsets", width, height, title)]
    for tick in (-reach, -reach / 2, 0.0, reach / 2, reach):
        parts.append(
            f'<line x1="{_n(x(tick))}" y1="{_n(top)}" x2="{_n(x(tick))}" '
            f'y2="{_n(top + row_h * len(rows))}" stroke="{GRID}" '
            f'stroke-width="{"1.2" if tick == 0 else "0.6"}"/>'
        )
        parts.append(
            _text(x(tick), top + row_h * len(rows) + 13, tick_text(tick), size=9,
                  anchor="middle", fill=MUTED)
        )  # fmt: skip
    parts.append(_text(mid_x, height - 4, axis_label, size=9, anchor="middle", fill=MUTED))
    for index, row in enumerate(rows):
        mid = top + row_h * index + row_h / 2
        parts.append(_text(0, mid + 3.5, _clip(row.label, 24), size=9))
        low, high = sorted((x(0.0), x(row.value)))
        parts.append(
            f'<rect x="{_n(low)}" y="{_n(mid - 4)}" width="{_n(max(high - low, 0.5))}" '
            f'height="8" fill="{ACCENT if row.value >= 0 else RESERVE}"/>'
        )
        if row.stderr is not None:
            a, b = x(row.value - 1.96 * row.stderr), x(row.value + 1.96 * row.stderr)
            parts.append(
                f'<line x1="{_n(a)}" y1="{_n(mid)}" x2="{_n(b)}" y2="{_n(mid)}" '
                f'stroke="{INK}" stroke-width="1"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _ticks(ranks: int) -> list[int]:
    """About six round rank numbers from 1 to ``ranks``."""
    step = max(1, ranks // 6)
    for nice in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if nice >= step:
            step = nice
            break
    return [1, *range(step, ranks + 1, step)] if step > 1 else list(range(1, ranks + 1))
