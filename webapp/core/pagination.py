"""One page of a query: its rows, the total they come from, the number of pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select

from webapp.core.extensions import db

PAGE_SIZE = 25

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, the total they come from, and the number of pages."""

    items: Sequence[T]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max((self.total + self.size - 1) // self.size, 1)


def paginate(
    stmt: Select[T], page: int, *, size: int = PAGE_SIZE, total: int | None = None
) -> Page[T]:
    """Rows `size` at a time from an ordered query; `total` when the caller already knows it
    (counts kept by category, say), else one COUNT over the same filters."""
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.offset((page - 1) * size).limit(size)).all()
    return Page(items=rows, number=page, total=int(total or 0), size=size)
