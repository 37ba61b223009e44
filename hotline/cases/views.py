"""The case pages: logging a call, the case with its timeline and actions, the handler queue, the list.

A thin door: each view parses the form or query string, calls one service function and renders the
result. The commit happens in hotline.web (after_request); a failed submission re-renders with a
4xx status so nothing is half-saved.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import select

from hotline import clock
from hotline.audit.service import record_views
from hotline.auth.access import ANY_USER, allow, current_actor
from hotline.auth.models import User, UserRole
from hotline.cases import access, actions, present, queries, service
from hotline.cases.models import CHANNELS, OPEN_STATUSES, REPLY_METHODS, STATUSES, SURVEY_RESULTS, Case
from hotline.errors import InvalidInput, ServiceError, StaleVersion
from hotline.extensions import db
from hotline.reference.models import CaseType, Category, Department
from hotline.replica import route_reads
from hotline.templating import (
    REPLY_METHOD_LABELS,
    STATUS_LABELS,
    SURVEY_LABELS,
    local_dt,
)

bp = Blueprint("cases", __name__)


@bp.app_template_filter("local_short")
def local_short(value: datetime | None) -> str:
    """Local time without the year when it is this year: compact for tables."""
    if value is None:
        return ""
    if clock.to_local(value).year == clock.local_now().year:
        return local_dt(value, "%m-%d %H:%M")
    return local_dt(value)


@bp.context_processor
def case_labels() -> dict[str, Any]:
    return {"ACTION_LABELS": ACTION_LABELS, "DUE_LABELS": DUE_LABELS}


# What a call may lead to on the logging page.
OUTCOMES = ("register", "close", "dispatch")

# The form fields each action reads (everything else in the POST is ignored), its button and the order of
# the forms on the case page: all from the action specs (hotline/cases/actions.py).
ACTION_PARAMS: dict[str, tuple[str, ...]] = {name: spec.param_names for name, spec in actions.SPECS.items()}
assert set(ACTION_PARAMS) == set(service.ACTIONS)
ACTION_LABELS = actions.LABELS
ACTION_ORDER = actions.ORDER

DUE_LABELS = {"overdue": _l("Overdue"), "due_soon": _l("Due soon"), "ok": _l("On time")}

VIA_LABELS = {"web": _l("Web page"), "api": _l("API"), "telephony": _l("Telephony"), "sms": _l("SMS"),
              "import": _l("Ledger import")}

FIELD_LABELS = {
    "status": _l("Status"), "department": _l("Department"), "handler": _l("Handler"),
    "reply_due_at": _l("Reply due"), "accept_due_at": _l("Accept due"), "survey_result": _l("Survey"),
    "requested_due": _l("Requested deadline"), "current_due": _l("Current deadline"),
    "method": _l("Reply method"), "via": _l("Via"), "on_time": _l("On time"), "channel": _l("Survey channel"),
    "resolved_on_call": _l("Closed on the call"), "into": _l("Merged into"), "case_no": _l("Duplicate"),
    "file": _l("Imported from"), "imported_at": _l("Imported at"),
    # corrections (edit), 回访 and reviews
    "type": _l("Type"), "category": _l("Category"), "summary": _l("Summary"), "detail": _l("Detail"),
    "urgent": _l("Urgent"), "confidential": _l("Confidential"), "broadcast_ok": _l("Broadcast"),
    "caller_name": _l("Caller"), "caller_phone": _l("Phone"), "caller_employer": _l("Employer"),
    "caller_district": _l("District"), "survey_resolved": _l("Problem solved"), "decision": _l("Decision"),
    "auto": _l("By the scheduler"),
}
DECISION_LABELS = {"reopen": _l("Reopen (重办)"), "uphold": _l("Uphold (维持)")}
# The telephony "call" event (hotline/telephony/service.py).
FIELD_LABELS.update({"call": _l("Call"), "wait_seconds": _l("Waiting time (s)"), "talk_seconds": _l("Talk time (s)"),
                     "message_seconds": _l("Voicemail length (s)")})
TEXT_LABELS = {"reason": _l("Reason"), "content": _l("Reply"), "note": _l("Note"), "text": _l("Note")}


def success_message(action: str, case: Case) -> str:
    return actions.SPECS[action].success(case)


def _edit_form(form) -> dict[str, Any]:
    """The correction form: the fields it shows (the caller's only to those who may see them)."""
    params: dict[str, Any] = {"reason": form.get("reason", "")}
    for key in ("type", "category", "summary", "detail"):
        if key in form:
            params[key] = form.get(key, "")
    for flag in ("urgent", "confidential", "broadcast_ok"):
        params[flag] = flag in form
    if "phone" in form:
        params["caller"] = {"phone": form.get("phone", ""), "name": form.get("caller_name", ""),
                            "employer": form.get("caller_employer", ""), "district": form.get("caller_district", "")}
    return params


def _survey_form(form) -> dict[str, Any]:
    """回访 by phone: reached or not, then satisfaction and whether the problem was solved."""
    if form.get("contacted") == "no":
        return {"result": "unreachable", "resolved": None}
    return {"result": form.get("result", ""), "resolved": form.get("resolved", "")}


FORM_PARSERS = {"edit": _edit_form, "survey": _survey_form}


# ---------------------------------------------------------------- reference data for the forms

def reference(with_handlers: bool = True) -> dict[str, Any]:
    types = list(db.session.scalars(select(CaseType).order_by(CaseType.sort_order, CaseType.code)))
    categories = list(db.session.scalars(
        select(Category).where(Category.active.is_(True)).order_by(Category.sort_order, Category.id)))
    departments = list(db.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.sort_order, Department.id)))
    handlers = list(db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == "handler", User.active.is_(True))
        .order_by(User.department_id, User.display_name))) if with_handlers else []
    return {"types": types, "categories": categories, "departments": departments, "handlers": handlers,
            "channels": CHANNELS, "statuses": STATUSES, "reply_methods": REPLY_METHODS,
            "survey_results": SURVEY_RESULTS}


