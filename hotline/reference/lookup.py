"""The reference tables (case types, categories, departments) read once per request.

A case page needs them twice, for its forms and to name the values in its timeline. They are held in
flask.g, not in process memory, so an administrator's change counts from the next request on every
server; the copy is dropped when the request's transaction commits or rolls back (the session then
expires the objects, and reading them again would cost a query each).
"""
from __future__ import annotations

from typing import TypeVar

from flask import g, has_request_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from hotline.extensions import db
from hotline.reference.models import CaseType, Category, Department

T = TypeVar("T", CaseType, Category, Department)
_KEY = "_hotline_reference"


def all_rows(model: type[T]) -> list[T]:
    """Every row of a reference table (active or not), unordered."""
    if not has_request_context():
        return list(db.session.scalars(select(model)))
    held = g.setdefault(_KEY, {})
    if model not in held:
        held[model] = list(db.session.scalars(select(model)))
    return held[model]


def case_types() -> list[CaseType]:
    return sorted(all_rows(CaseType), key=lambda t: (t.sort_order, t.code))


def active_categories() -> list[Category]:
    return sorted((c for c in all_rows(Category) if c.active), key=lambda c: (c.sort_order, c.id))


def active_departments() -> list[Department]:
    return sorted((d for d in all_rows(Department) if d.active), key=lambda d: (d.sort_order, d.id))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session, *args) -> None:
    if has_request_context():
        g.pop(_KEY, None)
