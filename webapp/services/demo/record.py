"""The demo patient's documents for a given day, with believable, entirely fictional content:
what they say is `documents.toml` (see `texts`), the files are made by `files`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from webapp.services.demo import files, texts
from webapp.services.demo.data import DemoDataError
from webapp.services.demo.dates import age
from webapp.services.demo.templates import render


@dataclass(frozen=True)
class Holder:
    """The demo patient, as her papers name her."""

    first_names: str
    last_name: str
    birth_date: date
    nir: str

    @property
    def nir_spaced(self) -> str:
        n = self.nir
        return f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {n[13:]}"


@dataclass(frozen=True)
class DemoDocument:
    """One document of the demo record; `author` is a demo account's identifier."""

    title: str
    category: str
    type_code: str
    care_date: date
    author: str
    file_name: str
    content: Callable[[], bytes]
    masked: bool = False


def named_dates(today: date) -> dict[str, date]:
    """The record's named dates, counted back from `today`."""
    named: dict[str, date] = {}
    for name, rule in texts.current().dates.items():
        named[name] = rule.resolve(today, named)
    return named


def _values(holder: Holder, day: date, named: Mapping[str, date]) -> dict[str, object]:
    """What a document's texts may use: the dates, her, her age that day, how she is named."""
    phrases = texts.current().phrases
    values: dict[str, object] = {**named, "holder": holder, "day": day}
    values["age"] = age(holder.birth_date, day)
    values["name"] = render(phrases.name, values)
    values["born"] = render(phrases.born, values)
    values["patient_line"] = render(phrases.patient_line, values)
    return values


def _log_lines(log: texts.Log, day: date, values: Mapping[str, object]) -> list[str]:
    """A day's line, a line per moment of the day, a blank line; at the end the means."""
    lines: list[str] = []
    systolic: list[int] = []
    diastolic: list[int] = []
    for offset, readings in enumerate(log.days):
        current = day - timedelta(days=len(log.days) - 1 - offset)
        lines.append(render(log.day_line, {"date": current}))
        size = len(readings) // len(log.moments)
        for index, moment in enumerate(log.moments):
            chunk = readings[index * size : (index + 1) * size]
            shown = log.separator.join(
                render(log.reading, {"systolic": s, "diastolic": d, "pulse": p})
                for s, d, p in chunk
            )
            lines.append(render(log.moment_line, {"moment": moment, "readings": shown}))
            systolic += [s for s, _, _ in chunk]
            diastolic += [d for _, d, _ in chunk]
        lines.append("")
    means = {
        "mean_systolic": round(sum(systolic) / len(systolic)),
        "mean_diastolic": round(sum(diastolic) / len(diastolic)),
        "count": len(systolic),
    }
    return lines + [render(line, {**values, **means}) for line in log.summary]


def _content(spec: texts.DocumentSpec, holder: Holder, day: date, named: dict[str, date]) -> bytes:
    made = spec.file
    if isinstance(made, texts.PngFile):
        return files.png(made.width, made.height, seed=made.seed, opacity=made.opacity)
    values = _values(holder, day, named)
    lines = [render(line, values) for line in made.lines]
    if isinstance(made, texts.TxtFile):
        if made.log is not None:
            lines += _log_lines(made.log, day, values)
        return files.txt(lines)
    if made.signed is not None:
        signed = {**values, "signed": made.signed}
        lines += [render(line, signed) for line in texts.current().phrases.signature]
    return files.pdf(render(made.heading, values), lines, issuer=made.issuer)


def _checked_content(
    spec: texts.DocumentSpec, holder: Holder, day: date, named: dict[str, date]
) -> bytes:
    """The file; a text naming a missing attribute, or too long for its page, is the data's
    fault, and the error says which document."""
    try:
        return _content(spec, holder, day, named)
    except (AttributeError, ValueError) as exc:  # PageFull is a ValueError
        raise DemoDataError(f"{texts.FILE}, document {spec.title!r}: {exc}") from exc


def _document(spec: texts.DocumentSpec, holder: Holder, named: dict[str, date]) -> DemoDocument:
    day = named[spec.date]
    return DemoDocument(
        title=spec.title,
        category=spec.category,
        type_code=spec.type_code,
        care_date=day,
        author=spec.author,
        file_name=spec.file_name,
        content=partial(_checked_content, spec, holder, day, named),
        masked=spec.masked,
    )


def record(today: date, holder: Holder) -> list[DemoDocument]:
    """The demo patient's documents, dated back from `today` over three years.

    Files are built only when `content` is called.
    """
    named = named_dates(today)
    return [_document(spec, holder, named) for spec in texts.current().documents]


def held_result(today: date, holder: Holder) -> DemoDocument:
    """The result her cardiologist holds until he has explained it."""
    return _document(texts.current().held, holder, named_dates(today))
