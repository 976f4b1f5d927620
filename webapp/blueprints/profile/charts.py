"""The measurement charts of the profile: one accessible SVG per kind, with its data table."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.numbers import format_decimal
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from webapp.blueprints.profile.forms import MMOL_PER_G
from webapp.models import MeasureKind, Measurement
from webapp.services import charts

CHART_TITLES = {
    MeasureKind.BLOOD_PRESSURE: _l("Tension artérielle"),
    MeasureKind.WEIGHT: _l("Poids"),
    MeasureKind.HEIGHT: _l("Taille"),
    MeasureKind.GLUCOSE: _l("Glycémie à jeun"),
}


UNITS = {"blood_pressure": "mmHg", "weight": "kg", "height": "cm", "glucose": "g/L"}
ORDER = (MeasureKind.BLOOD_PRESSURE, MeasureKind.WEIGHT, MeasureKind.GLUCOSE, MeasureKind.HEIGHT)


def day(value: date) -> str:
    return str(format_date(value, "d MMM y"))


def number(value: float) -> str:
    return str(format_decimal(round(value, 2), locale=str(get_locale() or "fr")))


def chart_blocks(rows: list[Measurement]) -> list[dict[str, Any]]:
    """A chart and its data table for each kind measured (fasting glucose only)."""
    blocks = []
    for kind in ORDER:
        mine = [row for row in rows if row.kind == kind.value]
        if kind == MeasureKind.GLUCOSE:
            mine = [row for row in mine if row.fasting]
        if mine:
            blocks.append(_block(kind, mine))
    return blocks


def _series(kind: MeasureKind, rows: list[Measurement], scale: float) -> list[charts.Series]:
    first = str(_l("Systolique")) if kind == MeasureKind.BLOOD_PRESSURE else str(CHART_TITLES[kind])
    series = [
        charts.Series(first, [charts.Point(row.measured_on, row.value * scale) for row in rows])
    ]
    if kind == MeasureKind.BLOOD_PRESSURE:
        diastolic = [charts.Point(row.measured_on, row.value2 or 0) for row in rows]
        series.append(charts.Series(str(_l("Diastolique")), diastolic, style="b"))
    return series


def _band(kind: MeasureKind) -> charts.Band | None:
    if kind == MeasureKind.BLOOD_PRESSURE:
        return charts.Band(60, 140, str(_l("Zone habituelle : 60 à 140 mmHg")))
    if kind == MeasureKind.GLUCOSE:
        return charts.Band(0.70, 1.00, str(_l("Zone normale à jeun : 0,70 à 1,00 g/L")))
    return None


def _block(kind: MeasureKind, rows: list[Measurement]) -> dict[str, Any]:
    unit = UNITS[kind.value]
    scale = 1 / MMOL_PER_G if kind == MeasureKind.GLUCOSE else 1.0
    series = _series(kind, rows, scale)
    title = str(CHART_TITLES[kind])
    last = rows[-1]
    shown = (
        number(last.value) + "/" + number(last.value2 or 0)
        if kind == MeasureKind.BLOOD_PRESSURE
        else number(last.value * scale)
    )
    description = str(
        _l(
            "%(count)d mesures du %(first)s au %(last)s ; la dernière : %(value)s %(unit)s.",
            count=len(rows),
            first=day(rows[0].measured_on),
            last=day(last.measured_on),
            value=shown,
            unit=unit,
        )
    )
    svg = charts.line_chart(
        series,
        chart_id=f"chart-{kind.value}",
        title=title,
        description=description,
        unit=unit,
        band=_band(kind),
        format_day=day,
        format_value=number,
    )
    return {
        "kind": kind.value,
        "title": title,
        "svg": Markup(svg),
        "unit": unit,
        "series": [s.label for s in series],
        "rows": charts.data_table_rows(series),
        "number": number,
        "day": day,
    }
