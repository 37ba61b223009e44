"""The case pages' forms: logging a call, the radio desk's case from a call-in, and one form per lifecycle
action, derived from its spec (hotline/cases/actions.py): each Param becomes a field of the same name.
An action whose page fields differ from its API body (edit: the caller's fields side by side; survey:
reached or not) names its own form class in the spec.

The field names are the names the browser posts (templates/cases/new.html, templates/cases/actions/*.html,
templates/radio/case.html); the forms turn them into the dict shape of the API's bodies.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _, lazy_gettext as _l
from wtforms import StringField

from hotline.cases.signals import Origin
from hotline.errors import InvalidInput
from hotline.forms import Form, ValidationError, flag, strip, text, text_or_none

# What a call may lead to on the logging page.
OUTCOMES = ("register", "close", "dispatch")

# Service error keys for the caller's fields → the names of the inputs on the page.
FIELD_NAMES = {"caller.phone": "phone", "caller.name": "caller_name", "caller.employer": "caller_employer",
               "caller.district": "caller_district", "caller": "phone"}


def page_fields(fields: dict[str, str]) -> dict[str, str]:
    """A service's error keys named as the page's inputs."""
    return {FIELD_NAMES.get(k, k): v for k, v in fields.items()}


class CaseFieldsForm(Form):
    """What a case is: the fields shared by the logging page and the radio desk's case form."""

    type = text()
    category = text()
    phone = text()
    caller_name = text()
    caller_employer = text()
    caller_district = text()
    summary = text()
    detail = text()
    urgent = flag()
    confidential = flag()
    broadcast_ok = flag()
    outcome = text()
    answer = text()
    department = text(filters=[strip])
    handler = text(filters=[strip])

    def caller(self) -> dict[str, str]:
        return {"phone": self.phone.data, "name": self.caller_name.data, "employer": self.caller_employer.data,
                "district": self.caller_district.data}


class RegistrationForm(CaseFieldsForm):
    """Logging a call (templates/cases/new.html); the same dict shape as the API's POST /cases."""

    channel = text()
    # The case's Origin (hotline/cases/signals.py): SMS consent, and the call or call-back it comes from.
    sms_receipt = flag()
    call_sid = text_or_none()
    callback_id = text_or_none()
    # Intake help: the knowledge-base article whose answer was used (使用此答复, hotline/knowledge).
    knowledge_article = text_or_none()
    type = text(filters=[strip])
    category = text(filters=[strip])

    alone = {"outcome": _l("Choose what happens with the call."),
             "department": _l("Choose the department to dispatch the case to.")}

    @property
    def chosen_outcome(self) -> str:
        outcome = self.outcome.data or "register"
        return outcome if outcome in OUTCOMES else "register"

    def validate_outcome(self, field) -> None:
        if (field.data or "register") not in OUTCOMES:
            raise ValidationError(_("Unknown choice."))

    def validate_department(self, field) -> None:
        if self.chosen_outcome == "dispatch" and not field.data:
            raise ValidationError(_("Required."))

    def origin(self) -> Origin:
        return Origin(call_sid=self.call_sid.data, callback_id=self.callback_id.data,
                      sms_consent=bool(self.sms_receipt.data))

    def registration(self) -> dict[str, Any]:
        outcome = self.chosen_outcome
        data: dict[str, Any] = {
            "channel": self.channel.data or "hotline",
            "type": self.type.data,
            "category": self.category.data,
            "caller": self.caller(),
            "summary": self.summary.data,
            "detail": self.detail.data,
            "urgent": self.urgent.data,
            "confidential": self.confidential.data,
            "broadcast_ok": self.broadcast_ok.data,
            "resolved_on_call": outcome == "close",
            "knowledge_article": self.knowledge_article.data,
        }
        if outcome == "close":
            data["answer"] = self.answer.data
        if outcome == "dispatch":
            data["department"] = self.department.data or None
            data["handler"] = self.handler.data or None
        return data


# ---------------------------------------------------------------- lifecycle actions

