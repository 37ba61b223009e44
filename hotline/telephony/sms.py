"""SMS with callers: receipt, reply notice, the 回访 survey, and the replies that come back.

Every outgoing SMS goes to the outbox (hotline.notify) in the transaction of the change that causes
it; the delivery job sends it. Nothing is sent inline from a webhook. A caller gets SMS only when
they agreed (SmsConsent) and their number can receive them (a mobile number).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import lazyload

from hotline import clock
from hotline.auth.models import User
from hotline.cases import service as cases
from hotline.cases.models import Case
from hotline.db_helpers import get_or_404, insert_ignore
from hotline.errors import IllegalMove, InvalidInput, ServiceError
from hotline.extensions import db
from hotline.notify.models import Notice, SmsOptOut
from hotline.notify.service import enqueue_phone_sms
from hotline.notify.templates import quiet_until
from hotline.telephony import settings as line
from hotline.telephony.models import ANONYMOUS, InboundSms, SmsConsent, SurveyRequest
from hotline.telephony.parsing import parse_caller

BODY_MAX = 4000  # Twilio joins long messages up to 1,600 characters; keep more, show less
OPT_OUT_WORDS = {"TD", "T", "N", "退订", "TD退订", "退订TD", "取消", "STOP", "UNSUBSCRIBE"}

REPLY_DIGITS = {"1": "satisfied", "2": "basically_satisfied", "3": "dissatisfied"}
REPLY_WORDS = {
    "满意": "satisfied", "非常满意": "satisfied", "很满意": "satisfied",
    "基本满意": "basically_satisfied", "比较满意": "basically_satisfied", "一般": "basically_satisfied",
    "不满意": "dissatisfied", "很不满意": "dissatisfied", "非常不满意": "dissatisfied",
}
_NOISE = re.compile(r"[\s.,!?;:'\"()\[\]<>~\-_/\\，。！？；：、～—…“”‘’（）【】《》「」]+")


def can_text(phone: str | None) -> bool:
    """Only mobile numbers get SMS (a landline would fail at Twilio)."""
    if not phone or phone == ANONYMOUS:
        return False
    try:
        parsed = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def parse_reply(body: str | None) -> str | None:
    """1 / 2 / 3 (full-width too), 满意 / 基本满意 / 不满意, or "1满意"; anything else is unreadable."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", body or ""))
    if not text or len(text) > 12:
        return None
    if text in REPLY_DIGITS:
        return REPLY_DIGITS[text]
    if text in REPLY_WORDS:
        return REPLY_WORDS[text]
    if text[0] in REPLY_DIGITS and REPLY_WORDS.get(text[1:]) == REPLY_DIGITS[text[0]]:
        return REPLY_DIGITS[text[0]]
    return None


def _daytime(now: datetime) -> datetime | None:
    """None outside the quiet hours (setting, default 21:00–08:00); else when they end."""
    return quiet_until(now)


