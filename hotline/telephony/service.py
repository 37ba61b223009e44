"""Calls and the call-back list: what each Twilio event changes, and the figures the reports need.

Every event finds its call by CallSid (INSERT … ON CONFLICT DO NOTHING, then the row locked FOR UPDATE
on PostgreSQL), so a retried webhook, or two at once, change nothing twice. A call's hotline status is
always derived from the facts gathered so far (`settle`), whatever order Twilio's callbacks arrive in.
Services flush; the door commits.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import lazyload

from hotline import clock
from hotline.audit.service import record_views
from hotline.auth.models import User
from hotline.cases import access
from hotline.cases.models import Case, CaseEvent
from hotline.errors import IllegalMove, InvalidInput, NotFound
from hotline.extensions import db
from hotline.notify.service import _insert_ignore
from hotline.telephony.models import (
    ANONYMOUS,
    ATTEMPT_OUTCOMES,
    CALL_STATUSES,
    LIVE_STATUSES,
    Call,
    Callback,
    CallbackAttempt,
)

log = logging.getLogger("hotline.telephony")

FINAL_TWILIO_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")
# Twilio's stand-ins for a withheld caller ID, besides the words.
ANONYMOUS_NUMBERS = {"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"}
ANONYMOUS_WORDS = {"anonymous", "restricted", "unknown", "private", "unavailable", "blocked", "withheld"}
LEAVE_TO_VOICEMAIL = ("leave", "queue-full", "error", "system-error", "redirected")
MAX_CALLBACK_ATTEMPTS = 3
LIVE_WINDOW = timedelta(hours=2)  # a call still "ringing" after this lost its final callback
STALE_AFTER = timedelta(minutes=30)  # the `calls` job asks Twilio about live calls older than this
ANSWER_TARGET_SECONDS = 15
MIN_MESSAGE_SECONDS = 1


# ---------------------------------------------------------------- small parsers

def parse_caller(raw: str | None) -> str:
    """Twilio's From as E.164, or "anonymous" when the number is withheld or unusable."""
    from hotline.cases.service import normalize_phone

    text = (raw or "").strip()
    if not text or text.lower() in ANONYMOUS_WORDS or text in ANONYMOUS_NUMBERS:
        return ANONYMOUS
    if ":" in text:  # client:…, sip:…
        return ANONYMOUS
    try:
        return normalize_phone(text[:40])
    except InvalidInput:
        return ANONYMOUS


def seconds(raw: Any) -> int | None:
    """A non-negative whole number of seconds from a webhook field, or None."""
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if 0 <= value < 10 * 24 * 3600 else None


def parse_day(raw: str | None) -> date:
    """YYYY-MM-DD (default: today, local) for the call log and the API."""
    if raw is None or not raw.strip():
        return clock.local_now().date()
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(_("%(value)s is not a date (use YYYY-MM-DD).", value=raw[:20]),
                           {"date": _("Wrong date format.")}) from None
    if not date.min < value < date.max:
        raise InvalidInput(_("%(value)s is out of range.", value=raw[:20]), {"date": _("Out of range.")})
    return value


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=clock.local_tz()).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.local_tz()).astimezone(timezone.utc)
    return start, end


def _elapsed(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds()))


# ---------------------------------------------------------------- finding a call

def _locked(sid: str) -> Call | None:
    return db.session.scalar(select(Call).where(Call.call_sid == sid).options(lazyload("*"))
                             .with_for_update().execution_options(populate_existing=True))


def ensure_call(params: dict[str, str], *, voice: bool = False) -> tuple[Call, bool]:
    """The call of a webhook, created when unknown (a status callback may be the first we hear of it).
    Returns (call, created)."""
    sid = (params.get("CallSid") or "").strip()[:64]
    if not sid:
        raise InvalidInput(_("CallSid is missing."), {"CallSid": _("Required.")})
    now = clock.now()
    raw_from = (params.get("From") or "")[:64]
    direction = (params.get("Direction") or "inbound").lower()
    twilio_status = (params.get("CallStatus") or "").strip().lower()[:16] or None
    started = now
    if not voice and twilio_status in FINAL_TWILIO_STATUSES and seconds(params.get("CallDuration")) is not None:
        started = now - timedelta(seconds=seconds(params.get("CallDuration")))
    created = _insert_ignore(Call, [dict(
        call_sid=sid, direction="outbound" if direction.startswith("outbound") else "inbound",
        from_phone=parse_caller(raw_from), from_raw=raw_from, to_phone=(params.get("To") or "")[:64] or None,
        route=None, status="ringing", twilio_status=twilio_status, unknown=not voice, started_at=started,
        case_noted=False, updated_at=now)]) == 1
    return _locked(sid), created


