"""The case pages: logging a call, the case with its timeline and actions, the handler queue, the list.

A thin door: each view takes its form (hotline/cases/forms.py) or query string, calls one service function
and renders the result. The commit happens in hotline.web (after_request); a failed submission re-renders with a
4xx status so nothing is half-saved.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from hotline import clock, phones, search
from hotline.audit.service import record_views
from hotline.auth.access import ANY_USER, allow, current_actor
from hotline.auth.models import User
from hotline.cases import access, actions, cells, deadlines, events, panels, present, queries, service
from hotline.cases.forms import RegistrationForm, action_form, page_fields
from hotline.cases.models import OPEN_STATUSES, SURVEY_RESULTS, Case
from hotline.dates import parse_aware
from hotline.errors import InvalidInput, ServiceError, StaleVersion
from hotline.extensions import db
from hotline.forms import all_at_once
from hotline.notify.service import mark_case_read
from hotline.orgs import service as orgs
from hotline.reference import lookup
from hotline.reference.models import CaseType, Category, Department
from hotline.replica import route_reads
from hotline.templating import (
    EVENT_LABELS,
    REPLY_METHOD_LABELS,
    STATUS_LABELS,
    SURVEY_LABELS,
    RequestLabels,
    colon,
    label,
    local_dt,
    render_part,
)

bp = Blueprint("cases", __name__)


@bp.app_template_filter("local_short")
def local_short(value: datetime | None, this_year: int | None = None) -> str:
    """Local time without the year when it is this year (`this_year`: given by a table, once for its rows):
    compact for tables."""
    if value is None:
        return ""
    moment = clock.to_local(value)  # converted once (local_dt would convert it again)
    year = this_year or clock.local_now().year
    return moment.strftime("%m-%d %H:%M" if moment.year == year else "%Y-%m-%d %H:%M")


@bp.context_processor
def case_labels() -> dict[str, Any]:
    return {"ACTION_LABELS": _ACTION_LABELS, "search_snippet": search_snippet}


# The badges and the running deadline of every case row (hotline/cases/cells.py), for every blueprint's pages.
for _name, _cell in (("status_badge", cells.status_badge), ("due_badge", cells.due_badge),
                     ("flag_badges", cells.flag_badges), ("case_deadline", cells.deadline)):
    bp.add_app_template_global(_cell, _name)


# The column labels each cell repeats for narrow screens (data-label), and the quick-accept button's.
ROW_LABELS = {"created": _l("Registered at"), "type": _l("Type"), "category": _l("Category"), "caller": _l("Caller"),
              "department": _l("Department"), "handler": _l("Handler"), "status": _l("Status"),
              "deadline": _l("Deadline"), "accept": _l("Accept"), "accept_case": _l("Accept case %(no)s")}


@bp.app_template_global()
def case_rows(rows: list[dict[str, Any]], cols: Any = (), quick_accept: bool = False) -> Markup:
    """The <tr>s of a case table (cases/_table.html; rows from _table_rows). In Python, not a Jinja loop: a row
    was two dozen escapes of values and labels that are the same on every row, and a 50-row table's loop was a
    third of a list page's time. Every value from the case is escaped."""
    labels = {key: str(escape(label(text))) for key, text in ROW_LABELS.items()}
    sq = (request.args.get("q") or "").strip() if request.endpoint == "cases.list_cases" else ""
    actor = current_actor() if sq else None
    case_href = url_for("cases.show", case_no="0")[:-1]
    form_head = form_tail = ""
    if quick_accept:
        accept_tail = url_for("cases.act", case_no="0", action="accept")[len(case_href) + 1:]
        form_head = f'<form method="post" action="{escape(case_href)}'
        form_tail = (f'{escape(accept_tail)}" class="inline">'
                     f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'
                     '<input type="hidden" name="version" value="')
    case_href = str(escape(case_href))
    out = []
    for r in rows:
        c = r["case"]
        no = escape(c.case_no)
        href_no = escape(quote(c.case_no, safe="/"))
        cells_ = [f'<tr class="{escape(r["due"])}"><td class="no"><a href="{case_href}{href_no}">{no}</a></td>']
        if "created" in cols:
            cells_.append(f'<td class="nowrap" data-label="{labels["created"]}">{escape(r["created"])}</td>')
        summary = search.highlight(c.summary, sq) if sq else escape(c.summary)
        snippet = search_snippet(actor, c, sq, r["private"]) if sq and actor is not None else ""
        cells_.append(f'<td class="summary-cell">{summary} {cells.flag_badges(c)}{snippet}</td>'
                      f'<td class="nowrap" data-label="{labels["type"]}">{escape(r["type_name"])}</td>'
                      f'<td data-label="{labels["category"]}">{escape(r["category_name"])}</td>')
        if "caller" in cols:
            name = f'<br><span class="muted">{escape(r["name"])}</span>' if r["name"] else ""
            cells_.append(f'<td class="nowrap" data-label="{labels["caller"]}">{escape(r["phone"] or "")}{name}</td>')
        if "department" in cols:
            cells_.append(f'<td data-label="{labels["department"]}">{escape(r["department_name"] or "—")}</td>')
        if "handler" in cols:
            cells_.append(f'<td data-label="{labels["handler"]}">{escape(r["handler_name"] or "—")}</td>')
        cells_.append(f'<td class="nowrap" data-label="{labels["status"]}">{cells.status_badge(c)} '
                      f'{cells.due_badge(r["due"])}</td>'
                      f'<td class="due-cell" data-label="{labels["deadline"]}">{r["deadline"]}</td>')
        if quick_accept:
            form = ""
            if c.status == "assigned":
                aria = escape(str(label(ROW_LABELS["accept_case"])) % {"no": c.case_no})
                form = (f'{form_head}{href_no}{form_tail}{escape(c.version)}">'
                        '<input type="hidden" name="next" value="queue">'
                        f'<button type="submit" class="small" aria-label="{aria}">{labels["accept"]}</button></form>')
            cells_.append(f'<td class="nowrap">{form}</td>')
        cells_.append("</tr>\n")
        out.append("".join(cells_))
    return Markup("".join(out))


