"""回访 by voice: a closed case gets an automated call; the caller answers by key press.

With the setting on, closing a case (or registering it closed on the call) writes a voice SurveyRequest
instead of the SMS survey. The `channels` job places the call through Twilio (never in the quiet hours);
Twilio fetches /twilio/survey/voice, a <Gather input="dtmf"> asks 满意 1 / 基本满意 2 / 不满意 3, then
已解决 1 / 未解决 2, and the answer is recorded through the case service's survey action, exactly like an
operator's 回访 (channel "voice", `resolved` with it). No answer after the set number of tries: the survey
is `unreached` and goes on the operators' 回访 worklist (the call-back page lists them).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import lazyload
from twilio.twiml.voice_response import VoiceResponse

from hotline import clock
from hotline.cases import service as cases
from hotline.cases.models import Case
from hotline.db_helpers import insert_ignore
from hotline.errors import ServiceError
from hotline.extensions import db
from hotline.notify.sms import twilio_client
from hotline.notify.templates import quiet_until
from hotline.telephony import settings as line
from hotline.telephony.models import ANONYMOUS, SurveyRequest

log = logging.getLogger("hotline.telephony")
LANGUAGE = "zh-CN"
RETRY_AFTER = timedelta(hours=2)
RESULT_KEYS = {"1": "satisfied", "2": "basically_satisfied", "3": "dissatisfied"}
RESOLVED_KEYS = {"1": True, "2": False}
SAY = {
    "intro": "您好，这里是12351职工服务热线回访。您在{date}反映的问题已经办结。",
    "ask_result": "请对办理结果进行评价：满意请按1，基本满意请按2，不满意请按3。",
    "ask_resolved": "您反映的问题是否已经解决？已解决请按1，未解决请按2。",
    "again": "没有收到有效的按键。",
    "thanks": "感谢您的评价，再见。",
    "bye": "没有收到您的评价，我们会再与您联系，再见。",
    "gone": "这次回访已经完成，感谢您的接听，再见。",
}


def enabled() -> bool:
    return bool(line.get().voice_survey)


def schedule(case: Case) -> bool:
    """The voice 回访 of a closed case: one per closure round (replaces the SMS survey of that round)."""
    if not case.caller_phone or case.caller_phone == ANONYMOUS:
        return False
    now = clock.now()
    start = quiet_until(now) or now
    return bool(insert_ignore(SurveyRequest, [dict(
        case_id=case.id, round=case.reopen_count, phone=case.caller_phone, sent_at=start,
        expires_at=start + timedelta(days=line.get().survey_reply_days), status="pending", result=None,
        answered_at=None, channel="voice", tries=0, call_sid=None, next_try_at=start, last_error=None)]))


def _url(path: str, **query: Any) -> str:
    base = (current_app.config.get("HOTLINE_PUBLIC_URL") or "").rstrip("/")
    return base + path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def place_due(now: datetime | None = None, limit: int = 20) -> dict[str, int]:
    """The job: call those whose survey call is due (daytime only). Commits per call."""
    from twilio.base.exceptions import TwilioException, TwilioRestException

    cfg = current_app.config
    stats = {"placed": 0, "failed": 0}
    now = now or clock.now()
    if quiet_until(now) is not None:
        return stats
    due = list(db.session.scalars(select(SurveyRequest.id).where(
        SurveyRequest.channel == "voice", SurveyRequest.status == "pending", SurveyRequest.call_sid.is_(None),
        SurveyRequest.next_try_at <= now).order_by(SurveyRequest.next_try_at, SurveyRequest.id).limit(limit)))
    if not due:
        return stats
    ready = cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN") and cfg.get("TWILIO_FROM") \
        and cfg.get("HOTLINE_PUBLIC_URL")
    client = twilio_client() if ready else None
    for survey_id in due:
        survey = _locked(survey_id)
        if survey is None or survey.status != "pending" or survey.call_sid is not None:
            db.session.commit()
            continue
        try:
            if client is None:
                raise RuntimeError("Twilio is not configured (TWILIO_*, HOTLINE_PUBLIC_URL)")
            call = client.calls.create(
                to=survey.phone, from_=cfg["TWILIO_FROM"], timeout=30,
                url=_url("/twilio/survey/voice", survey=survey.id), method="POST",
                status_callback=_url("/twilio/survey/status", survey=survey.id), status_callback_method="POST",
                status_callback_event=["completed"])
        except (TwilioRestException, TwilioException, OSError, RuntimeError) as exc:
            survey.last_error = str(getattr(exc, "msg", None) or exc)[:300]
            survey.next_try_at = clock.now() + timedelta(minutes=10)
            stats["failed"] += 1
        else:
            survey.call_sid = call.sid[:64]
            survey.tries += 1
            survey.last_error = None
            stats["placed"] += 1
        db.session.commit()
    return stats


def _locked(survey_id: Any) -> SurveyRequest | None:
    try:
        survey_id = int(survey_id)
    except (TypeError, ValueError):
        return None
    return db.session.scalar(select(SurveyRequest).where(SurveyRequest.id == survey_id).options(lazyload("*"))
                             .with_for_update().execution_options(populate_existing=True))


def _live(survey_id: Any, params: dict[str, str]) -> SurveyRequest | None:
    survey = _locked(survey_id)
    sid = (params.get("CallSid") or "").strip()
    if survey is None or survey.channel != "voice" or not sid or survey.call_sid != sid:
        return None
    return survey


def _gather(response: VoiceResponse, survey: SurveyRequest, step: int, text: str) -> None:
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, method="POST",
                             action=_url("/twilio/survey/answer", survey=survey.id, step=step))
    gather.say(text, language=LANGUAGE)


def _date(case: Case) -> str:
    local = clock.to_local(case.created_at)
    return f"{local.month}月{local.day}日"


def greet(survey_id: Any, params: dict[str, str]) -> VoiceResponse:
    """The caller answered: the first question."""
    response = VoiceResponse()
    survey = _live(survey_id, params)
    if survey is None or survey.status != "pending":
        response.say(SAY["gone"], language=LANGUAGE)
        response.hangup()
        return response
    case = db.session.get(Case, survey.case_id)
    _gather(response, survey, 1, SAY["intro"].format(date=_date(case)) + SAY["ask_result"])
    response.redirect(_url("/twilio/survey/answer", survey=survey.id, step=1), method="POST")
    return response


def answer(survey_id: Any, step: Any, params: dict[str, str], again: bool = False) -> VoiceResponse:
    """A key press (or none). Step 1: satisfaction; step 2: resolved; then recorded on the case."""
    response = VoiceResponse()
    survey = _live(survey_id, params)
    if survey is None or survey.status != "pending":
        response.say(SAY["gone"], language=LANGUAGE)
        response.hangup()
        return response
    digit = (params.get("Digits") or "").strip()[:1]
    if str(step) == "1":
        if digit not in RESULT_KEYS:
            if again:
                response.say(SAY["bye"], language=LANGUAGE)
                response.hangup()
                return response
            _gather(response, survey, 1, SAY["again"] + SAY["ask_result"])
            response.redirect(_url("/twilio/survey/answer", survey=survey.id, step=1, again=1), method="POST")
            return response
        survey.result = RESULT_KEYS[digit]
        _gather(response, survey, 2, SAY["ask_resolved"])
        response.redirect(_url("/twilio/survey/answer", survey=survey.id, step=2), method="POST")
        return response
    if survey.result is None:
        response.say(SAY["bye"], language=LANGUAGE)
        response.hangup()
        return response
    resolved = RESOLVED_KEYS.get(digit)  # no key: the satisfaction is recorded without it
    case = db.session.get(Case, survey.case_id)
    try:
        with db.session.no_autoflush:
            cases.perform(None, case, "survey", case.version,
                          {"result": survey.result, "channel": "voice", "resolved": resolved})
    except ServiceError as err:
        log.warning("voice survey %s not recorded: %s", survey.id, err.message)
        survey.status, survey.last_error = "superseded", err.message[:300]
    else:
        survey.status, survey.answered_at = "answered", clock.now()
    response.say(SAY["thanks"], language=LANGUAGE)
    response.hangup()
    return response


def call_ended(survey_id: Any, params: dict[str, str]) -> None:
    """Twilio's status callback: not answered (or hung up before answering): try again later, or after the
    last try put it on the operators' 回访 worklist."""
    survey = _live(survey_id, params)
    if survey is None:
        return
    survey.call_sid = None
    if survey.status != "pending":
        return
    status = (params.get("CallStatus") or "").strip().lower()
    survey.last_error = f"call {status or 'ended'} without an answer"
    if survey.tries >= line.get().voice_survey_tries:
        survey.status = "unreached"
    else:
        later = clock.now() + RETRY_AFTER
        survey.next_try_at = quiet_until(later) or later
    survey.result = None  # a half-answered call is asked again from the start


def worklist(limit: int = 200) -> list[SurveyRequest]:
    """Voice 回访 nobody answered: operators call these callers themselves."""
    return list(db.session.scalars(select(SurveyRequest).where(
        SurveyRequest.channel == "voice", SurveyRequest.status == "unreached")
        .order_by(SurveyRequest.next_try_at, SurveyRequest.id).limit(limit)))
