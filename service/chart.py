"""Charts laid out here as numbers for inline SVG the templates draw: no
script, no library, so they show under the pages' Content-Security-Policy
and without JavaScript.

- ``day_chart``: the insights page's questions and abstain rate per day.
  Each day is a bar (answered below, unanswered stacked on top) and the
  abstain rate is a line on its own 0-100 % scale.
- ``share_bars``: the Progress page's accuracy by topic and difficulty, one
  bar per row of a table whose cells give the same numbers as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

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


SHARE_WIDTH = 100  # a share bar's SVG is this wide: its bar is the share in percent
FAIR, GOOD = 0.6, 0.85  # a share below FAIR is "low", from GOOD on "good", between "fair"


class HasShare(Protocol):
    @property
    def accuracy(self) -> float: ...


Row = TypeVar("Row", bound=HasShare)


@dataclass(frozen=True, slots=True)
class ShareBar(Generic[Row]):
    row: Row
    width: float  # of SHARE_WIDTH
    level: Literal["low", "fair", "good"]  # a class for its colour; the number is in the row's text


def share_bars(rows: Sequence[Row]) -> tuple[ShareBar[Row], ...]:
    """A bar for each row's ``accuracy`` (0 to 1), in the rows' order."""

    def level(share: float) -> Literal["low", "fair", "good"]:
        return "low" if share < FAIR else "good" if share >= GOOD else "fair"

    return tuple(ShareBar(r, round(SHARE_WIDTH * min(max(r.accuracy, 0.0), 1.0), 2), level(r.accuracy)) for r in rows)
