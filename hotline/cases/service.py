"""The case use cases: register and every lifecycle move, each rule written once.

Services flush; the door (view, API, job, CLI) commits or rolls back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import Date, Integer, and_, bindparam, func, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import defaultload
from sqlalchemy.orm.exc import StaleDataError

from hotline import clock
from hotline.auth.models import User
from hotline.cases import access, actions as action_specs, deadlines, events, panels, signals
from hotline.cases.models import (
    CHANNELS,
    OPEN_STATUSES,
    REPLY_METHODS,
    SURVEY_RESULTS,
    Case,
    CaseCounter,
    CaseEvent,
)
from hotline.dates import utc_iso
from hotline.db_helpers import check_version, insert_ignore
from hotline.errors import Forbidden, IllegalMove, InvalidInput, NotFound, StaleVersion
from hotline.extensions import db
from hotline.limits import DETAIL_MAX, SUMMARY_MAX, TEXT_MAX
from hotline.notify import service as watch
from hotline.orgs import service as orgs
from hotline.phones import normalize_phone
from hotline.reference import lookup
from hotline.reference.models import CaseType, Category, Department
from hotline.workdays import service as workdays

PHONE_CHANNELS = ("hotline", "radio", "voicemail")


@dataclass(frozen=True)
class Move:
    """One row of the lifecycle table: where an action may start, where it leads, who may do it."""

    from_statuses: tuple[str, ...]
    to_status: str | None  # None: status unchanged
    roles: tuple[str, ...]
    department_handler: bool = False  # a handler of the case's department may do it
    org_side: str = "owner"  # which organisation's operators/supervisors (hotline/cases/actions.py)


# The lifecycle, in one table (architecture §2), derived from the action specs (hotline/cases/actions.py).
MOVES: dict[str, Move] = {
    spec.name: Move(spec.from_statuses, spec.to_status, spec.roles, spec.department_handler, spec.org_side)
    for spec in action_specs.ACTIONS
}

ACTIONS = tuple(MOVES)


# ---------------------------------------------------------------- helpers

def _text(value: Any, field: str, label: Any, max_len: int, required: bool) -> str:
    """A free text, stripped. `label` is a lazy string: translated only when the text is refused (a valid
    registration would otherwise look up six labels it never shows)."""
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
    return events.add(case, kind, actor.id if actor else None, clock.now(), **data)


def note_call(case_id: int, operator_id: int | None, figures: dict[str, Any]) -> None:
    """Telephony reports that a call linked to the case ended: its figures go on the timeline."""
    events.add(case_id, "call", operator_id, clock.now(), **{k: v for k, v in figures.items() if v is not None})




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


def registration_type_and_category(type_code: Any, category_code: Any) -> tuple[Any, Any]:
    """A registration's type and category: in a request, from the held reference copies (plain rows with the
    same attributes, no statement: registering is the busiest write); otherwise, or when either is unknown or
    retired, from the database, whose look-ups say which is wrong."""
    if lookup.holding() and isinstance(type_code, str) and isinstance(category_code, str):
        case_type = lookup.mapping(CaseType, "code", None).get(type_code)
        category = lookup.mapping(Category, "code", None).get(category_code)
        if case_type is not None and category is not None and category.active:
            return case_type, category
    return lookup_type_and_category(type_code, category_code)


def lookup_category(code: Any) -> Category:
    row = None
    if isinstance(code, str):
        row = db.session.scalar(select(Category).where(_usable_category(code)))
    if row is None:
        raise InvalidInput(_("Unknown category: %(code)s", code=str(code)[:40]), {"category": _("Unknown category.")})
    return row


def lookup_department(code: Any, org_id: int | None = None) -> Department:
    """An active department by code; with `org_id`, one of that organisation's (each level dispatches to its own)."""
    row = None
    if isinstance(code, str):
        row = db.session.scalar(select(Department).where(Department.code == code, Department.active.is_(True)))
    if row is None:
        raise InvalidInput(_("Unknown department: %(code)s", code=str(code)[:40]),
                           {"department": _("Unknown department.")})
    if org_id is not None and row.org_id != org_id:
        raise InvalidInput(_("%(dept)s belongs to another organisation; dispatch to one of this organisation's "
                             "departments, or hand the case down.", dept=row.name),
                           {"department": _("Another organisation's department.")})
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


