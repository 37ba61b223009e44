"""What telephony does when the case service registers a case or moves one (hotline/cases/signals.py).

The case rules stay in the case service; the caller's SMS and the links between calls, call-backs and
cases live here. Connected once by the application factory (`connect`). Each receiver returns at once when
there is nothing to do.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases import signals
from hotline.cases.models import Case
from hotline.errors import Forbidden, InvalidInput
from hotline.extensions import db
from hotline.telephony import callbacks, calls, sms, voice_survey
from hotline.telephony.models import Call, Callback


def connect() -> None:
    signals.registering.connect(check_origin)
    signals.registered.connect(after_register)
    signals.moved.connect(after_move)


def check_origin(actor: User | None, *, origin: signals.Origin, **_ignored: Any) -> None:
    """The call and the call-back entry a new case says it comes from must exist, and only those who
    answer calls and call back (operators; the telephony system itself) may tie a case to them: anyone
    else could close a stranger's missed-call entry as reached. Refused before anything is saved."""
    if not origin.links:
        return
    if actor is not None and not actor.has_role("operator"):
        raise Forbidden(_("Only operators log a case for a call or a call-back."))
    if origin.call_sid is not None:
        sid = origin.call_sid.strip() if isinstance(origin.call_sid, str) else ""
        known = bool(sid) and len(sid) <= 64 and "\x00" not in sid and db.session.scalar(
            select(Call.id).where(Call.call_sid == sid, Call.direction == "inbound")) is not None
        if not known:
            raise InvalidInput(_("The call this case is logged for is not known."), {"call_sid": _("Unknown call.")})
    if origin.callback_id is not None:
        try:
            entry_id = int(str(origin.callback_id).strip())
        except ValueError:
            entry_id = None
        known = entry_id is not None and 0 < entry_id < 2 ** 31 and db.session.get(Callback, entry_id) is not None
        if not known:
            raise InvalidInput(_("The call-back entry this case is logged for is not known."),
                               {"callback_id": _("Unknown call-back entry.")})


def after_register(case: Case, *, actor: User | None, origin: signals.Origin, **_ignored: Any) -> None:
    if not (origin.sms_consent or origin.links or case.status == "closed"):
        return
    if origin.call_sid is not None:
        calls.link_case(actor, origin.call_sid, case)
    if origin.callback_id is not None:
        callbacks.callback_became_case(actor, origin.callback_id, case)
    consent = origin.sms_consent and sms.give_consent(case, "telephony" if actor is None else "operator")
    if case.status == "closed" and _voice_survey(case):
        return  # closed on the call: the 回访 is the automated call
    if consent:
        if case.status == "closed":
            sms.send_survey(case)  # closed on the call: the survey carries the case number
        else:
            sms.send_receipt(case)


def after_move(case: Case, *, actor: User | None, action: str, **_ignored: Any) -> None:
    if action not in ("reply", "close", "reopen", "survey"):
        return
    if action == "reopen":
        sms.close_surveys(case, "cancelled")
    elif action == "survey":
        if actor is not None:  # recorded by an operator (by phone): the SMS survey is no longer waited for
            sms.close_surveys(case, "superseded")
    elif action == "close" and _voice_survey(case):
        return  # the 回访 is the automated call (hotline.telephony.voice_survey)
    elif sms.has_consent(case):
        if action == "reply":
            sms.send_answered(case)
        else:
            sms.send_survey(case)


def _voice_survey(case: Case) -> bool:
    """回访 by voice (setting): the case gets the automated call instead of the SMS survey."""
    return voice_survey.enabled() and voice_survey.schedule(case)
