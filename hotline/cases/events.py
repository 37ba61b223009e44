"""The payloads of case events: one definition per kind, the constructor the case service writes with, and
the reader the timeline (and the API) read through (architecture §8).

An event's `data` is a small JSON object. Besides the kind's own facts it may carry `before`/`after`
(the fields the event changed) and free texts (`reason`, `content`, `note`, `text`). Every event is written
by `add`, `add_many`, `add_first` or `add_with_case` below, which check the payload against its kind: the case
service for registrations, moves, imports and the calls telephony reports, the deadline watch for its
warnings. Every reader goes through `read`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, inspect, literal, select, true
from sqlalchemy.orm import InstanceState, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import BindParameter, ClauseElement
from sqlalchemy.sql.visitors import iterate

from hotline.auth.models import User
from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db

# Free texts: shown as paragraphs, never as facts.
TEXTS = ("reason", "content", "note", "text")
# Facts whose value names another case (linked on the page).
LINKS = ("into", "case_no")


@dataclass(frozen=True)
class Kind:
    """One event kind: the facts it carries (besides before/after and the free texts) and how a reader
    shows them (`shape` drops or renames what means nothing to a reader)."""
    name: str
    facts: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    changes: bool = False  # carries before/after
    shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def _shape_register(facts: dict[str, Any]) -> dict[str, Any]:
    facts.pop("status", None)
    facts.pop("platform", None)  # the exchange's own record of what the platform sent (hotline/exchange/)
    if facts.get("resolved_on_call"):
        facts.pop("reply_due_at", None)  # closed on the call: no reply was due
    else:
        facts.pop("resolved_on_call", None)
    if facts.get("via") == "web":
        facts.pop("via", None)
    return facts


def _shape_watch(facts: dict[str, Any]) -> dict[str, Any]:
    # The deadline watch's record {"deadline": "reply", "due_at": …}: say which deadline, and when.
    if facts.get("deadline") in ("accept", "reply"):
        return {f"{facts['deadline']}_due_at": facts.get("due_at")}
    return facts


def _shape_call(facts: dict[str, Any]) -> dict[str, Any]:
    facts.pop("call", None)  # Twilio's call id means nothing to a reader; the figures follow
    return facts


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("register", facts=("status", "via", "reply_due_at", "resolved_on_call", "file", "imported_at", "platform"),
         shape=_shape_register),
    Kind("assign", facts=("accept_due_at",), changes=True),
    Kind("reassign", facts=("accept_due_at",), changes=True),
    Kind("accept", changes=True),
    Kind("return", texts=("reason",), facts=("department",)),
    Kind("return_accept", texts=("reason",), changes=True),
    Kind("return_refuse", texts=("reason",)),
    Kind("reply", texts=("content",), facts=("method", "on_time"), changes=True),
    Kind("close", changes=True),
    Kind("extend_request", texts=("reason",), facts=("requested_due", "current_due")),
    Kind("extend_approve", texts=("reason",), changes=True),
    Kind("extend_reject", texts=("note",), facts=("requested_due",)),
    Kind("escalate", texts=("note",), facts=("auto",)),
    Kind("merge", facts=("into",), changes=True),
    Kind("merged_from", facts=("case_no",)),
    Kind("reopen", texts=("reason",), facts=("reply_due_at",), changes=True),
    Kind("survey", facts=("channel",), changes=True),
    Kind("review", texts=("reason",), facts=("decision", "reply_due_at"), changes=True),
    Kind("edit", texts=("reason",), changes=True),
    Kind("note", texts=("text",)),
    # The union network (hotline/orgs/): handed down one level, sent back up and the parent's answer.
    Kind("transfer", texts=("note",), changes=True),
    Kind("send_up", texts=("reason",), facts=("org",)),
    Kind("send_up_accept", texts=("reason",), changes=True),
    Kind("send_up_refuse", texts=("reason",)),
    # Telephony: a call linked to the case ended (hotline/telephony/calls.py).
    Kind("call", facts=("call", "wait_seconds", "talk_seconds", "message_seconds"), shape=_shape_call),
    # The deadline watch (hotline/notify/service.py).
    Kind("due_soon", facts=("deadline", "due_at"), shape=_shape_watch),
    Kind("overdue", facts=("deadline", "due_at"), shape=_shape_watch),
)}


def payload(kind: str, **data: Any) -> dict[str, Any]:
    """The `data` of a new event of `kind`. A kind or key not defined above is a programming error: the
    timeline could not show it."""
    spec = KINDS[kind]
    allowed = set(spec.facts) | set(spec.texts) | ({"before", "after"} if spec.changes else set())
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"event {kind!r} does not carry {sorted(unknown)}")
    return data


def add(case: Case | int, kind: str, actor_id: int | None, at: datetime, **data: Any) -> CaseEvent:
    """Append one event to a case's timeline (flushed with the session)."""
    event = CaseEvent(kind=kind, at=at, actor_id=actor_id, data=payload(kind, **data))
    if isinstance(case, Case):
        event.case = case
    else:
        event.case_id = case
    db.session.add(event)
    return event