def get_call(sid: str) -> Call:
    call = db.session.scalar(select(Call).where(Call.call_sid == sid)) if sid and "\x00" not in sid else None
    if call is None:
        raise NotFound(_("Call not found."))
    return call


# ---------------------------------------------------------------- what each event changes

def choose_route(call: Call, is_open: bool, dial_to: str | None) -> str:
    """Queue (or dial) in office hours, voicemail after; a retried webhook keeps the first answer."""
    if call.route is None:
        call.route = ("dial" if dial_to else "queue") if is_open else "voicemail"
        call.unknown = False
        settle(call)
    return call.route


def status_changed(params: dict[str, str], ended_at: datetime | None = None) -> Call:
    """Twilio's call status callback. An unknown CallSid is stored; a repeat changes nothing."""
    call, _created = ensure_call(params)
    status = (params.get("CallStatus") or "").strip().lower()[:16]
    if not status:
        return call
    if call.ended_at is None:
        call.twilio_status = status
    if status in FINAL_TWILIO_STATUSES and call.ended_at is None:
        now = max(ended_at or clock.now(), call.started_at)
        call.ended_at = now
        if call.answered_at is not None:
            call.talk_seconds = _elapsed(call.answered_at, now)
        elif call.wait_seconds is None and call.route in ("queue", "dial"):
            call.wait_seconds = _elapsed(call.started_at, now)  # waited until the caller gave up
    settle(call)
    return call


def answered(params: dict[str, str], operator_id: Any = None) -> Call:
    """An operator dequeued the call (the <Queue url> webhook): Twilio's word on when it was answered."""
    call, _created = ensure_call(params)
    if call.answer_source == "twilio":
        return call  # a retry
    now = clock.now()
    queue_time = seconds(params.get("QueueTime"))
    call.answered_at = now
    call.answer_source = "twilio"
    call.wait_seconds = queue_time if queue_time is not None else _elapsed(call.started_at, now)
    operator = _operator(operator_id)
    if operator is not None:
        call.operator_id = operator.id
    if call.route is None:
        call.route = "queue"
    settle(call)
    return call


def left_queue(params: dict[str, str]) -> str:
    """The <Enqueue action>: why the caller left the queue. Returns what to do next: voicemail or nothing."""
    call, _created = ensure_call(params)
    result = (params.get("QueueResult") or "").strip().lower()[:16]
    if call.queue_result is None and result:
        call.queue_result = result
        queue_time = seconds(params.get("QueueTime"))
        if call.answered_at is None and queue_time is not None:
            call.wait_seconds = queue_time
        if result in LEAVE_TO_VOICEMAIL and call.answered_at is None:
            call.route = "voicemail"
        settle(call)
    return "voicemail" if call.route == "voicemail" and call.answered_at is None else "done"


def dial_finished(params: dict[str, str]) -> str:
    """The <Dial action> (dial mode): answered, or on to voicemail."""
    call, _created = ensure_call(params)
    status = (params.get("DialCallStatus") or "").strip().lower()[:16]
    if call.queue_result is None and status:
        call.queue_result = status
        now = clock.now()
        duration = seconds(params.get("DialCallDuration"))
        if status == "completed" and call.answered_at is None:
            call.answered_at = now - timedelta(seconds=duration or 0)
            call.answer_source = "twilio"
            call.wait_seconds = _elapsed(call.started_at, call.answered_at)
            call.talk_seconds = duration
        elif status != "completed":
            call.route = "voicemail"
        settle(call)
    return "voicemail" if call.route == "voicemail" and call.answered_at is None else "done"


