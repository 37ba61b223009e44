"""The line's settings (office hours, spoken texts, caller SMS texts): data in telephony_settings, edited by admins.

What callers hear and read is Chinese and belongs to the hotline, not to the interface language,
so it lives here as editable text with Chinese defaults rather than in the translation catalogue.
"""
from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hotline import clock
from hotline.db_helpers import insert_ignore
from hotline.errors import InvalidInput
from hotline.extensions import db
from hotline.reference.models import CaseType, Category
from hotline.telephony.models import TelephonySettings
from hotline.workdays import service as workdays

TWILIO_HOLD_MUSIC = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"

DEFAULTS: dict[str, Any] = {
    "open_time": "08:30",
    "close_time": "17:30",
    "open_days": "workdays",
    "queue_name": "12351",
    "dial_to": None,
    "max_wait_seconds": 120,
    "max_message_seconds": 120,
    "hold_music_url": TWILIO_HOLD_MUSIC,
    "say_greeting_open": "您好，这里是12351职工服务热线。正在为您转接接线员，请稍候。",
    "say_greeting_closed": ("您好，这里是12351职工服务热线。现在是非工作时间，工作时间为工作日上午八点半至下午五点半。"
                            "请在提示音后留言，说明您的姓名和问题，按井号键结束。我们会在下一个工作日处理，并短信告知您工单号。"),
    "say_wait": "接线员正在通话中，请您耐心等候。",
    "say_busy": "抱歉，接线员暂时都在忙。请在提示音后留言，说明您的姓名和问题，按井号键结束，我们会尽快回复您。",
    "say_thanks": "您的留言已收到，我们会尽快处理。谢谢您的来电，再见。",
    "say_no_message": "没有收到您的留言。欢迎在工作时间再次来电，再见。",
    "say_not_operator": "此号码只供接线员使用，再见。",
    "sms_signature": "【苏州市总工会】",
    "sms_quiet_start": "21:00",
    "sms_quiet_end": "08:00",
    "voice_survey": False,
    "voice_survey_tries": 3,
    "studio_line": None,
    "recording_keep_days": 180,
    "survey_reply_days": 7,
    "voicemail_type": "consult",
    "voicemail_category": "other",
    "voicemail_sms": True,
}

TEXT_FIELDS = ("say_greeting_open", "say_greeting_closed", "say_wait", "say_busy", "say_thanks", "say_no_message",
               "say_not_operator")
# Placeholders each text may use; anything else in braces is refused. (SMS texts: the catalogue, hotline.notify.templates.)
PLACEHOLDERS: dict[str, tuple[str, ...]] = {}
REQUIRED_TEXTS = ("say_greeting_open", "say_greeting_closed", "say_busy")
TEXT_MAX = 500
OPEN_DAYS = ("workdays", "every_day")


def get() -> TelephonySettings:
    """The settings row, created with the defaults the first time it is needed."""
    row = db.session.get(TelephonySettings, 1)
    if row is None:
        insert_ignore(TelephonySettings, [dict(DEFAULTS, id=1)])
        row = db.session.get(TelephonySettings, 1)
    return row


def _hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def is_open(moment: datetime | None = None, settings: TelephonySettings | None = None) -> bool:
    """Office hours: working days of the calendar (or every day), between the opening and closing time."""
    settings = settings or get()
    local = clock.to_local(moment or clock.now())
    if settings.open_days == "workdays" and not workdays.is_workday(local.date()):
        return False
    return _hhmm(settings.open_time) <= local.time() < _hhmm(settings.close_time)


