"""The JSON API door, /api/v1 (architecture §6), described by hotline/api/openapi.py.

Each view parses its input (checked against the OpenAPI document), calls the service and
returns JSON. hotline/web.py authenticates the bearer token, turns ServiceErrors into
{"error": {...}} answers and commits once, after a successful request.
"""
from __future__ import annotations

import re

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from hotline import phones
from hotline.api import openapi
from hotline.api.checks import check_query, checked_body
from hotline.audit.service import record_views
from hotline.auth.access import ANY_USER, allow, current_actor, public
from hotline.cases import deadlines, present, queries, service, signals
from hotline.dates import local_iso
from hotline.digest import formats, service as digests
from hotline.digest.responses import atom_response, docx_response, text_response
from hotline.errors import InvalidInput, NotFound
from hotline.extensions import db
from hotline.knowledge import service as kb
from hotline.knowledge.suggest import suggest as make_suggestion
from hotline.notify import service as notices
from hotline.reference.models import CaseType, Category, Department
from hotline.replica import reads_from_replica, route_reads
from hotline.reports import kpis
from hotline.reports.periods import parse_period
from hotline.telephony import figures, numbers, parsing
from hotline.templating import CHANNEL_LABELS

bp = Blueprint("api", __name__)

# "2026-09-30T10:00 08:00": the + of the offset sent unencoded in a query string arrives as a space.
_SPACED_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ][\d:.]+) (\d{2}(?::?\d{2})?)$")


@bp.get("/openapi.json")
@public
def get_openapi():
    check_query("get_openapi")
    return jsonify(openapi.document())


@bp.get("/reference")
@allow(ANY_USER)
def get_reference():
    check_query("get_reference")

    def rows(model, *where):
        stmt = select(model).where(*where).order_by(model.sort_order, model.code)
        return [{"code": r.code, "name": r.name} for r in db.session.scalars(stmt)]

    from hotline.orgs import service as orgs

    org_rows = orgs.all_orgs()
    by_id = {o.id: o for o in org_rows}
    departments = [{"code": d.code, "name": d.name, "org": by_id[d.org_id].code if d.org_id in by_id else None}
                   for d in db.session.scalars(select(Department).where(Department.active.is_(True))
                                               .order_by(Department.sort_order, Department.code))]
    return jsonify(
        channels=[{"code": code, "name": str(label)} for code, label in CHANNEL_LABELS.items()],
        types=rows(CaseType),
        categories=rows(Category, Category.active.is_(True)),
        departments=departments,
        organisations=[orgs.as_reference(o, by_id) for o in org_rows if o.active],
    )


@bp.get("/reports/kpis")
@allow("supervisor", "admin")
@reads_from_replica
def report_kpis():
    """The figures of the reports page (hotline/reports/kpis.py) for a period, optionally per group."""
    check_query("report_kpis")
    by = (request.args.get("by") or "").strip() or None
    if by is not None and by not in kpis.GROUPINGS:
        raise InvalidInput(_("Unknown grouping: %(v)s", v=by[:20]), {"by": _("Unknown grouping.")})
    period = parse_period({"from": request.args.get("from"), "to": request.args.get("to")})
    org = kpis.report_org(current_actor(), request.args.get("org"))  # another organisation's figures: 403
    result = kpis.compute(period, by, org=org).as_dict()
    result["org"] = org.code
    return jsonify(result)


@bp.post("/cases")
@allow("operator", "producer")
def create_case():
    check_query("create_case")
    body = checked_body("create_case")
    actor = current_actor()
    # The body's `sms_consent` (and a call or call-back it names) travel as the origin, not as case fields.
    case = service.register(actor, body, via="api", origin=signals.Origin.from_input(body))
    # Not an audited view: the answer shows what this caller just sent (hotline/audit/service.py).
    response = jsonify(present.case_to_dict(actor, case))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_case", case_no=case.case_no)
    return response


