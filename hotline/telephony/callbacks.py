"""The call-back list: one entry per caller and local day for calls nobody answered, and the operators'
call-backs (architecture §7). Kept in step with each call's derived status by `calls.settle`.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from hotline import clock
from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.db_helpers import insert_ignore
from hotline.errors import IllegalMove, InvalidInput, NotFound
from hotline.extensions import db
from hotline.telephony.models import ANONYMOUS, ATTEMPT_OUTCOMES, Call, Callback, CallbackAttempt

MAX_CALLBACK_ATTEMPTS = 3


def _entry_locked(entry_id: int) -> Callback | None:
    return db.session.scalar(select(Callback).where(Callback.id == entry_id).options(lazyload("*"))
                             .with_for_update().execution_options(populate_existing=True))


def join_callback(call: Call) -> None:
    """One entry per caller and local day: five missed calls today are one line with five calls."""
    now = clock.now()
    day = clock.to_local(call.started_at).date()
    insert_ignore(Callback, [dict(phone=call.from_phone, day=day, status="open", outcome=None, calls=0,
                                   first_call_at=call.started_at, last_call_at=call.started_at, attempts=0,
                                   updated_at=now)])
    entry = db.session.scalar(select(Callback).where(Callback.phone == call.from_phone, Callback.day == day)
                              .options(lazyload("*")).with_for_update()
                              .execution_options(populate_existing=True))
    if entry.status == "done":
        # Missed again after the entry was dealt with: it needs another call-back.
        entry.status, entry.outcome, entry.done_at, entry.done_by_id = "open", None, None, None
    entry.calls += 1
    entry.first_call_at = min(entry.first_call_at, call.started_at)
    entry.last_call_at = max(entry.last_call_at, call.started_at)
    entry.updated_at = now
    call.callback_id = entry.id


def leave_callback(call: Call) -> None:
    """The call turned out not to need a call-back (its voicemail became a case)."""
    entry = _entry_locked(call.callback_id)
    call.callback_id = None
    if entry is None:
        return
    entry.calls = max(0, entry.calls - 1)
    entry.updated_at = clock.now()
    if entry.calls == 0 and entry.status == "open" and entry.attempts == 0:
        entry.status, entry.outcome, entry.done_at = "done", "voicemail", clock.now()


def caller_got_through(call: Call) -> None:
    """A caller on today's call-back list called again and was answered: no call-back needed."""
    if call.from_phone == ANONYMOUS:
        return
    day = clock.to_local(call.started_at).date()
    entries = db.session.scalars(select(Callback).where(
        Callback.phone == call.from_phone, Callback.day == day, Callback.status == "open",
        Callback.last_call_at <= call.started_at).options(lazyload("*")).with_for_update())
    for entry in entries:
        entry.status, entry.outcome, entry.done_at, entry.updated_at = "done", "called_again", clock.now(), clock.now()


def callback_entries(status: str = "open", day: date | None = None, limit: int = 500) -> list[Callback]:
    stmt = select(Callback).where(Callback.status == status)
    if day is not None:
        stmt = stmt.where(Callback.day == day)
    order = (Callback.day, Callback.first_call_at) if status == "open" else (Callback.done_at.desc(),)
    return list(db.session.scalars(stmt.order_by(*order).limit(limit)))


def calls_of(entry: Callback) -> list[Call]:
    return list(db.session.scalars(select(Call).where(Call.callback_id == entry.id).order_by(Call.started_at)))


def log_attempt(actor: User, entry_id: int, outcome: str, note: str = "") -> Callback:
    """An operator called the caller back: reached, wrong number, nothing to do, or no answer."""
    if outcome not in ATTEMPT_OUTCOMES:
        raise InvalidInput(_("Choose how the call-back went."), {"outcome": _("Unknown outcome.")})
    note = (note or "").strip()
    if len(note) > 500:
        raise InvalidInput(_("The note is too long (at most 500 characters)."), {"note": _("Too long.")})
    entry = _entry_locked(entry_id)
    if entry is None:
        raise NotFound(_("That call-back entry was not found."))
    if entry.status != "open":
        raise IllegalMove(_("This call-back is already done."))
    now = clock.now()
    db.session.add(CallbackAttempt(callback_id=entry.id, at=now, operator_id=actor.id, outcome=outcome, note=note))
    entry.attempts += 1
    entry.last_attempt_at = now
    entry.updated_at = now
    if outcome != "no_answer":
        entry.status, entry.outcome, entry.done_at, entry.done_by_id = "done", outcome, now, actor.id
    elif entry.attempts >= MAX_CALLBACK_ATTEMPTS:
        entry.status, entry.outcome, entry.done_at, entry.done_by_id = "done", "unreachable", now, actor.id
    db.session.flush()
    return entry


def callback_became_case(actor: User | None, entry_id: Any, case: Case) -> None:
    """The case form was opened from the call-back list: the entry is done, linked to the case."""
    try:
        entry = _entry_locked(int(entry_id))
    except (TypeError, ValueError):
        return
    if entry is None or entry.status != "open":
        return
    now = clock.now()
    if entry.phone != ANONYMOUS:
        db.session.add(CallbackAttempt(callback_id=entry.id, at=now, operator_id=actor.id if actor else None,
                                       outcome="reached", note=case.case_no))
        entry.attempts += 1
        entry.last_attempt_at = now
    entry.status, entry.outcome, entry.done_at = "done", "case", now
    entry.done_by_id = actor.id if actor else None
    entry.case_id = case.id
    entry.updated_at = now