def fill(template: str, **values: str) -> str:
    """Put {case_no}, {due} … into a text; unknown braces were refused when the text was saved."""
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def update(actor, form: dict[str, Any]) -> TelephonySettings:
    """Check and save the settings an admin sent; refuses the whole form with field messages."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}

    for name in ("open_time", "close_time", "sms_quiet_start", "sms_quiet_end"):
        raw = (form.get(name) or "").strip()
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", raw):
            errors[name] = _("Use the form HH:MM, e.g. 08:30.")
        else:
            clean[name] = raw
    if "open_time" in clean and "close_time" in clean and clean["open_time"] >= clean["close_time"]:
        errors["close_time"] = _("The line must close after it opens.")
    open_days = form.get("open_days") or ""
    if open_days not in OPEN_DAYS:
        errors["open_days"] = _("Choose on which days the line is open.")
    else:
        clean["open_days"] = open_days
    queue = (form.get("queue_name") or "").strip()
    if not queue or len(queue) > 64:
        errors["queue_name"] = _("Give a queue name of at most 64 characters.")
    else:
        clean["queue_name"] = queue
    dial_to = (form.get("dial_to") or "").strip()
    if dial_to and not re.fullmatch(r"(\+[1-9]\d{6,14}|sip:[^\s]{3,60}|client:[A-Za-z0-9_.-]{1,50})", dial_to):
        errors["dial_to"] = _("Give a number in international form (+86…), a sip: address or a client: name, or leave it empty.")
    else:
        clean["dial_to"] = dial_to or None
    for name, low, high in (("max_wait_seconds", 15, 1800), ("max_message_seconds", 10, 600),
                            ("survey_reply_days", 1, 60), ("voice_survey_tries", 1, 10),
                            ("recording_keep_days", 1, 3650)):
        try:
            value = int(str(form.get(name) or "").strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            errors[name] = _("Give a whole number from %(low)d to %(high)d.", low=low, high=high)
        else:
            clean[name] = value
    studio = (form.get("studio_line") or "").strip()
    if studio and not re.fullmatch(r"(\+[1-9]\d{6,14}|sip:[^\s]{3,60})", studio):
        errors["studio_line"] = _("Give the studio hybrid's number in international form (+86…) or its sip: address, or leave it empty.")
    else:
        clean["studio_line"] = studio or None
    clean["voice_survey"] = form.get("voice_survey") in ("1", "on", "true", True)
    music = (form.get("hold_music_url") or "").strip()
    if not re.fullmatch(r"https?://\S{3,490}", music):
        errors["hold_music_url"] = _("Give the web address (http or https) of the hold music.")
    else:
        clean["hold_music_url"] = music
    for name in TEXT_FIELDS:
        text = (form.get(name) or "").strip()
        if len(text) > TEXT_MAX:
            errors[name] = _("At most %(max)d characters.", max=TEXT_MAX)
            continue
        if name in REQUIRED_TEXTS and not text:
            errors[name] = _("This text is required.")
            continue
        allowed = PLACEHOLDERS.get(name, ())
        unknown = [p for p in re.findall(r"\{([^{}]*)\}", text) if p not in allowed]
        if unknown or text.count("{") != text.count("}"):
            errors[name] = (_("Only these placeholders may be used: %(names)s.",
                              names=", ".join("{" + p + "}" for p in allowed)) if allowed
                            else _("This text cannot contain placeholders in braces."))
            continue
        clean[name] = text
    signature = (form.get("sms_signature") or "").strip()
    if not re.fullmatch(r"【[^【】\s]{2,12}】", signature):
        errors["sms_signature"] = _("Give the registered signature in 【】, 2 to 12 characters, e.g. 【苏州市总工会】.")
    else:
        clean["sms_signature"] = signature
    vm_type = form.get("voicemail_type") or ""
    if db.session.get(CaseType, vm_type) is None:
        errors["voicemail_type"] = _("Choose a case type.")
    else:
        clean["voicemail_type"] = vm_type
    vm_cat = form.get("voicemail_category") or ""
    if db.session.scalar(select(Category.id).where(Category.code == vm_cat, Category.active.is_(True))) is None:
        errors["voicemail_category"] = _("Choose a category.")
    else:
        clean["voicemail_category"] = vm_cat
    clean["voicemail_sms"] = form.get("voicemail_sms") in ("1", "on", "true", True)
    if errors:
        first = next(iter(errors.values()))
        raise InvalidInput(_("The settings were not saved: %(problem)s", problem=first), errors)
    row = get()
    for key, value in clean.items():
        setattr(row, key, value)
    row.updated_at = clock.now()
    row.updated_by_id = actor.id if actor is not None else None
    db.session.flush()
    return row