class ActionForm(Form):
    """The frame of every action form (templates/cases/actions/_wrap.html): the version the page showed and
    where to go afterwards; the spec's params are added as fields by action_form()."""

    version = StringField(default=None)
    next_page = StringField(default=None, name="next")
    param_names: tuple[str, ...] = ()

    def params(self) -> dict[str, Any]:
        return {name: self[name].data for name in self.param_names}

    def sent(self, name: str) -> bool:
        """Whether the page had the field at all (a field the page did not show stays as it is)."""
        return bool(self[name].raw_data)


def _field_for(param) -> Any:
    kinds = param.schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return flag() if "boolean" in kinds else text()


_DERIVED: dict[str, type[ActionForm]] = {}


def action_form(spec) -> type[ActionForm]:
    """The form of one action: its spec's own form class, or one field per Param (built once)."""
    if spec.form is not None:
        return spec.form
    cls = _DERIVED.get(spec.name)
    if cls is None:
        attrs: dict[str, Any] = {p.name: _field_for(p) for p in spec.params}
        attrs["param_names"] = spec.param_names
        cls = _DERIVED[spec.name] = type(f"{spec.name.title().replace('_', '')}Form", (ActionForm,), attrs)
    return cls


class EditForm(ActionForm):
    """The correction form: the fields it shows (the caller's only to those who may see them)."""

    reason = text()
    type = text()
    category = text()
    summary = text()
    detail = text()
    urgent = flag()
    confidential = flag()
    broadcast_ok = flag()
    phone = text()
    caller_name = text()
    caller_employer = text()
    caller_district = text()

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"reason": self.reason.data}
        for key in ("type", "category", "summary", "detail"):
            if self.sent(key):
                params[key] = self[key].data
        for key in ("urgent", "confidential", "broadcast_ok"):
            params[key] = self[key].data
        if self.sent("phone"):
            params["caller"] = {"phone": self.phone.data, "name": self.caller_name.data,
                                "employer": self.caller_employer.data, "district": self.caller_district.data}
        return params


class SurveyForm(ActionForm):
    """回访 by phone: reached or not, then satisfaction and whether the problem was solved."""

    contacted = text()
    result = text()
    resolved = text()

    def params(self) -> dict[str, Any]:
        if self.contacted.data == "no":
            return {"result": "unreachable", "resolved": None}
        return {"result": self.result.data, "resolved": self.resolved.data}


class RadioCaseForm(CaseFieldsForm):
    """The radio desk's case from a call-in (templates/radio/case.html): answered on air by default; dispatching
    is the operators' move, so a producer's case waits on their list instead."""

    version = StringField(default=None)

    def outcome_for(self, may_dispatch: bool) -> str:
        outcome = self.outcome.data or "close"
        return "register" if outcome == "dispatch" and not may_dispatch else outcome

    def case_data(self, may_dispatch: bool) -> dict[str, Any]:
        outcome = self.outcome_for(may_dispatch)
        data: dict[str, Any] = {
            "type": self.type.data or None, "category": self.category.data or None, "caller": self.caller(),
            "summary": self.summary.data, "detail": self.detail.data, "urgent": self.urgent.data,
            "confidential": self.confidential.data, "broadcast_ok": self.broadcast_ok.data,
            "resolved_on_call": outcome == "close",
        }
        if outcome == "close":
            data["answer"] = self.answer.data
        if outcome == "dispatch" and may_dispatch:
            data["department"] = self.department.data or None
            data["handler"] = self.handler.data or None
        return data

    def check(self, may_dispatch: bool, data: dict[str, Any]) -> None:
        """The page's own checks, first problem first (the service checks the rest)."""
        outcome = self.outcome_for(may_dispatch)
        if outcome not in OUTCOMES:
            raise InvalidInput(_("Choose what happens with the call."), {"outcome": _("Unknown choice.")})
        for name, message in (("type", _("Choose the case type.")), ("category", _("Choose the category."))):
            if not data[name]:
                raise InvalidInput(message, {name: _("Required.")})
        if outcome == "dispatch" and not data.get("department"):
            raise InvalidInput(_("Choose the department to dispatch the case to."), {"department": _("Required.")})