def is_opt_out(body: str | None) -> bool:
    """TD (any case, full-width too), 退订, STOP …: the caller wants no more SMS."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", body or "")).upper()
    return text in OPT_OUT_WORDS


def opt_out(phone: str, via: str) -> bool:
    """No SMS to this number any more: recorded once, and what still waits in the outbox is not sent."""
    if not phone or phone == ANONYMOUS:
        return False
    new = insert_ignore(SmsOptOut, [dict(phone=phone, at=clock.now(), via=via[:64])])
    db.session.execute(update(Notice).where(Notice.to_phone == phone, Notice.recipient_id.is_(None),
                                            Notice.channel == "sms", Notice.status == "pending")
                       .values(status="opted_out", last_error="the caller opted out (TD)"))
    return bool(new)


def opted_out(phone: str | None) -> bool:
    return bool(phone) and db.session.get(SmsOptOut, phone) is not None


def _due_text(moment: datetime) -> str:
    local = clock.to_local(moment)
    return f"{local.month}月{local.day}日{local:%H:%M}"


# ---------------------------------------------------------------- consent and outgoing SMS

def give_consent(case: Case, via: str) -> bool:
    if not can_text(case.caller_phone):
        return False
    insert_ignore(SmsConsent, [dict(case_id=case.id, phone=case.caller_phone, given_at=clock.now(), via=via)])
    return True


def has_consent(case: Case) -> bool:
    return db.session.get(SmsConsent, case.id) is not None and can_text(case.caller_phone)


def send_receipt(case: Case) -> None:
    enqueue_phone_sms(case.caller_phone, "caller_receipt", f"caller_receipt:{case.id}", "case_receipt",
                      {"case_no": case.case_no, "due": _due_text(case.reply_due_at)}, case)


def send_answered(case: Case) -> None:
    stamp = case.replied_at.isoformat() if case.replied_at else "-"
    enqueue_phone_sms(case.caller_phone, "caller_answered", f"caller_answered:{case.id}:{stamp}", "case_answered",
                      {"case_no": case.case_no}, case)


def send_survey(case: Case) -> None:
    """The 回访 survey after closure: one per closure round (a reopened and re-closed case is asked again)."""
    cfg = line.get()
    now = clock.now()
    sent = _daytime(now) or now
    created = insert_ignore(SurveyRequest, [dict(
        case_id=case.id, round=case.reopen_count, phone=case.caller_phone, sent_at=sent,
        expires_at=sent + timedelta(days=cfg.survey_reply_days), status="pending", result=None, answered_at=None)])
    if created:
        enqueue_phone_sms(case.caller_phone, "caller_survey", f"caller_survey:{case.id}:{case.reopen_count}",
                          "survey_request", {"case_no": case.case_no}, case, send_at=sent)


def close_surveys(case: Case, status: str) -> None:
    """Pending surveys of a case end: reopened (cancelled) or answered by phone (superseded)."""
    db.session.execute(update(SurveyRequest).where(SurveyRequest.case_id == case.id,
                                                   SurveyRequest.status == "pending").values(status=status))


# ---------------------------------------------------------------- replies

def _pending_survey(phone: str, now: datetime) -> SurveyRequest | None:
    return db.session.scalar(select(SurveyRequest).where(
        SurveyRequest.phone == phone, SurveyRequest.status == "pending", SurveyRequest.channel == "sms",
        SurveyRequest.expires_at > now,
        SurveyRequest.sent_at <= now).order_by(SurveyRequest.sent_at.desc(), SurveyRequest.id.desc())
        .options(lazyload("*")).with_for_update().limit(1))


def _latest_survey(phone: str) -> SurveyRequest | None:
    return db.session.scalar(select(SurveyRequest).where(SurveyRequest.phone == phone)
                             .order_by(SurveyRequest.sent_at.desc(), SurveyRequest.id.desc()).limit(1))


def receive(params: dict[str, str]) -> InboundSms:
    """An SMS to the hotline number (POST /twilio/sms). MessageSid unique: a retry changes nothing."""
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()[:64]
    if not sid:
        raise InvalidInput(_("MessageSid is missing."), {"MessageSid": _("Required.")})
    now = clock.now()
    raw_from = (params.get("From") or "")[:64]
    phone = parse_caller(raw_from)
    body = (params.get("Body") or "")[:BODY_MAX]
    created = insert_ignore(InboundSms, [dict(
        message_sid=sid, from_phone=phone, from_raw=raw_from, to_phone=(params.get("To") or "")[:64] or None,
        body=body, received_at=now, result="unreadable", needs_attention=False)])
    sms = db.session.scalar(select(InboundSms).where(InboundSms.message_sid == sid).options(lazyload("*"))
                            .with_for_update().execution_options(populate_existing=True))
    if not created:
        return sms
    if is_opt_out(body) and phone != ANONYMOUS:
        opt_out(phone, sid)
        sms.result = "opted_out"
        latest = _latest_survey(phone)
        sms.case_id = latest.case_id if latest else None
        db.session.flush()
        return sms
    result = parse_reply(body)
    pending = _pending_survey(phone, now) if phone != ANONYMOUS else None
    if result is None:
        sms.result, sms.needs_attention = "unreadable", True
        survey = pending or (_latest_survey(phone) if phone != ANONYMOUS else None)
        sms.case_id = survey.case_id if survey else None
    elif pending is not None:
        case = db.session.get(Case, pending.case_id)
        sms.case_id, sms.survey_id = case.id, pending.id
        try:
            with db.session.no_autoflush:
                cases.perform(None, case, "survey", case.version, {"result": result, "channel": "sms"})
        except ServiceError:
            sms.result, sms.needs_attention = "refused", True
        else:
            pending.status, pending.result, pending.answered_at = "answered", result, now
            sms.result = "recorded"
            if can_text(phone):
                enqueue_phone_sms(phone, "caller_thanks", f"caller_thanks:{pending.id}", "survey_thanks",
                                  {"case_no": case.case_no}, case)
    else:
        latest = _latest_survey(phone) if phone != ANONYMOUS else None
        sms.case_id = latest.case_id if latest else None
        if latest is not None and latest.status == "answered" and latest.result == result:
            sms.result = "duplicate"  # "1" again: already recorded, nothing to do
        else:
            sms.result, sms.needs_attention = "no_survey", True
    db.session.flush()
    return sms


def attention_list(include_handled: bool = False, limit: int = 200) -> list[InboundSms]:
    stmt = select(InboundSms)
    if not include_handled:
        stmt = stmt.where(InboundSms.needs_attention.is_(True))
    return list(db.session.scalars(stmt.order_by(InboundSms.id.desc()).limit(limit)))


def attention_count() -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(InboundSms)
                             .where(InboundSms.needs_attention.is_(True))) or 0


def handle(actor: User, sms_id: Any, result: str | None = None) -> InboundSms:
    """An operator deals with a reply from the list: records it as a survey result, or just marks it done."""
    sms = get_or_404(InboundSms, sms_id, _("That message was not found."))
    if not sms.needs_attention:
        raise IllegalMove(_("This message was already dealt with."))
    if result:
        if sms.case_id is None:
            raise InvalidInput(_("No case is known for this message; open the caller's case and record the survey there."),
                               {"result": _("No case.")})
        case = db.session.get(Case, sms.case_id)
        cases.perform(actor, case, "survey", case.version, {"result": result, "channel": "sms"})
        sms.result = "recorded"
    sms.needs_attention = False
    sms.handled_at = clock.now()
    sms.handled_by_id = actor.id
    db.session.flush()
    return sms