def _counter_upsert(local_day: date, dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(CaseCounter)
        .values(day=local_day, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": CaseCounter.last + 1})
        .returning(CaseCounter.last)
    )


def format_case_no(local_day: date, number: int) -> str:
    return f"{local_day:%Y%m%d}-{number:04d}"


def next_case_no(local_day: date) -> str:
    """Sequential number per local day. The upsert locks the day's counter row until commit,
    so concurrent registrations queue up instead of colliding."""
    number = db.session.execute(_counter_upsert(local_day, db.session.get_bind().dialect.name)).scalar_one()
    return format_case_no(local_day, number)


def take_case_no(local_day: date) -> Any:
    """The day's next number, for a new case's INSERT. Numbers stay unique, gap-free and in the order
    registrations take them: taking one locks the day's counter row until the commit.

    PostgreSQL: a SQL expression evaluated by the INSERT itself (the function hotline_take_case_no, made by
    migration d8e3b1c5a7f2: the counter's upsert, formatted as format_case_no does), so the case row is
    written once and carries its final number, and the lock is held from the INSERT on. SQLite: taken here
    (it has one writer at a time in any case).

    The day is written into the SQL (one text a day), not bound: the INSERT binds every other column of the
    case, and psycopg converts a statement of more than 50 parameters afresh on every execution."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.hotline_take_case_no(bindparam("case_day", local_day, type_=Date, literal_execute=True))
    return next_case_no(local_day)


# ---------------------------------------------------------------- register

class _Collected:
    """Every problem with a submission at once: each check's InvalidInput is kept, not raised."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.messages: list[str] = []

    def check(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InvalidInput as err:
            self.add(err.message, err.fields)
            return None

    def add(self, message: str, fields: dict[str, str]) -> None:
        new = {k: v for k, v in fields.items() if k not in self.fields}
        if new or not fields:
            self.fields.update(new)
            self.messages.append(message)

    def raise_any(self) -> None:
        if len(self.messages) == 1:
            raise InvalidInput(self.messages[0], self.fields)
        if self.messages:
            raise InvalidInput(_("%(n)d fields need correcting: %(list)s", n=len(self.fields),
                                 list=" ".join(self.messages)), self.fields)


def validate_registration(actor: User | None, data: dict[str, Any],
                          origin: signals.Origin | None = None) -> dict[str, Any]:
    """Check a registration and return its cleaned values. Every missing or wrong field is reported at once
    (InvalidInput with all of them in `fields`); nothing is written. Subscribers of `registering` check the
    origin (telephony: the call or call-back it names exists and is the actor's to link)."""
    if actor is not None and not actor.has_role("operator", "producer"):
        raise Forbidden(_("Only operators and producers may register cases."))
    if not isinstance(data, dict):
        raise InvalidInput(_("The request body must be a JSON object."))
    errors = _Collected()
    channel = data.get("channel") or "hotline"
    if channel not in CHANNELS:
        errors.add(_("Unknown channel: %(code)s", code=str(channel)[:40]), {"channel": _("Unknown channel.")})
    caller = data.get("caller") or {}
    if not isinstance(caller, dict):
        errors.add(_("caller must be an object."), {"caller": _("Must be an object.")})
        caller = {}
    raw_phone = caller.get("phone")
    phone = None
    if (raw_phone or "").strip() if isinstance(raw_phone, str) else raw_phone:
        phone = errors.check(normalize_phone, str(raw_phone), "caller.phone")
    elif channel in PHONE_CHANNELS:
        errors.check(normalize_phone, "", "caller.phone")  # required
    name = errors.check(_text, caller.get("name"), "caller.name", _l("Caller name"), 64, False) or None
    employer = errors.check(_text, caller.get("employer"), "caller.employer", _l("Employer"), 128, False) or None
    district = errors.check(_text, caller.get("district"), "caller.district", _l("District"), 64, False) or None
    case_type = category = None
    type_code, category_code = data.get("type"), data.get("category")
    if type_code in (None, ""):
        errors.add(_("Choose the case type."), {"type": _("Required.")})
    if category_code in (None, ""):
        errors.add(_("Choose the category."), {"category": _("Required.")})
    if type_code not in (None, "") and category_code not in (None, ""):
        try:  # both known: held copies, or one query
            case_type, category = registration_type_and_category(type_code, category_code)
        except InvalidInput:
            case_type = errors.check(lookup_type, type_code)
            category = errors.check(lookup_category, category_code)
    elif type_code not in (None, ""):
        case_type = errors.check(lookup_type, type_code)
    elif category_code not in (None, ""):
        category = errors.check(lookup_category, category_code)
    summary = errors.check(_text, data.get("summary"), "summary", _l("Summary"), SUMMARY_MAX, True)
    detail = errors.check(_text, data.get("detail"), "detail", _l("Detail"), DETAIL_MAX, False)
    urgent = errors.check(_bool, data.get("urgent"), "urgent")
    confidential = errors.check(_bool, data.get("confidential"), "confidential")
    broadcast_ok = errors.check(_bool, data.get("broadcast_ok"), "broadcast_ok")
    resolved = errors.check(_bool, data.get("resolved_on_call"), "resolved_on_call")
    answer = errors.check(_text, data.get("answer"), "answer", _l("Answer"), TEXT_MAX, bool(resolved)) or None
    dispatch = data.get("department")
    if data.get("handler") and not dispatch:
        errors.add(_("Choose the handler's department as well."), {"department": _("Required with a handler.")})
    elif resolved and dispatch:
        errors.add(_("A case closed on the call is not dispatched."), {"department": _("Leave empty.")})
    elif dispatch:
        department = errors.check(lookup_department, dispatch, actor.org_id if actor is not None else None)
        if department is not None and data.get("handler"):
            errors.check(lookup_handler, data.get("handler"), department)
    if broadcast_ok and confidential:
        errors.add(_("A confidential case cannot be cleared for broadcast."),
                   {"broadcast_ok": _("Not with confidential.")})
    errors.raise_any()
    signals.registering.send(actor, origin=origin or signals.Origin(), data=data)
    if dispatch and actor is not None and not actor.has_role(*MOVES["assign"].roles):
        # Dispatching at registration is the assign move: same roles as the table says.
        raise Forbidden(_("Your role may register cases but not dispatch them."))
    return {"channel": channel, "case_type": case_type, "category": category, "phone": phone, "name": name,
            "employer": employer, "district": district, "summary": summary, "detail": detail,
            "urgent": urgent, "confidential": confidential, "broadcast_ok": broadcast_ok,
            "resolved": resolved, "answer": answer, "dispatch": dispatch}


def register(actor: User | None, data: dict[str, Any], *, via: str = "web",
             origin: signals.Origin | None = None, external_id: str | None = None,
             due_by: datetime | None = None, platform: dict[str, Any] | None = None) -> Case:
    """Log a new case. `actor` None means the telephony system. May close on the call or dispatch at once.
    `origin`: the call or call-back it comes from and the caller's SMS consent, for the subscribers.

    A case handed down by the 12351 platform (hotline/exchange/) brings its `external_id`, the platform's
    deadline `due_by` (the reply deadline when earlier than the one counted here) and `platform` (what the
    platform sent about it), kept on the registration event."""
    origin = origin or signals.Origin()
    v = validate_registration(actor, data, origin)
    channel, case_type, category = v["channel"], v["case_type"], v["category"]
    phone, name, employer, district = v["phone"], v["name"], v["employer"], v["district"]
    summary, detail, answer, dispatch = v["summary"], v["detail"], v["answer"], v["dispatch"]
    urgent, confidential, broadcast_ok, resolved = v["urgent"], v["confidential"], v["broadcast_ok"], v["resolved"]

    # What the request wrote before (an API token's last use) goes to the database first: the case's INSERT takes
    # the day's counter, held to the commit, and a request taking the two row locks in the other order would
    # deadlock against it (several clients on one token).
    db.session.flush()
    now = clock.now()
    due = deadlines.reply_due_for(case_type, category, now, urgent)
    if due_by is not None and due_by < due.at:
        due = workdays.Due(due_by, False)  # the platform's own deadline, not counted on our calendar
    case = Case(
        case_no=take_case_no(clock.to_local(now).date()),
        channel=channel,
        type_code=case_type.code,  # the keys: the rows may be held copies, not the session's
        category_id=category.id,
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
        # The registering level owns the case first; the telephony system registers for the root.
        org_id=actor.org_id if actor is not None else orgs.root().id,
        registered_org_id=actor.org_id if actor is not None else orgs.root().id,
        reply_due_at=due.at,
        due_uncertain=due.uncertain,
        created_at=now,
        updated_at=now,
        version=1,
        external_id=external_id,
    )
    if resolved:
        case.replied_at = case.closed_at = now
        case.reply_method = "phone"
    watch.refresh_watch(case)  # before the INSERT, so a new case starts at version 1
    first = dict(status=case.status, via=via, reply_due_at=utc_iso(due.at), resolved_on_call=resolved,
                 **({"platform": platform} if platform else {}))
    if _write_at_once(case):
        events.add_with_case(case, "register", actor, now, **first)
    else:
        db.session.add(case)
        db.session.flush()
        events.add_first(case, "register", actor, now, **first)
    if dispatch:
        # Dispatch is the second step: one UPDATE, so the case is at version 2.
        with db.session.no_autoflush:
            _assign(case, actor, dispatch, data.get("handler"), reassign=False)
            watch.refresh_watch(case)
        db.session.flush()
    # Telephony: caller SMS, links to the call / call-back; intake help: employer cluster (群体性预警).
    signals.registered.send(case, actor=actor, origin=origin, data=data)
    return case


def _write_at_once(case: Case) -> bool:
    """Whether the new case and its registration event go in one statement (events.add_with_case): on
    PostgreSQL, unless a subscriber of `writing_at_once` needs the case in the session's flush. SQLite has no
    INSERT inside a WITH, and one writer at a time in any case."""
    if db.session.get_bind().dialect.name != "postgresql":
        return False
    return not any(needs_flush for _receiver, needs_flush in signals.writing_at_once.send(case))


# ---------------------------------------------------------------- lookups

def may_dispatch(actor: User) -> bool:
    """Dispatching at registration is the assign move: the roles the move table gives it."""
    return actor.has_role(*MOVES["assign"].roles)


# The handler's roles are loaded only if a rule asks for them (a page shows their name). Built once: every
# page and answer about a case runs it, and building it with its options cost more than running it.
_BY_NUMBER = select(Case).where(Case.case_no == bindparam("case_no")).options(
    defaultload(Case.handler).lazyload(User.role_rows))


# The same, with the case page's panels probed in the same statement (panels.columns), per set of panels.
_BY_NUMBER_PROBED: dict[tuple[str, ...], Any] = {}


def get_case(actor: User, case_no: str, *, probe_panels: bool = False) -> Case:
    """The case by its number, if the actor may see it. `probe_panels`: the case page's panels are asked in
    the same statement (one round trip less; panels.may_have answers from it)."""
    known = isinstance(case_no, str) and "\x00" not in case_no  # PostgreSQL refuses NUL in a query
    row, names = None, panels.names() if probe_panels else ()
    if known and names:
        statement = _BY_NUMBER_PROBED.get(names)
        if statement is None:
            statement = _BY_NUMBER_PROBED[names] = _BY_NUMBER.add_columns(
                *panels.columns(Case.id, bindparam("reader_id", type_=Integer)))
        row = db.session.execute(statement, {"case_no": case_no, "reader_id": actor.id}).first()
    elif known:
        row = db.session.execute(_BY_NUMBER, {"case_no": case_no}).first()
    case = row[0] if row is not None else None
    if case is None or not access.can_view(actor, case):
        # Same answer for "absent" and "not yours": numbers are not an oracle.
        raise NotFound(_("Case %(no)s was not found.", no=str(case_no)[:32]))
    if len(row) > 1:
        panels.hold(case.id, names, row[1:])
    return case


def allowed_actions(actor: User, case: Case) -> list[str]:
    result = []
    for name, move in MOVES.items():
        if not _may_try(actor, case, move):
            continue  # refused without composing the refusal's message (a page asks about every move)
        try:
            _check(actor, case, name, move)
        except (Forbidden, IllegalMove):
            continue
        result.append(name)
    return result


def acting_org_ok(actor: User, case: Case, side: str) -> bool:
    """Whether the actor's organisation is the one that does this kind of move (hotline/cases/actions.py org_side)."""
    if side == "any":
        return True
    if side == "parent":
        owner = orgs.by_id(case.org_id)
        return owner is not None and owner.parent_id is not None and owner.parent_id == actor.org_id
    if side == "closer":
        registrar = orgs.by_id(case.registered_org_id)
        if registrar is not None and registrar.delegate_closure:
            return actor.org_id in (case.org_id, case.registered_org_id)
        return actor.org_id == case.registered_org_id
    return actor.org_id == case.org_id


def _role_ok(actor: User | None, case: Case, move: Move) -> bool:
    return actor is None or bool(
        (actor.has_role(*move.roles) and acting_org_ok(actor, case, move.org_side))
        or (move.department_handler and access.works_in_department(actor, case)))


def _may_try(actor: User | None, case: Case, move: Move) -> bool:
    """_check's first two tests, without their messages: the person may make this move, the case's status allows it."""
    return _role_ok(actor, case, move) and case.status in move.from_statuses


def _check(actor: User | None, case: Case, name: str, move: Move) -> None:
    if actor is not None:
        if not _role_ok(actor, case, move):
            raise Forbidden(_("You may not %(action)s this case.", action=action_label(name)))
    if case.status not in move.from_statuses:
        raise IllegalMove(
            _("Cannot %(action)s a case that is %(status)s.", action=action_label(name), status=status_label(case.status))
        )
    guard = action_specs.SPECS[name].guard
    refusal = guard(actor, case) if guard else None
    if refusal:
        raise IllegalMove(refusal)


def action_label(name: str) -> str:
    return action_specs.verb(name)


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
    check_version(case, version, _("Case %(no)s was changed by someone else meanwhile. Reload it to see the change, "
                                   "then try again.", no=case.case_no),
                  missing=_("The case version is missing; reload the case and try again."))
    _check(actor, case, action, move)
    handler = HANDLERS[action]
    case_no = case.case_no  # the instance is unusable after a failed flush
    try:
        with db.session.no_autoflush:  # one UPDATE per action, so `version` counts actions
            handler(case, actor, params or {})
            if action_specs.SPECS[action].moves_version:  # a note changes no field: others' pages stay fresh
                case.updated_at = clock.now()
                watch.refresh_watch(case)
        db.session.flush()
    except StaleDataError:
        # Another transaction changed the row after we read it (version_id_col caught it).
        raise StaleVersion(
            _("Case %(no)s was changed by someone else meanwhile. Reload it to see the change, then try again.",
              no=case_no)
        ) from None
    signals.moved.send(case, actor=actor, action=action)  # telephony: caller SMS, reply notice, 回访 survey
    return case


def _assign(case: Case, actor: User | None, dept_code: Any, handler_name: Any, *, reassign: bool) -> None:
    department = lookup_department(dept_code, case.org_id)
    handler = lookup_handler(handler_name, department) if handler_name else None
    before = {"department": case.department.code if case.department else None,
              "handler": case.handler.username if case.handler else None, "status": case.status}
    now = clock.now()
    due = deadlines.accept_due_for(now)
    case.department = department
    case.department_id = department.id
    case.handler = handler
    case.handler_id = handler.id if handler else None
    case.status = "assigned"
    case.assigned_at = now
    case.return_requested_at = None  # a new dispatch settles a waiting return
    case.return_reason = None
    case.accepted_at = None
    # 签收 is never due after the reply itself (an urgent case is due the same day).
    case.accept_due_at = min(due.at, case.reply_due_at) if case.reply_due_at else due.at
    case.due_uncertain = case.due_uncertain or due.uncertain
    _event(case, "reassign" if reassign else "assign", actor, before=before,
           after={"department": department.code, "handler": handler.username if handler else None,
                  "status": "assigned"}, accept_due_at=utc_iso(due.at))
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
    """退回: the handler asks for the case to go back; it waits for the centre's review (退单审核)."""
    reason = _text(p.get("reason"), "reason", _l("Reason"), TEXT_MAX, True)
    case.return_requested_at = clock.now()
    case.return_reason = reason
    _event(case, "return", actor, reason=reason, department=case.department.code if case.department else None)
    with watch.default_locale():
        body = _("12351 case %(no)s: %(dept)s asks to return it (%(reason)s). Please review the return.",
                 no=case.case_no, dept=case.department.name if case.department else "", reason=reason[:60])
    watch.case_notice(case, "return_request", watch.supervisors(), body)


def _do_accept_return(case, actor, p):
    before = {"status": case.status, "department": case.department.code if case.department else None,
              "handler": case.handler.username if case.handler else None}
    reason = case.return_reason
    case.status = "registered"
    case.department_id = None
    case.department = None
    case.handler_id = None
    case.handler = None
    case.accept_due_at = None
    case.extension_due_at = None
    case.extension_reason = None
    case.return_requested_at = None
    case.return_reason = None
    _event(case, "return_accept", actor, reason=reason, before=before,
           after={"status": "registered", "department": None, "handler": None})


def _do_refuse_return(case, actor, p):
    reason = _text(p.get("reason"), "reason", _l("Reason"), TEXT_MAX, True)
    case.return_requested_at = None
    case.return_reason = None
    _event(case, "return_refuse", actor, reason=reason)
    with watch.default_locale():
        body = _("12351 case %(no)s: the return was refused, please keep working on it (%(reason)s).",
                 no=case.case_no, reason=reason[:60])
    watch.case_notice(case, "return_refused", watch.case_workers(case), body, sms=True)


def _do_reply(case, actor, p):
    content = _text(p.get("content"), "content", _l("Reply"), TEXT_MAX, True)
    method = p.get("method") or "phone"
    if method not in REPLY_METHODS:
        raise InvalidInput(_("Unknown reply method: %(m)s", m=str(method)[:20]), {"method": _("Unknown method.")})
    case.status = "replied"
    case.answer = content
    case.reply_method = method
    case.replied_at = clock.now()
    case.extension_due_at = None
    case.extension_reason = None
    case.return_requested_at = None  # answered after all: a waiting return is moot
    case.return_reason = None
    _event(case, "reply", actor, content=content, method=method, before={"status": "accepted"},
           after={"status": "replied"}, on_time=case.replied_at <= case.reply_due_at)


def _do_close(case, actor, p):
    case.status = "closed"
    case.closed_at = clock.now()
    _event(case, "close", actor, before={"status": "replied"}, after={"status": "closed"})


def _do_extend(case, actor, p):
    reason = _text(p.get("reason"), "reason", _l("Reason"), 500, True)
    if p.get("reply_due_at") in (None, ""):
        raise InvalidInput(_("Please give the new reply deadline."), {"reply_due_at": _("Required.")})
    new_due = parse_datetime(p.get("reply_due_at"), "reply_due_at")
    now = clock.now()
    if now > case.reply_due_at:
        raise IllegalMove(_("The reply deadline has passed; an extension must be asked for before it."))
    new_day = clock.to_local(new_due).date()
    if new_due <= case.reply_due_at or new_day <= clock.to_local(case.reply_due_at).date():
        raise InvalidInput(_("The new deadline must be a working day after the current one."),
                           {"reply_due_at": _("Must be later than the current deadline.")})
    calendar = workdays.calendar_for(new_day, span_days=40)
    if not calendar.is_workday(new_day):
        suggested, _uncertain = calendar.nth_workday_after(new_day, 1)
        raise InvalidInput(
            _("%(day)s is not a working day; the next working day is %(next)s.",
              day=new_day.isoformat(), next=suggested.isoformat()),
            {"reply_due_at": _("Not a working day; try %(next)s.", next=suggested.isoformat())})
    case.extension_due_at = new_due
    case.extension_reason = reason
    _event(case, "extend_request", actor, reason=reason, requested_due=utc_iso(new_due),
           current_due=utc_iso(case.reply_due_at))
    with watch.default_locale():
        body = _("12351 case %(no)s: an extension to %(due)s is asked for (%(reason)s). Please decide.",
                 no=case.case_no, due=watch.short_time(new_due), reason=reason[:60])
    watch.case_notice(case, "extension_request", watch.supervisors(), body)


def _extension_decided(case, approved: bool, note: str = "") -> None:
    with watch.default_locale():
        if approved:
            body = _("12351 case %(no)s: the extension was approved; reply due %(due)s.",
                     no=case.case_no, due=watch.short_time(case.reply_due_at))
        else:
            body = _("12351 case %(no)s: the extension was rejected; reply due %(due)s stays.",
                     no=case.case_no, due=watch.short_time(case.reply_due_at))
            if note:
                body += " " + note[:60]
    watch.case_notice(case, "extension_decision", watch.case_workers(case), body, sms=True)


def _do_approve_extension(case, actor, p):
    before = case.reply_due_at
    case.reply_due_at = case.extension_due_at
    _event(case, "extend_approve", actor, before={"reply_due_at": utc_iso(before)},
           after={"reply_due_at": utc_iso(case.reply_due_at)}, reason=case.extension_reason)
    case.extension_due_at = None
    case.extension_reason = None
    _extension_decided(case, True)


def _do_reject_extension(case, actor, p):
    note = _text(p.get("note"), "note", _l("Note"), 500, False)
    _event(case, "extend_reject", actor, requested_due=utc_iso(case.extension_due_at), note=note)
    case.extension_due_at = None
    case.extension_reason = None
    _extension_decided(case, False, note)


def escalate(case: Case, actor: User | None, note: str = "", *, auto: bool = False) -> None:
    """督办: flag the case and tell its handler (or department) and the department head."""
    case.escalated = True
    if auto:
        _event(case, "escalate", actor, note=note, auto=True)
    else:
        _event(case, "escalate", actor, note=note)
    with watch.default_locale():
        body = _("12351 case %(no)s (%(cat)s) is escalated (督办); reply due %(due)s.",
                 no=case.case_no, cat=case.category.name, due=watch.short_time(case.reply_due_at))
        if note:
            body += " " + note[:80]
    watch.case_notice(case, "escalated", watch.case_workers(case), body, sms=True)
    watch.case_notice(case, "escalated", watch.department_head(case.department_id), body)


def _do_escalate(case, actor, p):
    note = _text(p.get("note"), "note", _l("Note"), 500, False)
    escalate(case, actor, note)


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
    case.return_requested_at = None
    case.return_reason = None
    _event(case, "merge", actor, into=target.case_no, before={"status": before}, after={"status": "closed"})
    _event(target, "merged_from", actor, case_no=case.case_no)


def _reopen(case: Case) -> str:
    """Back to work with a new reply deadline counted from now; returns the new status."""
    # A case closed on the call has no department yet: it goes back to the dispatch list.
    target = "accepted" if case.department_id is not None else "registered"
    case.status = target
    case.reopen_count += 1
    case.closed_at = None
    case.replied_at = None
    case.survey_result = None
    case.survey_resolved = None
    case.surveyed_at = None
    case.review_pending = False
    case.resolved_on_call = False
    due = deadlines.reply_due_for(case.case_type, case.category, clock.now(), case.urgent)
    case.reply_due_at = due.at
    case.due_uncertain = due.uncertain
    return target


def _do_reopen(case, actor, p):
    reason = _text(p.get("reason"), "reason", _l("Reason"), TEXT_MAX, True)
    if case.merged_into_id is not None:
        raise IllegalMove(_("A merged case is not reopened; reopen the case it was merged into."))
    target = _reopen(case)
    _event(case, "reopen", actor, reason=reason, before={"status": "closed"}, after={"status": target},
           reply_due_at=utc_iso(case.reply_due_at))


def _parse_resolved(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if value in ("1", "true", "yes", 1, 0, "0", "false", "no"):
        return value in ("1", "true", "yes", 1)
    raise InvalidInput(_("resolved must be true or false."), {"resolved": _("Must be true or false.")})


def _do_survey(case, actor, p):
    result = p.get("result")
    if result in (None, ""):
        raise InvalidInput(_("Choose the survey result."), {"result": _("Required.")})
    if result not in SURVEY_RESULTS:
        raise InvalidInput(_("Unknown survey result: %(r)s", r=str(result)[:30]), {"result": _("Unknown result.")})
    resolved = _parse_resolved(p.get("resolved"))
    if result == "unreachable" and resolved is not None:
        raise InvalidInput(_("An unreachable caller cannot say whether the problem was solved."),
                           {"resolved": _("Leave empty when unreachable.")})
    before = {"survey_result": case.survey_result}
    after: dict[str, Any] = {"survey_result": result}
    if resolved is not None or case.survey_resolved is not None:  # an SMS answer says nothing about it
        before["survey_resolved"], after["survey_resolved"] = case.survey_resolved, resolved
    case.survey_result = result
    case.survey_resolved = resolved
    case.surveyed_at = clock.now()
    was_pending = case.review_pending
    case.review_pending = result == "dissatisfied" or resolved is False
    _event(case, "survey", actor, before=before, after=after,
           channel=p.get("channel") or "phone")
    if case.review_pending and not was_pending:
        with watch.default_locale():
            body = _("12351 case %(no)s: the caller is not satisfied or the problem is not solved. Please review "
                     "it (reopen or uphold).", no=case.case_no)
        watch.case_notice(case, "review", watch.supervisors(), body)


def _do_review(case, actor, p):
    decision = p.get("decision")
    if decision in (None, ""):
        raise InvalidInput(_("Choose a decision: reopen or uphold."), {"decision": _("Required.")})
    if decision not in action_specs.REVIEW_DECISIONS:
        raise InvalidInput(_("Unknown decision: %(d)s", d=str(decision)[:20]), {"decision": _("Unknown decision.")})
    reason = _text(p.get("reason"), "reason", _l("Reason"), TEXT_MAX, decision == "uphold")
    if decision == "reopen" and case.merged_into_id is not None:
        raise IllegalMove(_("A merged case is not reopened; reopen the case it was merged into."))
    before = case.status
    case.review_pending = False
    if decision == "reopen":
        target = _reopen(case)
        _event(case, "review", actor, decision=decision, reason=reason, before={"status": before},
               after={"status": target}, reply_due_at=utc_iso(case.reply_due_at))
        with watch.default_locale():
            body = _("12351 case %(no)s is reopened (重办) after the caller's follow-up; reply due %(due)s.",
                     no=case.case_no, due=watch.short_time(case.reply_due_at))
            if reason:
                body += " " + reason[:80]
        watch.case_notice(case, "reopened", watch.case_workers(case), body, sms=True)
    else:
        _event(case, "review", actor, decision=decision, reason=reason)


def _do_edit(case, actor, p):
    """Correct a case: the fields given, a reason, deadlines counted again when type, category or urgency change."""
    unknown = [k for k in p if k not in action_specs.EDIT_FIELDS and k != "reason"]
    if unknown:
        raise InvalidInput(_("Unknown field: %(name)s", name=str(unknown[0])[:40]),
                           {str(k)[:40]: _("Not accepted here.") for k in unknown})
    reason = _text(p.get("reason"), "reason", _l("Reason"), 500, True)
    if actor is not None and not access.can_see_private(actor, case) and (
            p.get("caller") is not None or "detail" in p):
        # What one may not see, one may not rewrite (confidential cases: those who work them).
        raise Forbidden(_("Only those who work this confidential case may correct its caller and detail."))
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    changes: dict[str, Any] = {}

    def change(key: str, old: Any, new: Any) -> None:
        if old != new:
            before[key], after[key] = old, new
            changes[key] = new

    if "type" in p or "category" in p:
        type_code = p.get("type") if p.get("type") not in (None, "") else case.type_code
        cat_code = p.get("category") if p.get("category") not in (None, "") else case.category.code
        if type_code != case.type_code or cat_code != case.category.code:
            case_type, category = lookup_type_and_category(type_code, cat_code)
            change("type", case.type_code, case_type.code)
            change("category", case.category.code, category.code)
            changes.pop("type", None), changes.pop("category", None)
            changes["_type"], changes["_category"] = case_type, category
    if "summary" in p:
        change("summary", case.summary, _text(p.get("summary"), "summary", _l("Summary"), SUMMARY_MAX, True))
    if "detail" in p:
        change("detail", case.detail or "", _text(p.get("detail"), "detail", _l("Detail"), DETAIL_MAX, False))
    for flag in ("urgent", "confidential", "broadcast_ok"):
        if flag in p and p.get(flag) is not None:
            change(flag, bool(getattr(case, flag)), _bool(p.get(flag), flag))
    caller = p.get("caller")
    if caller is not None:
        if not isinstance(caller, dict):
            raise InvalidInput(_("caller must be an object."), {"caller": _("Must be an object.")})
        bad = [k for k in caller if k not in action_specs.EDIT_CALLER_FIELDS]
        if bad:
            raise InvalidInput(_("Unknown field: %(name)s", name="caller." + str(bad[0])[:40]),
                               {f"caller.{str(k)[:40]}": _("Not accepted here.") for k in bad})
        if "phone" in caller:
            raw = caller.get("phone")
            if isinstance(raw, str) and raw.strip():
                phone = normalize_phone(raw, "caller.phone")
            elif case.channel in PHONE_CHANNELS:
                phone = normalize_phone("", "caller.phone")  # raises: required
            else:
                phone = None
            change("caller_phone", case.caller_phone, phone)
        for key, label, max_len in (("name", _l("Caller name"), 64), ("employer", _l("Employer"), 128),
                                    ("district", _l("District"), 64)):
            if key in caller:
                change(f"caller_{key}", getattr(case, f"caller_{key}"),
                       _text(caller.get(key), f"caller.{key}", label, max_len, False) or None)
    confidential = changes.get("confidential", case.confidential)
    broadcast_ok = changes.get("broadcast_ok", case.broadcast_ok)
    if confidential and broadcast_ok:
        raise InvalidInput(_("A confidential case cannot be cleared for broadcast."),
                           {"broadcast_ok": _("Not with confidential.")})
    if not before:
        raise InvalidInput(_("The correction changes nothing: change at least one field."))
    for key, value in changes.items():
        if key == "_type":
            case.case_type, case.type_code = value, value.code
        elif key == "_category":
            case.category, case.category_id = value, value.id
        else:
            setattr(case, key, value)
    if {"type", "category", "urgent"} & set(before):
        due = deadlines.reply_due_for(case.case_type, case.category, case.created_at, case.urgent)
        if due.at != case.reply_due_at:
            before["reply_due_at"], after["reply_due_at"] = utc_iso(case.reply_due_at), utc_iso(due.at)
            case.reply_due_at = due.at
            case.due_uncertain = due.uncertain
        if case.accept_due_at is not None and case.status == "assigned" and case.accept_due_at > case.reply_due_at:
            before["accept_due_at"], after["accept_due_at"] = utc_iso(case.accept_due_at), utc_iso(case.reply_due_at)
            case.accept_due_at = case.reply_due_at
    _event(case, "edit", actor, reason=reason, before=before, after=after)


def _do_transfer(case, actor, p):
    """下派: the case goes one level down, to a child of its current organisation; the deadlines keep running."""
    target = orgs.lookup(p.get("org"))
    current = orgs.by_id(case.org_id)
    note = _text(p.get("note"), "note", _l("Note"), action_specs.REASON_MAX, False)
    if target.id == case.org_id:
        raise InvalidInput(_("Case %(no)s is already with %(org)s.", no=case.case_no, org=target.name),
                           {"org": _("The case's own organisation.")})
    if current is None or target.parent_id != current.id or not target.active:
        raise InvalidInput(_("%(org)s is not directly below %(current)s: a case is handed down one level at a time.",
                             org=target.name, current=current.name if current else ""),
                           {"org": _("Not a child organisation.")})
    case.org_id = target.id
    case.up_requested_at = None
    case.up_reason = None
    _event(case, "transfer", actor, note=note, before={"org": current.code}, after={"org": target.code})
    with watch.default_locale():
        body = _("12351 case %(no)s was handed down to %(org)s by %(from)s. Please dispatch it.",
                 no=case.case_no, org=target.name, **{"from": current.name})
        if note:
            body += " " + note[:80]
    watch.case_notice(case, "transfer", org_dispatchers(target.id), body)


def _do_send_up(case, actor, p):
    """上报: ask the level above to take the case back; its operators and supervisors review it."""
    reason = _text(p.get("reason"), "reason", _l("Reason"), TEXT_MAX, True)
    current = orgs.by_id(case.org_id)
    case.up_requested_at = clock.now()
    case.up_reason = reason
    _event(case, "send_up", actor, reason=reason, org=current.code if current else None)
    with watch.default_locale():
        body = _("12351 case %(no)s: %(org)s asks the level above to take it back (%(reason)s). Please review it.",
                 no=case.case_no, org=current.name if current else "", reason=reason[:60])
    watch.case_notice(case, "send_up", org_dispatchers(current.parent_id if current else None), body)


def _do_accept_up(case, actor, p):
    current = orgs.by_id(case.org_id)
    parent = orgs.by_id(current.parent_id) if current else None
    reason = case.up_reason
    case.org_id = parent.id
    case.up_requested_at = None
    case.up_reason = None
    _event(case, "send_up_accept", actor, reason=reason, before={"org": current.code}, after={"org": parent.code})


def _do_refuse_up(case, actor, p):
    reason = _text(p.get("reason"), "reason", _l("Reason"), TEXT_MAX, True)
    case.up_requested_at = None
    case.up_reason = None
    _event(case, "send_up_refuse", actor, reason=reason)
    with watch.default_locale():
        body = _("12351 case %(no)s stays with your organisation: %(reason)s", no=case.case_no, reason=reason[:80])
    watch.case_notice(case, "send_up_refuse", org_dispatchers(case.org_id), body)


def org_dispatchers(org_id: int | None) -> list[User]:
    """The operators and supervisors of one organisation: those who dispatch its cases."""
    if org_id is None:
        return []
    from hotline.auth.models import UserRole

    return list(db.session.scalars(
        select(User).join(UserRole).where(User.org_id == org_id, User.active.is_(True),
                                          UserRole.role.in_(("operator", "supervisor"))).order_by(User.id)))


def levels(case: Case) -> list[dict[str, Any]]:
    """The case's path through the organisations (市总 → 吴江区总工会 → 维权部) and each level's times:
    when it arrived, when it left (handed down or taken back up)."""
    names: dict[str, Any] | None = None  # read only for a case that moved between organisations (few do)
    first = orgs.by_id(case.registered_org_id)
    path = [{"org": first, "arrived_at": case.created_at, "left_at": None, "how": "register"}]
    for event in case.events:
        if event.kind in ("transfer", "send_up_accept"):
            if names is None:
                names = {o.code: o for o in orgs.all_orgs()}
            path[-1]["left_at"] = event.at
            org = names.get((event.data.get("after") or {}).get("org"))
            path.append({"org": org, "arrived_at": event.at, "left_at": None,
                         "how": "down" if event.kind == "transfer" else "up"})
    return path


def _do_note(case, actor, p):
    text = _text(p.get("text"), "text", _l("Note"), TEXT_MAX, True)
    _event(case, "note", actor, text=text)


HANDLERS = {
    "assign": _do_assign, "reassign": _do_reassign, "accept": _do_accept, "return": _do_return,
    "accept_return": _do_accept_return, "refuse_return": _do_refuse_return,
    "reply": _do_reply, "close": _do_close, "extend": _do_extend, "approve_extension": _do_approve_extension,
    "reject_extension": _do_reject_extension, "escalate": _do_escalate, "merge": _do_merge,
    "reopen": _do_reopen, "survey": _do_survey, "review": _do_review, "edit": _do_edit, "note": _do_note,
    "transfer": _do_transfer, "send_up": _do_send_up, "accept_up": _do_accept_up, "refuse_up": _do_refuse_up,
}
assert set(HANDLERS) == set(MOVES)


# ---------------------------------------------------------------- 督办 by the clock

def escalate_overdue(now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Escalate every open case overdue by its type's N working days (escalate_after_days), once.

    Once per case and reply deadline: a case_flag row (case, "auto_escalate", due time) is inserted
    first, ON CONFLICT DO NOTHING, so a second run or a second scheduler does nothing; a case a
    supervisor already escalated is left alone.
    """
    from hotline.notify.models import CaseFlag
    now = now or clock.now()
    stats = {"checked": 0, "escalated": 0}
    limits = dict(db.session.execute(select(CaseType.code, CaseType.escalate_after_days)).tuples().all())
    # N working days are at least N calendar days: only those cases can be due for it.
    late_enough = [and_(Case.type_code == code, Case.reply_due_at < now - timedelta(days=max(days, 0)))
                   for code, days in limits.items()]
    if not late_enough:
        return stats
    candidates = list(db.session.scalars(
        select(Case).where(Case.status.in_(OPEN_STATUSES), Case.escalated.is_(False), or_(*late_enough))
        .order_by(Case.reply_due_at, Case.id).limit(batch)))
    for case in candidates:
        stats["checked"] += 1
        days = limits.get(case.type_code, 3)
        threshold = deadlines.escalation_due(case, days)
        if now < threshold:
            continue
        flag = dict(case_id=case.id, kind="auto_escalate", due_at=case.reply_due_at, created_at=now)
        if not insert_ignore(CaseFlag, [flag]):
            continue  # done before for this deadline
        with db.session.no_autoflush:
            escalate(case, None, _("Overdue by %(n)d working days.", n=days), auto=True)
            case.updated_at = now
        stats["escalated"] += 1
    db.session.flush()
    return stats


# ---------------------------------------------------------------- reading

# ---------------------------------------------------------------- the ledger import (hotline/reports/importer.py)

DAILY_NO_RE = re.compile(r"^(\d{8})-(\d{4,})$")


def import_case(actor: User | None, v: dict[str, Any], filename: str, now: datetime) -> Case:
    """A case from an earlier ledger, checked by the importer (`_check_row`'s values): written as it stood,
    with the events of the steps it went through (registered, dispatched, replied, closed, surveyed) at
    those times, marked `via: import`. Flushed by the caller in batches."""
    department, handler = v["department"], v["handler"]
    case = Case(
        case_no=v["case_no"], channel=v["channel"], type_code=v["type"].code, category_id=v["category"].id,
        caller_phone=v["caller_phone"], caller_name=v["caller_name"], summary=v["summary"], detail=v["detail"],
        answer=v["answer"], reply_method="phone" if v["replied_at"] else None, urgent=v["urgent"],
        confidential=False, broadcast_ok=False, resolved_on_call=v["resolved_on_call"], status=v["status"],
        department_id=department.id if department else None, handler_id=handler.id if handler else None,
        registered_by_id=None, accept_due_at=v["accept_due_at"], reply_due_at=v["reply_due_at"],
        due_uncertain=v["due_uncertain"], survey_result=v["survey_result"], reopen_count=v["reopen_count"],
        created_at=v["created_at"], assigned_at=v["created_at"] if department else None,
        accepted_at=v["created_at"] if department and v["status"] != "assigned" else None,
        replied_at=v["replied_at"], closed_at=v["closed_at"], surveyed_at=v["surveyed_at"], updated_at=now,
        version=1,
    )
    watch.refresh_watch(case)
    db.session.add(case)
    actor_id = actor.id if actor else None
    first_status = "closed" if v["resolved_on_call"] else "registered"
    events.add(case, "register", actor_id, v["created_at"], status=first_status, via="import", file=filename[:120],
               imported_at=utc_iso(now), reply_due_at=utc_iso(v["reply_due_at"]), resolved_on_call=v["resolved_on_call"])
    if department is not None:
        events.add(case, "assign", actor_id, v["created_at"],
                   before={"department": None, "handler": None, "status": "registered"},
                   after={"department": department.code, "handler": handler.username if handler else None,
                          "status": "assigned"})
    if v["replied_at"] and not v["resolved_on_call"]:
        events.add(case, "reply", actor_id, v["replied_at"], content=v["answer"] or "", method="phone",
                   before={"status": "accepted"}, after={"status": "replied"},
                   on_time=v["replied_at"] <= v["reply_due_at"])
    if v["closed_at"] and not v["resolved_on_call"]:
        events.add(case, "close", actor_id, v["closed_at"],
                   before={"status": "replied" if v["replied_at"] else "accepted"}, after={"status": "closed"})
    if v["survey_result"]:
        events.add(case, "survey", actor_id, v["surveyed_at"], before={"survey_result": None},
                   after={"survey_result": v["survey_result"]}, channel="phone")
    return case


def reserve_numbers(numbers: list[str]) -> None:
    """Imported numbers of the form YYYYMMDD-NNNN move that day's counter past them (no clash later)."""
    highest: dict[date, int] = {}
    for number in numbers:
        match = DAILY_NO_RE.match(number)
        if not match:
            continue
        try:
            day = datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            continue
        highest[day] = max(highest.get(day, 0), int(match.group(2)))
    for day, last in highest.items():
        counter = db.session.get(CaseCounter, day)
        if counter is None:
            db.session.add(CaseCounter(day=day, last=last))
        elif counter.last < last:
            counter.last = last