SNIPPET_LABELS = {"answer": _l("Answer"), "detail": _l("Detail"), "caller_employer": _l("Employer"),
                  "caller_name": _l("Caller name")}


def search_snippet(actor: User, case: Case, q: str | None, private: bool) -> Markup | str:
    """Where a searched case matched outside its summary: the field and the words, highlighted (the case
    table of a search; its labels translated once per request, not four times a row)."""
    if not q:
        return ""
    words = search.terms(q)
    for name in queries.search_fields(actor, private):
        value = getattr(case, name) or ""
        if name != "summary" and any(w in value for w in words):
            return (Markup('<br><span class="muted search-hit">') + str(label(SNIPPET_LABELS[name]))
                    + Markup("：") + search.highlight(value, q, 60) + Markup("</span>"))
    return ""


# Each action's button and the order of the forms on the case page come from the action specs
# (hotline/cases/actions.py), its form fields too (hotline/cases/forms.py action_form).
ACTION_LABELS = actions.LABELS
ACTION_ORDER = actions.ORDER

_ACTION_LABELS = RequestLabels(ACTION_LABELS)  # translated once a request

VIA_LABELS = {"web": _l("Web page"), "api": _l("API"), "telephony": _l("Telephony"), "sms": _l("SMS"),
              "import": _l("Ledger import"), "exchange": _l("Handed down by the 12351 platform")}

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
# The telephony "call" event (hotline/telephony/calls.py).
FIELD_LABELS.update({"call": _l("Call"), "wait_seconds": _l("Waiting time (s)"), "talk_seconds": _l("Talk time (s)"),
                     "message_seconds": _l("Voicemail length (s)")})
FIELD_LABELS.update({"org": _l("Organisation")})
TEXT_LABELS = {"reason": _l("Reason"), "content": _l("Reply"), "note": _l("Note"), "text": _l("Note")}


def success_message(action: str, case: Case) -> str:
    return actions.SPECS[action].success(case)


# ---------------------------------------------------------------- reference data for the forms



# ---------------------------------------------------------------- logging a call

@bp.route("/cases/new", methods=["GET", "POST"])
@allow("operator", "producer")
def new_case():
    actor = current_actor()
    if request.method == "POST":
        form = RegistrationForm()
        data = form.registration()
        origin = form.origin()  # SMS consent, the call or call-back (subscribers: hotline/telephony/signals.py)
        try:
            # Every missing or wrong field at once: the page's own checks and the service's together.
            all_at_once(form.page_errors(), lambda: service.validate_registration(actor, data, origin))
            case = service.register(actor, data, via="web", origin=origin)
        except ServiceError as err:
            db.session.rollback()
            return render_template("cases/new.html", values=form.posted, errors=page_fields(err.fields),
                                   message=err.message,
                                   may_dispatch=_may_dispatch(actor), **queries.form_reference()), err.status
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
                           may_dispatch=_may_dispatch(actor), **queries.form_reference())


