"""The SMS catalogue: every SMS the system sends is one of these templates, filled with its variables.

Domestic gateways (Aliyun, Tencent Cloud) and Twilio's China rules accept only pre-approved templates
with variables, a registered signature (【…】) and no URLs. Each template here has a code, the variables
it takes (in order: Tencent Cloud's templates number them {1}, {2} …), a default text, and whether the
caller's opt-out (回复TD退订) ends it. Admins edit the text and the gateway's template id per code
(/admin/sms-templates); the signature and the quiet hours are telephony settings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l

from hotline import clock
from hotline.extensions import db
from hotline.notify.models import SmsTemplate

OPT_OUT = "回复TD退订"
URL_RE = re.compile(r"(https?://|www\.|\b[a-z0-9-]+\.(?:com|cn|net|org|gov|edu)(?:\.cn)?\b)", re.I)
VAR_RE = re.compile(r"\{([a-z_]+)\}")
TEXT_MAX = 300
VALUE_MAX = 35  # a variable's value: Aliyun's limit for an ordinary template variable


@dataclass(frozen=True)
class Spec:
    code: str
    audience: str  # caller | staff
    variables: tuple[str, ...]
    default: str
    label: Any
    opt_out: bool = False  # the text must end with 回复TD退订


CATALOGUE: dict[str, Spec] = {spec.code: spec for spec in (
    Spec("case_receipt", "caller", ("case_no", "due"),
         "您反映的问题已受理，工单号{case_no}，我们将在{due}前答复您。" + OPT_OUT,
         _l("Receipt to the caller"), opt_out=True),
    Spec("case_answered", "caller", ("case_no",),
         "您的工单{case_no}已答复，请留意承办部门的答复。如有疑问请致电12351。" + OPT_OUT,
         _l("Reply notice to the caller"), opt_out=True),
    Spec("survey_request", "caller", ("case_no",),
         "您的工单{case_no}已办结。请对办理结果进行评价：回复1满意 2基本满意 3不满意。" + OPT_OUT,
         _l("Satisfaction survey to the caller"), opt_out=True),
    Spec("survey_thanks", "caller", ("case_no",), "感谢您对工单{case_no}的评价！",
         _l("Thanks for a survey answer")),
    Spec("staff_dispatched", "staff", ("case_no", "category", "due"),
         "工单{case_no}（{category}）已派给您，请于{due}前在12351系统受理。", _l("Case dispatched (staff)")),
    Spec("staff_warning", "staff", ("case_no", "category", "deadline", "due"),
         "工单{case_no}（{category}）的{deadline}期限{due}将到，请及时办理。", _l("Deadline near (staff)")),
    Spec("staff_overdue", "staff", ("case_no", "category", "deadline", "due"),
         "工单{case_no}（{category}）已超期：{deadline}期限为{due}。", _l("Overdue (staff)")),
    Spec("staff_reminder", "staff", ("count", "first"),
         "您有{count}件工单仍超期未办（{first}），请尽快处理。", _l("Morning reminder (staff)")),
)}


class TemplateProblem(Exception):
    """The message cannot be sent as it is: a variable missing, a URL, too long."""


def entry(code: str) -> tuple[str, str]:
    """(text, gateway template id) of a code: the admin's row, else the default."""
    row = db.session.get(SmsTemplate, code)
    if row is not None:
        return row.text, row.gateway_id
    return CATALOGUE[code].default, ""


class Catalogue:
    """The catalogue and signature read once (a scan renders thousands of messages)."""

    def __init__(self):
        from sqlalchemy import select

        self.rows = {row.code: (row.text, row.gateway_id) for row in db.session.scalars(select(SmsTemplate))}
        self.signature = signature()
        self.max_length = max_length()

    def entry(self, code: str) -> tuple[str, str]:
        return self.rows.get(code) or (CATALOGUE[code].default, "")

    def render(self, code: str, params: dict[str, Any] | None) -> str:
        return render(code, params, self)


def signature() -> str:
    from hotline.telephony import settings as line

    return line.get().sms_signature


def max_length() -> int:
    return int(current_app.config.get("HOTLINE_SMS_MAX_LENGTH") or 300)


