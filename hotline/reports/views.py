"""The supervisors' pages: the dashboard, hot topics, the 台账 and KPI exports, the ledger import.

Doors only: each view parses its query string or form, asks hotline.reports for the figures and
renders them. Every number on the dashboard links to the case list with the filters that count it.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import quote_plus

from flask import Blueprint, g, render_template, request, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from hotline import clock
from hotline.auth.access import allow, current_actor
from hotline.cases import queries
from hotline.errors import InvalidInput
from hotline.extensions import db
from hotline.orgs import service as orgs
from hotline.replica import reads_from_replica
from hotline.reports import export, hot, importer, kpis
from hotline.reports.forms import ImportForm
from hotline.reports.periods import PRESETS, parse_period, preset_period

bp = Blueprint("reports", __name__)


def _export():
    # openpyxl (and numpy under it) take ~0.5 s to import: only an export needs them, not every process start.

    return export

ROLES = ("supervisor", "admin")
GROUPING_LABELS = {"category": _l("Category"), "type": _l("Type"), "department": _l("Department"),
                   "handler": _l("Handler"), "channel": _l("Channel"), "org": _l("Organisation (with those below)")}
PRESET_LABELS = {"today": _l("Today"), "week": _l("This week"), "month": _l("This month"), "year": _l("This year"),
                 "custom": _l("Custom range")}
CHART_GROUPS = 15  # bars per grouping chart (the table has them all)

# Headline cards: (figure, label, format, numerator, denominator, higher is better)
CARDS: list[tuple[str, Any, str, str | None, str | None, bool | None]] = [
    ("registered", _l("Registered"), "count", "registered", None, None),
    ("closure_rate", _l("Closure rate"), "rate", "closed", "registered", True),
    ("on_time_rate", _l("Closed on time"), "rate", "on_time", "closed", True),
    ("overdue_open", _l("Overdue now"), "count", "overdue_open", None, False),
    ("first_contact_rate", _l("Closed on the call"), "rate", "on_call", "registered", True),
    ("survey_rate", _l("Survey rate"), "rate", "surveyed", "closed", True),
    ("satisfaction_rate", _l("Satisfaction"), "rate", "satisfied", "surveyed", True),
    ("response_rate", _l("Response rate"), "rate", "surveyed", "attempted", True),
    ("resolution_rate", _l("Resolution rate"), "rate", "resolved", "surveyed", True),
    ("reopen_rate", _l("Reopen rate"), "rate", "reopened", "closed", False),
    ("answer_rate", _l("Answer rate"), "rate", None, None, True),
    ("avg_reply_hours", _l("Average reply time"), "hours", None, None, False),
]
# What each card counts, written beside it: every figure but one is over the cases registered in the period.
PERIOD_SCOPE = _l("Cases registered in the period")
CARD_SCOPES = {
    "closure_rate": _l("Of the cases registered in the period"),
    "on_time_rate": _l("Of the period's cases that are closed: replied by the reply deadline"),
    "overdue_open": _l("Open cases past their deadline now, whenever registered"),
    "first_contact_rate": _l("Of the cases registered in the period"),
    "survey_rate": _l("Of the period's cases that are closed"),
    "satisfaction_rate": _l("Of the period's cases that were surveyed"),
    "reopen_rate": _l("Of the period's cases that are closed"),
    "answer_rate": _l("Calls in the period"),
    "avg_reply_hours": _l("The period's cases replied after the call"),
}
NUMERATOR_LABELS = {"closed": _l("closed"), "on_time": _l("on time"), "on_call": _l("on the call"),
                    "surveyed": _l("surveyed"), "satisfied": _l("satisfied"), "reopened": _l("reopened"),
                    "resolved": _l("resolved")}

# Table columns: (figure, header, format, drill-down metric or None)
TABLE_COLUMNS: list[tuple[str, Any, str, str | None]] = [
    ("registered", _l("Registered"), "count", "registered"),
    ("closed", _l("Closed"), "count", "closed"),
    ("closure_rate", _l("Closure rate"), "rate", None),
    ("on_time", _l("On time"), "count", "on_time"),
    ("on_time_rate", _l("On-time rate"), "rate", None),
    ("overdue_open", _l("Overdue now"), "count", "overdue_open"),
    ("on_call", _l("On the call"), "count", "on_call"),
    ("first_contact_rate", _l("On-the-call rate"), "rate", None),
    ("surveyed", _l("Surveyed"), "count", "surveyed"),
    ("survey_rate", _l("Survey rate"), "rate", None),
    ("satisfied", _l("Satisfied"), "count", "satisfied"),
    ("satisfaction_rate", _l("Satisfaction"), "rate", None),
    ("attempted", _l("Follow-ups tried"), "count", "attempted"),
    ("response_rate", _l("Response rate"), "rate", None),
    ("resolved", _l("Resolved"), "count", "resolved"),
    ("resolution_rate", _l("Resolution rate"), "rate", None),
    ("reopened", _l("Reopened"), "count", "reopened"),
    ("reopen_rate", _l("Reopen rate"), "rate", None),
    ("avg_reply_hours", _l("Average reply (hours)"), "hours", None),
]


def fmt(value: Any, kind: str) -> str:
    """How the page shows a figure: counts whole, rates as 75.0%, hours with one decimal; — when empty."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:.1f}"
    return str(int(value))


