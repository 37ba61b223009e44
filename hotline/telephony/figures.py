"""What the call pages and the reports read about calls: the day's log, the live panel, the figures.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from hotline import clock, phones
from hotline.auth.models import User
from hotline.cases.queries import caller_history
from hotline.errors import InvalidInput
from hotline.extensions import db
from hotline.telephony.models import ANONYMOUS, CALL_STATUSES, LIVE_STATUSES, Call, Callback, CallbackAttempt
from hotline.telephony.numbers import shown_number, visible_phone
from hotline.telephony.parsing import day_bounds

LIVE_WINDOW = timedelta(hours=2)  # a call still "ringing" after this lost its final callback
ANSWER_TARGET_SECONDS = 15


def calls_on(day: date, status: str | None = None, newest_first: bool = True, limit: int = 5000) -> list[Call]:
    if status is not None and status not in CALL_STATUSES:
        raise InvalidInput(_("Unknown status: %(v)s", v=status[:20]), {"status": _("Unknown status.")})
    start, end = day_bounds(day)
    stmt = select(Call).where(Call.direction == "inbound", Call.started_at >= start, Call.started_at < end)
    if status:
        stmt = stmt.where(Call.status == status)
    order = Call.started_at.desc() if newest_first else Call.started_at
    return list(db.session.scalars(stmt.order_by(order, Call.id).limit(limit)))


def status_counts(day: date) -> dict[str, int]:
    start, end = day_bounds(day)
    rows = db.session.execute(select(Call.status, func.count()).where(
        Call.direction == "inbound", Call.started_at >= start, Call.started_at < end).group_by(Call.status)).all()
    return {status: count for status, count in rows}


def live_calls(actor: User) -> list[dict[str, Any]]:
    """Calls waiting for an operator or being talked to now, with the caller's earlier and open cases."""
    now = clock.now()
    calls = list(db.session.scalars(select(Call).where(
        Call.direction == "inbound", Call.status.in_(LIVE_STATUSES), Call.route.in_(("queue", "dial")),
        Call.started_at >= now - LIVE_WINDOW).order_by(Call.started_at, Call.id).limit(50)))
    out = []
    for call in calls:
        history = caller_history(actor, call.from_phone) if call.from_phone != ANONYMOUS else None
        open_cases = history.open_cases if history else []
        out.append({
            "sid": call.call_sid,
            "from": shown_number(actor, call.from_phone, call.case),
            "phone": phones.display_phone(full) if (full := visible_phone(actor, call.from_phone, call.case)) else None,
            "anonymous": call.from_phone == ANONYMOUS,
            "status": call.status,
            "started_at": call.started_at.isoformat(),
            "answered_at": call.answered_at.isoformat() if call.answered_at else None,
            "operator": call.operator.display_name if call.operator else None,
            "mine": call.operator_id == actor.id,
            "case_no": call.case.case_no if call.case else None,
            "cases": history.total if history else 0,
            "open_cases": [{"case_no": c.case_no, "summary": c.summary[:60]} for c in open_cases[:3]],
            "open_count": history.open_count if history else 0,
        })
    return out


CALL_COUNTS = ("inbound", "answered", "answered_within_15s", "abandoned", "callbacks_done")
CALLBACK_DONE = ("reached", "wrong_number", "no_answer")  # an attempt that made a call (or opened a case)


def inbound_call():
    """The calls the figures count (the day's rows of the reports' daily figures use the same)."""
    return Call.direction == "inbound"


def call_count_columns() -> list:
    """The figures of the inbound calls selected, as aggregate columns (labelled by CALL_COUNTS)."""
    return [
        func.count().label("inbound"),
        func.count(Call.answered_at).label("answered"),
        func.count(Call.id).filter(Call.answered_at.is_not(None), Call.wait_seconds <= ANSWER_TARGET_SECONDS)
        .label("answered_within_15s"),
        func.count(Call.id).filter(Call.status == "abandoned").label("abandoned"),
    ]


def callback_done():
    return CallbackAttempt.outcome.in_(CALLBACK_DONE)


def call_figures(start_utc: datetime, end_utc: datetime) -> dict[str, int]:
    """Telephony figures for the reports, over calls that came in (and call-backs made) in [start, end).

    inbound: calls to the hotline; answered: an operator took them; answered_within_15s: after at most
    15 s in the queue; abandoned: the caller hung up while waiting; callbacks_done: call-back calls
    operators made (each attempt, whether the caller answered or not, plus cases opened from the list).
    """
    in_window = and_(inbound_call(), Call.started_at >= start_utc, Call.started_at < end_utc)
    row = db.session.execute(select(*call_count_columns()).where(in_window)).one()
    done = db.session.scalar(select(func.count()).select_from(CallbackAttempt).where(
        CallbackAttempt.at >= start_utc, CallbackAttempt.at < end_utc, callback_done())) or 0
    return {"inbound": row[0], "answered": row[1], "answered_within_15s": row[2], "abandoned": row[3],
            "callbacks_done": done}


def callback_counts() -> dict[str, int]:
    rows = db.session.execute(select(Callback.status, func.count()).group_by(Callback.status)).all()
    return {status: count for status, count in rows}
