"""Charts for the reports, as SVG written here (WeasyPrint draws inline SVG as vectors).

Hand-written rather than a charting library: two simple chart types, fixed coordinates printed
with two decimals, so the same data always gives the same bytes (and the same PDF), and every
label goes through ``markupsafe.escape`` like the rest of the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from markupsafe import Markup, escape

INK = "#1f2933"
MUTED = "#7b8794"
GRID = "#d9dee4"
ACCENT = "#1d4e89"  # the report's blue
RESERVE = "#6c9bd2"
FAILED = "#b8c2cc"
LINE = "#c0392b"  # thresholds and the funding line
FONT = "DejaVu Sans"

Number = Fraction | Decimal | int


@dataclass(frozen=True)
class DotRow:
    """One criterion of one proposal: the individual scores and what was made of them."""

    label: str
    values: tuple[Decimal, ...]
    score: Fraction | None
    threshold: Decimal | None
    disagreement: bool = False


@dataclass(frozen=True)
class Bar:
    label: str
    value: Number | None
    text: str
    status: str  # engine Status value: main, reserve, below_threshold, incomplete


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: float = 10,
    anchor: str = "start",
    fill: str = INK,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-family="{FONT}" font-size="{_n(size)}" '
        f'text-anchor="{anchor}" fill="{fill}" font-weight="{weight}">{escape(text)}</text>'
    )


def score_dots_chart(
    rows: Sequence[DotRow],
    *,
    scale_min: Decimal,
    scale_max: Decimal,
    step: Decimal,
    tick_text: Callable[[Decimal], str],
    score_text: Callable[[Fraction], str],
) -> Markup:
    """Per criterion, the individual scores as dots on the scale, the criterion score as a bar
    across the track and the threshold as a dashed red mark."""
    width, left, right = 640.0, 170.0, 590.0
    row_h, top = 34.0, 10.0
    height = top + row_h * len(rows) + 30
    span = float(scale_max - scale_min) or 1.0

    def x(value: Number) -> float:
        return left + (float(value) - float(scale_min)) / span * (right - left)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart dots" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}">'
    ]
    # Grid: a line at every whole point, labelled under the last row.
    value = scale_min
    while value <= scale_max:
        whole = value == value.to_integral_value()
        parts.append(
            f'<line x1="{_n(x(value))}" y1="{_n(top)}" x2="{_n(x(value))}" '
            f'y2="{_n(top + row_h * len(rows))}" stroke="{GRID}" '
            f'stroke-width="{"0.8" if whole else "0.4"}"/>'
        )
        if whole:
            parts.append(
                _text(
                    x(value),
                    top + row_h * len(rows) + 14,
                    tick_text(value),
                    size=9,
                    anchor="middle",
                    fill=MUTED,
                )
            )
        value += step
    for index, row in enumerate(rows):
        mid = top + row_h * index + row_h / 2
        parts.append(
            _text(
                0,
                mid + 3.5,
                _clip(row.label, 28),
                size=10,
                weight="bold" if row.disagreement else "normal",
            )
        )
        parts.append(
            f'<line x1="{_n(left)}" y1="{_n(mid)}" x2="{_n(right)}" y2="{_n(mid)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        if row.threshold is not None:
            tx = x(row.threshold)
            parts.append(
                f'<line x1="{_n(tx)}" y1="{_n(mid - 12)}" x2="{_n(tx)}" y2="{_n(mid + 12)}" '
                f'stroke="{LINE}" stroke-width="1.4" stroke-dasharray="3 2"/>'
            )
        # Equal scores are stacked above and below the track so every expert stays visible.
        seen: dict[Decimal, int] = {}
        for score in row.values:
            k = seen.get(score, 0)
            seen[score] = k + 1
            offset = (k + 1) // 2 * 7 * (1 if k % 2 else -1)
            parts.append(
                f'<circle cx="{_n(x(score))}" cy="{_n(mid + offset)}" r="4" fill="#ffffff" '
                f'stroke="{INK}" stroke-width="1.3"/>'
            )
        # The criterion score on top of the dots, and written out at the right.
        if row.score is not None:
            sx = x(row.score)
            parts.append(
                f'<rect x="{_n(sx - 1.75)}" y="{_n(mid - 13)}" width="3.5" height="26" '
                f'fill="{ACCENT}" fill-opacity="0.85"/>'
            )
            parts.append(
                _text(
                    width,
                    mid + 3.5,
                    score_text(row.score),
                    size=10,
                    anchor="end",
                    fill=ACCENT,
                    weight="bold",
                )
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def totals_bar_chart(
    bars: Sequence[Bar],
    *,
    maximum: Decimal,
    funding_line_after: int | None,
    funding_line_label: str,
    axis_label: str,
    tick_text: Callable[[Decimal], str],
    legend: Sequence[tuple[str, str]] = (),
) -> Markup:
    """The weighted totals as horizontal bars in ranking order, the funding line drawn after
    the last proposal of the main list."""
    width, left, right = 640.0, 190.0, 580.0
    bar_h, gap, top = 15.0, 6.0, 8.0
    plot_h = (bar_h + gap) * len(bars)
    height = top + plot_h + (52 if legend else 38)
    span = float(maximum) or 1.0

    def x(value: Number) -> float:
        return left + float(value) / span * (right - left)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bars" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}">'
    ]
    tick = _tick_step(maximum)
    value = Decimal(0)
    while value <= maximum:
        parts.append(
            f'<line x1="{_n(x(value))}" y1="{_n(top)}" x2="{_n(x(value))}" '
            f'y2="{_n(top + plot_h)}" stroke="{GRID}" stroke-width="0.8"/>'
        )
        parts.append(
            _text(
                x(value), top + plot_h + 13, tick_text(value), size=9, anchor="middle", fill=MUTED
            )
        )
        value += tick
    parts.append(
        _text(
            (left + right) / 2, top + plot_h + 30, axis_label, size=9, anchor="middle", fill=MUTED
        )
    )
    colours = {"main": ACCENT, "reserve": RESERVE}
    # Legend: one swatch per status shown, under the axis label.
    lx = left
    for status, label in legend:
        parts.append(
            f'<rect x="{_n(lx)}" y="{_n(top + plot_h + 38)}" width="9" height="9" '
            f'fill="{colours.get(status, FAILED)}"/>'
        )
        parts.append(_text(lx + 13, top + plot_h + 46, label, size=8.5, fill=MUTED))
        lx += 26 + 5.6 * len(label)
    for index, bar in enumerate(bars):
        y = top + index * (bar_h + gap) + gap / 2
        parts.append(_text(left - 8, y + bar_h - 4, _clip(bar.label, 30), size=9.5, anchor="end"))
        if bar.value is None:
            continue
        end = x(bar.value)
        parts.append(
            f'<rect x="{_n(left)}" y="{_n(y)}" width="{_n(end - left)}" height="{_n(bar_h)}" '
            f'fill="{colours.get(bar.status, FAILED)}"/>'
        )
        parts.append(_text(end + 4, y + bar_h - 4, bar.text, size=9))
    if funding_line_after is not None:
        y = top + funding_line_after * (bar_h + gap)
        parts.append(
            f'<line x1="{_n(8)}" y1="{_n(y)}" x2="{_n(width - 4)}" y2="{_n(y)}" '
            f'stroke="{LINE}" stroke-width="1.6" stroke-dasharray="6 3"/>'
        )
        parts.append(
            _text(
                width - 4,
                y - 3,
                funding_line_label,
                size=8.5,
                anchor="end",
                fill=LINE,
                weight="bold",
            )
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _tick_step(maximum: Decimal) -> Decimal:
    """A round step that divides the axis evenly into at most eight parts."""
    for step in (1, 2, "2.5", 5, 10, 20, 25, 50, 100):
        value = Decimal(step)
        if maximum % value == 0 and maximum / value <= 8:
            return value
    return maximum / 8