def fmt_change(value: float | None, kind: str) -> str:
    if value is None:
        return ""
    if kind == "rate":
        return _("%(sign)s%(n).1f points", sign="+" if value >= 0 else "−", n=abs(value * 100))
    if kind == "hours":
        return _("%(sign)s%(n).1f h", sign="+" if value >= 0 else "−", n=abs(value))
    return f"{'+' if value >= 0 else '−'}{abs(int(value))}"


def _trend(value: float | None, better_up: bool | None) -> str:
    if value is None or value == 0 or better_up is None:
        return "flat"
    return "better" if (value > 0) == better_up else "worse"


_PLAIN = re.compile(r"[A-Za-z0-9_.\-~]*")  # what urlencode leaves as it is


def _query(args: dict[str, str]) -> str:
    """urlencode(args), the same text: most values here are dates and codes, which need no quoting."""
    return "&".join(f"{quote_plus(k)}={v if _PLAIN.fullmatch(v) else quote_plus(v)}"
                    for k, v in ((k, str(v)) for k, v in args.items()))


def _list_url(args: dict[str, str] | None) -> str | None:
    """The case list with these filters (url_for once per request, then plain encoding: a year has
    thousands of links)."""
    if args is None:
        return None
    if "report_list_url" not in g:
        g.report_list_url = url_for("cases.list_cases")
    args = {**g.get("report_org_args", {}), **args}  # a sub-organisation's figures: its cases only
    return g.report_list_url + ("?" + _query(args) if args else "")


def _cards(report: kpis.Report, previous: kpis.Report) -> list[dict[str, Any]]:
    period, totals, before = report.period, report.totals, previous.totals
    cards = []
    for key, label, kind, numerator, denominator, better_up in CARDS:
        value, old = getattr(totals, key), getattr(before, key)
        change = kpis.change(value, old)
        card = {"key": key, "label": label, "value": fmt(value, kind), "change": fmt_change(change, kind),
                "unit": _("hours") if kind == "hours" and value is not None else "",
                "trend": _trend(change, better_up), "previous": fmt(old, kind), "url": None, "parts": None,
                "scope": CARD_SCOPES.get(key, PERIOD_SCOPE)}
        if key == "overdue_open":  # a figure of now, not of the period: nothing to compare with
            card["change"], card["previous"], card["trend"] = "", None, "flat"
        if numerator and not denominator:
            card["url"] = _list_url(kpis.drill_args(period, numerator))
        if numerator and denominator:
            card["url"] = _list_url(kpis.drill_args(period, numerator))
            card["parts"] = {
                "numerator": getattr(totals, numerator), "numerator_url": card["url"],
                "numerator_label": NUMERATOR_LABELS.get(numerator, numerator),
                "denominator": getattr(totals, denominator),
                "denominator_url": _list_url(kpis.drill_args(period, denominator)),
            }
        if key == "answer_rate" and totals.calls:
            card["parts"] = {"numerator": totals.calls.get("answered"), "denominator": totals.calls.get("inbound"),
                             "numerator_label": _("answered"), "numerator_url": None, "denominator_url": None}
        cards.append(card)
    return cards


def _row_cells(report: kpis.Report, fig: kpis.Figures, is_total: bool) -> list[dict[str, Any]]:
    cells = []
    for key, _label, kind, metric in TABLE_COLUMNS:
        value = getattr(fig, key)
        url = None
        if metric:
            url = _list_url(kpis.drill_args(report.period, metric, None if is_total else report.by,
                                            None if is_total else fig.key))
        cells.append({"key": key, "text": fmt(value, kind), "url": url if value else None, "kind": kind})
    return cells


