"""The case page's panels that other features add (recordings, a group-dispute warning, knowledge-base
articles) and the reader's unread notices about the case, probed together.

Most cases have none of them, yet each panel asked its own question of every case page: three statements
for three empty answers. A feature registers an EXISTS for its panel here (the case register does not
import the features; they import this); the case page asks them all with the case's own SELECT (columns,
hold; elsewhere probe asks them in one statement), and a panel whose probe said no shows nothing without
asking again (may_have). Anywhere else, or for another case, may_have says yes and the panel asks as before.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, has_request_context
from sqlalchemy import Integer, bindparam, select
from sqlalchemy.sql.elements import ColumnElement

from hotline.extensions import db

_probes: dict[str, Callable[[Any, Any], ColumnElement[Any]]] = {}
_HELD = "_hotline_case_panels"
_statement: tuple[tuple[str, ...], Any] | None = None  # built once, with the case and reader as parameters


def register(name: str, exists: Callable[[Any, Any], ColumnElement[Any]]) -> None:
    """`exists(case_id, reader_id)` (given as bound parameters): true when the panel `name` may have something
    to show that reader."""
    _probes[name] = exists


def probe(case_id: int, reader_id: int | None) -> None:
    """Ask every registered panel about this case, in one statement (the case page, before anything else
    about the case is read); once per request and case."""
    if not _probes or not has_request_context():
        return
    held = g.get(_HELD)
    if held is not None and held[0] == case_id:
        return
    global _statement
    asked = names()
    if _statement is None or _statement[0] != asked:
        _statement = (asked, select(*columns(bindparam("case_id", type_=Integer), bindparam("reader_id", type_=Integer))))
    hold(case_id, asked, db.session.execute(_statement[1], {"case_id": case_id, "reader_id": reader_id}).one())


def names() -> tuple[str, ...]:
    """The registered panels, in the order `columns` gives them."""
    return tuple(_probes)


def columns(case_id: Any, reader_id: Any) -> list[ColumnElement[Any]]:
    """The probe as columns of the statement that reads the case (`case_id` its id column, correlated), so the
    case page reads the case and probes its panels in one round trip; `hold` keeps the answers."""
    return [_probes[name](case_id, reader_id).label(f"panel_{name}") for name in _probes]


def hold(case_id: int, names: tuple[str, ...], values: Any) -> None:
    """What `columns` answered about this case: as probe would have held it."""
    if has_request_context():
        setattr(g, _HELD, (case_id, dict(zip(names, (bool(v) for v in values)))))


def may_have(name: str, case_id: int) -> bool:
    """False only when this request's probe of this case said the panel has nothing."""
    held = g.get(_HELD) if has_request_context() else None
    if held is None or held[0] != case_id:
        return True
    return held[1].get(name, True)