_INSERT_ONE = CaseEvent.__table__.insert().returning(CaseEvent.__table__.c.id)
_EVENT_COLUMNS = ("case_id", "kind", "at", "actor_id", "data")


def add_first(case: Case, kind: str, actor: User | None, at: datetime, **data: Any) -> CaseEvent:
    """The first event of a case just written (its registration): one INSERT now, and the case's timeline is
    this event, so the answer need not read it back. The unit of work's pass over the case's relationships
    for one event was a tenth of a registration's Python, spent while the registration holds the day's
    case number."""
    if case.id is None:
        raise ValueError("add_first: flush the case first")
    values = dict(case_id=case.id, kind=kind, at=at, actor_id=actor.id if actor is not None else None,
                  data=payload(kind, **data))
    return _held_first(case, db.session.execute(_INSERT_ONE, values).scalar_one(), values, actor)


def add_with_case(case: Case, kind: str, actor: User | None, at: datetime, **data: Any) -> Case:
    """A new case, built but not in the session, written with its first event in one statement (PostgreSQL):
    the event's INSERT reads the case's from a WITH. The case comes back as if read, every column from the
    INSERT's RETURNING, and the session holds both.

    For the registration, which holds the day's case number from its INSERT to the commit: the event's
    own round trip, in that window, cost a fifth of the throughput of eight clients registering at once.
    Nothing of the case passes through the session's flush: the case service asks the subscribers of
    `writing_at_once` first (hotline/cases/signals.py)."""
    state: InstanceState[Case] = inspect(case)
    if not state.transient:
        raise ValueError("add_with_case: a case not yet in the session")
    given = {key: value for key, value in state.dict.items() if key in _CASE_COLUMNS}
    # A value that is SQL (the case number the INSERT takes) is part of the statement; its parameters are bound.
    expressions = tuple(sorted(key for key, value in given.items() if isinstance(value, ClauseElement)))
    statement = _case_with_event(tuple(sorted(given)), expressions, tuple(given[key] for key in expressions))
    params = {f"case_{key}": value for key, value in given.items() if key not in expressions}
    for key in expressions:
        params.update({bind.key: bind.value for bind in iterate(given[key]) if isinstance(bind, BindParameter)})
    params.update(event_kind=kind, event_at=at, event_actor_id=actor.id if actor is not None else None,
                  event_data=payload(kind, **data))
    row = db.session.execute(statement, params).one()
    state.dict.update(zip(_CASE_COLUMNS, row))  # every column, as RETURNING gave it
    make_transient_to_detached(case)  # as if read: the session holds it and will not INSERT it again
    db.session.add(case)
    _held_first(case, row[-1], dict(case_id=case.id, kind=kind, at=at, actor_id=params["event_actor_id"],
                                     data=params["event_data"]), actor)
    return case