def _daily_chart(days: list[dict[str, Any]]) -> dict[str, Any]:
    """The chart's data; also gives each day its two list links (registered that day, closed that day)."""
    for d in days:
        day = d["day"].isoformat()
        d["registered_url"] = _list_url({"from": day, "to": day})
        d["closed_url"] = _list_url({"status": "closed", "closed_from": day, "closed_to": day})
    return {
        "labels": [d["day"].strftime("%m-%d") for d in days],
        "series": [
            {"name": _("Registered"), "type": "bar", "data": [d["registered"] for d in days],
             "urls": [d["registered_url"] for d in days]},
            {"name": _("Closed"), "type": "line", "data": [d["closed"] for d in days],
             "urls": [d["closed_url"] for d in days]},
        ],
    }


def _group_charts(report: kpis.Report) -> tuple[dict[str, Any], dict[str, Any]]:
    groups = report.groups[:CHART_GROUPS]
    labels = [g.label for g in groups]

    def urls(metric: str) -> list[str | None]:
        return [_list_url(kpis.drill_args(report.period, metric, report.by, g.key)) for g in groups]

    volume = {"labels": labels, "horizontal": True, "series": [
        {"name": _("Registered"), "type": "bar", "data": [g.registered for g in groups], "urls": urls("registered")},
        {"name": _("Closed"), "type": "bar", "data": [g.closed for g in groups], "urls": urls("closed")},
        {"name": _("Overdue"), "type": "bar", "data": [g.overdue_open for g in groups], "urls": urls("overdue_open")},
    ]}

    def pct(values: list[float | None]) -> list[float | None]:
        return [round(v * 100, 1) if v is not None else None for v in values]

    rates = {"labels": labels, "horizontal": True, "percent": True, "series": [
        {"name": _("Closure rate"), "type": "bar", "data": pct([g.closure_rate for g in groups]),
         "urls": urls("closed")},
        {"name": _("Closed on time"), "type": "bar", "data": pct([g.on_time_rate for g in groups]),
         "urls": urls("on_time")},
        {"name": _("Satisfaction"), "type": "bar", "data": pct([g.satisfaction_rate for g in groups]),
         "urls": urls("satisfied")},
    ]}
    return volume, rates


def _org_arg(org) -> dict[str, Any]:
    """The case list's filter for an organisation's figures (none for the root: every case)."""
    return {"org": org.code} if org is not None and org.parent_id is not None else {}


def _by_arg() -> str:
    by = (request.args.get("by") or "category").strip()
    if by not in kpis.GROUPINGS:
        raise InvalidInput(_("Unknown grouping: %(v)s", v=by[:20]), {"by": _("Unknown grouping.")})
    return by


@bp.route("/reports")
@allow(*ROLES)
@reads_from_replica
def dashboard():
    errors: dict[str, str] = {}
    message = None
    status = 200
    actor = current_actor()
    org = kpis.report_org(actor, request.args.get("org"))  # another organisation's figures: 403
    g.report_org_args = _org_arg(org)
    try:
        period = parse_period(request.args)
        by = _by_arg()
    except InvalidInput as err:
        period, by, errors, message, status = preset_period("month"), "category", err.fields, err.message, 422
    now = clock.now()
    # One session, one after the other: the period's figures come from the daily figures, so each part is a
    # few short statements, and on a loaded server worker threads only added their own sessions and reads.
    report = kpis.compute(period, by, now, with_days=True, org=org)
    # The previous period only for the cards' comparison: no groups, and no overdue (a figure of now).
    previous = kpis.compute(period.previous(), None, now, with_overdue=False, org=org)
    board = kpis.overdue_board(now, org=org)
    volume_chart, rate_chart = _group_charts(report)
    args = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    return render_template(
        "reports/dashboard.html", period=period, previous=previous.period, by=by, report=report,
        cards=_cards(report, previous), columns=TABLE_COLUMNS,
        total_cells=_row_cells(report, report.totals, True),
        group_rows=[(g, _row_cells(report, g, False)) for g in report.groups],
        daily_chart=_daily_chart(report.days or []), volume_chart=volume_chart, rate_chart=rate_chart,
        board=board, overdue_url=url_for("cases.list_cases", overdue="1", **_org_arg(org)),
        org=org, orgs=orgs.visible_orgs(actor),
        presets=PRESETS, preset_labels=PRESET_LABELS, groupings=kpis.GROUPINGS, grouping_labels=GROUPING_LABELS,
        errors=errors, message=message, args=args,
        values={"period": request.args.get("period", "") if not errors else "month",
                "from": request.args.get("from", ""), "to": request.args.get("to", "")},
    ), status


@bp.route("/reports/hot")
@allow(*ROLES)
@reads_from_replica
def hot_topics():
    """热点 for the period; ?partial=1 gives only the section (the dashboard fetches it)."""
    try:
        period = parse_period(request.args)
    except InvalidInput as err:
        return render_template("error.html", code=422, message=err.message), 422
    topics = hot.hot_topics(period, current_actor())
    template = "reports/_hot.html" if request.args.get("partial") == "1" else "reports/hot.html"
    return render_template(template, topics=topics, period=period)