def _may_dispatch(actor: User) -> bool:
    return service.may_dispatch(actor)


@bp.route("/cases/caller")
@allow("operator", "producer", "supervisor")
def caller():
    """Screen-pop fragment: the caller's earlier cases, open ones first."""
    actor = current_actor()
    raw = (request.args.get("phone") or "").strip()
    try:
        phone = phones.normalize_phone(raw, "phone")
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

def _row(actor: User, case: Case, now: datetime | None = None, private: bool | None = None) -> dict[str, Any]:
    """`private`: whether the actor reads the caller, when the table has asked (access.private_reader)."""
    if private is None:
        private = access.can_see_private(actor, case)
    return {
        "case": case,
        "private": private,
        "phone": phones.display_phone(case.caller_phone) if private else phones.mask_phone(case.caller_phone),
        "name": case.caller_name if private else access.mask_name(case.caller_name),
        "due": deadlines.due_state(case, now),
    }


def _table_rows(actor: User, cases: Iterable[Case]) -> list[dict[str, Any]]:
    """The rows of a case table (cases/_table.html): each _row, with the case's type, category and department
    named from the held reference copies (a table's cases are loaded without them, queries.table_rows)."""
    types = lookup.mapping(CaseType, "code", "name")
    categories = lookup.mapping(Category, "id", "name")
    departments = lookup.mapping(Department, "id", "name")
    now = clock.now()  # one moment for the whole table: its rows' states and deadlines agree with each other
    this_year = clock.to_local(now).year
    reads = access.private_reader(actor)
    cases = list(cases)
    handlers = queries.handler_names({c.handler_id for c in cases if c.handler_id is not None})
    rows = []
    for case in cases:
        row = _row(actor, case, now, reads(case))
        row["handler_name"] = handlers.get(case.handler_id) if case.handler_id is not None else None
        row["deadline"] = cells.deadline(case, now=now, this_year=this_year)
        row["created"] = local_short(case.created_at, this_year)
        # One made since this request read the stamp is not in the copies: read from the case then.
        row["type_name"] = types.get(case.type_code) or case.case_type.name
        row["category_name"] = categories.get(case.category_id) or case.category.name
        row["department_name"] = (departments.get(case.department_id) or case.department.name
                                  if case.department_id else None)
        rows.append(row)
    return rows