def recording_done(params: dict[str, str]) -> Call:
    """The recording status callback of a voicemail: the message becomes a `voicemail` case (once)."""
    call, _created = ensure_call(params)
    status = (params.get("RecordingStatus") or "completed").strip().lower()
    duration = seconds(params.get("RecordingDuration")) or 0
    url = (params.get("RecordingUrl") or "").strip()[:500]
    if not web_address(url):
        url = ""  # javascript:, data: … never become a link on the call log (Twilio sends https)
    if status != "completed" or call.recording_sid is not None or not url or duration < MIN_MESSAGE_SECONDS:
        return call  # absent or failed, a retry, or nothing said
    call.recording_sid = (params.get("RecordingSid") or "").strip()[:64] or "unknown"
    call.recording_url = url
    call.recording_seconds = duration
    from hotline.telephony import recordings

    recordings.reported(call, params)  # the hotline keeps its own copy (the `channels` job downloads it)
    if call.route is None:
        call.route = "voicemail"
    if call.from_phone != ANONYMOUS and call.case_id is None:
        _register_voicemail(call)
    settle(call)
    return call


def _register_voicemail(call: Call) -> None:
    from hotline.cases import service as cases
    from hotline.errors import ServiceError
    from hotline.telephony import settings as line

    cfg = line.get()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):  # case data, not one reader's language
        # No number in the summary: every role that may open the case reads it, search finds it and the
        # 台账 prints it; the number is in the caller field, shown or masked by the one rule.
        summary = _("Voicemail, %(n)d seconds. Listen to it and complete the case.",
                    n=call.recording_seconds or 0)
        detail = _("Voicemail left at %(when)s. Listen to the recording on the case page.",
                   when=clock.to_local(call.started_at).strftime("%Y-%m-%d %H:%M"))
    data = {
        "channel": "voicemail", "type": cfg.voicemail_type, "category": cfg.voicemail_category,
        "caller": {"phone": call.from_phone}, "summary": summary, "detail": detail,
        "call_sid": call.call_sid, "sms_receipt": cfg.voicemail_sms,
    }
    try:
        with db.session.no_autoflush:
            cases.register(None, data, via="telephony")
    except ServiceError as err:  # e.g. the configured category was retired: the call goes on the call-back list
        log.error("voicemail %s could not become a case: %s", call.call_sid, err.message)


