"""Where things go on a chart: the plot area, the value and date ticks, the legend rows.

Pure geometry, no markup: :mod:`webapp.services.charts` draws the SVG from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import TypeVar

__all__ = ["Layout", "date_ticks", "legend_rows", "nice_ticks", "plot_layout", "value_range"]

WIDTH = 480
HEIGHT = 300
MARGIN_RIGHT = 16
MARGIN_BOTTOM = 36
INNER_PAD_X = 10  # keeps the first and last markers off the axes
FONT_SIZE = 15
LEGEND_ROW = 18
MAX_DATE_TICKS = 5
NICE_MULTIPLIERS = (1.0, 2.0, 2.5, 5.0)

Item = TypeVar("Item")


@dataclass(frozen=True)
class Layout:
    """The plot area (in SVG units), its value ticks and its first and last days."""

    left: float
    right: float
    top: float
    bottom: float
    ticks: tuple[float, ...]
    first_day: date
    last_day: date

    def x_of(self, day: date) -> float:
        span_days = (self.last_day - self.first_day).days
        if span_days == 0:
            return (self.left + self.right) / 2
        share = (day - self.first_day).days / span_days
        return self.left + INNER_PAD_X + share * (self.right - self.left - 2 * INNER_PAD_X)

    def y_of(self, value: float) -> float:
        y_low, y_high = self.ticks[0], self.ticks[-1]
        return self.bottom - (value - y_low) / (y_high - y_low) * (self.bottom - self.top)


def plot_layout(
    days: Sequence[date], ticks: Sequence[float], tick_labels: Sequence[str], legend_rows: int
) -> Layout:
    """Room on the left for the widest tick label, on top for the legend rows and the unit."""
    return Layout(
        left=max(44.0, 16 + max(text_width(label) for label in tick_labels)),
        right=float(WIDTH - MARGIN_RIGHT),
        top=legend_rows * LEGEND_ROW + 32,
        bottom=float(HEIGHT - MARGIN_BOTTOM),
        ticks=tuple(ticks),
        first_day=min(days),
        last_day=max(days),
    )


def legend_rows(items: Sequence[tuple[str, Item]]) -> list[list[tuple[float, str, Item]]]:
    """(x, label, item) for each legend entry, wrapped into rows that fit the width."""
    rows: list[list[tuple[float, str, Item]]] = []
    cursor = float(WIDTH)
    for label, item in items:
        item_width = 32 + text_width(label)
        if not rows or cursor + item_width > WIDTH - MARGIN_RIGHT:
            rows.append([])
            cursor = 8.0
        rows[-1].append((cursor, label, item))
        cursor += item_width + 16
    return rows


def nice_ticks(low: float, high: float) -> list[float]:
    """Four to six round ticks (steps of 1, 2, 2.5 or 5 x 10^n) covering ``[low, high]``.

    Steps are tried from small to large, each at most twice the previous one, so
    the first step giving six ticks or fewer gives at least four.
    """
    if high < low:
        low, high = high, low
    if high == low:
        pad = max(abs(high) * 0.1, 1.0)
        low, high = low - pad, high + pad
    span = high - low
    exponent = math.floor(math.log10(span)) - 2
    while True:
        for multiplier in NICE_MULTIPLIERS:
            step = multiplier * 10.0**exponent
            first = math.floor(low / step + 1e-9)
            last = math.ceil(high / step - 1e-9)
            if last - first + 1 <= 6:
                return [_clean(n * step) for n in range(first, last + 1)]
        exponent += 1


def _clean(value: float) -> float:
    rounded = round(value, 10)
    return 0.0 if rounded == 0 else rounded


def value_range(values: Sequence[float], band: tuple[float, float] | None) -> tuple[float, float]:
    """The values (and the band's bounds) with a little room above and below."""
    low = min(values)
    high = max(values)
    if band is not None:
        low = min(low, *band)
        high = max(high, *band)
    span = high - low
    pad = span * 0.08 if span > 0 else max(abs(high) * 0.1, 1.0)
    padded_low = low - pad
    if low >= 0:
        padded_low = max(padded_low, 0.0)  # measurements are never negative
    return padded_low, high + pad


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """A generous estimate of a label's width (0.6 em per character)."""
    return len(text) * font_size * 0.6


def date_ticks(
    first: date, last: date, x_of: Callable[[date], float], format_day: Callable[[date], str]
) -> list[tuple[date, str, str]]:
    """(day, label, text-anchor) for first, last and up to three days evenly in between."""
    span = (last - first).days
    if span == 0:
        return [(first, format_day(first), "middle")]
    for count in range(min(MAX_DATE_TICKS, span + 1), 1, -1):
        days = sorted({first + timedelta(days=round(i * span / (count - 1))) for i in range(count)})
        ticks = []
        for index, day in enumerate(days):
            anchor = "start" if index == 0 else "end" if index == len(days) - 1 else "middle"
            ticks.append((day, format_day(day), anchor))
        if not _labels_overlap(ticks, x_of):
            return ticks
    return [(first, format_day(first), "start")]


def _label_extent(x: float, label: str, anchor: str) -> tuple[float, float]:
    width = text_width(label)
    if anchor == "start":
        return x, x + width
    if anchor == "end":
        return x - width, x
    return x - width / 2, x + width / 2


def _labels_overlap(ticks: list[tuple[date, str, str]], x_of: Callable[[date], float]) -> bool:
    extents = [_label_extent(x_of(day), label, anchor) for day, label, anchor in ticks]
    return any(left[1] + 8 > right[0] for left, right in pairwise(extents))
