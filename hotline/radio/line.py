"""The station line through Twilio: each console move puts the caller's live call where it belongs.

A call-in that came in through Twilio (`call_sid`) waits in the programme's queue (<Enqueue>). A move records
the wish on the call-in (`line_action`) in the move's transaction; after the commit the door pushes it with
the real twilio.rest.Client — `calls(sid).update(twiml=…)` for the caller, `calls.create` for the producer's
phone. What Twilio refused or never answered stays pending with its error (shown on the console) and is
pushed again by the `channels` job with back-off; the latest wish wins, so a retry never replays an old move.

screen   the caller and the producer's phone meet in a conference named after the call-in
ready    the caller goes back to the programme's queue (the producer's leg is hung up)
on_air   the caller is dialled through to the studio hybrid (number or sip: address, telephony settings)
drop / done / end   a short spoken goodbye, then hang up
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from twilio.twiml.voice_response import VoiceResponse

from hotline import clock
from hotline.auth.models import User
from hotline.extensions import db
from hotline.notify.sms import twilio_client
from hotline.radio.models import CallIn
from hotline.telephony import settings as line

log = logging.getLogger("hotline.radio")
LANGUAGE = "zh-CN"
SAY = {
    "screen": "导播正在为您接听，请稍候。",
    "ready": "请稍候，马上为您接通直播间。",
    "on_air": "您现在已接入直播间，请讲话。",
    "drop": "感谢您的来电，本次未能接入直播，欢迎下次参与，再见。",
    "done": "感谢您参与节目，再见。",
    "end": "本期节目已经结束，感谢您的来电，再见。",
    "producer": "《工会之声》导播线路，正在为您接通来电听众。",
    # A listener dials the call-in number: outside a live episode's hour, or joining its queue.
    "closed": "您好，这里是《工会之声》热线。节目现在没有直播，请在直播时间再打进来，或拨打12351职工服务热线。谢谢！",
    "welcome": "您好，欢迎参与《工会之声》直播节目，导播马上为您接听，请稍候。",
}
MAX_BACKOFF = timedelta(minutes=2)
# The move on the console → what the caller's line must do.
ACTION_OF_MOVE = {"screen": "screen", "ready": "ready", "back": "screen", "on_air": "on_air", "drop": "drop",
                  "done": "done"}


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5) * (2 ** max(0, attempts - 1)), MAX_BACKOFF)


def wants(callin: CallIn, action: str, producer: User | None = None) -> None:
    """Record what the caller's line must do (in the move's transaction). Only calls that came through Twilio."""
    if not callin.call_sid:
        return
    values = dict(line_action=action, line_error=None, line_attempts=0, line_next_at=clock.now())
    if producer is not None:
        values["producer_id"] = producer.id
    db.session.execute(update(CallIn).where(CallIn.id == callin.id).values(**values)
                       .execution_options(synchronize_session=False))


def conference_name(callin: CallIn) -> str:
    return f"radio-screen-{callin.id}"


def queue_name(callin: CallIn) -> str:
    return programme_queue(callin.episode.programme.code)


def programme_queue(programme_code: str) -> str:
    return f"radio-{programme_code}"


def arrival_twiml(programme_code: str | None) -> VoiceResponse:
    """A listener's call: waits in the programme's queue, or (None: no live episode now) hears it is closed."""
    response = VoiceResponse()
    if programme_code is None:
        response.say(SAY["closed"], language=LANGUAGE)
        response.hangup()
    else:
        response.say(SAY["welcome"], language=LANGUAGE)
        response.enqueue(programme_queue(programme_code))
    return response


def caller_twiml(callin: CallIn, action: str, studio: str | None) -> VoiceResponse:
    response = VoiceResponse()
    response.say(SAY[action], language=LANGUAGE)
    if action == "screen":
        response.dial().conference(conference_name(callin), start_conference_on_enter=True,
                                   end_conference_on_exit=False, beep=False)
    elif action == "ready":
        response.enqueue(queue_name(callin))
    elif action == "on_air":
        dial = response.dial()
        if studio.startswith("sip:"):
            dial.sip(studio)
        else:
            dial.number(studio)
    else:
        response.hangup()
    return response


def producer_twiml(callin: CallIn) -> VoiceResponse:
    response = VoiceResponse()
    response.say(SAY["producer"], language=LANGUAGE)
    response.dial().conference(conference_name(callin), start_conference_on_enter=True,
                               end_conference_on_exit=True, beep=False)
    return response


class LineProblem(Exception):
    pass


def _apply(client, callin: CallIn, action: str) -> str | None:
    """One push; returns the producer leg's CallSid when one was placed."""
    cfg = current_app.config
    studio = line.get().studio_line
    if action == "on_air" and not studio:
        raise LineProblem("no studio line is set (telephony settings)")
    producer_sid = None
    if action == "screen":
        producer = db.session.get(User, callin.producer_id) if callin.producer_id else None
        if producer is None or not producer.phone:
            raise LineProblem("the producer has no phone number on their account")
        client.calls(callin.call_sid).update(twiml=str(caller_twiml(callin, action, studio)))
        if not callin.producer_sid:
            leg = client.calls.create(to=producer.phone, from_=cfg.get("RADIO_LINE_FROM") or cfg.get("TWILIO_FROM"),
                                      twiml=str(producer_twiml(callin)))
            producer_sid = leg.sid
    else:
        client.calls(callin.call_sid).update(twiml=str(caller_twiml(callin, action, studio)))
        if callin.producer_sid:  # the producer's screening leg is no longer needed
            try:
                client.calls(callin.producer_sid).update(status="completed")
            except Exception as exc:  # noqa: BLE001 - the producer can hang up themselves
                log.info("producer leg %s not ended: %s", callin.producer_sid, exc)
    return producer_sid