def _form_value(name: str) -> str:
    return (request.form.get(name) or "").strip()


# ---------------------------------------------------------------- logging a call

def _registration_data() -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """The same dict shape as the API's POST /cases, and what the page itself finds missing
    ({field: (message beside the field, message on its own)})."""
    form = request.form
    missing: dict[str, tuple[str, str]] = {}
    outcome = form.get("outcome") or "register"
    if outcome not in OUTCOMES:
        missing["outcome"] = (_("Unknown choice."), _("Choose what happens with the call."))
        outcome = "register"
    data: dict[str, Any] = {
        "channel": form.get("channel") or "hotline",
        "type": _form_value("type"),
        "category": _form_value("category"),
        "caller": {"phone": form.get("phone", ""), "name": form.get("caller_name", ""),
                   "employer": form.get("caller_employer", ""), "district": form.get("caller_district", "")},
        "summary": form.get("summary", ""),
        "detail": form.get("detail", ""),
        "urgent": "urgent" in form,
        "confidential": "confidential" in form,
        "broadcast_ok": "broadcast_ok" in form,
        "resolved_on_call": outcome == "close",
        # Telephony (hotline/telephony/hooks.py): SMS consent, and the call or call-back the case comes from.
        "sms_receipt": "sms_receipt" in form,
        "call_sid": (form.get("call_sid") or "").strip() or None,
        "callback_id": (form.get("callback_id") or "").strip() or None,
        # Intake help: the knowledge-base article whose answer was used (使用此答复, hotline/knowledge).
        "knowledge_article": (form.get("knowledge_article") or "").strip() or None,
    }
    if outcome == "close":
        data["answer"] = form.get("answer", "")
    if outcome == "dispatch":
        if not _form_value("department"):
            missing["department"] = (_("Required."), _("Choose the department to dispatch the case to."))
        data["department"] = _form_value("department") or None
        data["handler"] = _form_value("handler") or None
    return data, missing


# Service error keys for the caller's fields → the names of the inputs on the page.
FIELD_NAMES = {"caller.phone": "phone", "caller.name": "caller_name", "caller.employer": "caller_employer",
               "caller.district": "caller_district", "caller": "phone"}


