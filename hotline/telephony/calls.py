"""Calls: what each Twilio event changes (the webhook state machine), and the links between calls and cases.

Every event finds its call by CallSid (INSERT … ON CONFLICT DO NOTHING, then the row locked FOR UPDATE
on PostgreSQL), so a retried webhook, or two at once, change nothing twice. A call's hotline status is
always derived from the facts gathered so far (`settle`), whatever order Twilio's callbacks arrive in.
Services flush; the door commits.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from hotline import clock
from hotline.auth.models import User
from hotline.cases import service as cases
from hotline.cases.models import Case
from hotline.cases.signals import Origin
from hotline.db_helpers import insert_ignore
from hotline.errors import IllegalMove, InvalidInput, NotFound, ServiceError
from hotline.extensions import db
from hotline.telephony import recordings, settings as line
from hotline.telephony.callbacks import caller_got_through, join_callback, leave_callback
from hotline.telephony.models import ANONYMOUS, LIVE_STATUSES, Call
from hotline.telephony.parsing import elapsed, parse_caller, seconds, web_address

log = logging.getLogger("hotline.telephony")

FINAL_TWILIO_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")
LEAVE_TO_VOICEMAIL = ("leave", "queue-full", "error", "system-error", "redirected")
MIN_MESSAGE_SECONDS = 1


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
    created = insert_ignore(Call, [dict(
        call_sid=sid, direction="outbound" if direction.startswith("outbound") else "inbound",
        from_phone=parse_caller(raw_from), from_raw=raw_from, to_phone=(params.get("To") or "")[:64] or None,
        route=None, status="ringing", twilio_status=twilio_status, unknown=not voice, started_at=started,
        case_noted=False, updated_at=now)]) == 1
    return _locked(sid), created


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
            call.talk_seconds = elapsed(call.answered_at, now)
        elif call.wait_seconds is None and call.route in ("queue", "dial"):
            call.wait_seconds = elapsed(call.started_at, now)  # waited until the caller gave up
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
    call.wait_seconds = queue_time if queue_time is not None else elapsed(call.started_at, now)
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
            call.wait_seconds = elapsed(call.started_at, call.answered_at)
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
    recordings.reported(call, params)  # the hotline keeps its own copy (the `channels` job downloads it)
    if call.route is None:
        call.route = "voicemail"
    if call.from_phone != ANONYMOUS and call.case_id is None:
        _register_voicemail(call)
    settle(call)
    return call


def _register_voicemail(call: Call) -> None:
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
    }
    origin = Origin(call_sid=call.call_sid, sms_consent=cfg.voicemail_sms)
    try:
        with db.session.no_autoflush:
            cases.register(None, data, via="telephony", origin=origin)
    except ServiceError as err:  # e.g. the configured category was retired: the call goes on the call-back list
        log.error("voicemail %s could not become a case: %s", call.call_sid, err.message)


def recording_link(call: Call) -> str:
    """The hotline's own route to a call's recording (never Twilio's URL), or "" when there is none."""
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
        join_callback(call)
    elif not wants_callback and call.callback_id is not None:
        leave_callback(call)
    if call.status in ("answered", "in_progress") and before not in ("answered", "in_progress"):
        caller_got_through(call)
    _note_on_case(call)


def _note_on_case(call: Call) -> None:
    """When a call linked to a case has ended, its figures go on the case's timeline (once)."""
    if call.case_id is None or call.ended_at is None or call.case_noted:
        return
    cases.note_call(call.case_id, call.operator_id, {"call": call.call_sid, "wait_seconds": call.wait_seconds,
                                                     "talk_seconds": call.talk_seconds,
                                                     "message_seconds": call.recording_seconds or None})
    call.case_noted = True


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
        call.wait_seconds = elapsed(call.started_at, now)
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
