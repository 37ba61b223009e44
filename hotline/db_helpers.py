"""Database helpers every feature uses: insert-ignore, counts added up in place, get-or-404, the optimistic
version check.

Services call these instead of writing them out (architecture: "Where each rule lives").
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask_babel import gettext as _
from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from hotline.db_types import MAX_ID
from hotline.errors import InvalidInput, NotFound, StaleVersion
from hotline.extensions import db

T = TypeVar("T")

# From this many rows on, PostgreSQL takes the COPY path of insert_ignore.
COPY_THRESHOLD = 100


# SQLAlchemy caches no compiled form of the dialects' INSERT … ON CONFLICT: their ON CONFLICT clauses carry
# state outside the cache key. insert_ignore's clause has none (DO NOTHING, no conflict target), so it is the
# same for every statement and its class is key enough. Without this, every dispatch (its notices) and every
# call webhook (its call row) compiled the INSERT anew.
class _PostgresDoNothing(postgresql.dml.OnConflictDoNothing):
    inherit_cache = True
    _traverse_internals: list = []  # nothing varies: the class is the key


class _SqliteDoNothing(sqlite.dml.OnConflictDoNothing):
    inherit_cache = True
    _traverse_internals: list = []


class _PostgresInsertIgnore(postgresql.Insert):
    inherit_cache = True

    def __init__(self, table) -> None:
        super().__init__(table)
        self._post_values_clause = _PostgresDoNothing()


class _SqliteInsertIgnore(sqlite.Insert):
    inherit_cache = True

    def __init__(self, table) -> None:
        super().__init__(table)
        self._post_values_clause = _SqliteDoNothing()


def insert_ignore(model, rows: list[dict]) -> int:
    """INSERT … ON CONFLICT DO NOTHING; returns how many rows were new.

    The unique constraints decide what a repeat is, so two processes (or a retried job) doing the same
    insert write it once."""
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql" and len(rows) >= COPY_THRESHOLD:
        return _copyinsert_ignore(model.__table__, rows)
    insert = _PostgresInsertIgnore if dialect == "postgresql" else _SqliteInsertIgnore
    # One cached single-row statement run as executemany (SQLAlchemy batches it into multi-row
    # VALUES); RETURNING counts the new rows on both databases (psycopg reports no rowcount here).
    table = model.__table__
    key = list(table.primary_key.columns)[0]
    result = db.session.execute(insert(table).returning(key), rows)
    return len(result.all())


_ADD_STATEMENTS: dict[tuple, TextClause] = {}


def add_to_counts(session: Session, table: Table, keys: tuple[str, ...], counts: tuple[str, ...],
                  rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET count = count + the row's, for every row in the order given
    (callers sort them, so two transactions take the rows in one order and cannot deadlock).

    The statement is SQL text made once per database and table: SQLAlchemy caches no compiled form of
    the dialects' INSERT … ON CONFLICT constructs, and compiling one afresh cost more than running it
    (a handler's reply on a case of an earlier day adds to five rows)."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    cache_key = (dialect.name, table.name, keys, counts)
    statement = _ADD_STATEMENTS.get(cache_key)
    if statement is None:
        quote = dialect.identifier_preparer.quote
        name = quote(table.name)
        columns = (*keys, *counts)
        statement = text(
            f"INSERT INTO {name} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)}) "
            f"ON CONFLICT ({', '.join(quote(c) for c in keys)}) DO UPDATE SET "
            + ", ".join(f"{quote(c)} = {name}.{quote(c)} + excluded.{quote(c)}" for c in counts)
        ).bindparams(*[bindparam(c, type_=table.c[c].type) for c in columns])
        _ADD_STATEMENTS[cache_key] = statement
    session.execute(statement, rows)


def _copyinsert_ignore(table, rows: list[dict]) -> int:
    """PostgreSQL, many rows (a scan flagging a thousand cases writes thousands of notices): COPY
    into a session-local staging table, then one INSERT … SELECT … ON CONFLICT DO NOTHING.
    Same effect as the plain path, several times faster than binding every row's parameters."""
    columns = [c.name for c in table.columns if c.name in rows[0]]
    staging = f"staging_{table.name}"
    col_list = ", ".join(columns)
    cursor = db.session.connection().connection.driver_connection.cursor()
    try:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table.name}) ON COMMIT DROP")
        if "id" not in columns:
            cursor.execute(f"ALTER TABLE {staging} ALTER COLUMN id DROP NOT NULL")
        with cursor.copy(f"COPY {staging} ({col_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c], ensure_ascii=False) if isinstance(row[c], dict) else row[c]
                                for c in columns])
        cursor.execute(f"INSERT INTO {table.name} ({col_list}) SELECT {col_list} FROM {staging} "
                       f"ON CONFLICT DO NOTHING RETURNING 1")
        inserted = len(cursor.fetchall())
        cursor.execute(f"TRUNCATE {staging}")
        return inserted
    finally:
        cursor.close()


def changed_rows(statement) -> int:
    """Run an UPDATE or DELETE and say how many rows it touched."""
    result: Any = db.session.execute(statement)  # a CursorResult for DML; its type says plain Result
    return result.rowcount or 0


def get_or_404(model: type[T], ident: Any, message: str) -> T:
    """The row with this id, or NotFound(message). An id that is not a number, or beyond what the column
    holds, is "no such row" too (it would fail the query itself)."""
    try:
        number = int(ident)
    except (TypeError, ValueError, OverflowError):
        number = None
    row = db.session.get(model, number) if number is not None and 1 <= number <= MAX_ID else None
    if row is None:
        raise NotFound(message)
    return row


def check_version(row: Any, given: Any, stale: str | Callable[[], str], missing: str | None = None) -> None:
    """The optimistic lock: `given` is the version the person (or client) last saw of `row`.

    With `missing`, an absent or unreadable version is bad input (InvalidInput on the field "version");
    without, it counts as stale. `stale` may be a function, for a message that costs a query."""
    try:
        expected = int(given)
    except (TypeError, ValueError, OverflowError):
        if missing is not None:
            raise InvalidInput(missing, {"version": _("Required.")}) from None
        expected = None
    if expected != row.version:
        raise StaleVersion(stale() if callable(stale) else stale)


def flush_or_stale(stale: str) -> None:
    """Flush; another transaction that changed the row after we read it (version_id_col) is StaleVersion."""
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleVersion(stale) from None