@bp.get("/cases")
@allow(ANY_USER)
def list_cases():
    check_query("list_cases")
    if (request.args.get("q") or "").strip():
        route_reads()  # a search only reads: the replica's, when there is one (hotline/replica.py)
    case_filter = queries.parse_filter(request.args)
    if case_filter.type:
        service.lookup_type(case_filter.type)  # an unknown type is refused like the other codes
    limit = queries.parse_limit(request.args.get("limit"))
    actor = current_actor()
    rows, next_cursor = queries.list_cases(actor, case_filter, request.args.get("cursor") or None, limit,
                                           options=queries.answer_rows())
    record_views(actor, rows, "api")
    return jsonify(items=present.cases_to_dicts(actor, rows),
                   next_cursor=next_cursor)


@bp.get("/cases/<case_no>")
@allow(ANY_USER)
def get_case(case_no: str):
    check_query("get_case")
    actor = current_actor()
    case = service.get_case(actor, case_no)
    record_views(actor, [case], "api")
    return jsonify(present.case_to_dict(actor, case))


@bp.post("/cases/<case_no>/<action>")
@allow(ANY_USER)  # the lifecycle table in the service says which role may do what
def case_action(case_no: str, action: str):
    if action not in service.MOVES:
        raise NotFound(_("Unknown action: %(name)s", name=action[:32]))
    operation = f"case_{action}"
    check_query(operation)
    body = checked_body(operation)
    actor = current_actor()
    case = service.get_case(actor, case_no)
    params = {key: value for key, value in body.items() if key != "version"}
    case = service.perform(actor, case, action, body.get("version"), params)
    record_views(actor, [case], "api")
    return jsonify(present.case_to_dict(actor, case))


@bp.post("/exchange/import")
@allow("operator")
def exchange_import():
    """The 12351 platform's cases as a JSON list: the file import's rules (docs/exchange.md), all or none."""
    check_query("exchange_import")
    body = checked_body("exchange_import")
    from hotline.exchange import service as exchange

    report = exchange.import_lines(current_actor(), body.get("lines"), bool(body.get("dry_run")))
    if report.errors:
        raise InvalidInput(_("%(n)d problems in the cases sent; nothing was saved.", n=len(report.errors)),
                           exchange.error_fields(report))
    return jsonify(exchange.api_report(report))


@bp.get("/notices")
@allow(ANY_USER)
def list_notices():
    """The caller's own in-app notices, newest first: the same ones the 通知 page shows."""
    check_query("list_notices")
    return jsonify(items=[{
        "kind": n.kind,
        "case_no": n.case.case_no if n.case else None,
        "text": n.body,
        "created_at": local_iso(n.created_at),
        "read": n.read_at is not None,
    } for n in notices.my_notices(current_actor())])


@bp.get("/workdays/due")
@allow(ANY_USER)
def workday_due():
    check_query("workday_due")
    args = request.args
    raw_start = (args.get("start") or "").strip()
    if not raw_start:
        raise InvalidInput(_("Please give the registration time (start)."), {"start": _("Required.")})
    start = service.parse_datetime(_SPACED_OFFSET.sub(r"\1+\2", raw_start), "start")
    if not openapi.DUE_FIRST_YEAR <= start.year <= openapi.DUE_LAST_YEAR:
        raise InvalidInput(_("start must lie between the years %(first)d and %(last)d.",
                             first=openapi.DUE_FIRST_YEAR, last=openapi.DUE_LAST_YEAR),
                           {"start": _("Out of range.")})
    if not args.get("type"):
        raise InvalidInput(_("Please give the case type."), {"type": _("Required.")})
    case_type = service.lookup_type(args.get("type"))
    category = args.get("category")
    category_row = service.lookup_category(category) if category else None
    urgent = args.get("urgent", "")
    if urgent not in ("", *openapi.FLAG_VALUES):
        raise InvalidInput(_("urgent must be 1 or 0."), {"urgent": _("Must be 1 or 0.")})
    due = deadlines.reply_due_for(case_type, category_row, start, urgent in ("1", "true"))
    return jsonify(due_at=local_iso(due.at), uncertain=due.uncertain)


