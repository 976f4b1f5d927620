"""Server-side SVG line charts: structure, geometry, accessibility and escaping."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from markupsafe import Markup

from webapp.services import charts
from webapp.services.charts import (
    STYLES,
    TEXT_COLOUR,
    Band,
    Point,
    Series,
    data_table_rows,
    line_chart,
    nice_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"
START = date(2026, 3, 1)
NASTY = '<script>&"'


def fmt_day(day: date) -> str:
    return day.isoformat()


def fmt_value(value: float) -> str:
    return f"{value:g}"


def render(
    series: list[Series],
    band: Band | None = None,
    *,
    unit: str = "mmHg",
    title: str = "Tension artérielle",
    description: str = "Évolution de la tension",
) -> Markup:
    return line_chart(
        series,
        chart_id="tension",
        title=title,
        description=description,
        unit=unit,
        band=band,
        format_day=fmt_day,
        format_value=fmt_value,
    )


def parse(markup: Markup) -> ET.Element:
    return ET.fromstring(str(markup))


def series_of(values: Sequence[float], *, label: str = "Systolique", style: str = "a") -> Series:
    return Series(label, [Point(START + timedelta(days=i), v) for i, v in enumerate(values)], style)


def groups(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if "chart-series" in g.get("class", "").split()]


def markers(group: ET.Element) -> list[ET.Element]:
    return [el for el in group if el.get("class") == "chart-marker"]


def marker_centre(marker: ET.Element) -> tuple[float, float]:
    if marker.tag == f"{SVG}circle":
        return float(marker.get("cx", "")), float(marker.get("cy", ""))
    half = float(marker.get("width", "")) / 2
    return float(marker.get("x", "")) + half, float(marker.get("y", "")) + half


def polyline_points(group: ET.Element) -> list[tuple[float, float]]:
    polyline = group.find(f"{SVG}polyline")
    assert polyline is not None
    pairs = [pair.split(",") for pair in polyline.get("points", "").split()]
    return [(float(x), float(y)) for x, y in pairs]


def y_ticks(root: ET.Element) -> list[tuple[float, float]]:
    """(value, y) of each y-axis tick, read back from its label."""
    texts = [t for t in root.iter(f"{SVG}text") if t.get("class") == "chart-y-tick"]
    return [(float(t.text or ""), float(t.get("y", "")) - 4) for t in texts]


def x_labels(root: ET.Element) -> list[ET.Element]:
    return [t for t in root.iter(f"{SVG}text") if t.get("class") == "chart-x-tick"]


def value_to_y(root: ET.Element) -> tuple[float, float]:
    """Slope and intercept of the y mapping, from the first and last ticks."""
    ticks = y_ticks(root)
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]
    slope = (y1 - y0) / (v1 - v0)
    return slope, y0 - slope * v0


def is_nice_step(step: float) -> bool:
    exponent = math.floor(math.log10(step))
    mantissa = step / 10**exponent
    return any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5, 10))


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(colour: str) -> float:
    return 1.05 / (relative_luminance(colour) + 0.05)


class TestStructure:
    def test_root_attributes_and_accessible_name(self) -> None:
        markup = render([series_of([120, 130, 125])])
        assert isinstance(markup, Markup)
        root = parse(markup)
        assert root.tag == f"{SVG}svg"
        assert root.get("viewBox") == f"0 0 {charts.WIDTH} {charts.HEIGHT}"
        assert root.get("width") == "100%"
        assert root.get("preserveAspectRatio") == "xMidYMid meet"
        assert root.get("role") == "img"
        title_id, desc_id = (root.get("aria-labelledby") or "").split()
        first, second = list(root)[:2]
        assert (first.tag, first.get("id"), first.text) == (
            f"{SVG}title",
            title_id,
            "Tension artérielle",
        )
        assert (second.tag, second.get("id"), second.text) == (
            f"{SVG}desc",
            desc_id,
            "Évolution de la tension",
        )
        assert title_id == "tension-title" and desc_id == "tension-desc"

    def test_one_polyline_per_series_with_two_points_or_more(self) -> None:
        root = parse(
            render(
                [
                    series_of([120, 130, 125]),
                    series_of([80, 85], label="Diastolique", style="b"),
                    Series("Pouls", [Point(START, 70)]),
                ]
            )
        )
        found = groups(root)
        assert [len(g.findall(f"{SVG}polyline")) for g in found] == [1, 1, 0]
        assert len(list(root.iter(f"{SVG}polyline"))) == 2

    def test_markers_count_equals_points_with_tooltips(self) -> None:
        values = [120, 131, 125, 140, 118]
        root = parse(render([series_of(values), series_of([80, 90], label="Diastolique")]))
        first, second = groups(root)
        assert len(markers(first)) == 5
        assert len(markers(second)) == 2
        titles = [m.findtext(f"{SVG}title") for m in markers(first)]
        assert titles[1] == "Systolique — 2026-03-02 : 131 mmHg"

    def test_point_title_hook_words_tooltips(self) -> None:
        markup = line_chart(
            [series_of([128])],
            chart_id="bp",
            title="Blood pressure",
            description="Trend",
            unit="mmHg",
            format_day=fmt_day,
            format_value=fmt_value,
            point_title=lambda label, day, value: f"{label}, {day:%B %d}: {value:g} mmHg",
        )
        (group,) = groups(parse(markup))
        assert markers(group)[0].findtext(f"{SVG}title") == "Systolique, March 01: 128 mmHg"

    def test_unit_is_shown(self) -> None:
        root = parse(render([series_of([70.5, 71])], unit="kg"))
        units = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-unit"]
        assert units == ["kg"]

    def test_legend_only_for_two_series_or_a_band(self) -> None:
        alone = parse(render([series_of([120, 130])]))
        assert alone.find(f"{SVG}g[@class='chart-legend']") is None
        pair = parse(render([series_of([120, 130]), series_of([80, 85], style="b")]))
        legend = pair.find(f"{SVG}g[@class='chart-legend']")
        assert legend is not None
        assert len(legend.findall(f"{SVG}text")) == 2
        with_band = parse(render([series_of([120, 130])], Band(90, 140, "Zone normale")))
        legend = with_band.find(f"{SVG}g[@class='chart-legend']")
        assert legend is not None
        assert [t.text for t in legend.findall(f"{SVG}text")] == ["Zone normale"]


class TestGeometry:
    def test_x_grows_with_date_and_y_falls_as_values_rise(self) -> None:
        days = [START + timedelta(days=d) for d in (9, 0, 4, 2, 20)]
        values = [150.0, 110.0, 135.0, 120.0, 128.0]
        shuffled = Series("Systolique", [Point(d, v) for d, v in zip(days, values, strict=True)])
        (group,) = groups(parse(render([shuffled])))
        ordered = sorted(zip(days, values, strict=True))
        coordinates = polyline_points(group)
        assert len(coordinates) == len(ordered)
        xs = [x for x, _ in coordinates]
        assert xs == sorted(xs) and len(set(xs)) == len(xs)
        for (_, value_a), (_, y_a) in zip(ordered, coordinates, strict=True):
            for (_, value_b), (_, y_b) in zip(ordered, coordinates, strict=True):
                if value_a > value_b:
                    assert y_a < y_b
        # Markers sit on the line's vertices.
        centres = [marker_centre(m) for m in markers(group)]
        assert [c for pair in centres for c in pair] == pytest.approx(
            [c for pair in coordinates for c in pair]
        )

    def test_points_follow_the_y_axis_scale(self) -> None:
        root = parse(render([series_of([97.0, 143.0, 120.0])]))
        slope, intercept = value_to_y(root)
        (group,) = groups(root)
        for (_, y), value in zip(polyline_points(group), [97.0, 143.0, 120.0], strict=True):
            assert y == pytest.approx(slope * value + intercept, abs=0.1)

    def test_band_rect_lies_between_low_and_high(self) -> None:
        band = Band(90, 140, "Zone normale : 90 à 140 mmHg")
        root = parse(render([series_of([150, 160, 155])], band))
        rects = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "chart-band"]
        assert len(rects) == 1
        rect = rects[0]
        slope, intercept = value_to_y(root)
        top = float(rect.get("y", ""))
        bottom = top + float(rect.get("height", ""))
        assert top == pytest.approx(slope * 140 + intercept, abs=0.1)
        assert bottom == pytest.approx(slope * 90 + intercept, abs=0.1)
        assert rect.findtext(f"{SVG}title") == "Zone normale : 90 à 140 mmHg"
        assert rect.get("fill") == "#e6f4ea" and rect.get("stroke") == "#2f7d4f"
        # The band is drawn before (under) the series.
        children = list(root)
        assert children.index(rect) < children.index(groups(root)[0])

    @pytest.mark.parametrize(
        ("values", "band"),
        [
            ([118, 135, 142, 128], Band(90, 140, "normal")),
            ([72.4, 71.8, 73.1], None),
            ([162.0, 164.5], None),
            ([0.92, 1.05, 1.31, 0.88], Band(0.7, 1.1, "à jeun")),
            ([70, 70, 70], None),
            ([1.05], None),
            ([0.0, 0.0], None),
            ([3, 4500], None),
        ],
    )
    def test_y_ticks_are_nice_and_cover_data_and_band(
        self, values: list[float], band: Band | None
    ) -> None:
        root = parse(render([series_of(values)], band))
        ticks = [value for value, _ in y_ticks(root)]
        assert 4 <= len(ticks) <= 6
        steps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        assert all(math.isclose(s, steps[0], rel_tol=1e-6) for s in steps)
        assert is_nice_step(steps[0])
        assert all(math.isclose(t / steps[0], round(t / steps[0]), abs_tol=1e-6) for t in ticks)
        low = min([*values, *([band.low] if band else [])])
        high = max([*values, *([band.high] if band else [])])
        assert ticks[0] <= low and ticks[-1] >= high
        assert ticks[0] >= 0  # measurements are never negative
        assert ticks[-1] > ticks[0]

    @pytest.mark.parametrize(
        ("low", "high"), [(56.0, 152.0), (0.8, 1.4), (1.0, 1.0), (0.0, 0.3), (3.0, 4500.0)]
    )
    def test_nice_ticks_directly(self, low: float, high: float) -> None:
        ticks = nice_ticks(low, high)
        assert 4 <= len(ticks) <= 6
        assert ticks[0] <= low and ticks[-1] >= high
        assert is_nice_step(ticks[1] - ticks[0])

    def test_flat_series_has_a_real_y_range(self) -> None:
        root = parse(render([series_of([70.0] * 6)], unit="kg"))
        ticks = y_ticks(root)
        assert ticks[-1][0] > ticks[0][0]
        (group,) = groups(root)
        ys = {y for _, y in polyline_points(group)}
        assert len(ys) == 1
        (y,) = ys
        tick_ys = [tick_y for _, tick_y in ticks]
        assert min(tick_ys) < y < max(tick_ys)  # inside the plot, not on an edge

    def test_single_point_draws_one_marker_and_one_date(self) -> None:
        root = parse(render([series_of([128])]))
        (group,) = groups(root)
        assert group.find(f"{SVG}polyline") is None
        assert len(markers(group)) == 1
        assert [t.text for t in x_labels(root)] == ["2026-03-01"]
        ticks = [value for value, _ in y_ticks(root)]
        assert ticks[0] < 128 < ticks[-1]

    def test_all_points_on_one_day_show_that_day_once(self) -> None:
        same_day = Series("Glycémie", [Point(START, v) for v in (0.9, 1.2, 1.4)])
        root = parse(render([same_day], unit="g/L"))
        assert [t.text for t in x_labels(root)] == ["2026-03-01"]
        assert len(markers(groups(root)[0])) == 3

    def test_many_points_keep_few_non_overlapping_date_labels(self) -> None:
        values = [120 + 15 * math.sin(i / 7) for i in range(300)]
        root = parse(render([series_of(values)]))
        labels = x_labels(root)
        assert 2 <= len(labels) <= 5
        texts = [t.text for t in labels]
        assert texts[0] == START.isoformat()
        assert texts[-1] == (START + timedelta(days=299)).isoformat()
        extents = []
        for label in labels:
            x, width = float(label.get("x", "")), len(label.text or "") * 12 * 0.6
            anchor = label.get("text-anchor")
            left = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
            extents.append((left, left + width))
        assert all(a[1] < b[0] for a, b in zip(extents, extents[1:], strict=False))
        assert all(0 <= left and right <= charts.WIDTH for left, right in extents)
        assert len(markers(groups(root)[0])) == 300

    def test_short_span_has_no_duplicate_dates(self) -> None:
        root = parse(render([series_of([120, 125])]))
        texts = [t.text for t in x_labels(root)]
        assert texts == ["2026-03-01", "2026-03-02"]


class TestStylesAndSafety:
    def test_two_series_differ_without_colour(self) -> None:
        root = parse(
            render([series_of([120, 130]), series_of([80, 85], label="Diastolique", style="b")])
        )
        solid, dashed = groups(root)
        line_a, line_b = solid.find(f"{SVG}polyline"), dashed.find(f"{SVG}polyline")
        assert line_a is not None and line_b is not None
        assert line_a.get("stroke-dasharray") is None
        assert line_b.get("stroke-dasharray")
        assert {m.tag for m in markers(solid)} == {f"{SVG}circle"}
        assert {m.tag for m in markers(dashed)} == {f"{SVG}rect"}
        assert line_a.get("stroke") != line_b.get("stroke")

    def test_colours_meet_wcag_contrast_on_white(self) -> None:
        for colour, _ in STYLES.values():
            assert contrast_with_white(colour) >= 3
        assert contrast_with_white("#2f7d4f") >= 3
        assert contrast_with_white(TEXT_COLOUR) >= 4.5

    def test_user_text_is_escaped_everywhere(self) -> None:
        markup = render(
            [series_of([120, 130], label=NASTY), series_of([80, 90], label=NASTY, style="b")],
            Band(90, 140, NASTY),
            unit=NASTY,
            title=NASTY,
            description=NASTY,
        )
        raw = str(markup)
        assert "<script" not in raw
        assert '&"' not in raw
        assert "&lt;script&gt;&amp;" in raw
        root = parse(markup)  # still well-formed
        assert root.find(f"{SVG}script") is None
        texts = [t.text for t in root.iter(f"{SVG}text")]
        assert texts.count(NASTY) >= 4  # two legend entries, the band's and the unit
        tooltip = markers(groups(root)[0])[0].findtext(f"{SVG}title")
        assert tooltip == f"{NASTY} — 2026-03-01 : 120 {NASTY}"

    def test_no_style_attribute_or_script(self) -> None:
        markup = render(
            [series_of([120, 130, 125]), series_of([80, 85, 82], style="b")],
            Band(90, 140, "normal"),
        )
        assert "style=" not in str(markup).replace("stroke", "")
        for element in parse(markup).iter():
            assert "style" not in element.attrib
            assert element.tag != f"{SVG}script"
            assert not any(name.startswith("on") for name in element.attrib)

    @pytest.mark.parametrize(
        "series", [[], [Series("Poids", [])], [Series("a", []), Series("b", [])]]
    )
    def test_empty_input_gives_empty_markup(self, series: list[Series]) -> None:
        result = render(series, Band(90, 140, "normal"))
        assert isinstance(result, Markup)
        assert result == Markup("")

    def test_series_without_points_is_skipped(self) -> None:
        root = parse(render([series_of([120, 130]), Series("Diastolique", [], "b")]))
        assert len(groups(root)) == 1
        assert root.find(f"{SVG}g[@class='chart-legend']") is None

    def test_bad_arguments_are_refused(self) -> None:
        with pytest.raises(ValueError, match="style"):
            render([series_of([1, 2], style="c")])
        with pytest.raises(ValueError, match="chart_id"):
            line_chart(
                [series_of([1, 2])],
                chart_id="two words",
                title="t",
                description="d",
                unit="kg",
                format_day=fmt_day,
                format_value=fmt_value,
            )

    def test_numbers_are_short(self) -> None:
        values = [120 + i / 3 for i in range(40)]
        for element in parse(render([series_of(values)])).iter():
            for value in element.attrib.values():
                assert not re.search(r"\d\.\d{2,}", value)


class TestDataTableRows:
    def test_newest_first_with_gaps(self) -> None:
        systolic = Series(
            "Systolique",
            [
                Point(date(2026, 3, 1), 120),
                Point(date(2026, 3, 5), 130),
                Point(date(2026, 3, 3), 125),
            ],
        )
        diastolic = Series(
            "Diastolique", [Point(date(2026, 3, 5), 85), Point(date(2026, 3, 4), 80)], "b"
        )
        assert data_table_rows([systolic, diastolic]) == [
            (date(2026, 3, 5), [130, 85]),
            (date(2026, 3, 4), [None, 80]),
            (date(2026, 3, 3), [125, None]),
            (date(2026, 3, 1), [120, None]),
        ]

    def test_same_day_keeps_last_in_input_order(self) -> None:
        weight = Series(
            "Poids",
            [
                Point(date(2026, 3, 2), 71.0),
                Point(date(2026, 3, 1), 70.0),
                Point(date(2026, 3, 2), 72.5),
            ],
        )
        assert data_table_rows([weight]) == [
            (date(2026, 3, 2), [72.5]),
            (date(2026, 3, 1), [70.0]),
        ]

    def test_empty(self) -> None:
        assert data_table_rows([]) == []
        assert data_table_rows([Series("Poids", [])]) == []
