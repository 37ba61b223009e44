"""The digest's broadcast wording and timing: one row, Chinese defaults, edited by producers and admins.

The broadcast texts are Chinese content read on air, not interface strings: they live here, not in the
translation catalogue. Placeholders in braces are filled when the digest is built.
"""
from __future__ import annotations

import re
from datetime import time
from typing import Any

from flask_babel import gettext as _

from hotline import clock
from hotline.db_helpers import check_version, insert_ignore
from hotline.digest.models import DigestSettings
from hotline.errors import InvalidInput
from hotline.extensions import db

DEFAULTS: dict[str, Any] = {
    "build_at": "16:30",
    "rate": 250,
    "reserve_seconds": 45,
    "qa_days": 7,
    "intro": ("各位听众，各位职工朋友，大家好！欢迎收听由吴江市总工会和吴江人民广播电台联合创办的《职工之声》。"
              "今天是{date}，{weekday}。《职工之声》每天为您快递工会动态、政策讯息和求职求学服务。"),
    "outro": ("以上就是今天《职工之声》的全部内容。职工朋友在劳动权益方面遇到问题，请拨打12351职工服务热线。"
              "每周六下午一点半，欢迎收听《工会之声》直播，打进电话和我们交流。感谢收听，我们明天同一时间再见！"),
    "title_union_news": "工会动态",
    "title_policy": "政策讯息",
    "title_jobs": "求职求学",
    "title_qa": "热线问答",
    "title_figures": "今日热线",
    "qa_question": "有职工打进12351热线问：",
    "qa_answer": "答：",
    "figures_text": ("截至今天{time}，12351职工服务热线今天共受理职工诉求{registered}件，办结{closed}件，"
                     "其中按时办结{on_time}件，按时办结率{on_time_rate}。"),
    "figures_text_none_closed": "截至今天{time}，12351职工服务热线今天共受理职工诉求{registered}件。",
}
PLACEHOLDERS = {
    "intro": ("date", "weekday"),
    "outro": ("date", "weekday"),
    "figures_text": ("time", "registered", "closed", "on_time", "on_time_rate"),
    "figures_text_none_closed": ("time", "registered"),
}
TEXT_FIELDS = ("intro", "outro", "figures_text", "figures_text_none_closed")
SHORT_FIELDS = ("title_union_news", "title_policy", "title_jobs", "title_qa", "title_figures", "qa_question",
                "qa_answer")
SHORT_MAX = {"qa_question": 100, "qa_answer": 100}
TEXT_MAX = 1000
RATE_RANGE = (120, 400)
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


def get() -> DigestSettings:
    """The settings row, created with the defaults the first time it is needed."""
    row = db.session.get(DigestSettings, 1)
    if row is None:
        insert_ignore(DigestSettings, [dict(DEFAULTS, id=1, version=1)])
        row = db.session.get(DigestSettings, 1)
    return row


def build_time(settings: DigestSettings) -> time:
    hh, mm = settings.build_at.split(":")
    return time(int(hh), int(mm))


def fill(template: str, **values: Any) -> str:
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", str(value))
    return out


def section_title(settings: DigestSettings, section: str) -> str:
    return getattr(settings, f"title_{section}", "") or ""


def update(actor, form: dict[str, Any]) -> DigestSettings:
    """Check and save the settings a producer sent; refuses the whole form with field messages."""
    row = get()
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    check_version(row, form.get("version"), _("The settings were changed by someone else meanwhile. Reload the "
                                              "page to see their change, then make yours again."))
    raw = (form.get("build_at") or "").strip()
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", raw):
        errors["build_at"] = _("Use HH:MM, e.g. 16:30.")
    else:
        clean["build_at"] = raw
    for name, low, high in (("rate", *RATE_RANGE), ("reserve_seconds", 0, 300), ("qa_days", 1, 60)):
        try:
            value = int((form.get(name) or "").strip())
        except ValueError:
            errors[name] = _("A whole number, please.")
            continue
        if not low <= value <= high:
            errors[name] = _("Between %(low)d and %(high)d.", low=low, high=high)
        else:
            clean[name] = value
    for name in TEXT_FIELDS + SHORT_FIELDS:
        text = (form.get(name) or "").strip()
        limit = TEXT_MAX if name in TEXT_FIELDS else SHORT_MAX.get(name, 32)
        if not text:
            errors[name] = _("Required.")
        elif len(text) > limit:
            errors[name] = _("At most %(max)d characters.", max=limit)
        else:
            unknown = [p for p in re.findall(r"{([^{}]*)}", text) if p not in PLACEHOLDERS.get(name, ())]
            if unknown:
                errors[name] = _("Unknown placeholder {%(name)s}.", name=unknown[0][:20])
            else:
                clean[name] = text
    if errors:
        raise InvalidInput(_("Some settings are not right; see the marked fields."), errors)
    for key, value in clean.items():
        setattr(row, key, value)
    row.updated_at = clock.now()
    row.updated_by_id = actor.id if actor else None
    db.session.flush()
    return row
