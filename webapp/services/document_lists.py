"""A record's documents as a list: what the policy lets the actor read (policy.queries),
counted by category, filtered, searched, sorted and paged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.pagination import Page, paginate
from webapp.models import Account, Document, DocumentState, Patient
from webapp.models.document import Category
from webapp.policy import queries

SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "care": (Document.care_date.desc(), Document.id.desc()),
    "deposit": (Document.deposited_at.desc(), Document.id.desc()),
}
CATEGORIES = frozenset(category.value for category in Category)


@dataclass(frozen=True)
class DocumentList:
    page: Page[Document]
    counts: dict[str, int]
    category: str = ""
    search: str = ""
    sort: str = "care"

    def context(self) -> dict[str, object]:
        """The names the list templates use."""
        args = {"category": self.category, "q": self.search, "sort": self.sort}
        if self.sort == "care":
            args.pop("sort")
        return {
            "documents": self.page.items,
            "counts": self.counts,
            "category": self.category,
            "search": self.search,
            "sort": self.sort,
            "total": self.page.total,
            "page": self.page.number,
            "pages": self.page.pages,
            "args": {key: value for key, value in args.items() if value},
        }


def list_documents(
    actor: Account,
    patient: Patient,
    *,
    category: str = "",
    search: str = "",
    sort: str = "care",
    page: int = 1,
) -> DocumentList:
    visible = queries.documents_query(actor, patient)
    counts = count_by_category(visible)
    category = category if category in CATEGORIES else ""
    sort = sort if sort in SORTS else "care"
    search = search.strip()[:100]
    query = visible
    if category:
        query = query.where(Document.category == category)
    total: int | None = None
    if search:
        pattern = "%" + search.replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(func.lower(Document.title).like(func.lower(pattern)))
    else:  # the counts per category already say it
        total = counts.get(category, 0) if category else sum(counts.values())
    rows = paginate(query.order_by(*SORTS[sort]), page, total=total)
    return DocumentList(rows, counts, category, search, sort)


def count_by_category(visible: Select[Document]) -> dict[str, int]:
    """Counts per category over the documents the policy lets the actor see."""
    rows = db.session.execute(
        visible.with_only_columns(Document.category, func.count()).group_by(Document.category)
    ).all()
    return {category: int(count) for category, count in rows}


def held_count(patient: Patient) -> int:
    """Results a professional holds for this record until they have explained them."""
    return int(
        db.session.scalar(
            select(func.count()).where(
                Document.patient_id == patient.id,
                Document.state == DocumentState.CURRENT,
                Document.hidden_from_patient_until > clock.now(),
            )
        )
        or 0
    )
