"""The case use cases: register and every lifecycle move, each rule written once.

Services flush; the door (view, API, job, CLI) commits or rolls back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import phonenumbers
from flask_babel import gettext as _
from sqlalchemy import and_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.exc import StaleDataError

from hotline import clock
from hotline.auth.models import User
from hotline.cases import access
from hotline.cases.models import (
    CHANNELS,
    OPEN_STATUSES,
    REPLY_METHODS,
    SURVEY_RESULTS,
    Case,
    CaseCounter,
    CaseEvent,
)
from hotline.errors import Forbidden, IllegalMove, InvalidInput, NotFound, StaleVersion
from hotline.extensions import db
from hotline.notify import service as watch
from hotline.reference.models import CaseType, Category, Department
from hotline.workdays import service as workdays

SUMMARY_MAX = 200
DETAIL_MAX = 5000
TEXT_MAX = 2000
PHONE_CHANNELS = ("hotline", "radio", "voicemail")


@dataclass(frozen=True)
class Move:
    """One row of the lifecycle table: where an action may start, where it leads, who may do it."""

    from_statuses: tuple[str, ...]
    to_status: str | None  # None: status unchanged
    roles: tuple[str, ...]
    department_handler: bool = False  # a handler of the case's department may do it


# The lifecycle, in one table (DESIGN.md §2).
MOVES: dict[str, Move] = {
    "assign": Move(("registered",), "assigned", ("operator", "supervisor")),
    "reassign": Move(("assigned", "accepted"), "assigned", ("supervisor",)),
    "accept": Move(("assigned",), "accepted", (), department_handler=True),
    "return": Move(("assigned", "accepted"), "registered", (), department_handler=True),
    "reply": Move(("accepted",), "replied", (), department_handler=True),
    "close": Move(("replied",), "closed", ("operator", "supervisor")),
    "extend": Move(("assigned", "accepted"), None, (), department_handler=True),
    "approve_extension": Move(("assigned", "accepted"), None, ("supervisor",)),
    "reject_extension": Move(("assigned", "accepted"), None, ("supervisor",)),
    "escalate": Move(OPEN_STATUSES, None, ("supervisor",)),
    "merge": Move(OPEN_STATUSES + ("replied",), "closed", ("operator", "supervisor")),
    "reopen": Move(("closed",), "accepted", ("supervisor",)),
    "survey": Move(("replied", "closed"), None, ("operator",)),
    "note": Move(OPEN_STATUSES + ("replied", "closed"), None, ("operator", "supervisor"), department_handler=True),
}

ACTIONS = tuple(MOVES)


# ---------------------------------------------------------------- helpers

def normalize_phone(raw: str | None, field: str = "phone") -> str:
    """Phone numbers to E.164 with default country 86: 138 0000 0000, +86-138…, 0512-6523 0000 all work."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput(_("Please enter the caller's phone number."), {field: _("Required.")})
    cleaned = text.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if not cleaned.lstrip("+").isdigit():
        raise InvalidInput(_("The phone number may contain only digits, spaces, dashes and a leading +."),
                           {field: _("Not a phone number.")})
    try:
        parsed = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(_("%(phone)s is not a valid phone number.", phone=text[:40]),
                           {field: _("Not a valid number.")})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _text(value: Any, field: str, label: str, max_len: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("%(label)s must be text.", label=label), {field: _("Must be text.")})
    value = value.strip()
    if required and not value:
        raise InvalidInput(_("%(label)s is required.", label=label), {field: _("Required.")})
    if len(value) > max_len:
        raise InvalidInput(
            _("%(label)s is too long (%(n)d characters, at most %(max)d).", label=label, n=len(value), max=max_len),
            {field: _("At most %(max)d characters.", max=max_len)},
        )
    return value


