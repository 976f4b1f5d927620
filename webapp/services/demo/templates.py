"""The small template language of the demo documents' texts: Python's `str.format` fields,
restricted to the values a document offers and their public attributes.

`{day:long}` is "14 mars 2025", `{day:short}` "14/03/2025", any other date format a
`strftime` pattern (`{day:%y%m%d}`); `{holder.last_name!u}` is in capitals; `{{` and `}}`
are braces.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from webapp.services.demo.data import Entry
from webapp.services.demo.dates import long_date, short_date


def _path(field_name: str) -> list[str]:
    """A field's name and attributes; indexing and private attributes are not allowed."""
    path = field_name.split(".")
    if "[" in field_name or any(not part or part.startswith("_") for part in path):
        raise ValueError(f"field {{{field_name}}} is not allowed")
    return path


class _Formatter(string.Formatter):
    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        root, *attributes = _path(field_name)
        value = kwargs[root]
        for attribute in attributes:
            value = getattr(value, attribute)
        return value, root

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "u":
            return str(value).upper()
        if conversion is not None:
            raise ValueError(f"conversion !{conversion} is not allowed")
        return value

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, date) and format_spec == "long":
            return long_date(value)
        if isinstance(value, date) and format_spec == "short":
            return short_date(value)
        return str(super().format_field(value, format_spec))


_FORMATTER = _Formatter()


def check(entry: Entry, where: str, template: str, names: Collection[str]) -> str:
    """`template` itself, once its fields are known to be among `names`."""
    try:
        fields = [(name, conversion) for _, name, _, conversion in _FORMATTER.parse(template)]
        roots = [_path(name)[0] for name, _ in fields if name is not None]
    except ValueError as exc:
        entry.fail(f"{where}: {exc} in {template!r}")
    for root in roots:
        if root not in names:
            entry.fail(f"{where}: unknown field {{{root}}} in {template!r}")
    for _, conversion in fields:
        if conversion not in (None, "u"):
            entry.fail(f"{where}: unknown conversion !{conversion} in {template!r}")
    return template


def render(template: str, values: Mapping[str, object]) -> str:
    return _FORMATTER.vformat(template, (), values)
