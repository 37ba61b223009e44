"""Click to call back (回拨): Twilio rings the operator's own phone first, then connects it to the caller.

The attempt and its outcome are logged from Twilio's answer, nobody types them: the <Dial action> tells
whether the caller answered (reached) or not (no answer); the operator's own leg not answering logs nothing
(the caller was never called) and the button is offered again. One dial at a time per entry.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import lazyload
from twilio.twiml.voice_response import VoiceResponse

from hotline import clock
from hotline.auth.models import User
from hotline.errors import IllegalMove, InvalidInput, NotFound, ServiceError
from hotline.extensions import db
from hotline.notify.sms import twilio_client
from hotline.telephony import callbacks, parsing
from hotline.telephony.models import ANONYMOUS, Callback

DIAL_TIMEOUT = 30  # seconds each phone rings
DIAL_STALE = timedelta(minutes=5)  # a dial whose callbacks never came does not block the entry for ever
SAY_OPERATOR = "正在为您回拨来电人，请稍候。"
SAY_GONE = "这条回拨已经处理，再见。"


class DialFailed(ServiceError):
    status = 502
    code = "dial_failed"


def _entry(entry_id: Any) -> Callback | None:
    try:
        entry_id = int(entry_id)
    except (TypeError, ValueError):
        return None
    return db.session.scalar(select(Callback).where(Callback.id == entry_id).options(lazyload("*"))
                             .with_for_update().execution_options(populate_existing=True))


def start(actor: User, entry_id: int, url) -> Callback:
    """Place the call: the operator's phone first. `url(endpoint, **values)` gives Twilio's absolute URLs."""
    from twilio.base.exceptions import TwilioException, TwilioRestException

    cfg = current_app.config
    entry = _entry(entry_id)
    if entry is None:
        raise NotFound(_("That call-back entry was not found."))
    if entry.status != "open":
        raise IllegalMove(_("This call-back is already done."))
    if entry.phone == ANONYMOUS:
        raise IllegalMove(_("The number was withheld; it cannot be called back."))
    if not actor.phone:
        raise InvalidInput(_("Your account has no phone number for Twilio to ring first; ask an administrator."),
                           {"phone": _("Required.")})
    if not (cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN") and cfg.get("TWILIO_FROM")):
        raise IllegalMove(_("Calling through Twilio is not set up (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM)."))
    now = clock.now()
    if entry.dial_sid and entry.dial_started_at and now - entry.dial_started_at < DIAL_STALE:
        raise IllegalMove(_("This caller is being called back right now."))
    try:
        leg = twilio_client().calls.create(
            to=actor.phone, from_=cfg["TWILIO_FROM"], timeout=DIAL_TIMEOUT,
            url=url("telephony.callback_bridge", entry=entry.id), method="POST",
            status_callback=url("telephony.callback_leg", entry=entry.id), status_callback_method="POST",
            status_callback_event=["completed"])
    except (TwilioRestException, TwilioException, OSError) as exc:
        entry.dial_error = str(getattr(exc, "msg", None) or exc)[:300]
        db.session.flush()
        raise DialFailed(_("Twilio did not place the call: %(error)s", error=entry.dial_error)) from exc
    entry.dial_sid = leg.sid[:64]
    entry.dial_operator_id = actor.id
    entry.dial_started_at = now
    entry.dial_error = None
    entry.updated_at = now
    db.session.flush()
    return entry


def bridge(entry_id: Any, params: dict[str, str], url) -> VoiceResponse:
    """The operator answered their phone: now dial the caller (the Dial action logs the outcome)."""
    entry = _entry(entry_id)
    response = VoiceResponse()
    if entry is None or entry.status != "open" or entry.dial_sid != (params.get("CallSid") or "").strip():
        response.say(SAY_GONE, language="zh-CN")
        response.hangup()
        return response
    response.say(SAY_OPERATOR, language="zh-CN")
    dial = response.dial(action=url("telephony.callback_done", entry=entry.id), method="POST",
                         timeout=DIAL_TIMEOUT, caller_id=current_app.config.get("TWILIO_FROM"))
    dial.number(entry.phone)
    return response


def done(entry_id: Any, params: dict[str, str]) -> Callback | None:
    """<Dial action>: the caller answered (reached) or not (no answer). Logged once: a retried webhook finds
    the dial already closed."""
    entry = _entry(entry_id)
    sid = (params.get("CallSid") or "").strip()
    if entry is None or not sid or entry.dial_sid != sid:
        return None
    status = (params.get("DialCallStatus") or "").strip().lower()
    seconds = parsing.seconds(params.get("DialCallDuration")) or 0
    operator = db.session.get(User, entry.dial_operator_id) if entry.dial_operator_id else None
    entry.dial_sid = None
    if entry.status != "open" or operator is None:
        return entry
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):  # kept data, not one reader's language
        if status == "completed":
            outcome, note = "reached", _("Called back through Twilio, talked %(n)d s.", n=seconds)
        else:
            outcome, note = "no_answer", _("Called back through Twilio: %(status)s.", status=status or "?")
    return callbacks.log_attempt(operator, entry.id, outcome, note)


def leg_ended(entry_id: Any, params: dict[str, str]) -> None:
    """The operator's own leg ended. If the Dial never ran (their phone did not answer), nothing is logged and
    the entry can be dialled again; the reason is kept for the list."""
    entry = _entry(entry_id)
    sid = (params.get("CallSid") or "").strip()
    if entry is None or not sid or entry.dial_sid != sid:
        return
    status = (params.get("CallStatus") or "").strip().lower()
    entry.dial_sid = None
    if status in ("no-answer", "busy", "failed", "canceled"):
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            entry.dial_error = _("Your phone did not answer (%(status)s); the caller was not called.", status=status)
    entry.updated_at = clock.now()
    db.session.flush()