def _bool(value: Any, field: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if value in (0, 1, "0", "1", "true", "false", "on", "off", ""):
        return value in (1, "1", "true", "on")
    raise InvalidInput(_("%(field)s must be true or false.", field=field), {field: _("Must be true or false.")})


def _event(case: Case, kind: str, actor: User | None, **data: Any) -> CaseEvent:
    event = CaseEvent(case=case, kind=kind, at=clock.now(), actor_id=actor.id if actor else None, data=data)
    db.session.add(event)
    return event


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def parse_datetime(raw: Any, field: str) -> datetime:
    """ISO 8601 with offset; a bare date or time without offset is read as local time."""
    try:
        value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw).strip())
        if value.tzinfo is None:
            value = value.replace(tzinfo=clock.local_tz())
        return value.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # not ISO 8601, or off the calendar once moved to UTC (0001-01-01+08:00)
        raise InvalidInput(
            _("%(value)s is not a date and time (use e.g. 2026-12-01T17:30:00+08:00).", value=str(raw)[:40]),
            {field: _("Wrong date format.")},
        ) from None


def lookup_type(code: Any) -> CaseType:
    row = db.session.get(CaseType, code) if isinstance(code, str) else None
    if row is None:
        raise InvalidInput(_("Unknown case type: %(code)s", code=str(code)[:40]), {"type": _("Unknown type.")})
    return row


def _usable_category(code: str):
    """A category new cases may take: known by its code and not retired."""
    return and_(Category.code == code, Category.active.is_(True))


def lookup_type_and_category(type_code: Any, category_code: Any) -> tuple[CaseType, Category]:
    """Both in one query when both are known; otherwise the look-up that fails says which is unknown."""
    if isinstance(type_code, str) and isinstance(category_code, str):
        row = db.session.execute(select(CaseType, Category).join(Category, true()).where(  # a 1×1 cross join
            CaseType.code == type_code, _usable_category(category_code))).first()
        if row is not None:
            return row[0], row[1]
    return lookup_type(type_code), lookup_category(category_code)


def lookup_category(code: Any) -> Category:
    row = None
    if isinstance(code, str):
        row = db.session.scalar(select(Category).where(_usable_category(code)))
    if row is None:
        raise InvalidInput(_("Unknown category: %(code)s", code=str(code)[:40]), {"category": _("Unknown category.")})
    return row


def lookup_department(code: Any) -> Department:
    row = None
    if isinstance(code, str):
        row = db.session.scalar(select(Department).where(Department.code == code, Department.active.is_(True)))
    if row is None:
        raise InvalidInput(_("Unknown department: %(code)s", code=str(code)[:40]),
                           {"department": _("Unknown department.")})
    return row


def lookup_handler(username: Any, department: Department) -> User:
    row = None
    if isinstance(username, str):
        row = db.session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if row is None or not row.has_role("handler"):
        raise InvalidInput(_("Unknown handler: %(name)s", name=str(username)[:40]), {"handler": _("Unknown handler.")})
    if row.department_id != department.id:
        raise InvalidInput(
            _("%(name)s does not work in %(dept)s.", name=row.display_name, dept=department.name),
            {"handler": _("Not in this department.")},
        )
    return row


def reply_days_for(case_type: CaseType, category: Category) -> int:
    return category.reply_days if category.reply_days is not None else case_type.reply_days