@bp.route("/cases/new", methods=["GET", "POST"])
@allow("operator", "producer")
def new_case():
    actor = current_actor()
    if request.method == "POST":
        data, missing = _registration_data()
        try:
            # Every missing or wrong field at once: the page's own checks and the service's together.
            checked, alone = {}, None
            try:
                service.validate_registration(actor, data)
            except InvalidInput as err:
                checked, alone = err.fields, err.message
            fields = {**checked, **{k: v[0] for k, v in missing.items() if k not in checked}}
            if len(fields) == 1:  # one problem: say it as the service (or this page) words it
                raise InvalidInput(alone if checked else next(iter(missing.values()))[1], fields)
            if fields:
                raise InvalidInput(ngettext("%(num)d field needs correcting; it is marked below.",
                                            "%(num)d fields need correcting; they are marked below.",
                                            len(fields)), fields)
            case = service.register(actor, data, via="web")
        except ServiceError as err:
            db.session.rollback()
            errors = {FIELD_NAMES.get(k, k): v for k, v in err.fields.items()}
            return render_template("cases/new.html", values=request.form, errors=errors, message=err.message,
                                   may_dispatch=_may_dispatch(actor), **reference()), err.status
        if case.status == "closed":
            flash(_("Case %(no)s registered and closed on the call.", no=case.case_no), "ok")
        elif case.status == "assigned":
            flash(_("Case %(no)s registered and dispatched to %(dept)s. Reply due %(due)s.", no=case.case_no,
                    dept=case.department.name, due=local_dt(case.reply_due_at)), "ok")
        else:
            flash(_("Case %(no)s registered. Reply due %(due)s.", no=case.case_no,
                    due=local_dt(case.reply_due_at)), "ok")
        return redirect(url_for("cases.show", case_no=case.case_no))
    # A screen-pop or a link may pre-fill the phone and the channel.
    values = {"phone": request.args.get("phone", "")[:40], "channel": request.args.get("channel", "hotline"),
              "outcome": "register"}
    return render_template("cases/new.html", values=values, errors={}, message=None,
                           may_dispatch=_may_dispatch(actor), **reference())


def _may_dispatch(actor: User) -> bool:
    return actor.has_role(*service.MOVES["assign"].roles)


@bp.route("/cases/caller")
@allow("operator", "producer", "supervisor")
def caller():
    """Screen-pop fragment: the caller's earlier cases, open ones first."""
    actor = current_actor()
    raw = (request.args.get("phone") or "").strip()
    try:
        phone = service.normalize_phone(raw, "phone")
    except InvalidInput as err:
        return render_template("cases/_caller.html", phone=None, message=err.message if raw else None,
                               cases=[], open_cases=[], total=0, open_count=0), 422 if raw else 200
    history = queries.caller_history(actor, phone)
    # Open cases on top (the operator may be about to log a duplicate), then the rest, newest first.
    cases = history.cases
    rows = [_row(actor, c) for c in cases]
    record_views(actor, cases, "web")  # names and details of confidential cases (hotline/audit/service.py)
    known = next((r for r in rows if r["private"] and (r["case"].caller_name or r["case"].caller_employer)), None)
    return render_template("cases/_caller.html", phone=phone, message=None, cases=rows, total=history.total,
                           open_count=history.open_count,
                           open_cases=[r for r in rows if r["case"].status in OPEN_STATUSES], known=known)


# ---------------------------------------------------------------- the case page

