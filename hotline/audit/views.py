"""The audit page (审计日志): login attempts and the views of confidential cases.

Administrators only. the design gives supervisors deadlines, rates and the 台账, not accounts; and
they are the widest readers of confidential cases, i.e. the people this page mostly watches.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from hotline.audit import service
from hotline.auth.access import allow
from hotline.errors import InvalidInput

bp = Blueprint("audit", __name__)

TABS = ("views", "logins")

# The endpoint that showed the case (CaseView.page), as the page names it.
PAGE_LABELS = {
    "cases.show": _l("Case page"),
    "cases.act": _l("Case page, after a refused action"),
    "cases.list_cases": _l("Case list"),
    "cases.caller": _l("Caller's earlier cases"),
    "api.get_case": _l("API: the case"),
    "api.list_cases": _l("API: case list"),
    "api.case_action": _l("API: answer to an action"),
}
VIA_LABELS = {"web": _l("Web page"), "api": _l("API"), "export": _l("Export")}
OUTCOME_LABELS = {"success": _l("Logged in"), "failed": _l("Wrong user name or password"),
                  "refused": _l("Refused: too many failures"), "locked": _l("Locked"),
                  "unlocked": _l("Unlocked by an administrator")}


@bp.route("/admin/audit")
@allow("admin")
def index():
    args = request.args
    tab = args.get("tab") if args.get("tab") in TABS else "views"
    filters = {"user": (args.get("user") or "").strip()[:64], "case_no": (args.get("case_no") or "").strip()[:16],
               "outcome": (args.get("outcome") or "").strip()[:16]}
    message, status, before = None, 200, None
    try:
        before = service.parse_before(args.get("before"))
        if tab == "views":
            page = service.case_views(filters["user"], filters["case_no"], before)
        else:
            page = service.login_attempts(filters["user"], service.parse_outcome(filters["outcome"]), before)
    except InvalidInput as err:
        page, message, status = service.AuditPage([], None), err.message, err.status
    # The filters that apply to this tab, carried into its links.
    kept: dict[str, Any] = {k: filters[k] for k in (("user", "case_no") if tab == "views" else ("user", "outcome")) if filters[k]}
    return render_template(
        "audit/index.html", tab=tab, filters=filters, page=page, message=message, earlier=before is not None,
        next_url=url_for("audit.index", tab=tab, before=page.next_before, **kept) if page.next_before else None,
        first_url=url_for("audit.index", tab=tab, **kept),
        tab_urls={t: url_for("audit.index", tab=t, user=filters["user"] or None) for t in TABS},
        outcomes=service.OUTCOMES, login_outcome=service.login_outcome,
        PAGE_LABELS=PAGE_LABELS, VIA_LABELS=VIA_LABELS, OUTCOME_LABELS=OUTCOME_LABELS,
    ), status


AREA_LABELS = {"users": _l("Users and roles"), "tokens": _l("API tokens"), "departments": _l("Departments"),
               "types": _l("Case types"), "categories": _l("Categories"), "calendar": _l("Holiday calendar"),
               "telephony": _l("Telephony settings"), "digest": _l("Digest settings")}
CHANGE_LABELS = {"create": _l("Added"), "update": _l("Changed"), "delete": _l("Removed")}


@bp.route("/admin/changes")
@allow("admin")
def changes():
    """Every change to the administered data, with before and after: append-only."""
    from hotline.audit.admin_log import AREAS

    area = (request.args.get("area") or "").strip()[:24]
    message, status, before = None, 200, None
    try:
        before = service.parse_before(request.args.get("before"))
        page = service.admin_changes(area or None, before)
    except InvalidInput as err:
        page, message, status = service.AuditPage([], None), err.message, err.status
    return render_template(
        "audit/changes.html", page=page, area=area, areas=AREAS, message=message, earlier=before is not None,
        next_url=url_for("audit.changes", area=area or None, before=page.next_before) if page.next_before else None,
        first_url=url_for("audit.changes", area=area or None), AREA_LABELS=AREA_LABELS, CHANGE_LABELS=CHANGE_LABELS,
    ), status
