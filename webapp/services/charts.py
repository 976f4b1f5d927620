"""Accessible SVG line charts for measurement series, drawn on the server.

No JavaScript and no charting library: the chart is one ``<svg>`` element built
from escaped strings. It carries its own ``<title>`` and ``<desc>`` (named by
``aria-labelledby``), draws two visually distinct styles so two series are told
apart without colour alone, and uses presentation attributes only (no ``style``
attribute), so it renders under a CSP that forbids inline styles. The caller
renders the data as a table too (see :func:`data_table_rows`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from markupsafe import Markup

__all__ = ["Band", "Point", "Series", "data_table_rows", "line_chart"]

WIDTH = 480
HEIGHT = 300
MARGIN_RIGHT = 16
MARGIN_BOTTOM = 36
INNER_PAD_X = 10  # keeps the first and last markers off the axes
FONT_SIZE = 15
LEGEND_ROW = 18
MAX_DATE_TICKS = 5

TEXT_COLOUR = "#1f2933"
GRID_COLOUR = "#d5dbe3"
BAND_FILL = "#e6f4ea"
BAND_STROKE = "#2f7d4f"
STYLES: dict[str, tuple[str, str | None]] = {
    # style: (colour, stroke-dasharray); both colours exceed 7:1 against white.
    "a": ("#0b4f8a", None),
    "b": ("#a3161a", "6 4"),
}
NICE_MULTIPLIERS = (1.0, 2.0, 2.5, 5.0)


@dataclass(frozen=True)
class Point:
    day: date
    value: float


@dataclass(frozen=True)
class Series:
    label: str
    points: list[Point]
    style: str = "a"


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    label: str


def data_table_rows(series: list[Series]) -> list[tuple[date, list[float | None]]]:
    """One row per distinct day, newest first; one column per series.

    A series without a value that day gives ``None``; a series with several
    values the same day keeps the last one in input order.
    """
    columns: list[dict[date, float]] = []
    days: set[date] = set()
    for one in series:
        by_day: dict[date, float] = {}
        for point in one.points:
            by_day[point.day] = point.value
        columns.append(by_day)
        days.update(by_day)
    return [(day, [column.get(day) for column in columns]) for day in sorted(days, reverse=True)]


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


def _value_range(values: Sequence[float], band: Band | None) -> tuple[float, float]:
    low = min(values)
    high = max(values)
    if band is not None:
        low = min(low, band.low, band.high)
        high = max(high, band.low, band.high)
    span = high - low
    pad = span * 0.08 if span > 0 else max(abs(high) * 0.1, 1.0)
    padded_low = low - pad
    if low >= 0:
        padded_low = max(padded_low, 0.0)  # measurements are never negative
    return padded_low, high + pad


def _text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """A generous estimate of a label's width (0.6 em per character)."""
    return len(text) * font_size * 0.6


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _attrs(**attributes: str | float | None) -> Markup:
    parts = []
    for name, value in attributes.items():
        if value is None:
            continue
        rendered = _num(value) if isinstance(value, float | int) else value
        parts.append(
            Markup(' {}="{}"').format(Markup(name.rstrip("_").replace("_", "-")), rendered)
        )
    return Markup("").join(parts)


def _element(
    tag: str, content: Markup | str | None = None, **attributes: str | float | None
) -> Markup:
    if content is None:
        return Markup("<{}{} />").format(Markup(tag), _attrs(**attributes))
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(tag), _attrs(**attributes), content)


def _marker(
    style: str,
    x: float,
    y: float,
    radius: float,
    title: str | None,
    css_class: str = "chart-marker",
) -> Markup:
    colour = STYLES[style][0]
    content = _element("title", title) if title is not None else Markup("")
    if style == "a":
        return _element(
            "circle",
            content,
            class_=css_class,
            cx=x,
            cy=y,
            r=radius,
            fill=colour,
            stroke="#ffffff",
            stroke_width=1.0,
        )
    side = radius * 2
    return _element(
        "rect",
        content,
        class_=css_class,
        x=x - radius,
        y=y - radius,
        width=side,
        height=side,
        fill="#ffffff",
        stroke=colour,
        stroke_width=2.0,
    )


