"""What telephony does when the case service registers a case or performs an action.

hotline.cases.service calls these two functions; the case rules stay there, the caller's SMS and the
links between calls, call-backs and cases live here. Both return at once when there is nothing to do.
"""
from __future__ import annotations

from typing import Any

from hotline.auth.models import User
from hotline.cases.models import Case

_YES = (True, 1, "1", "on", "true", "yes")


def before_register(actor: User | None, data: dict[str, Any]) -> None:
    """The call and the call-back entry a new case says it comes from must exist, and only those who
    answer calls and call back (operators; the telephony system itself) may tie a case to them: anyone
    else could close a stranger's missed-call entry as reached. Refused before anything is saved."""
    call_sid, callback_id = data.get("call_sid"), data.get("callback_id")
    if call_sid in (None, "") and callback_id in (None, ""):
        return
    from flask_babel import gettext as _
    from sqlalchemy import select

    from hotline.errors import Forbidden, InvalidInput
    from hotline.extensions import db
    from hotline.telephony.models import Call, Callback

    if actor is not None and not actor.has_role("operator"):
        raise Forbidden(_("Only operators log a case for a call or a call-back."))
    if call_sid not in (None, ""):
        sid = call_sid.strip() if isinstance(call_sid, str) else ""
        known = bool(sid) and len(sid) <= 64 and "\x00" not in sid and db.session.scalar(
            select(Call.id).where(Call.call_sid == sid, Call.direction == "inbound")) is not None
        if not known:
            raise InvalidInput(_("The call this case is logged for is not known."), {"call_sid": _("Unknown call.")})
    if callback_id not in (None, ""):
        try:
            entry_id = int(str(callback_id).strip())
        except ValueError:
            entry_id = None
        known = entry_id is not None and 0 < entry_id < 2 ** 31 and db.session.get(Callback, entry_id) is not None
        if not known:
            raise InvalidInput(_("The call-back entry this case is logged for is not known."),
                               {"callback_id": _("Unknown call-back entry.")})


def after_register(actor: User | None, case: Case, data: dict[str, Any]) -> None:
    # `sms_consent` (the API's name) or `sms_receipt` (the form's checkbox): the caller agreed to SMS.
    wants_sms = data.get("sms_consent") in _YES or data.get("sms_receipt") in _YES
    call_sid = data.get("call_sid")
    callback_id = data.get("callback_id")
    if not (wants_sms or call_sid or callback_id or case.status == "closed"):
        return
    from hotline.telephony import service, sms

    if call_sid:
        service.link_case(actor, call_sid, case)
    if callback_id:
        service.callback_became_case(actor, callback_id, case)
    consent = wants_sms and sms.give_consent(case, "telephony" if actor is None else "operator")
    if case.status == "closed" and _voice_survey(case):
        return  # closed on the call: the 回访 is the automated call
    if consent:
        if case.status == "closed":
            sms.send_survey(case)  # closed on the call: the survey carries the case number
        else:
            sms.send_receipt(case)


def after_action(actor: User | None, case: Case, action: str) -> None:
    if action not in ("reply", "close", "reopen", "survey"):
        return
    from hotline.telephony import sms

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
    from hotline.telephony import voice_survey

    return voice_survey.enabled() and voice_survey.schedule(case)