def _row(actor: User, case: Case) -> dict[str, Any]:
    private = access.can_see_private(actor, case)
    return {
        "case": case,
        "private": private,
        "phone": access.display_phone(case.caller_phone) if private else access.mask_phone(case.caller_phone),
        "name": case.caller_name if private else access.mask_name(case.caller_name),
        "due": service.due_state(case),
    }


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _timeline(case: Case, private: bool) -> list[dict[str, Any]]:
    """Events made readable: label, who, when, the free text and the field changes."""
    dept_names = {d.code: d.name for d in db.session.scalars(select(Department))}
    usernames: set[str] = set()
    for event in case.events:
        for part in (event.data.get("before"), event.data.get("after")):
            if isinstance(part, dict) and part.get("handler"):
                usernames.add(part["handler"])
    user_names = {u.username: u.display_name for u in db.session.scalars(
        select(User).where(User.username.in_(usernames)))} if usernames else {}

    def show(key: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if key == "status":
            return str(STATUS_LABELS.get(value, value))
        if key == "department":
            return dept_names.get(value, str(value))
        if key == "handler":
            return user_names.get(value, str(value))
        if key == "survey_result":
            return str(SURVEY_LABELS.get(value, value))
        if key == "type":
            return type_names.get(value, str(value))
        if key == "category":
            return category_names.get(value, str(value))
        if key == "decision":
            return str(DECISION_LABELS.get(value, value))
        if key in ("method", "channel"):  # a reply's method, a survey's channel (phone, sms)
            return str(REPLY_METHOD_LABELS.get(value, value))
        if key == "via":
            return str(VIA_LABELS.get(value, value))
        moment = _parse_iso(value)
        if moment is not None:
            return local_dt(moment)
        return str(value)

    type_names = {t.code: t.name for t in db.session.scalars(select(CaseType))}
    category_names = {c.code: c.name for c in db.session.scalars(select(Category))}
    entries = []
    for event in case.events:
        data = dict(event.data or {})
        if not private:
            data = present.public_event_data(data)
        before = data.pop("before", None) or {}
        after = data.pop("after", None) or {}
        changes = []
        for key in list(dict.fromkeys(list(before) + list(after))):
            if before.get(key) != after.get(key):
                changes.append({"label": FIELD_LABELS.get(key, key), "before": show(key, before.get(key)),
                                "after": show(key, after.get(key))})
        texts = [{"label": TEXT_LABELS[k], "text": data.pop(k)} for k in list(TEXT_LABELS)
                 if isinstance(data.get(k), str) and data.get(k)]
        for k in TEXT_LABELS:
            data.pop(k, None)
        if event.kind == "register":
            data.pop("status", None)
            if not data.get("resolved_on_call"):
                data.pop("resolved_on_call", None)
            if data.get("via") == "web":
                data.pop("via", None)
        if event.kind in ("due_soon", "overdue") and data.get("deadline") in ("accept", "reply"):
            # The watch's record {"deadline": "reply", "due_at": …}: say which deadline, and when.
            data = {f"{data['deadline']}_due_at": data.get("due_at")}
        if event.kind == "register" and data.get("resolved_on_call"):
            data.pop("reply_due_at", None)  # closed on the call: no reply was due
        if event.kind == "call":
            data.pop("call", None)  # Twilio's call id means nothing to a reader; the figures follow
        links = {}
        if data.get("into"):
            links["into"] = data["into"]
        if data.get("case_no"):
            links["case_no"] = data["case_no"]
        facts = [{"key": k, "label": FIELD_LABELS.get(k, k), "value": show(k, v), "link": links.get(k)}
                 for k, v in data.items() if not isinstance(v, (dict, list))]
        entries.append({
            "kind": event.kind,
            "at": event.at,
            "actor": event.actor.display_name if event.actor else _("System"),
            "texts": texts,
            "changes": changes,
            "facts": facts,
        })
    return entries


def _render_case(case: Case, status: int = 200, message: str | None = None, failed: str | None = None,
                 errors: dict | None = None, values: Any = None, stale: bool = False):
    actor = current_actor()
    private = access.can_see_private(actor, case)
    allowed = service.allowed_actions(actor, case)
    actions = [a for a in ACTION_ORDER if a in allowed]
    ref = reference(with_handlers=bool({"assign", "reassign"} & set(actions)))  # only the dispatch form lists them
    record_views(actor, [case], "web")
    return render_template(
        "cases/show.html", case=case, row=_row(actor, case), private=private, actions=actions,
        timeline=_timeline(case, private), message=message, failed=failed, errors=errors or {}, stale=stale,
        values=values or {},
        accept_state=service.deadline_state(case.accept_due_at) if case.status == "assigned" else None,
        reply_state=service.deadline_state(case.reply_due_at) if case.status in OPEN_STATUSES else None,
        **ref,
    ), status


@bp.route("/cases/<case_no>")
@allow(ANY_USER)
def show(case_no: str):
    from hotline.notify.service import mark_case_read

    case = service.get_case(current_actor(), case_no)
    mark_case_read(current_actor(), case.id)  # the bell's count drops when the case it points to is read
    return _render_case(case)


@bp.route("/cases/<case_no>/<action>", methods=["POST"])
@allow(ANY_USER)
def act(case_no: str, action: str):
    actor = current_actor()
    case = service.get_case(actor, case_no)
    if action not in ACTION_PARAMS:
        return render_template("error.html", code=404, message=_("Page not found.")), 404
    parser = FORM_PARSERS.get(action)
    params = parser(request.form) if parser else {k: request.form.get(k, "") for k in ACTION_PARAMS[action]}
    try:
        service.perform(actor, case, action, request.form.get("version"), params)
    except ServiceError as err:
        # Nothing of the failed move stays: roll back and show the case as it is now.
        db.session.rollback()
        case = service.get_case(actor, case_no)
        page = _render_case(case, status=err.status, message=err.message, failed=action, errors=err.fields,
                            values=request.form, stale=isinstance(err, StaleVersion))
        db.session.commit()  # only the record that the case was shown (the move is rolled back), like a failed login
        return page
    flash(success_message(action, case), "ok")
    if request.form.get("next") == "queue" and actor.has_role("handler"):
        return redirect(url_for("cases.queue"))
    if request.form.get("next") == "followup" and actor.has_role("operator", "supervisor"):
        return redirect(url_for("cases.followup"))
    return redirect(url_for("cases.show", case_no=case.case_no))


# ---------------------------------------------------------------- queue and list

@bp.route("/cases/queue")
@allow("handler")
def queue():
    actor = current_actor()
    # Only the open tab is loaded and rendered; the other is a link with its count.
    mine_total = queries.handler_queue_count(actor, mine=True)
    dept_total = queries.handler_queue_count(actor, mine=False)
    tab = request.args.get("tab")
    if tab not in ("mine", "department"):
        tab = "mine" if mine_total or not dept_total else "department"
    rows = [_row(actor, c) for c in queries.handler_queue_rows(actor, mine=tab == "mine")]
    return render_template("cases/queue.html", rows=rows, tab=tab,
                           mine_total=mine_total, dept_total=dept_total, limit=queries.QUEUE_LIMIT)


FILTER_KEYS = ("status", "type", "category", "department", "handler", "channel", "overdue", "from", "to",
               "phone", "q", "limit", "sort")
# The reports' drill-down filters (hotline/cases/queries.py), shown under "More filters".
MORE_FILTER_KEYS = ("on_time", "on_call", "reopened", "survey", "closed_from", "closed_to")


@bp.route("/cases")
@allow("operator", "supervisor", "admin", "producer", "handler")
def list_cases():
    if (request.args.get("q") or "").strip():
        route_reads()  # a search only reads: the replica's, when there is one (hotline/replica.py)
    actor = current_actor()
    args = {k: request.args.get(k, "") for k in FILTER_KEYS + MORE_FILTER_KEYS}
    active = {k: v for k, v in args.items() if v.strip()}
    more_open = any(args[k].strip() for k in MORE_FILTER_KEYS)
    cursor = request.args.get("cursor") or None
    try:
        f = queries.parse_filter(request.args)
        limit = queries.parse_limit(request.args.get("limit"))
        cases, next_cursor = queries.list_cases(actor, f, cursor=cursor, limit=limit)
        total = queries.count_cases(actor, f)
    except InvalidInput as err:
        return render_template("cases/list.html", rows=[], args=args, errors=err.fields, message=err.message,
                               next_url=None, first_url=url_for("cases.list_cases", **active),
                               cursor=cursor, total=None, more_open=True, export_args=None, **reference()), 422
    next_url = url_for("cases.list_cases", **active, cursor=next_cursor) if next_cursor else None
    export_args = {k: v for k, v in active.items() if k not in ("limit", "sort")}
    record_views(actor, cases, "web")  # the caller column
    return render_template("cases/list.html", rows=[_row(actor, c) for c in cases], args=args, errors={},
                           message=None, next_url=next_url, first_url=url_for("cases.list_cases", **active),
                           cursor=cursor, total=total, more_open=more_open, export_args=export_args,
                           **reference())


# ---------------------------------------------------------------- 回访 worklist and the supervisors' tabs

@bp.route("/cases/followup")
@allow("operator", "supervisor")
def followup():
    """回访 by phone: cases replied or closed lately whose caller has not answered the follow-up yet."""
    from hotline.telephony import service as telephony

    actor = current_actor()
    days = current_app.config["HOTLINE_SURVEY_WINDOW_DAYS"]
    cases = queries.followup_worklist(actor, clock.now(), days)
    rows = []
    for case in cases:
        row = _row(actor, case)
        full = telephony.visible_phone(actor, case.caller_phone, case) if case.caller_phone else None
        row["dial"] = full
        row["phone"] = access.display_phone(full) if full else access.mask_phone(case.caller_phone)
        rows.append(row)
    telephony.record_number_views(actor, [c for c in cases if c.caller_phone], "web")
    return render_template("cases/followup.html", rows=rows, days=days, limit=queries.FOLLOWUP_LIMIT,
                           survey_results=SURVEY_RESULTS)


SUPERVISE_TAB_LABELS = {"review": _l("Review pending"), "extension": _l("Extensions to decide"),
                        "return": _l("Returns to review"), "escalated": _l("Escalated"), "urgent": _l("Urgent")}


@bp.route("/cases/supervise")
@allow("supervisor", "operator")
def supervise():
    """What waits for the centre: reviews after 回访, extension requests, returns; escalated and urgent cases."""
    actor = current_actor()
    counts = queries.supervise_counts(actor)
    tab = request.args.get("tab")
    if tab not in queries.SUPERVISE_TABS:
        tab = next((t for t in queries.SUPERVISE_TABS if counts[t]), queries.SUPERVISE_TABS[0])
    cases = queries.supervise_rows(actor, tab)
    record_views(actor, cases, "web")
    return render_template("cases/supervise.html", rows=[_row(actor, c) for c in cases], tab=tab, counts=counts,
                           tabs=queries.SUPERVISE_TABS, tab_labels=SUPERVISE_TAB_LABELS,
                           limit=queries.SUPERVISE_LIMIT)