@bp.get("/calls")
@allow("operator", "supervisor", "admin")
def list_calls():
    """The calls of one local day (architecture §6), oldest first; numbers masked for roles that do not call back."""
    check_query("list_calls")
    actor = current_actor()
    day = parsing.parse_day(request.args.get("date"))
    calls = figures.calls_on(day, newest_first=False)
    numbers.record_number_views(actor, [call.case for call in calls], "api")
    items = [{
        "sid": call.call_sid,
        "from": call.from_phone if call.from_phone == "anonymous"
        else numbers.visible_phone(actor, call.from_phone, call.case) or phones.mask_phone(call.from_phone),
        "status": call.status,
        "started_at": local_iso(call.started_at),
        "answered_at": local_iso(call.answered_at),
        "ended_at": local_iso(call.ended_at),
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "operator": call.operator.username if call.operator else None,
        "case_no": call.case.case_no if call.case else None,
    } for call in calls]
    return jsonify(date=day.isoformat(), items=items)


# ---------------------------------------------------------------- 《职工之声》 digests (the station's systems)

def _digest_view(day: str):
    # The station reads approved scripts only: a draft is 409 not_approved, whatever the token's role.
    return digests.approved_view(digests.require_digest(digests.parse_day(day, "date")))


@bp.get("/digests/<day>")
@allow("producer", "supervisor")
def get_digest(day: str):
    """The digest of one air date as JSON (architecture §6): items with characters and seconds, what was left out."""
    check_query("get_digest")
    return jsonify(formats.to_dict(_digest_view(day)))


@bp.get("/digests/<day>.txt")
@allow("producer", "supervisor")
def get_digest_text(day: str):
    check_query("get_digest_text")
    return text_response(_digest_view(day))


@bp.get("/digests/<day>.docx")
@allow("producer", "supervisor")
def get_digest_docx(day: str):
    check_query("get_digest_docx")
    return docx_response(_digest_view(day))


@bp.get("/digests/feed.atom")
@allow("producer", "supervisor")
def get_digest_feed():
    check_query("get_digest_feed")
    return atom_response(url_for("api.get_digest_feed", _external=True),
                         lambda d: url_for("api.get_digest_text", day=d.isoformat(), _external=True))


# ---------------------------------------------------------------- intake help: 知识库 and suggestions

def _article_response(article, status: int = 200):
    response = jsonify(kb.to_dict(article))
    response.status_code = status
    return response


@bp.get("/knowledge")
@allow("operator", "handler", "producer", "supervisor", "editor")
def list_knowledge():
    """Published, valid articles (writers: any status, or `expired`), best match first with q."""
    check_query("list_knowledge")
    q = kb.parse_query(request.args.get("q"))
    limit = queries.parse_limit(request.args.get("limit"))
    rows = kb.listing(current_actor(), q, (request.args.get("status") or "").strip() or None,
                      (request.args.get("category") or "").strip() or None, limit)
    return jsonify(items=[kb.to_dict(a, full=False) for a in rows])


@bp.post("/knowledge")
@allow("supervisor", "editor")
def create_knowledge():
    check_query("create_knowledge")
    body = checked_body("create_knowledge")
    article = kb.create(current_actor(), body)
    response = _article_response(article, 201)
    response.headers["Location"] = url_for("api.get_knowledge", article_id=article.id)
    return response


@bp.get("/knowledge/<int:article_id>")
@allow("operator", "handler", "producer", "supervisor", "editor")
def get_knowledge(article_id: int):
    check_query("get_knowledge")
    return _article_response(kb.get(current_actor(), article_id))


@bp.post("/knowledge/<int:article_id>/publish")
@allow("supervisor", "editor")
def publish_knowledge(article_id: int):
    check_query("publish_knowledge")
    body = checked_body("publish_knowledge")
    actor = current_actor()
    return _article_response(kb.publish(actor, kb.get(actor, article_id), body.get("version")))


@bp.post("/suggest")
@allow("operator", "producer", "supervisor", "handler")
def suggest():
    """Suggestions while the summary is typed; nothing is saved."""
    check_query("suggest")
    body = checked_body("suggest")
    return jsonify(make_suggestion(current_actor(), body))