def push(callin_ids: list[int] | None = None, now=None) -> dict[str, int]:
    """Push pending line actions (these call-ins, or every one that is due). Commits per call-in."""
    from twilio.base.exceptions import TwilioException, TwilioRestException

    cfg = current_app.config
    stats = {"pushed": 0, "failed": 0}
    now = now or clock.now()
    stmt = select(CallIn.id).where(CallIn.line_action.is_not(None))
    if callin_ids is not None:
        stmt = stmt.where(CallIn.id.in_(callin_ids))
    else:
        stmt = stmt.where(CallIn.line_next_at <= now)
    pending = list(db.session.scalars(stmt.order_by(CallIn.line_next_at, CallIn.id).limit(100)))
    if not pending:
        return stats
    client = twilio_client() if cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN") else None
    for callin_id in pending:
        callin = db.session.get(CallIn, callin_id)
        db.session.refresh(callin)
        action = callin.line_action
        if action is None:
            continue
        try:
            if client is None:
                raise LineProblem("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)")
            producer_sid = _apply(client, callin, action)
        except (TwilioRestException, TwilioException, LineProblem, OSError) as exc:
            if isinstance(exc, TwilioRestException):
                error = f"Twilio {exc.status} {exc.code or ''}: {exc.msg}"
                if exc.status == 404 or exc.code == 21220:  # the call is over: nothing left to move
                    error = None
            else:
                error = str(exc) or type(exc).__name__
            values: dict[str, Any]
            if error is None:
                values = dict(line_action=None, line_error=None)
            else:
                attempts = callin.line_attempts + 1
                values = dict(line_error=error[:300], line_attempts=attempts,
                              line_next_at=clock.now() + backoff(attempts))
                stats["failed"] += 1
        else:
            values = dict(line_action=None, line_error=None, line_attempts=0, line_next_at=None)
            if producer_sid:
                values["producer_sid"] = producer_sid[:64]
            elif action != "screen":
                values["producer_sid"] = None
            stats["pushed"] += 1
        # Only if nobody asked for something else meanwhile: the latest wish wins.
        db.session.execute(update(CallIn).where(CallIn.id == callin_id, CallIn.line_action == action)
                           .values(**values).execution_options(synchronize_session=False))
        db.session.commit()
    return stats
