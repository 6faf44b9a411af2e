"""The insights page's chart of questions and abstain rate per day, laid out
here as numbers for an inline SVG the template draws: no script, no
library, so it shows under the pages' Content-Security-Policy and without
JavaScript.  Each day is a bar (answered below, unanswered stacked on top)
and the abstain rate is a line on its own 0-100 % scale."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.insights import Day

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 56, 14, 30


@dataclass(frozen=True, slots=True)
class Bar:
    day: Day
    x: float
    width: float
    answered_y: float
    answered_height: float
    unanswered_y: float
    unanswered_height: float
    rate_y: float  # where the abstain rate's point is


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class DayChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    rate_points: str  # the polyline of the abstain rate
    left: float
    right: float
    top: float
    bottom: float
    volume_labels: tuple[Label, ...]
    rate_labels: tuple[Label, ...]
    day_labels: tuple[Label, ...]


def _nice_max(n: int) -> int:
    """The top of the volume axis: ``n`` rounded up to 1, 2 or 5 times a power of ten."""
    if n <= 1:
        return 1
    magnitude = 10 ** (len(str(n)) - 1)
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= n)


def day_chart(days: Sequence[Day], width: int = WIDTH, height: int = HEIGHT) -> DayChart:
    left, right, top, bottom = LEFT, width - RIGHT, TOP, height - BOTTOM
    plot_h = bottom - top
    peak = _nice_max(max((d.queries for d in days), default=0))
    slot = (right - left) / max(len(days), 1)
    bar_w = max(slot * 0.7, 1.0)
    bars, points = [], []
    for i, d in enumerate(days):
        x = left + i * slot + (slot - bar_w) / 2
        answered_h = plot_h * (d.queries - d.abstained) / peak
        unanswered_h = plot_h * d.abstained / peak
        bars.append(
            Bar(
                day=d,
                x=round(x, 2),
                width=round(bar_w, 2),
                answered_y=round(bottom - answered_h, 2),
                answered_height=round(answered_h, 2),
                unanswered_y=round(bottom - answered_h - unanswered_h, 2),
                unanswered_height=round(unanswered_h, 2),
                rate_y=round(bottom - plot_h * d.abstain_rate, 2),
            )
        )
        if d.queries:
            points.append(f"{x + bar_w / 2:.2f},{bars[-1].rate_y:.2f}")
    shown = sorted({0, len(days) // 2, len(days) - 1}) if days else []
    return DayChart(
        width=width,
        height=height,
        bars=tuple(bars),
        rate_points=" ".join(points),
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        volume_labels=(Label(left - 6, bottom + 4, "0"), Label(left - 6, top + 4, str(peak))),
        rate_labels=(Label(width - 2, bottom + 4, "0%"), Label(width - 2, top + 4, "100%")),
        day_labels=tuple(
            Label(left + i * slot + slot / 2, height - 8, f"{days[i].day:%b} {days[i].day.day}") for i in shown
        ),
    )
