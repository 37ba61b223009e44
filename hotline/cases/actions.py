"""The lifecycle actions, one spec each: the single place an action is described.

From these specs derive the service's move table (hotline/cases/service.py MOVES), the case
page's form fields, labels and order (hotline/cases/views.py), the API's request bodies
(hotline/api/openapi.py ACTION_BODIES), the timeline's event labels (hotline/templating.py)
and the success messages; the page's form takes one field per param (hotline/cases/forms.py action_form).
Each action also has its form partial, templates/cases/actions/<name>.html, and its handler in the service
(HANDLERS). Adding an action is: a spec here, a handler there,
a partial, and its translations.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _, lazy_gettext as _l

from hotline.cases.forms import EditForm, SurveyForm
from hotline.cases.models import OPEN_STATUSES, REPLY_METHODS, SURVEY_RESULTS
from hotline.limits import DETAIL_MAX, SUMMARY_MAX, TEXT_MAX

REASON_MAX = 500  # extension reason, escalation and rejection notes
NAME_MAX = 64
EMPLOYER_MAX = 128
DISTRICT_MAX = 64
NOT_BLANK = r"\S"
CASE_NO_PATTERN = r"^[0-9]{8}-[0-9]{4,}$"
PHONE_PATTERN = r"^\s*\+?[0-9 ()-]*[0-9][0-9 ()-]*\s*$"

# What an edit may change (the caller's fields are nested under "caller").
EDIT_FIELDS = ("type", "category", "summary", "detail", "urgent", "confidential", "broadcast_ok", "caller")
EDIT_CALLER_FIELDS = ("name", "phone", "employer", "district")
REVIEW_DECISIONS = ("reopen", "uphold")


# ---------------------------------------------------------------- JSON schema fragments

def text_schema(max_len: int, *, required: bool = False, description: str | None = None, **extra: Any) -> dict:
    schema: dict[str, Any] = {"type": "string" if required else ["string", "null"], "maxLength": max_len}
    if required:
        schema.update(minLength=1, pattern=NOT_BLANK)
    if description:
        schema["description"] = description
    schema.update(extra)
    return schema


def flag_schema(description: str) -> dict:
    return {"type": ["boolean", "null"], "description": description}


@dataclass(frozen=True)
class Param:
    """One field of an action's body: its JSON schema and whether the body must have it."""

    name: str
    schema: dict
    required: bool = False


@dataclass(frozen=True)
class ActionSpec:
    name: str
    from_statuses: tuple[str, ...]
    to_status: str | None  # None: status unchanged
    roles: tuple[str, ...]
    label: Any  # the button on the case page
    verb: Any  # "You may not %(action)s this case."
    description: str  # the API's summary of the action (English, like the rest of the document)
    success: Callable[[Any], str]  # the flash message after the move, given the case
    params: tuple[Param, ...] = ()
    department_handler: bool = False  # a handler of the case's department may do it
    events: dict[str, Any] = field(default_factory=dict)  # event kinds it writes -> timeline label
    guard: Callable[[Any, Any], str | None] | None = None  # (actor, case) -> the refusal message, or None
    any_of: tuple[str, ...] = ()  # the body must have at least one of these
    quick: bool = False  # one button, no fields (the page shows it without a fold-out form)
    danger: bool = False
    moves_version: bool = True  # False: changes no field of the case (others' pages do not go stale)
    form: type | None = None  # the page's form when its fields are not the params one to one (cases/forms.py)
    # Which organisation's operators/supervisors may do it (hotline/orgs/): "owner" (the case's current
    # organisation), "closer" (the one that registered it, or the owner when that one delegates closure and
    # 回访), "parent" (the level above the owner) or "any" (any level that sees the case).
    org_side: str = "owner"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)


def _local(value) -> str:
    from hotline.templating import local_dt

    return local_dt(value)


def _dept(case) -> str:
    return case.department.name if case.department else ""


def _org(case) -> str:
    from hotline.orgs import service as orgs

    org = orgs.by_id(case.org_id)
    return org.name if org else ""


# ---------------------------------------------------------------- guards

def _extension_waiting(actor, case) -> str | None:
    return None if case.extension_due_at is not None else _("There is no extension request to decide.")


def _no_extension_waiting(actor, case) -> str | None:
    return _("An extension request is already waiting for a supervisor.") if case.extension_due_at else None


def _return_waiting(actor, case) -> str | None:
    return None if case.return_requested_at is not None else _("There is no return waiting for review.")


def _no_return_waiting(actor, case) -> str | None:
    return _("A return of this case is already waiting for the centre's review.") if case.return_requested_at else None


def _edit_allowed(actor, case) -> str | None:
    if actor is not None and case.status != "registered" and not actor.has_role("supervisor"):
        return _("Only supervisors may correct a case that has been dispatched.")
    return None