_CASE_COLUMNS = {attr.key: attr.columns[0] for attr in inspect(Case).column_attrs}
_case_statements: dict[tuple, Any] = {}


def _case_with_event(keys: tuple[str, ...], expressions: tuple[str, ...], sql: tuple[Any, ...]):
    """add_with_case's statement for a case giving these columns, built once (its compiled form is then
    SQLAlchemy's cached one). The SQL values (`expressions`) have one form each, their parameters bound."""
    from hotline.replica import WRITES_OPTION

    key = (keys, expressions)
    statement = _case_statements.get(key)
    if statement is None:
        cases, case_events = Case.__table__, CaseEvent.__table__
        values = {_CASE_COLUMNS[k].name: bindparam(f"case_{k}", type_=_CASE_COLUMNS[k].type)
                  for k in keys if k not in expressions}
        values.update({_CASE_COLUMNS[k].name: expression for k, expression in zip(expressions, sql)})
        for column in cases.c:  # an INSERT inside a WITH gets no Python-side defaults: give them
            if column.name not in values and column.default is not None:
                if not column.default.is_scalar:
                    raise ValueError(f"add_with_case: {column.name} has a default made in Python; set it")
                values[column.name] = literal(column.default.arg, column.type, literal_execute=True)
        new_case = insert(cases).values(values).returning(*(c for c in _CASE_COLUMNS.values())).cte("new_case")
        new_event = (insert(case_events).from_select(
            _EVENT_COLUMNS, select(new_case.c.id, *(bindparam(f"event_{name}", type_=case_events.c[name].type)
                                                    for name in _EVENT_COLUMNS[1:])))
            .returning(case_events.c.id).cte("new_event"))
        statement = _case_statements[key] = (
            select(*(new_case.c[c.name] for c in _CASE_COLUMNS.values()), new_event.c.id)
            .select_from(new_case.join(new_event, true())).execution_options(**{WRITES_OPTION: True}))
    return statement


def _held_first(case: Case, event_id: int, values: dict[str, Any], actor: User | None) -> CaseEvent:
    """The event just written, held by the session as if read, and the whole of the case's timeline."""
    event = CaseEvent(id=event_id, **values)
    make_transient_to_detached(event)
    set_committed_value(event, "actor", actor)
    db.session.add(event)
    set_committed_value(event, "case", case)
    set_committed_value(case, "events", [event])
    return event


def add_many(rows: Sequence[tuple[int, str, int | None, datetime, dict[str, Any]]]) -> None:
    """Append many events at once, one INSERT (the deadline watch's batches): (case_id, kind, actor_id, at, data)."""
    if rows:
        db.session.execute(CaseEvent.__table__.insert(), [
            dict(case_id=case_id, kind=kind, at=at, actor_id=actor_id, data=payload(kind, **data))
            for case_id, kind, actor_id, at, data in rows])


@dataclass
class Reading:
    """An event as a reader sees it: the free texts, the changed fields and the remaining facts."""
    kind: str
    texts: list[tuple[str, str]] = field(default_factory=list)
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (field, before, after)
    facts: list[tuple[str, Any]] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # fact -> case number


def read(kind: str, data: dict[str, Any] | None) -> Reading:
    """Split an event's data for a reader. Events written before a kind gained a fact read as they are."""
    rest = dict(data or {})
    before = rest.pop("before", None) or {}
    after = rest.pop("after", None) or {}
    reading = Reading(kind)
    for key in dict.fromkeys(list(before) + list(after)):
        if before.get(key) != after.get(key):
            reading.changes.append((key, before.get(key), after.get(key)))
    for key in TEXTS:
        value = rest.pop(key, None)
        if isinstance(value, str) and value:
            reading.texts.append((key, value))
    spec = KINDS.get(kind)
    if spec is not None and spec.shape is not None:
        rest = spec.shape(rest)
    for key in LINKS:
        if rest.get(key):
            reading.links[key] = rest[key]
    reading.facts = [(k, v) for k, v in rest.items() if not isinstance(v, (dict, list))]
    return reading