def _timeline(case: Case, private: bool) -> list[dict[str, Any]]:
    """Events made readable: label, who, when, the free text and the field changes."""
    queries.load_events(case)
    dept_names = lookup.mapping(Department, "code", "name")
    org_names: dict[str, str] = {}  # read at the first event that names an organisation (few cases have one)
    usernames: set[str] = set()
    for event in case.events:
        for part in (event.data.get("before"), event.data.get("after")):
            if isinstance(part, dict) and part.get("handler"):
                usernames.add(part["handler"])
    user_names = queries.display_names(usernames) if usernames else {}

    def show(key: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if key == "status":
            return str(label(STATUS_LABELS.get(value, value)))
        if key == "department":
            return dept_names.get(value, str(value))
        if key == "org":
            if not org_names:
                org_names.update((o.code, o.name) for o in orgs.all_orgs())
            return org_names.get(value, str(value))
        if key == "handler":
            return user_names.get(value, str(value))
        if key == "survey_result":
            return str(label(SURVEY_LABELS.get(value, value)))
        if key == "type":
            return type_names.get(value, str(value))
        if key == "category":
            return category_names.get(value, str(value))
        if key == "decision":
            return str(label(DECISION_LABELS.get(value, value)))
        if key in ("method", "channel"):  # a reply's method, a survey's channel (phone, sms)
            return str(label(REPLY_METHOD_LABELS.get(value, value)))
        if key == "via":
            return str(label(VIA_LABELS.get(value, value)))
        moment = parse_aware(value)
        if moment is not None:
            return local_dt(moment)
        return str(value)

    type_names = lookup.mapping(CaseType, "code", "name")
    category_names = lookup.mapping(Category, "code", "name")
    entries = []
    for event in case.events:
        reading = events.read(event.kind, event.data if private else present.public_event_data(event.data or {}))
        entries.append({
            "kind": event.kind,
            "at": event.at,
            "actor": event.actor.display_name if event.actor else _("System"),
            "texts": [{"label": label(TEXT_LABELS[k]), "text": text} for k, text in reading.texts],
            "changes": [{"label": label(FIELD_LABELS.get(k, k)), "before": show(k, before), "after": show(k, after)}
                        for k, before, after in reading.changes],
            "facts": [{"key": k, "label": label(FIELD_LABELS.get(k, k)), "value": show(k, v), "link": reading.links.get(k)}
                      for k, v in reading.facts],
        })
    return entries


def timeline_html(entries: list[dict[str, Any]]) -> Markup:
    """The <li>s of a case's timeline (cases/show.html), from _timeline's entries. In Python, not a Jinja loop:
    twenty events with their texts, changes and facts were a quarter of the case page's work. Every value is
    escaped; the labels are the request's translations."""
    out = []
    for e in entries:
        kind = escape(e["kind"])
        parts = [f'<li class="ev ev-{kind}"><div class="ev-head"><strong>{escape(label(EVENT_LABELS.get(e["kind"], e["kind"])))}'
                 f'</strong> <span class="ev-who">{escape(e["actor"])}</span> '
                 f'<time class="when" datetime="{escape(e["at"].isoformat())}">{escape(local_dt(e["at"]))}</time></div>']
        for t in e["texts"]:
            parts.append(f'<p class="ev-text"><span class="muted">{escape(colon(t["label"]))}</span> '
                         f'<span class="pre">{escape(t["text"])}</span></p>')
        if e["changes"]:
            parts.append('<ul class="changes">')
            for c in e["changes"]:
                parts.append(f'<li><span class="muted">{escape(colon(c["label"]))}</span> {escape(c["before"])} → '
                             f'{escape(c["after"])}</li>')
            parts.append("</ul>")
        if e["facts"]:
            parts.append('<p class="ev-facts">')
            for f in e["facts"]:
                value = escape(f["value"])
                if f["link"]:
                    value = Markup(f'<a href="{escape(url_for("cases.show", case_no=f["link"]))}">{value}</a>')
                parts.append(f'<span><span class="muted">{escape(colon(f["label"]))}</span> {value}</span>')
            parts.append("</p>")
        parts.append("</li>\n")
        out.append("".join(parts))
    return Markup("".join(out))


def _render_case(case: Case, status: int = 200, message: str | None = None, failed: str | None = None,
                 errors: dict | None = None, values: Any = None, stale: bool = False):
    actor = current_actor()
    private = access.can_see_private(actor, case)
    allowed = service.allowed_actions(actor, case)
    actions = [a for a in ACTION_ORDER if a in allowed]
    # Only the dispatch form lists handlers; the case's own organisation's departments.
    ref = queries.form_reference(with_handlers=bool({"assign", "reassign"} & set(actions)), org_id=case.org_id)
    ref["child_orgs"] = orgs.children(orgs.by_id(case.org_id)) if "transfer" in actions else []
    queries.load_events(case)
    ref["levels"] = service.levels(case)
    ref["case_org"] = orgs.by_id(case.org_id)
    record_views(actor, [case], "web")
    panels.probe(case.id, actor.id)
    entries = _timeline(case, private)
    return render_template(
        "cases/show.html", case=case, row=_row(actor, case), private=private, actions=actions,
        timeline=entries, timeline_html=timeline_html(entries), message=message, failed=failed, errors=errors or {},
        stale=stale,
        values=values or {},
        accept_state=deadlines.deadline_state(case.accept_due_at) if case.status == "assigned" else None,
        reply_state=deadlines.deadline_state(case.reply_due_at) if case.status in OPEN_STATUSES else None,
        **ref,
    ), status


@bp.route("/cases/<case_no>")
@allow(ANY_USER)
def show(case_no: str):
    actor = current_actor()
    # With the case, its panels and whether the reader has unread notices about it: one statement.
    case = service.get_case(actor, case_no, probe_panels=True)
    if panels.may_have("unread_notices", case.id):
        mark_case_read(actor, case.id)  # the bell's count drops when the case it points to is read
    return _render_case(case)


@bp.route("/cases/<case_no>/<action>", methods=["POST"])
@allow(ANY_USER)
def act(case_no: str, action: str):
    actor = current_actor()
    case = service.get_case(actor, case_no)
    if action not in actions.SPECS:
        return render_template("error.html", code=404, message=_("Page not found.")), 404
    form = action_form(actions.SPECS[action])()
    try:
        service.perform(actor, case, action, form.version.data, form.params())
    except ServiceError as err:
        # Nothing of the failed move stays: roll back and show the case as it is now.
        db.session.rollback()
        case = service.get_case(actor, case_no)
        page = _render_case(case, status=err.status, message=err.message, failed=action, errors=err.fields,
                            values=form.posted, stale=isinstance(err, StaleVersion))
        db.session.commit()  # only the record that the case was shown (the move is rolled back), like a failed login
        return page
    flash(success_message(action, case), "ok")
    if form.next_page.data == "queue" and actor.has_role("handler"):
        return redirect(url_for("cases.queue"))
    if form.next_page.data == "followup" and actor.has_role("operator", "supervisor"):
        return redirect(url_for("cases.followup"))
    return redirect(url_for("cases.show", case_no=case.case_no))


# ---------------------------------------------------------------- queue and list

@bp.route("/cases/queue")
@allow("handler")
def queue():
    actor = current_actor()
    # Only the open tab is loaded and rendered; the other is a link with its count.
    asked = request.args.get("tab")
    tab, cases, mine_total, dept_total = queries.handler_queue(actor, asked if asked in ("mine", "department")
                                                              else None)
    rows = _table_rows(actor, cases)
    return render_template("cases/queue.html", rows=rows, tab=tab,
                           mine_total=mine_total, dept_total=dept_total, limit=queries.QUEUE_LIMIT)


FILTER_KEYS = ("status", "type", "category", "department", "org", "handler", "channel", "overdue", "from", "to",
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
    active: dict[str, Any] = {k: v for k, v in args.items() if v.strip()}
    more_open = any(args[k].strip() for k in MORE_FILTER_KEYS)
    cursor = request.args.get("cursor") or None
    try:
        f = queries.parse_filter(request.args)
        limit = queries.parse_limit(request.args.get("limit"))
        cap = current_app.config["HOTLINE_LIST_COUNT_CAP"]
        cases, next_cursor, total, total_more = queries.list_page(actor, f, cursor, limit, cap)
    except InvalidInput as err:
        return render_template("cases/list.html", rows=[], args=args, message=err.message,
                               next_url=None, first_url=url_for("cases.list_cases", **active),
                               cursor=cursor, total=None, total_more=False, export_args=None,
                               filters=_filters(args, err.fields, True)), 422
    next_url = url_for("cases.list_cases", **active, cursor=next_cursor) if next_cursor else None
    export_args = {k: v for k, v in active.items() if k not in ("limit", "sort")}
    record_views(actor, cases, "web")  # the caller column
    return render_template("cases/list.html", rows=_table_rows(actor, cases), args=args,
                           message=None, next_url=next_url, first_url=url_for("cases.list_cases", **active),
                           cursor=cursor, total=total, total_more=total_more, export_args=export_args,
                           filters=filter_form(actor, args, more_open))


def _filters(args: dict[str, str], errors: dict[str, Any], more_open: bool) -> Markup:
    return render_part("cases/_filters.html", args=args, errors=errors, more_open=more_open,
                       **queries.form_reference())


def filter_form(actor: User, args: dict[str, str], more_open: bool) -> Markup:
    """The list's filter form without errors. Its ~60 options and labels were an eighth of the list page's time,
    and it is the same for everyone of an organisation asking with the same filters, in the same language: kept
    beside the reference copies it is made from (their stamp changes with any type, category, department or
    handler, hotline/reference/lookup.py)."""
    key = (str(get_locale()), request.script_root, actor.org_id, tuple(args.items()))
    return lookup.kept("cases.filter_form", key, lambda: _filters(args, {}, more_open))


# ---------------------------------------------------------------- 回访 worklist and the supervisors' tabs

@bp.route("/cases/followup")
@allow("operator", "supervisor")
def followup():
    """回访 by phone: cases replied or closed lately whose caller has not answered the follow-up yet."""
    actor = current_actor()
    days = current_app.config["HOTLINE_SURVEY_WINDOW_DAYS"]
    cases = queries.followup_worklist(actor, clock.now(), days)
    rows = []
    for case in cases:
        row = _row(actor, case)
        full = case.caller_phone if case.caller_phone and access.caller_number_visible(actor, case) else None
        row["dial"] = full
        row["phone"] = phones.display_phone(full) if full else phones.mask_phone(case.caller_phone)
        rows.append(row)
    if access.sees_numbers_without_case(actor):  # the audit: who was shown a confidential caller's number
        record_views(actor, [c for c in cases if c.caller_phone], "web")
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
    return render_template("cases/supervise.html", rows=_table_rows(actor, cases), tab=tab, counts=counts,
                           tabs=queries.SUPERVISE_TABS, tab_labels=SUPERVISE_TAB_LABELS,
                           limit=queries.SUPERVISE_LIMIT)