# ---------------------------------------------------------------- exports

def _send(out, name: str, fmt_name: str):
    mimetype = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt_name == "xlsx"
                else "text/csv; charset=utf-8")
    response = send_file(out, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/reports/ledger.<fmt_name>")
@allow(*ROLES)
@reads_from_replica
def ledger_export(fmt_name: str):
    """台账: every case the list's filters select (default: this month), oldest first."""
    if fmt_name not in ("xlsx", "csv"):
        return render_template("error.html", code=404, message=_("Page not found.")), 404
    args = {k: v for k, v in request.args.items() if k in _LEDGER_ARGS and v.strip()}
    if "from" not in args and "to" not in args and "closed_from" not in args:
        default = preset_period("month")
        args.update({"from": default.first.isoformat(), "to": default.last.isoformat()})
    try:
        f = queries.parse_filter(args)
    except InvalidInput as err:
        return render_template("error.html", code=422, message=err.message), 422
    first, last = args.get("from", ""), args.get("to", "")
    period_name = f"{first or '…'}_{last or '…'}"
    notes = [("期间", f"{first or '…'} 至 {last or '…'}（按受理日期）"),
             ("导出时间", clock.local_now().strftime("%Y-%m-%d %H:%M"))]
    others = {k: v for k, v in args.items() if k not in ("from", "to")}
    if others:
        notes.append(("筛选条件", "；".join(f"{k}={v}" for k, v in sorted(others.items()))))
    out, _count = _export().export_ledger(current_actor(), f, fmt_name, notes)
    return _send(out, f"12351台账_{period_name}.{fmt_name}", fmt_name)


_LEDGER_ARGS = ("status", "type", "category", "department", "org", "handler", "channel", "overdue", "from", "to",
                "phone", "q", "on_time", "on_call", "reopened", "survey", "closed_from", "closed_to")


@bp.route("/reports/kpis.<fmt_name>")
@allow(*ROLES)
@reads_from_replica
def kpi_export(fmt_name: str):
    """The KPI tables: .xlsx with every grouping, .csv with one (?by=, default category)."""
    if fmt_name not in ("xlsx", "csv"):
        return render_template("error.html", code=404, message=_("Page not found.")), 404
    try:
        period = parse_period(request.args)
        by = _by_arg()
    except InvalidInput as err:
        return render_template("error.html", code=422, message=err.message), 422
    org = kpis.report_org(current_actor(), request.args.get("org"))  # another organisation's figures: 403
    now = clock.now()
    name = f"12351指标_{period.first.isoformat()}_{period.last.isoformat()}"
    if org.parent_id is not None:
        name += f"_{org.code}"
    import tempfile

    out = tempfile.TemporaryFile()
    if fmt_name == "csv":
        _export().kpi_csv(kpis.compute(period, by, now, org=org), out)
        name += f"_{by}"
    else:
        current = kpis.compute(period, None, now, with_days=True, org=org)
        previous = kpis.compute(period.previous(), None, now, org=org)
        by_group = {g: kpis.compute(period, g, now, with_calls=False, org=org) for g in kpis.GROUPINGS}
        _export().kpi_workbook(current, previous, by_group, current.days or [], out, _export().period_notes(period))
    out.seek(0)
    return _send(out, f"{name}.{fmt_name}", fmt_name)


# ---------------------------------------------------------------- import

@bp.route("/reports/import", methods=["GET", "POST"])
@allow(*ROLES)
def ledger_import():
    if request.method == "GET":
        return render_template("reports/import.html", report=None, message=None)
    form = ImportForm()
    upload = form.file.data
    if upload is None or not upload.filename:
        return render_template("reports/import.html", report=None,
                               message=_("Choose the Excel or CSV file to import.")), 422
    dry_run = form.action.data != "import"
    data = upload.stream.read(importer.MAX_BYTES + 1)
    try:
        report = importer.import_ledger(current_actor(), upload.filename, data, dry_run)
    except importer.FileProblem as err:
        db.session.rollback()
        return render_template("reports/import.html", report=None, message=err.message), 422
    if report.errors:
        db.session.rollback()
        return render_template("reports/import.html", report=report, message=None,
                               shown=report.errors[:importer.MAX_SHOWN_ERRORS]), 422
    return render_template("reports/import.html", report=report, message=None, shown=[])


@bp.app_template_global("report_period_label")
def report_period_label(first: date, last: date) -> str:
    if first == last:
        return first.isoformat()
    return _("%(first)s to %(last)s", first=first.isoformat(), last=last.isoformat())
