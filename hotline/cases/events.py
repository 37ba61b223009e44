"""The payloads of case events: one definition per kind, the constructor the case service writes with, and
the reader the timeline (and the API) read through (architecture §8).

An event's `data` is a small JSON object. Besides the kind's own facts it may carry `before`/`after`
(the fields the event changed) and free texts (`reason`, `content`, `note`, `text`). Every event is written
by `add` or `add_many` below, which check the payload against its kind: the case service for its moves,
imports and the calls telephony reports, the deadline watch for its warnings. Every reader goes through `read`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