def _up_waiting(actor, case) -> str | None:
    return None if case.up_requested_at is not None else _("There is no request to send this case up.")


def _can_send_up(actor, case) -> str | None:
    from hotline.orgs import service as orgs

    if case.up_requested_at is not None:
        return _("This case is already waiting for the level above to take it back.")
    if orgs.is_root(case.org_id):
        return _("The top level has no level above to send the case to.")
    return None


def _review_pending(actor, case) -> str | None:
    return None if case.review_pending else _("This case is not waiting for a review.")


_DEPARTMENT = {"type": "string", "minLength": 1, "description": "Department code from GET /reference.",
               "examples": ["legal_aid"]}
_HANDLER = {"type": ["string", "null"], "description": "User name of a handler of that department."}
_ORG = {"type": "string", "minLength": 1, "description": "Organisation code from GET /reference: a child of the "
        "case's current organisation.", "examples": ["wujiang"]}

_CALLER_EDIT = {
    "type": "object",
    "additionalProperties": False,
    "description": "The caller's fields to change; a field left out stays as it is.",
    "properties": {
        "name": text_schema(NAME_MAX),
        "phone": {"type": ["string", "null"], "maxLength": 40, "pattern": PHONE_PATTERN,
                  "description": "Any accepted spelling; stored in E.164. Required on the telephone channels."},
        "employer": text_schema(EMPLOYER_MAX),
        "district": text_schema(DISTRICT_MAX),
    },
}

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "accept", ("assigned",), "accepted", (), _l("Accept"), _l("accept"),
        "签收 (a handler of the case's department).",
        lambda c: _("Case %(no)s accepted.", no=c.case_no),
        department_handler=True, events={"accept": _l("Accepted")}, quick=True),
    ActionSpec(
        "reply", ("accepted",), "replied", (), _l("Reply"), _l("reply to"),
        "答复 (a handler of the department).",
        lambda c: _("Reply to case %(no)s recorded.", no=c.case_no),
        params=(Param("content", text_schema(TEXT_MAX, required=True), True),
                Param("method", {"type": ["string", "null"], "enum": [*REPLY_METHODS, None], "default": "phone"})),
        department_handler=True, events={"reply": _l("Replied")}),
    ActionSpec(
        "assign", ("registered",), "assigned", ("operator", "supervisor"), _l("Dispatch"), _l("dispatch"),
        "派单: dispatch a registered case (operator, supervisor). On a dispatched or accepted case this "
        "reassigns it (supervisor).",
        lambda c: _("Case %(no)s dispatched to %(dept)s.", no=c.case_no, dept=_dept(c)),
        params=(Param("department", _DEPARTMENT, True), Param("handler", _HANDLER)),
        events={"assign": _l("Dispatched")}),
    ActionSpec(
        "reassign", ("assigned", "accepted"), "assigned", ("supervisor",), _l("Reassign"), _l("reassign"),
        "改派: dispatch a dispatched or accepted case anew (supervisor).",
        lambda c: _("Case %(no)s reassigned to %(dept)s.", no=c.case_no, dept=_dept(c)),
        params=(Param("department", _DEPARTMENT, True), Param("handler", _HANDLER)),
        events={"reassign": _l("Reassigned")}),
    ActionSpec(
        "transfer", ("registered",), None, ("operator", "supervisor"), _l("Hand down"), _l("hand down"),
        "下派: hand a registered case down to a child organisation (operator, supervisor of the case's current "
        "organisation), with a note; it joins that organisation's dispatch list and its deadlines keep running "
        "from registration.",
        lambda c: _("Case %(no)s handed down to %(org)s.", no=c.case_no, org=_org(c)),
        params=(Param("org", _ORG, True), Param("note", text_schema(REASON_MAX))),
        events={"transfer": _l("Handed down")}),
    ActionSpec(
        "send_up", ("registered",), None, ("operator", "supervisor"), _l("Send up"), _l("send up"),
        "上报: ask the level above to take the case back (operator, supervisor of the case's current "
        "organisation), with a reason; the parent organisation reviews it (accept_up / refuse_up).",
        lambda c: _("Case %(no)s sent up; the level above will review it.", no=c.case_no),
        params=(Param("reason", text_schema(TEXT_MAX, required=True), True),),
        events={"send_up": _l("Sent up")}, guard=_can_send_up, danger=True),
    ActionSpec(
        "accept_up", ("registered",), None, ("operator", "supervisor"), _l("Take the case back"),
        _l("take back"),
        "Accept a request to send the case up (operator, supervisor of the parent organisation): the case "
        "joins the parent's dispatch list.",
        lambda c: _("Case %(no)s taken back; it is on your dispatch list.", no=c.case_no),
        events={"send_up_accept": _l("Taken back")}, guard=_up_waiting, quick=True, org_side="parent"),
    ActionSpec(
        "refuse_up", ("registered",), None, ("operator", "supervisor"), _l("Refuse to take back"),
        _l("refuse to take back"),
        "Refuse a request to send the case up, with a reason (operator, supervisor of the parent organisation); "
        "the lower level keeps it.",
        lambda c: _("Case %(no)s stays with %(org)s.", no=c.case_no, org=_org(c)),
        params=(Param("reason", text_schema(TEXT_MAX, required=True), True),),
        events={"send_up_refuse": _l("Send-up refused")}, guard=_up_waiting, org_side="parent"),
    ActionSpec(
        "accept_return", ("assigned", "accepted"), "registered", ("operator", "supervisor"),
        _l("Accept the return"), _l("accept the return of"),
        "退单审核: accept the department's return; the case goes back to the dispatch list (operator, supervisor).",
        lambda c: _("Return of case %(no)s accepted; it is back on the dispatch list.", no=c.case_no),
        events={"return_accept": _l("Return accepted")}, guard=_return_waiting, quick=True),
    ActionSpec(
        "refuse_return", ("assigned", "accepted"), None, ("operator", "supervisor"),
        _l("Refuse the return"), _l("refuse the return of"),
        "退单审核: refuse the department's return, with a reason; the case stays with the department "
        "(operator, supervisor).",
        lambda c: _("Return of case %(no)s refused; the department keeps it.", no=c.case_no),
        params=(Param("reason", text_schema(TEXT_MAX, required=True), True),),
        events={"return_refuse": _l("Return refused")}, guard=_return_waiting),
    ActionSpec(
        "close", ("replied",), "closed", ("operator", "supervisor"), _l("Close"), _l("close"),
        "办结 a replied case (operator, supervisor).",
        lambda c: _("Case %(no)s closed.", no=c.case_no),
        events={"close": _l("Closed")}, quick=True, org_side="closer"),
    ActionSpec(
        "survey", ("replied", "closed"), None, ("operator",), _l("Record survey"), _l("record a survey for"),
        "回访: record the caller's verdict on a replied or closed case (operator): `result` (unreachable when "
        "the caller was not reached) and `resolved`, whether the problem was solved. A dissatisfied or "
        "unresolved answer puts the case on the supervisors' review list.",
        lambda c: _("Survey result for case %(no)s recorded.", no=c.case_no),
        params=(Param("result", {"type": "string", "enum": list(SURVEY_RESULTS)}, True),
                Param("resolved", flag_schema("已解决 (true) / 未解决 (false); leave out when unreachable."))),
        events={"survey": _l("Survey recorded")}, form=SurveyForm, org_side="closer"),
    ActionSpec(
        "review", ("replied", "closed"), None, ("supervisor",), _l("Review"), _l("review"),
        "Review a case whose 回访 was dissatisfied or unresolved (supervisor): `decision` reopen (重办: back to "
        "the department with a new reply deadline) or uphold (维持, with `reason`).",
        lambda c: (_("Case %(no)s reopened; reply due %(due)s.", no=c.case_no, due=_local(c.reply_due_at))
                   if c.status != "closed" and c.status != "replied"
                   else _("Review of case %(no)s recorded; the result stands.", no=c.case_no)),
        params=(Param("decision", {"type": "string", "enum": list(REVIEW_DECISIONS)}, True),
                Param("reason", text_schema(TEXT_MAX,
                                            description="Required to uphold; the instruction when reopening."))),
        events={"review": _l("Reviewed")}, guard=_review_pending, org_side="closer"),
    ActionSpec(
        "approve_extension", ("assigned", "accepted"), None, ("supervisor",), _l("Approve extension"),
        _l("approve the extension of"), "Approve the waiting extension request (supervisor).",
        lambda c: _("Extension of case %(no)s approved; reply due %(due)s.", no=c.case_no, due=_local(c.reply_due_at)),
        events={"extend_approve": _l("Extension approved")}, guard=_extension_waiting, quick=True),
    ActionSpec(
        "reject_extension", ("assigned", "accepted"), None, ("supervisor",), _l("Reject extension"),
        _l("reject the extension of"), "Reject the waiting extension request (supervisor).",
        lambda c: _("Extension of case %(no)s rejected.", no=c.case_no),
        params=(Param("note", text_schema(REASON_MAX)),),
        events={"extend_reject": _l("Extension rejected")}, guard=_extension_waiting),
    ActionSpec(
        "edit", OPEN_STATUSES, None, ("operator", "supervisor"), _l("Correct the case"),
        _l("correct"),
        "Correct a case (operators before dispatch, supervisors on any open case): `reason` and the fields to "
        "change. Deadlines are counted again from the registration time when type, category or urgency change.",
        lambda c: _("Case %(no)s corrected.", no=c.case_no),
        params=(Param("reason", text_schema(REASON_MAX, required=True), True),
                Param("type", {"type": "string", "description": "Type code from GET /reference.",
                               "examples": ["consult"]}),
                Param("category", {"type": "string", "minLength": 1, "description": "Category code.",
                                   "examples": ["wages"]}),
                Param("summary", text_schema(SUMMARY_MAX, required=True)),
                Param("detail", text_schema(DETAIL_MAX)),
                Param("urgent", flag_schema("Reply due by the end of the registration's working day.")),
                Param("confidential", flag_schema("保密.")),
                Param("broadcast_ok", flag_schema("May be aired, anonymised (not with confidential).")),
                Param("caller", _CALLER_EDIT)),
        events={"edit": _l("Corrected")}, guard=_edit_allowed, form=EditForm,
        any_of=("summary", "type", "category", "detail", "urgent", "confidential", "broadcast_ok", "caller")),
    ActionSpec(
        "note", OPEN_STATUSES + ("replied", "closed"), None, ("operator", "supervisor"), _l("Add note"),
        _l("add a note to"), "Add a note to the timeline (operator, supervisor, a handler of the department).",
        lambda c: _("Note added to case %(no)s.", no=c.case_no),
        params=(Param("text", text_schema(TEXT_MAX, required=True), True),),
        department_handler=True, events={"note": _l("Note")}, moves_version=False, org_side="any"),
    ActionSpec(
        "extend", ("assigned", "accepted"), None, (), _l("Request extension"), _l("request an extension for"),
        "延期: ask for a later reply deadline, before the current one passes (a handler of the department); "
        "the new deadline must be a working day after the current one. A supervisor approves or rejects it.",
        lambda c: _("Extension for case %(no)s requested; a supervisor will decide.", no=c.case_no),
        params=(Param("reply_due_at", {"type": "string", "format": "date-time",
                                       "description": "ISO 8601; without an offset it is read as local time.",
                                       "examples": ["2026-12-10T17:30:00+08:00"]}, True),
                Param("reason", text_schema(REASON_MAX, required=True), True)),
        department_handler=True, events={"extend_request": _l("Extension requested")}, guard=_no_extension_waiting),
    ActionSpec(
        "escalate", OPEN_STATUSES, None, ("supervisor",), _l("Escalate"), _l("escalate"),
        "督办 (supervisor): the handler and the department head are notified.",
        lambda c: _("Case %(no)s escalated.", no=c.case_no),
        params=(Param("note", text_schema(REASON_MAX)),),
        events={"escalate": _l("Escalated")}, org_side="any"),
    ActionSpec(
        "return", ("assigned", "accepted"), None, (), _l("Return"), _l("return"),
        "退回 a misrouted case (a handler of the department), with a reason; it waits for the centre's review "
        "(accept_return / refuse_return).",
        lambda c: _("Return of case %(no)s requested; the centre will review it.", no=c.case_no),
        params=(Param("reason", text_schema(TEXT_MAX, required=True), True),),
        department_handler=True, events={"return": _l("Return requested")}, guard=_no_return_waiting, danger=True),
    ActionSpec(
        "merge", OPEN_STATUSES + ("replied",), "closed", ("operator", "supervisor"), _l("Merge as duplicate"),
        _l("merge"), "并单: close this case as a duplicate of another (operator, supervisor).",
        lambda c: _("Case %(no)s merged into %(into)s.", no=c.case_no,
                    into=c.merged_into.case_no if c.merged_into else ""),
        params=(Param("into", {"type": "string", "pattern": CASE_NO_PATTERN, "examples": ["20261130-0001"]}, True),),
        events={"merge": _l("Merged"), "merged_from": _l("Duplicate merged in")}, danger=True),
    ActionSpec(
        "reopen", ("closed",), "accepted", ("supervisor",), _l("Reopen"), _l("reopen"),
        "重办 a closed case (supervisor).",
        lambda c: _("Case %(no)s reopened; reply due %(due)s.", no=c.case_no, due=_local(c.reply_due_at)),
        params=(Param("reason", text_schema(TEXT_MAX, required=True), True),),
        events={"reopen": _l("Reopened")}, org_side="closer"),
)

# The order above is the order of the action forms on the case page: the likely next step first.
SPECS: dict[str, ActionSpec] = {spec.name: spec for spec in ACTIONS}
ORDER: tuple[str, ...] = tuple(SPECS)
LABELS = {name: spec.label for name, spec in SPECS.items()}
EVENT_LABELS = {kind: label for spec in ACTIONS for kind, label in spec.events.items()}


def verb(name: str) -> str:
    spec = SPECS.get(name)
    return str(spec.verb) if spec else name