def render(code: str, params: dict[str, Any] | None, cat: Catalogue | None = None) -> str:
    """The full text (signature first) of a template with its variables; TemplateProblem when it cannot be sent."""
    if code not in CATALOGUE:
        raise TemplateProblem(f"unknown template {code}")
    text, _gateway = cat.entry(code) if cat else entry(code)
    sign = cat.signature if cat else signature()
    limit = cat.max_length if cat else max_length()
    params = params or {}
    missing = [name for name in VAR_RE.findall(text) if params.get(name) in (None, "")]
    if missing:
        raise TemplateProblem(f"template {code}: variable missing: {', '.join(missing)}")
    for name, value in params.items():
        value = str(value)
        if URL_RE.search(value):
            raise TemplateProblem(f"template {code}: variable {name} contains a web address")
        if len(value) > VALUE_MAX:
            raise TemplateProblem(f"template {code}: variable {name} is longer than {VALUE_MAX} characters")
    body = sign + VAR_RE.sub(lambda m: str(params[m.group(1)]), text)
    if URL_RE.search(body):
        raise TemplateProblem(f"template {code}: the text contains a web address")
    if len(body) > limit:
        raise TemplateProblem(f"template {code}: {len(body)} characters, over the limit of {limit}")
    return body


def check_text(code: str, text: str) -> str | None:
    """Why an admin's text for a template cannot be saved, or None."""
    spec = CATALOGUE[code]
    text = text.strip()
    if not text:
        return _("This text is required.")
    if len(text) > TEXT_MAX:
        return _("At most %(max)d characters.", max=TEXT_MAX)
    if URL_RE.search(text):
        return _("No web addresses in an SMS: gateways refuse them.")
    used = re.findall(r"\{([^{}]*)\}", text)
    if [v for v in used if v not in spec.variables] or text.count("{") != text.count("}"):
        return _("Only these placeholders may be used: %(names)s.",
                 names=", ".join("{" + v + "}" for v in spec.variables))
    if "【" in text or "】" in text:
        return _("The signature is added by the system; leave 【】 out of the text.")
    if spec.opt_out and not text.endswith(OPT_OUT):
        return _("This message must end with %(text)s.", text=OPT_OUT)
    if code == "survey_request" and not all(digit in text for digit in "123"):
        return _("The survey text must tell the caller to reply 1, 2 or 3.")
    return None


def save(actor, form: dict[str, Any]) -> None:
    """The admin page: every template's text and gateway id, all or nothing."""
    from hotline.errors import InvalidInput

    errors: dict[str, str] = {}
    clean: dict[str, tuple[str, str]] = {}
    for code in CATALOGUE:
        text = (form.get(f"text_{code}") or "").strip()
        gateway_id = (form.get(f"gateway_{code}") or "").strip()
        problem = check_text(code, text)
        if problem:
            errors[f"text_{code}"] = problem
        if gateway_id and not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", gateway_id):
            errors[f"gateway_{code}"] = _("Letters, digits, - and _ only (at most 64).")
        clean[code] = (text, gateway_id)
    if errors:
        raise InvalidInput(_("The templates were not saved: %(problem)s", problem=next(iter(errors.values()))),
                           errors)
    now = clock.now()
    for code, (text, gateway_id) in clean.items():
        row = db.session.get(SmsTemplate, code)
        if row is None:
            if text == CATALOGUE[code].default and not gateway_id:
                continue
            row = SmsTemplate(code=code)
            db.session.add(row)
        row.text, row.gateway_id, row.updated_at = text, gateway_id, now
        row.updated_by_id = actor.id if actor is not None else None
    db.session.flush()


def catalogue_rows() -> list[dict[str, Any]]:
    rows = []
    for code, spec in CATALOGUE.items():
        text, gateway_id = entry(code)
        rows.append({"code": code, "spec": spec, "text": text, "gateway_id": gateway_id})
    return rows


# ---------------------------------------------------------------- quiet hours for callers

def _hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def quiet_until(now: datetime) -> datetime | None:
    """None when a caller may get an SMS now; else when the quiet hours (default 21:00–08:00) end."""
    from hotline.telephony import settings as line

    cfg = line.get()
    start, end = _hhmm(cfg.sms_quiet_start), _hhmm(cfg.sms_quiet_end)
    local = clock.to_local(now)
    moment = local.time()
    if start == end:
        return None
    quiet = (moment >= start or moment < end) if start > end else (start <= moment < end)
    if not quiet:
        return None
    day = local.date() if moment < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=clock.local_tz())
