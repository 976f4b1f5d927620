"""Accessible SVG line charts for measurement series, drawn on the server.

No JavaScript and no charting library: the chart is one ``<svg>`` element built
from escaped strings. It carries its own ``<title>`` and ``<desc>`` (named by
``aria-labelledby``), draws two visually distinct styles so two series are told
apart without colour alone, and uses presentation attributes only (no ``style``
attribute), so it renders under a CSP that forbids inline styles. The caller
renders the data as a table too (see :func:`data_table_rows`). Where things go
is worked out in :mod:`webapp.services.chart_layout`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from webapp.services.chart_layout import (
    FONT_SIZE,
    HEIGHT,
    LEGEND_ROW,
    WIDTH,
    Layout,
    date_ticks,
    legend_rows,
    nice_ticks,
    plot_layout,
    value_range,
)

__all__ = [
    "HEIGHT",
    "WIDTH",
    "Band",
    "Point",
    "Series",
    "data_table_rows",
    "line_chart",
    "nice_ticks",
]

TEXT_COLOUR = "#1f2933"
GRID_COLOUR = "#d5dbe3"
BAND_FILL = "#e6f4ea"
BAND_STROKE = "#2f7d4f"
STYLES: dict[str, tuple[str, str | None]] = {
    # style: (colour, stroke-dasharray); both colours exceed 7:1 against white.
    "a": ("#0b4f8a", None),
    "b": ("#a3161a", "6 4"),
}
TEXT_ATTRIBUTES: dict[str, str | float | None] = {"fill": TEXT_COLOUR, "font_size": FONT_SIZE}

PointTitle = Callable[[str, date, float], str]


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


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> Markup:
    return _element("line", x1=x1, y1=y1, x2=x2, y2=y2, stroke=colour, stroke_width=1.0)


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


def _legend_items(drawn: list[Series], band: Band | None) -> list[tuple[str, Series | Band]]:
    """The series when two or more are drawn, then the band."""
    items: list[tuple[str, Series | Band]] = []
    if len(drawn) >= 2:
        items += [(one.label, one) for one in drawn]
    if band is not None:
        items.append((band.label, band))
    return items


def _legend_key(x: float, mid: float, item: Series | Band) -> Markup:
    """A swatch for the band, or a stretch of line with its marker for a series."""
    if isinstance(item, Band):
        return _element(
            "rect",
            x=x + 5,
            y=mid - 5,
            width=14.0,
            height=10.0,
            fill=BAND_FILL,
            stroke=BAND_STROKE,
            stroke_width=1.0,
        )
    colour, dash = STYLES[item.style]
    stroke = _element(
        "line",
        x1=x,
        y1=mid,
        x2=x + 24,
        y2=mid,
        stroke=colour,
        stroke_width=2.0,
        stroke_dasharray=dash,
    )
    return stroke + _marker(item.style, x + 12, mid, 4.0, None, "chart-legend-marker")


def _legend(rows: list[list[tuple[float, str, Series | Band]]]) -> Markup:
    legend: list[Markup] = []
    for row_index, row in enumerate(rows):
        baseline = 14 + row_index * LEGEND_ROW
        for x, label, item in row:
            legend.append(_legend_key(x, baseline - 4, item))
            legend.append(_element("text", label, x=x + 30, y=float(baseline), **TEXT_ATTRIBUTES))
    if not legend:
        return Markup("")
    return _element("g", Markup("").join(legend), class_="chart-legend")


def _unit(unit: str, layout: Layout) -> Markup:
    if not unit:
        return Markup("")
    return _element("text", unit, class_="chart-unit", x=8.0, y=layout.top - 12, **TEXT_ATTRIBUTES)


def _band(band: Band | None, layout: Layout) -> Markup:
    """The normal range, drawn under everything else."""
    if band is None:
        return Markup("")
    band_top = layout.y_of(max(band.low, band.high))
    band_bottom = layout.y_of(min(band.low, band.high))
    return _element(
        "rect",
        _element("title", band.label),
        class_="chart-band",
        x=layout.left,
        y=band_top,
        width=layout.right - layout.left,
        height=max(band_bottom - band_top, 1.0),
        fill=BAND_FILL,
        stroke=BAND_STROKE,
        stroke_width=1.0,
    )


def _y_axis(layout: Layout, tick_labels: list[str]) -> Markup:
    """Gridlines and tick labels, then the axis line."""
    left, right = layout.left, layout.right
    y_axis: list[Markup] = []
    for tick, label in zip(layout.ticks, tick_labels, strict=True):
        y = layout.y_of(tick)
        if tick != layout.ticks[0]:
            y_axis.append(_line(left, y, right, y, GRID_COLOUR))
        y_axis.append(
            _element(
                "text",
                label,
                class_="chart-y-tick",
                x=left - 8,
                y=y + 4,
                text_anchor="end",
                **TEXT_ATTRIBUTES,
            )
        )
    y_axis.append(_line(left, layout.top, left, layout.bottom, TEXT_COLOUR))
    return _element("g", Markup("").join(y_axis), class_="chart-y-axis")


def _x_axis(layout: Layout, format_day: Callable[[date], str]) -> Markup:
    """Date ticks and their labels, then the axis line."""
    bottom = layout.bottom
    x_axis: list[Markup] = []
    for day, label, anchor in date_ticks(
        layout.first_day, layout.last_day, layout.x_of, format_day
    ):
        x = layout.x_of(day)
        x_axis.append(_line(x, bottom, x, bottom + 5, TEXT_COLOUR))
        x_axis.append(
            _element(
                "text",
                label,
                class_="chart-x-tick",
                x=x,
                y=bottom + 20,
                text_anchor=anchor,
                **TEXT_ATTRIBUTES,
            )
        )
    x_axis.append(_line(layout.left, bottom, layout.right, bottom, TEXT_COLOUR))
    return _element("g", Markup("").join(x_axis), class_="chart-x-axis")


def _series(one: Series, layout: Layout, radius: float, describe: PointTitle) -> Markup:
    """A line, then one marker per point (each with its tooltip)."""
    colour, dash = STYLES[one.style]
    ordered = sorted(one.points, key=lambda point: point.day)
    content: list[Markup] = []
    if len(ordered) >= 2:
        coordinates = " ".join(
            f"{_num(layout.x_of(point.day))},{_num(layout.y_of(point.value))}" for point in ordered
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
        x, y = layout.x_of(point.day), layout.y_of(point.value)
        title = describe(one.label, point.day, point.value)
        content.append(_marker(one.style, x, y, radius, title))
    return _element("g", Markup("").join(content), class_=f"chart-series chart-series-{one.style}")


def _point_titles(
    unit: str,
    format_day: Callable[[date], str],
    format_value: Callable[[float], str],
    point_title: PointTitle | None,
) -> PointTitle:
    if point_title is not None:
        return point_title

    def describe(label: str, day: date, value: float) -> str:
        amount = f"{format_value(value)} {unit}".rstrip()
        return f"{label} — {format_day(day)} : {amount}"

    return describe


def _check(series: list[Series], chart_id: str) -> None:
    if not chart_id or any(char.isspace() for char in chart_id):
        raise ValueError("chart_id must be a non-empty token without spaces")
    for one in series:
        if one.style not in STYLES:
            raise ValueError(f"unknown series style {one.style!r}")


def _svg(chart_id: str, parts: list[Markup]) -> Markup:
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
    point_title: PointTitle | None = None,
) -> Markup:
    """One accessible ``<svg>`` line chart, or ``Markup("")`` when there is nothing to draw.

    ``format_value`` formats a number without its unit (the chart adds ``unit``).
    Each marker's tooltip reads "Systolique — 12 mars 2026 : 128 mmHg"; pass
    ``point_title(series_label, day, value)`` to word it otherwise (other locales).
    """
    _check(series, chart_id)
    drawn = [one for one in series if one.points]
    if not drawn:
        return Markup("")
    all_points = [point for one in drawn for point in one.points]
    bounds = (band.low, band.high) if band is not None else None
    ticks = nice_ticks(*value_range([point.value for point in all_points], bounds))
    tick_labels = [format_value(tick) for tick in ticks]
    rows = legend_rows(_legend_items(drawn, band))
    layout = plot_layout([point.day for point in all_points], ticks, tick_labels, len(rows))
    describe = _point_titles(unit, format_day, format_value, point_title)
    radius = 4.0 if len(all_points) <= 60 else 2.5
    parts = [
        _element("title", title, id=f"{chart_id}-title"),
        _element("desc", description, id=f"{chart_id}-desc"),
        _legend(rows),
        _unit(unit, layout),
        _band(band, layout),
        _y_axis(layout, tick_labels),
        _x_axis(layout, format_day),
    ]
    parts += [_series(one, layout, radius, describe) for one in drawn]
    return _svg(chart_id, parts)
