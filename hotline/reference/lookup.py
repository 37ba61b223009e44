"""The reference tables (case types, categories, departments), the handlers a dispatch form offers and the
working-day calendar, held in process memory between requests.

Every page about a case reads them (its forms, the names in its timeline, its deadlines): three to five
statements a page, for data that changes a few times a year. A trigger on each of these tables gives
reference_stamp a new random stamp in the writer's own transaction (migration f2a4c6e8b0d1), and each
request reads the stamp with its session or token statement (note_stamp): a copy is used only while its
stamp is the database's, so an administrator's change counts from the next request on every server.

A copy is filled by a statement that reads the rows and the stamp together, and is kept under that stamp.
A transaction that writes one of these tables reads them from the database for the rest of it (its change
is not committed; a copy filled from it would be wrong for everyone else if it rolled back). Outside a
request (jobs, the CLI) nothing is held. Copies are plain rows (SimpleNamespace), shared by threads and
never attached to a session.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from types import SimpleNamespace
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from flask import g, has_request_context
from sqlalchemy import event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from hotline.extensions import db
from hotline.reference.models import CaseType, Category, Department, ReferenceStamp

V = TypeVar("V")

# The tables behind the copies (the migration puts its triggers on the same ones).
WATCHED_TABLES = frozenset({"case_type", "category", "department", "calendar_day", "calendar_year",
                            "user_account", "user_role"})
_STAMP = "_hotline_reference_stamp"  # flask.g: the stamp this request read (None: no stamp row)
_WROTE = "_hotline_reference_wrote"  # flask.g: this transaction wrote a watched table


class _Copies:
    def __init__(self, stamp: int):
        self.stamp = stamp
        self.parts: dict[str, Any] = {}


_held: WeakKeyDictionary[Engine, _Copies] = WeakKeyDictionary()  # per database (each app has its engine)
_lock = threading.Lock()


def _stamp_select():
    return select(ReferenceStamp.stamp).where(ReferenceStamp.id == 1)


def stamp_column():
    """The stamp as a column of another statement (the session's or the token's)."""
    return _stamp_select().scalar_subquery()


def note_stamp(stamp: int | None) -> None:
    """The stamp the request's session or token statement read."""
    if has_request_context():
        setattr(g, _STAMP, stamp)


def request_stamp() -> int | None:
    """The stamp this request read (with its session or token statement; read here if it did not): it changes
    with any change to the watched tables, people's roles and departments included."""
    if not hasattr(g, _STAMP):
        setattr(g, _STAMP, db.session.scalar(_stamp_select()))
    return getattr(g, _STAMP)


def holding() -> bool:
    """Whether copies may be used here: in a request whose transaction has not written a watched table."""
    return has_request_context() and not g.get(_WROTE, False)


def held(name: str, load: Callable[[], tuple[int | None, V]]) -> V:
    """The copy called `name`; `load` reads it and the stamp in one statement (stamp None: not kept)."""
    if not holding():
        return load()[1]
    stamp = request_stamp()
    engine = db.engine
    copies = _held.get(engine)
    if stamp is not None and copies is not None and copies.stamp == stamp and name in copies.parts:
        return copies.parts[name]
    fresh, value = load()
    if fresh is not None and holding():  # the load's own flush may have written a watched table
        with _lock:
            copies = _held.get(engine)
            if copies is None or copies.stamp != fresh:
                copies = _held[engine] = _Copies(fresh)
            copies.parts[name] = value
    return value


def plain_rows(model: type) -> tuple[int | None, tuple[SimpleNamespace, ...]]:
    """A table's rows as plain objects with the mapped attributes, and the stamp read with them."""
    mapper: Mapper[Any] = inspect(model)
    attrs = [(a.key, a.columns[0]) for a in mapper.column_attrs]
    stmt = select(*(column for _, column in attrs), stamp_column().label("_stamp"))
    stamp, rows = None, []
    for row in db.session.execute(stmt):
        stamp = row[-1]
        rows.append(SimpleNamespace(**{key: row[i] for i, (key, _) in enumerate(attrs)}))
    if not rows:  # an empty table: read the stamp alone, so an empty copy is kept too
        stamp = db.session.scalar(_stamp_select())
    return stamp, tuple(rows)


def all_rows(model: type[CaseType] | type[Category] | type[Department]) -> list[SimpleNamespace]:
    """Every row of a reference table (active or not), unordered, as plain objects."""
    return list(held(model.__tablename__, lambda: plain_rows(model)))


def mapping(model: type[CaseType] | type[Category] | type[Department], key: str, field: str | None) -> dict[Any, Any]:
    """{row.key: row.field} over a reference table's rows (names or codes by id, names by code; the row itself
    with field None). Kept beside the held rows, so a page naming fifty rows builds it once per copy, not once
    per request. Shared between threads: read only."""
    def build() -> dict[Any, Any]:
        rows = held(model.__tablename__, lambda: plain_rows(model))
        return {getattr(row, key): row if field is None else getattr(row, field) for row in rows}
    return kept(f"{model.__tablename__}:{key}->{field}", None, build)


def kept(name: str, key: Hashable, build: Callable[[], V], size: int = 256) -> V:
    """A value made only from the held copies and `key` (a rendered form, say): kept beside the copies, so
    while their stamp lasts it is built once per key. At most `size` per name, the oldest dropped first."""
    if not holding():
        return build()
    stamp = request_stamp()
    copies = _held.get(db.engine)
    store = copies.parts.get(name) if copies is not None and copies.stamp == stamp else None
    if store is not None:
        found = store.get(key, _MISSING)
        if found is not _MISSING:
            return found
    value = build()
    copies = _held.get(db.engine)  # build() has filled the copies it read, under the stamp they were read with
    if stamp is not None and copies is not None and copies.stamp == stamp and holding():
        with _lock:
            store = copies.parts.setdefault(name, OrderedDict())
            store[key] = value
            while len(store) > size:
                store.popitem(last=False)
    return value


_MISSING = object()


def case_types() -> list[SimpleNamespace]:
    return sorted(all_rows(CaseType), key=lambda t: (t.sort_order, t.code))


def active_categories() -> list[SimpleNamespace]:
    return sorted((c for c in all_rows(Category) if c.active), key=lambda c: (c.sort_order, c.id))


def active_departments() -> list[SimpleNamespace]:
    return sorted((d for d in all_rows(Department) if d.active), key=lambda d: (d.sort_order, d.id))


def _mark_written() -> None:
    if has_request_context():
        setattr(g, _WROTE, True)


@event.listens_for(Session, "after_flush")
def _flushed(session, flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(type(obj), "__tablename__", None) in WATCHED_TABLES:
            _mark_written()
            return


@event.listens_for(Session, "do_orm_execute")
def _statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in WATCHED_TABLES:
            _mark_written()


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release (the dashboard's) ends nothing
        _transaction_ended()


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session, previous_transaction) -> None:
    if not previous_transaction.nested:  # the request's earlier writes stand after a savepoint's rollback
        _transaction_ended()


def _transaction_ended() -> None:
    # The next statement may see other writers' commits (and this transaction's own): read the stamp again.
    if has_request_context():
        g.pop(_STAMP, None)
        g.pop(_WROTE, None)