def _date_ticks(
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
    width = _text_width(label)
    if anchor == "start":
        return x, x + width
    if anchor == "end":
        return x - width, x
    return x - width / 2, x + width / 2


def _labels_overlap(ticks: list[tuple[date, str, str]], x_of: Callable[[date], float]) -> bool:
    extents = [_label_extent(x_of(day), label, anchor) for day, label, anchor in ticks]
    return any(left[1] + 8 > right[0] for left, right in pairwise(extents))


def line_chart(
    series: list[Series],
    *,
    chart_id: str,
    title: str,
    description: str,
    unit: str,
    band: Band | None = None,
    format_day: Callable[[date], str],
    format_value: Callable[[float], str],
    point_title: Callable[[str, date, float], str] | None = None,
) -> Markup:
    """One accessible ``<svg>`` line chart, or ``Markup("")`` when there is nothing to draw.

    ``format_value`` formats a number without its unit (the chart adds ``unit``).
    Each marker's tooltip reads "Systolique — 12 mars 2026 : 128 mmHg"; pass
    ``point_title(series_label, day, value)`` to word it otherwise (other locales).
    """
    if not chart_id or any(char.isspace() for char in chart_id):
        raise ValueError("chart_id must be a non-empty token without spaces")
    for one in series:
        if one.style not in STYLES:
            raise ValueError(f"unknown series style {one.style!r}")
    drawn = [one for one in series if one.points]
    if not drawn:
        return Markup("")

    def describe(label: str, day: date, value: float) -> str:
        if point_title is not None:
            return point_title(label, day, value)
        amount = f"{format_value(value)} {unit}".rstrip()
        return f"{label} — {format_day(day)} : {amount}"

    all_points = [point for one in drawn for point in one.points]
    first_day = min(point.day for point in all_points)
    last_day = max(point.day for point in all_points)
    ticks = nice_ticks(*_value_range([point.value for point in all_points], band))
    tick_labels = [format_value(tick) for tick in ticks]

    # Top area: legend rows (series when two or more, and the band), then the unit.
    legend_items: list[tuple[str, Series | Band]] = []
    if len(drawn) >= 2:
        legend_items += [(one.label, one) for one in drawn]
    if band is not None:
        legend_items.append((band.label, band))
    legend_rows: list[list[tuple[float, str, Series | Band]]] = []
    cursor = float(WIDTH)
    for label, item in legend_items:
        item_width = 32 + _text_width(label)
        if not legend_rows or cursor + item_width > WIDTH - MARGIN_RIGHT:
            legend_rows.append([])
            cursor = 8.0
        legend_rows[-1].append((cursor, label, item))
        cursor += item_width + 16
    top = len(legend_rows) * LEGEND_ROW + 32
    left = max(44.0, 16 + max(_text_width(label) for label in tick_labels))
    right = float(WIDTH - MARGIN_RIGHT)
    bottom = float(HEIGHT - MARGIN_BOTTOM)

    span_days = (last_day - first_day).days
    y_low, y_high = ticks[0], ticks[-1]

    def x_of(day: date) -> float:
        if span_days == 0:
            return (left + right) / 2
        share = (day - first_day).days / span_days
        return left + INNER_PAD_X + share * (right - left - 2 * INNER_PAD_X)

    def y_of(value: float) -> float:
        return bottom - (value - y_low) / (y_high - y_low) * (bottom - top)

    text_common: dict[str, str | float | None] = {"fill": TEXT_COLOUR, "font_size": FONT_SIZE}
    parts: list[Markup] = [
        _element("title", title, id=f"{chart_id}-title"),
        _element("desc", description, id=f"{chart_id}-desc"),
    ]

    # Legend.
    legend: list[Markup] = []
    for row_index, row in enumerate(legend_rows):
        baseline = 14 + row_index * LEGEND_ROW
        mid = baseline - 4
        for x, label, item in row:
            if isinstance(item, Band):
                legend.append(
                    _element(
                        "rect",
                        x=x + 5,
                        y=mid - 5,
                        width=14.0,
                        height=10.0,
                        fill=BAND_FILL,
                        stroke=BAND_STROKE,
                        stroke_width=1.0,
                    )
                )
            else:
                colour, dash = STYLES[item.style]
                legend.append(
                    _element(
                        "line",
                        x1=x,
                        y1=mid,
                        x2=x + 24,
                        y2=mid,
                        stroke=colour,
                        stroke_width=2.0,
                        stroke_dasharray=dash,
                    )
                )
                legend.append(_marker(item.style, x + 12, mid, 4.0, None, "chart-legend-marker"))
            legend.append(_element("text", label, x=x + 30, y=float(baseline), **text_common))
    if legend:
        parts.append(_element("g", Markup("").join(legend), class_="chart-legend"))

    if unit:
        parts.append(_element("text", unit, class_="chart-unit", x=8.0, y=top - 12, **text_common))

    # Normal range, under everything else.
    if band is not None:
        band_top = y_of(max(band.low, band.high))
        band_bottom = y_of(min(band.low, band.high))
        parts.append(
            _element(
                "rect",
                _element("title", band.label),
                class_="chart-band",
                x=left,
                y=band_top,
                width=right - left,
                height=max(band_bottom - band_top, 1.0),
                fill=BAND_FILL,
                stroke=BAND_STROKE,
                stroke_width=1.0,
            )
        )

    # Y axis: gridlines and tick labels.
    y_axis: list[Markup] = []
    for tick, label in zip(ticks, tick_labels, strict=True):
        y = y_of(tick)
        if tick != y_low:
            y_axis.append(
                _element(
                    "line", x1=left, y1=y, x2=right, y2=y, stroke=GRID_COLOUR, stroke_width=1.0
                )
            )
        y_axis.append(
            _element(
                "text",
                label,
                class_="chart-y-tick",
                x=left - 8,
                y=y + 4,
                text_anchor="end",
                **text_common,
            )
        )
    y_axis.append(
        _element("line", x1=left, y1=top, x2=left, y2=bottom, stroke=TEXT_COLOUR, stroke_width=1.0)
    )
    parts.append(_element("g", Markup("").join(y_axis), class_="chart-y-axis"))

    # X axis: date ticks.
    x_axis: list[Markup] = []
    for day, label, anchor in _date_ticks(first_day, last_day, x_of, format_day):
        x = x_of(day)
        x_axis.append(
            _element(
                "line", x1=x, y1=bottom, x2=x, y2=bottom + 5, stroke=TEXT_COLOUR, stroke_width=1.0
            )
        )
        x_axis.append(
            _element(
                "text",
                label,
                class_="chart-x-tick",
                x=x,
                y=bottom + 20,
                text_anchor=anchor,
                **text_common,
            )
        )
    x_axis.append(
        _element(
            "line", x1=left, y1=bottom, x2=right, y2=bottom, stroke=TEXT_COLOUR, stroke_width=1.0
        )
    )
    parts.append(_element("g", Markup("").join(x_axis), class_="chart-x-axis"))

    # Series: a line, then one marker per point (each with its tooltip).
    radius = 4.0 if len(all_points) <= 60 else 2.5
    for one in drawn:
        colour, dash = STYLES[one.style]
        ordered = sorted(one.points, key=lambda point: point.day)
        content: list[Markup] = []
        if len(ordered) >= 2:
            coordinates = " ".join(
                f"{_num(x_of(point.day))},{_num(y_of(point.value))}" for point in ordered
            )
            content.append(
                _element(
                    "polyline",
                    points=coordinates,
                    fill="none",
                    stroke=colour,
                    stroke_width=2.0,
                    stroke_linejoin="round",
                    stroke_dasharray=dash,
                )
            )
        for point in ordered:
            content.append(
                _marker(
                    one.style,
                    x_of(point.day),
                    y_of(point.value),
                    radius,
                    describe(one.label, point.day, point.value),
                )
            )
        parts.append(
            _element("g", Markup("").join(content), class_=f"chart-series chart-series-{one.style}")
        )

    return _element(
        "svg",
        Markup("").join(parts),
        xmlns="http://www.w3.org/2000/svg",
        class_="chart",
        viewBox=f"0 0 {WIDTH} {HEIGHT}",
        width="100%",
        preserveAspectRatio="xMidYMid meet",
        role="img",
        aria_labelledby=f"{chart_id}-title {chart_id}-desc",
    )