def next_case_no(local_day: date) -> str:
    """Sequential number per local day. The upsert locks the day's counter row until commit,
    so concurrent registrations queue up instead of colliding."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(CaseCounter)
        .values(day=local_day, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": CaseCounter.last + 1})
        .returning(CaseCounter.last)
    )
    number = db.session.execute(stmt).scalar_one()
    return f"{local_day:%Y%m%d}-{number:04d}"


# ---------------------------------------------------------------- register

def register(actor: User | None, data: dict[str, Any], *, via: str = "web") -> Case:
    """Log a new case. `actor` None means the telephony system. May close on the call or dispatch at once."""
    if actor is not None and not actor.has_role("operator", "producer"):
        raise Forbidden(_("Only operators and producers may register cases."))
    if not isinstance(data, dict):
        raise InvalidInput(_("The request body must be a JSON object."))
    channel = data.get("channel") or "hotline"
    if channel not in CHANNELS:
        raise InvalidInput(_("Unknown channel: %(code)s", code=str(channel)[:40]), {"channel": _("Unknown channel.")})
    case_type, category = lookup_type_and_category(data.get("type"), data.get("category"))
    caller = data.get("caller") or {}
    if not isinstance(caller, dict):
        raise InvalidInput(_("caller must be an object."), {"caller": _("Must be an object.")})
    raw_phone = caller.get("phone")
    phone = None
    if (raw_phone or "").strip() if isinstance(raw_phone, str) else raw_phone:
        phone = normalize_phone(str(raw_phone), "caller.phone")
    elif channel in PHONE_CHANNELS:
        phone = normalize_phone("", "caller.phone")  # raises: required
    name = _text(caller.get("name"), "caller.name", _("Caller name"), 64, False) or None
    employer = _text(caller.get("employer"), "caller.employer", _("Employer"), 128, False) or None
    district = _text(caller.get("district"), "caller.district", _("District"), 64, False) or None
    summary = _text(data.get("summary"), "summary", _("Summary"), SUMMARY_MAX, True)
    detail = _text(data.get("detail"), "detail", _("Detail"), DETAIL_MAX, False)
    urgent = _bool(data.get("urgent"), "urgent")
    confidential = _bool(data.get("confidential"), "confidential")
    broadcast_ok = _bool(data.get("broadcast_ok"), "broadcast_ok")
    resolved = _bool(data.get("resolved_on_call"), "resolved_on_call")
    answer = _text(data.get("answer"), "answer", _("Answer"), TEXT_MAX, resolved) or None
    dispatch = data.get("department")
    if data.get("handler") and not dispatch:
        raise InvalidInput(_("Choose the handler's department as well."), {"department": _("Required with a handler.")})
    if resolved and dispatch:
        raise InvalidInput(_("A case closed on the call is not dispatched."), {"department": _("Leave empty.")})
    if dispatch and actor is not None and not actor.has_role(*MOVES["assign"].roles):
        # Dispatching at registration is the assign move: same roles as the table says.
        raise Forbidden(_("Your role may register cases but not dispatch them."))
    if broadcast_ok and confidential:
        raise InvalidInput(_("A confidential case cannot be cleared for broadcast."),
                           {"broadcast_ok": _("Not with confidential.")})

    now = clock.now()
    due = workdays.reply_due(now, reply_days_for(case_type, category), urgent)
    case = Case(
        case_no=next_case_no(clock.to_local(now).date()),
        channel=channel,
        case_type=case_type,
        category=category,
        caller_phone=phone,
        caller_name=name,
        caller_employer=employer,
        caller_district=district,
        summary=summary,
        detail=detail,
        answer=answer if resolved else None,
        urgent=urgent,
        confidential=confidential,
        broadcast_ok=broadcast_ok,
        resolved_on_call=resolved,
        status="closed" if resolved else "registered",
        registered_by_id=actor.id if actor else None,
        reply_due_at=due.at,
        due_uncertain=due.uncertain,
        created_at=now,
        updated_at=now,
        version=1,
    )
    if resolved:
        case.replied_at = case.closed_at = now
        case.reply_method = "phone"
    watch.refresh_watch(case)  # before the INSERT, so a new case starts at version 1
    db.session.add(case)
    _event(case, "register", actor, status=case.status, via=via, reply_due_at=_iso(due.at),
           resolved_on_call=resolved)
    db.session.flush()
    if dispatch:
        # Dispatch is the second step: one UPDATE, so the case is at version 2.
        with db.session.no_autoflush:
            _assign(case, actor, dispatch, data.get("handler"), reassign=False)
            watch.refresh_watch(case)
        db.session.flush()
    telephony_hooks().after_register(actor, case, data)  # caller SMS, links to the call / call-back
    return case


# ---------------------------------------------------------------- lookups

def get_case(actor: User, case_no: str) -> Case:
    known = isinstance(case_no, str) and "\x00" not in case_no  # PostgreSQL refuses NUL in a query
    case = db.session.scalar(select(Case).where(Case.case_no == case_no)) if known else None
    if case is None or not access.can_view(actor, case):
        # Same answer for "absent" and "not yours": numbers are not an oracle.
        raise NotFound(_("Case %(no)s was not found.", no=str(case_no)[:32]))
    return case


def allowed_actions(actor: User, case: Case) -> list[str]:
    result = []
    for name, move in MOVES.items():
        try:
            _check(actor, case, name, move)
        except (Forbidden, IllegalMove):
            continue
        result.append(name)
    return result


def _check(actor: User | None, case: Case, name: str, move: Move) -> None:
    if actor is not None:
        allowed = actor.has_role(*move.roles) or (move.department_handler and access.works_in_department(actor, case))
        if not allowed:
            raise Forbidden(_("You may not %(action)s this case.", action=action_label(name)))
    if case.status not in move.from_statuses:
        raise IllegalMove(
            _("Cannot %(action)s a case that is %(status)s.", action=action_label(name), status=status_label(case.status))
        )
    if name in ("approve_extension", "reject_extension") and case.extension_due_at is None:
        raise IllegalMove(_("There is no extension request to decide."))
    if name == "extend" and case.extension_due_at is not None:
        raise IllegalMove(_("An extension request is already waiting for a supervisor."))


def action_label(name: str) -> str:
    return {
        "assign": _("dispatch"), "reassign": _("reassign"), "accept": _("accept"), "return": _("return"),
        "reply": _("reply to"), "close": _("close"), "extend": _("request an extension for"),
        "approve_extension": _("approve the extension of"), "reject_extension": _("reject the extension of"),
        "escalate": _("escalate"), "merge": _("merge"), "reopen": _("reopen"), "survey": _("record a survey for"),
        "note": _("add a note to"),
    }.get(name, name)


def status_label(status: str) -> str:
    return {
        "registered": _("registered"), "assigned": _("dispatched"), "accepted": _("accepted"),
        "replied": _("replied"), "closed": _("closed"),
    }.get(status, status)


# ---------------------------------------------------------------- lifecycle

def perform(actor: User | None, case: Case, action: str, version: Any, params: dict[str, Any]) -> Case:
    """Run one lifecycle action on `case` as `actor`, if `version` is still current."""
    if action == "assign" and case.status in MOVES["reassign"].from_statuses:
        action = "reassign"
    move = MOVES.get(action)
    if move is None:
        raise NotFound(_("Unknown action: %(name)s", name=str(action)[:32]))
    try:
        expected = int(version)
    except (TypeError, ValueError):
        raise InvalidInput(_("The case version is missing; reload the case and try again."),
                           {"version": _("Required.")}) from None
    if expected != case.version:
        raise StaleVersion(
            _("Case %(no)s was changed by someone else meanwhile. Reload it to see the change, then try again.",
              no=case.case_no)
        )
    _check(actor, case, action, move)
    handler = HANDLERS[action]
    case_no = case.case_no  # the instance is unusable after a failed flush
    try:
        with db.session.no_autoflush:  # one UPDATE per action, so `version` counts actions
            handler(case, actor, params or {})
            if action != "note":  # a note changes no field, so it does not make others' pages stale
                case.updated_at = clock.now()
                watch.refresh_watch(case)
        db.session.flush()
    except StaleDataError:
        # Another transaction changed the row after we read it (version_id_col caught it).
        raise StaleVersion(
            _("Case %(no)s was changed by someone else meanwhile. Reload it to see the change, then try again.",
              no=case_no)
        ) from None
    telephony_hooks().after_action(actor, case, action)  # caller SMS: reply notice, 回访 survey
    return case


def telephony_hooks():
    from hotline.telephony import hooks  # telephony builds on this service; imported when first needed

    return hooks


def _assign(case: Case, actor: User | None, dept_code: Any, handler_name: Any, *, reassign: bool) -> None:
    department = lookup_department(dept_code)
    handler = lookup_handler(handler_name, department) if handler_name else None
    before = {"department": case.department.code if case.department else None,
              "handler": case.handler.username if case.handler else None, "status": case.status}
    now = clock.now()
    due = workdays.accept_due(now)
    case.department = department
    case.department_id = department.id
    case.handler = handler
    case.handler_id = handler.id if handler else None
    case.status = "assigned"
    case.assigned_at = now
    case.accepted_at = None
    case.accept_due_at = due.at
    case.due_uncertain = case.due_uncertain or due.uncertain
    _event(case, "reassign" if reassign else "assign", actor, before=before,
           after={"department": department.code, "handler": handler.username if handler else None,
                  "status": "assigned"}, accept_due_at=_iso(due.at))
    watch.on_dispatch(case)


def _do_assign(case, actor, p):
    _assign(case, actor, p.get("department"), p.get("handler"), reassign=False)


def _do_reassign(case, actor, p):
    _assign(case, actor, p.get("department"), p.get("handler"), reassign=True)


def _do_accept(case, actor, p):
    case.status = "accepted"
    case.accepted_at = clock.now()
    if case.handler_id is None and actor is not None:
        case.handler_id = actor.id
    _event(case, "accept", actor, before={"status": "assigned"}, after={"status": "accepted"})


def _do_return(case, actor, p):
    reason = _text(p.get("reason"), "reason", _("Reason"), TEXT_MAX, True)
    before = {"status": case.status, "department": case.department.code if case.department else None}
    case.status = "registered"
    case.department_id = None
    case.department = None
    case.handler_id = None
    case.handler = None
    case.accept_due_at = None
    case.extension_due_at = None
    case.extension_reason = None
    _event(case, "return", actor, reason=reason, before=before, after={"status": "registered", "department": None})


def _do_reply(case, actor, p):
    content = _text(p.get("content"), "content", _("Reply"), TEXT_MAX, True)
    method = p.get("method") or "phone"
    if method not in REPLY_METHODS:
        raise InvalidInput(_("Unknown reply method: %(m)s", m=str(method)[:20]), {"method": _("Unknown method.")})
    case.status = "replied"
    case.answer = content
    case.reply_method = method
    case.replied_at = clock.now()
    case.extension_due_at = None
    case.extension_reason = None
    _event(case, "reply", actor, content=content, method=method, before={"status": "accepted"},
           after={"status": "replied"}, on_time=case.replied_at <= case.reply_due_at)


def _do_close(case, actor, p):
    case.status = "closed"
    case.closed_at = clock.now()
    _event(case, "close", actor, before={"status": "replied"}, after={"status": "closed"})


def _do_extend(case, actor, p):
    reason = _text(p.get("reason"), "reason", _("Reason"), 500, True)
    if p.get("reply_due_at") in (None, ""):
        raise InvalidInput(_("Please give the new reply deadline."), {"reply_due_at": _("Required.")})
    new_due = parse_datetime(p.get("reply_due_at"), "reply_due_at")
    now = clock.now()
    if now > case.reply_due_at:
        raise IllegalMove(_("The reply deadline has passed; an extension must be asked for before it."))
    if new_due <= case.reply_due_at:
        raise InvalidInput(_("The new deadline must be later than the current one."),
                           {"reply_due_at": _("Must be later than the current deadline.")})
    case.extension_due_at = new_due
    case.extension_reason = reason
    _event(case, "extend_request", actor, reason=reason, requested_due=_iso(new_due),
           current_due=_iso(case.reply_due_at))


def _do_approve_extension(case, actor, p):
    before = case.reply_due_at
    case.reply_due_at = case.extension_due_at
    _event(case, "extend_approve", actor, before={"reply_due_at": _iso(before)},
           after={"reply_due_at": _iso(case.reply_due_at)}, reason=case.extension_reason)
    case.extension_due_at = None
    case.extension_reason = None


def _do_reject_extension(case, actor, p):
    note = _text(p.get("note"), "note", _("Note"), 500, False)
    _event(case, "extend_reject", actor, requested_due=_iso(case.extension_due_at), note=note)
    case.extension_due_at = None
    case.extension_reason = None


def _do_escalate(case, actor, p):
    note = _text(p.get("note"), "note", _("Note"), 500, False)
    case.escalated = True
    _event(case, "escalate", actor, note=note)


def _do_merge(case, actor, p):
    into_no = p.get("into")
    target = db.session.scalar(select(Case).where(Case.case_no == into_no)) if isinstance(into_no, str) else None
    if target is None or (actor is not None and not access.can_view(actor, target)):
        raise InvalidInput(_("Case %(no)s to merge into was not found.", no=str(into_no)[:32]),
                           {"into": _("Unknown case.")})
    if target.id == case.id:
        raise InvalidInput(_("A case cannot be merged into itself."), {"into": _("Pick another case.")})
    if target.merged_into_id is not None:
        raise InvalidInput(_("Case %(no)s was itself merged; merge into the case it was merged into.",
                             no=target.case_no), {"into": _("Already merged.")})
    before = case.status
    case.status = "closed"
    case.closed_at = clock.now()
    case.merged_into_id = target.id
    case.extension_due_at = None  # a waiting extension request ends with the case, as on reply and return
    case.extension_reason = None
    _event(case, "merge", actor, into=target.case_no, before={"status": before}, after={"status": "closed"})
    _event(target, "merged_from", actor, case_no=case.case_no)


def _do_reopen(case, actor, p):
    reason = _text(p.get("reason"), "reason", _("Reason"), TEXT_MAX, True)
    if case.merged_into_id is not None:
        raise IllegalMove(_("A merged case is not reopened; reopen the case it was merged into."))
    # A case closed on the call has no department yet: it goes back to the dispatch list.
    target = "accepted" if case.department_id is not None else "registered"
    case.status = target
    case.reopen_count += 1
    case.closed_at = None
    case.replied_at = None
    case.survey_result = None
    case.surveyed_at = None
    case.resolved_on_call = False
    now = clock.now()
    case_type, category = case.case_type, case.category
    due = workdays.reply_due(now, reply_days_for(case_type, category), case.urgent)
    case.reply_due_at = due.at
    case.due_uncertain = due.uncertain
    _event(case, "reopen", actor, reason=reason, before={"status": "closed"}, after={"status": target},
           reply_due_at=_iso(due.at))


def _do_survey(case, actor, p):
    result = p.get("result")
    if result not in SURVEY_RESULTS:
        raise InvalidInput(_("Unknown survey result: %(r)s", r=str(result)[:30]), {"result": _("Unknown result.")})
    before = case.survey_result
    case.survey_result = result
    case.surveyed_at = clock.now()
    extra = {}
    if p.get("resolved") is not None:  # 已解决 / 未解决, when the caller was asked (the voice 回访 asks)
        if not isinstance(p.get("resolved"), bool):
            raise InvalidInput(_("resolved must be true or false."), {"resolved": _("Must be true or false.")})
        extra["resolved"] = p["resolved"]
    _event(case, "survey", actor, before={"survey_result": before}, after={"survey_result": result},
           channel=p.get("channel") or "phone", **extra)


def _do_note(case, actor, p):
    text = _text(p.get("text"), "text", _("Note"), TEXT_MAX, True)
    _event(case, "note", actor, text=text)


HANDLERS = {
    "assign": _do_assign, "reassign": _do_reassign, "accept": _do_accept, "return": _do_return,
    "reply": _do_reply, "close": _do_close, "extend": _do_extend, "approve_extension": _do_approve_extension,
    "reject_extension": _do_reject_extension, "escalate": _do_escalate, "merge": _do_merge,
    "reopen": _do_reopen, "survey": _do_survey, "note": _do_note,
}
assert set(HANDLERS) == set(MOVES)


# ---------------------------------------------------------------- reading

def is_overdue(case: Case, now: datetime | None = None) -> bool:
    now = now or clock.now()
    if case.status in ("registered", "accepted"):
        return now > case.reply_due_at
    if case.status == "assigned":
        return now > case.reply_due_at or (case.accept_due_at is not None and now > case.accept_due_at)
    return False


def deadline_state(due: datetime | None, now: datetime | None = None) -> str | None:
    """One deadline: 'overdue', 'due_soon' (within the watch's warning lead, one working half-day) or 'ok'."""
    if due is None:
        return None
    now = now or clock.now()
    if now > due:
        return "overdue"
    if due - now <= watch.WARNING_LEAD:
        return "due_soon"
    return "ok"


def due_state(case: Case, now: datetime | None = None) -> str:
    """The case as a whole: its most pressing open deadline."""
    now = now or clock.now()
    if case.status not in OPEN_STATUSES:
        return "ok"
    if is_overdue(case, now):
        return "overdue"
    nearest = case.reply_due_at
    if case.status == "assigned" and case.accept_due_at is not None:
        nearest = min(nearest, case.accept_due_at)
    return deadline_state(nearest, now)