def web_address(url: str | None) -> bool:
    """An http(s) address with a host: the only kind a page may turn into a link."""
    from urllib.parse import urlsplit

    if not url or any(ord(ch) < 0x21 for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("https", "http") and bool(parts.netloc)


def recording_link(call: Call) -> str:
    """The hotline's own route to a call's recording (never Twilio's URL), or "" when there is none."""
    from flask import url_for

    from hotline.telephony import recordings

    rec = recordings.of_call(call) if call.recording_url else None
    return url_for("telephony.recording_audio", rec_id=rec.id) if rec is not None else ""


def _operator(raw: Any) -> User | None:
    try:
        user = db.session.get(User, int(raw)) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active and user.has_role("operator") else None


def operator_for_agent(raw_from: str | None) -> User | None:
    """The operator behind an agent leg: client:<username> (softphone) or the operator's own phone."""
    text = (raw_from or "").strip()
    user = None
    if text.startswith("client:"):
        user = db.session.scalar(select(User).where(User.username == text[7:71]))
    elif text:
        phone = parse_caller(text)
        if phone != ANONYMOUS:
            user = db.session.scalar(select(User).where(User.phone == phone).order_by(User.id))
    return user if user is not None and user.active and user.has_role("operator") else None


def record_agent_leg(params: dict[str, str]) -> None:
    """Keep the operator's own leg so that its callbacks are not taken for a caller's call."""
    call, created = ensure_call(params, voice=True)
    if created:
        call.direction = "agent"
        call.status = "in_progress"


def reconcile(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """The `calls` job: calls still live long after they began lost their final status callback (our
    server was down, a proxy dropped it). Ask Twilio's REST API how each ended, so that a missed call
    still reaches the call-back list. Commits per call: each lookup is its own small transaction."""
    from twilio.base.exceptions import TwilioException, TwilioRestException

    from hotline.notify.sms import twilio_client

    cfg = current_app.config
    stats = {"checked": 0, "ended": 0, "failed": 0}
    if not (cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN")):
        return stats
    now = now or clock.now()
    stale = list(db.session.scalars(select(Call.call_sid).where(
        Call.direction == "inbound", Call.ended_at.is_(None), Call.started_at < now - STALE_AFTER)
        .order_by(Call.started_at, Call.id).limit(limit)))
    client = twilio_client() if stale else None
    for sid in stale:
        try:
            remote = client.calls(sid).fetch()
        except TwilioRestException as exc:
            if exc.status != 404:
                stats["failed"] += 1
                continue
            status_changed({"CallSid": sid, "CallStatus": "failed"})  # Twilio has no such call
            stats["ended"] += 1
        except (TwilioException, OSError):
            stats["failed"] += 1
            break  # Twilio unreachable: try again next run
        else:
            stats["checked"] += 1
            if remote.status in FINAL_TWILIO_STATUSES:
                ended = remote.end_time.astimezone(timezone.utc) if remote.end_time else None
                status_changed({"CallSid": sid, "CallStatus": remote.status, "CallDuration": remote.duration},
                               ended_at=ended)
                stats["ended"] += 1
        db.session.commit()
    return stats


# ---------------------------------------------------------------- the derived status

def derive(call: Call) -> str:
    if call.ended_at is None:
        return "in_progress" if call.answered_at is not None else "ringing"
    if call.answered_at is not None:
        return "answered"
    if call.recording_seconds:
        return "voicemail"
    if call.route in ("queue", "dial") and call.twilio_status in ("completed", "canceled", None):
        return "abandoned"  # the caller hung up while waiting for an operator
    return "missed"


def settle(call: Call) -> None:
    """Recompute the status and keep the call-back list and the case in step with it."""
    before = call.status
    if call.direction == "agent":
        call.status = "answered" if call.ended_at else "in_progress"
        call.updated_at = clock.now()
        return
    call.status = derive(call)
    call.updated_at = clock.now()
    if call.direction != "inbound":
        return
    wants_callback = ((call.status in ("abandoned", "missed") and call.from_phone != ANONYMOUS)
                      or (call.status == "voicemail" and call.case_id is None))
    if wants_callback and call.callback_id is None:
        _join_callback(call)
    elif not wants_callback and call.callback_id is not None:
        _leave_callback(call)
    if call.status in ("answered", "in_progress") and before not in ("answered", "in_progress"):
        _caller_got_through(call)
    _note_on_case(call)


def _note_on_case(call: Call) -> None:
    """When a call linked to a case has ended, its figures go on the case's timeline (once)."""
    if call.case_id is None or call.ended_at is None or call.case_noted:
        return
    data: dict[str, Any] = {"call": call.call_sid, "wait_seconds": call.wait_seconds,
                            "talk_seconds": call.talk_seconds}
    if call.recording_seconds:
        data["message_seconds"] = call.recording_seconds
    db.session.add(CaseEvent(case_id=call.case_id, kind="call", at=clock.now(), actor_id=call.operator_id,
                             data={k: v for k, v in data.items() if v is not None}))
    call.case_noted = True


# ---------------------------------------------------------------- the call-back list

def _entry_locked(entry_id: int) -> Callback | None:
    return db.session.scalar(select(Callback).where(Callback.id == entry_id).options(lazyload("*"))
                             .with_for_update().execution_options(populate_existing=True))


def _join_callback(call: Call) -> None:
    """One entry per caller and local day: five missed calls today are one line with five calls."""
    now = clock.now()
    day = clock.to_local(call.started_at).date()
    _insert_ignore(Callback, [dict(phone=call.from_phone, day=day, status="open", outcome=None, calls=0,
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


def _leave_callback(call: Call) -> None:
    """The call turned out not to need a call-back (its voicemail became a case)."""
    entry = _entry_locked(call.callback_id)
    call.callback_id = None
    if entry is None:
        return
    entry.calls = max(0, entry.calls - 1)
    entry.updated_at = clock.now()
    if entry.calls == 0 and entry.status == "open" and entry.attempts == 0:
        entry.status, entry.outcome, entry.done_at = "done", "voicemail", clock.now()


def _caller_got_through(call: Call) -> None:
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


# ---------------------------------------------------------------- operators and cases

def take(actor: User, sid: str) -> Call:
    """An operator takes a call from the live panel: it is theirs, and answered now if Twilio has not said so."""
    call = _locked(sid) if sid and "\x00" not in sid else None
    if call is None or call.direction != "inbound":
        raise NotFound(_("Call not found."))
    if call.operator_id not in (None, actor.id) and call.status in LIVE_STATUSES:
        other = db.session.get(User, call.operator_id)
        raise IllegalMove(_("%(name)s has already taken this call.", name=other.display_name if other else "?"))
    call.operator_id = actor.id
    if call.answered_at is None and call.ended_at is None:
        now = clock.now()
        call.answered_at = now
        call.answer_source = "operator"
        call.wait_seconds = _elapsed(call.started_at, now)
    settle(call)
    db.session.flush()
    return call


def link_case(actor: User | None, sid: Any, case: Case) -> None:
    """The case logged for a call: linked both ways; the call's figures go on the case when it ends."""
    if not isinstance(sid, str) or not sid.strip() or "\x00" in sid:
        return
    call = _locked(sid.strip()[:64])
    if call is None or call.direction != "inbound":
        return
    if call.case_id is None:
        call.case_id = case.id
    elif call.case_id != case.id:
        return  # a second case from one call keeps the first link
    if call.operator_id is None and actor is not None:
        call.operator_id = actor.id
    settle(call)


# ---------------------------------------------------------------- reading

def may_see_numbers(actor: User) -> bool:
    """Operators call people back and supervisors check them; everyone else sees masked numbers."""
    return access.sees_numbers_without_case(actor)


def visible_phone(actor: User, phone: str, case: Case | None = None) -> str | None:
    """The caller's full number if this person may see it, else None. A call, call-back or SMS that
    belongs to a confidential case shows the number only to those who work that case, as the case page does."""
    if phone == ANONYMOUS:
        return None
    return phone if access.caller_number_visible(actor, case) else None


def shown_number(actor: User, phone: str, case: Case | None = None) -> str:
    """The number as a page shows it: in full (as operators type it), masked, or "withheld"."""
    if phone == ANONYMOUS:
        return _("Withheld number")
    full = visible_phone(actor, phone, case)
    return access.display_phone(full) if full else access.mask_phone(phone)


def record_number_views(actor: User, cases, via: str) -> None:
    """The audit (hotline/audit): whoever is shown a confidential case's caller number saw its caller."""
    if may_see_numbers(actor):
        record_views(actor, [case for case in cases if case is not None], via)


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
    from hotline.cases.queries import caller_history

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
            "phone": access.display_phone(full) if (full := visible_phone(actor, call.from_phone, call.case)) else None,
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


def call_figures(start_utc: datetime, end_utc: datetime) -> dict[str, int]:
    """Telephony figures for the reports, over calls that came in (and call-backs made) in [start, end).

    inbound: calls to the hotline; answered: an operator took them; answered_within_15s: after at most
    15 s in the queue; abandoned: the caller hung up while waiting; callbacks_done: call-back calls
    operators made (each attempt, whether the caller answered or not, plus cases opened from the list).
    """
    in_window = and_(Call.direction == "inbound", Call.started_at >= start_utc, Call.started_at < end_utc)
    row = db.session.execute(select(
        func.count(),
        func.count(Call.answered_at),
        func.count(Call.id).filter(Call.answered_at.is_not(None), Call.wait_seconds <= ANSWER_TARGET_SECONDS),
        func.count(Call.id).filter(Call.status == "abandoned"),
    ).where(in_window)).one()
    done = db.session.scalar(select(func.count()).select_from(CallbackAttempt).where(
        CallbackAttempt.at >= start_utc, CallbackAttempt.at < end_utc,
        CallbackAttempt.outcome.in_(("reached", "wrong_number", "no_answer")))) or 0
    return {"inbound": row[0], "answered": row[1], "answered_within_15s": row[2], "abandoned": row[3],
            "callbacks_done": done}


def callback_counts() -> dict[str, int]:
    rows = db.session.execute(select(Callback.status, func.count()).group_by(Callback.status)).all()
    return {status: count for status, count in rows}


def duration_text(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value // 60}:{value % 60:02d}"

