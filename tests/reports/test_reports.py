"""Reports (issue 7): the figures of DESIGN.md §5 on the page, in the API and in the exports, for
every grouping, from a known set of cases imported with fixed dates; each drill-down list counts
what its figure says; periods in local dates.
"""
from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from conftest import get_user
from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db
from hotline.reports import importer

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}

HEADER = ["工单编号", "受理时间", "渠道", "来电人", "来电号码", "诉求类型", "问题分类", "诉求摘要", "承办部门", "承办人",
          "答复期限", "答复时间", "办结时间", "状态", "即时办结", "回访结果", "重办次数"]

# The known cases. Flags per case, set by hand from the dates (now is 2026-11-30 10:00 local):
# closed, on_time (closed cases only), overdue (open and past due now), on_call, surveyed (closed and
# the caller reached), satisfied, reopened; reply_h: hours from registration to reply (not on the call).
CASES = [
    # March 2026 ------------------------------------------------------------------
    dict(no="20260301-0001", at="2026-03-01 00:30", ch="hotline", type="consult", cat="wages", dept="", who="",
         due="2026-03-03 17:30", replied="", closed="", status="", on_call="是", survey="满意", reopen="0",
         name="王建国", phone="13812345678", summary="公司拖欠工资三个月，询问如何维权",
         f=dict(closed=1, on_time=1, overdue=0, on_call=1, surveyed=1, satisfied=1, reopened=0)),
    dict(no="20260302-0001", at="2026-03-02 09:00", ch="hotline", type="consult", cat="wages", dept="legal_aid",
         who="handler", due="2026-03-04 17:30", replied="2026-03-03 10:00", closed="2026-03-03 12:00", status="",
         on_call="否", survey="基本满意", reopen="0", name="李小红", phone="13912345670",
         summary="加班费如何计算", reply_h=25,
         f=dict(closed=1, on_time=1, overdue=0, on_call=0, surveyed=1, satisfied=1, reopened=0)),
    dict(no="20260303-0001", at="2026-03-03 09:00", ch="radio", type="help", cat="hardship", dept="legal_aid",
         who="handler_b", due="2026-03-10 17:30", replied="2026-03-12 09:00", closed="2026-03-12 10:00",
         status="已办结", on_call="否", survey="不满意", reopen="1", name="", phone="13700001111",
         summary="家庭困难，孩子上学需要帮扶", reply_h=216,
         f=dict(closed=1, on_time=0, overdue=0, on_call=0, surveyed=1, satisfied=0, reopened=1)),
    dict(no="20260305-0001", at="2026-03-05 14:00", ch="letter", type="complaint", cat="contract", dept="women",
         who="other_handler", due="2026-03-26 17:30", replied="", closed="", status="已签收", on_call="",
         survey="", reopen="", name="褚明", phone="", summary="公司不签劳动合同",
         f=dict(closed=0, on_time=0, overdue=1, on_call=0, surveyed=0, satisfied=0, reopened=0)),
    dict(no="20260310-0001", at="2026-03-10 08:00", ch="hotline", type="consult", cat="insurance", dept="",
         who="", due="2026-03-12 17:30", replied="", closed="", status="已登记", on_call="", survey="",
         reopen="", name="陈伟", phone="13700002222", summary="咨询社保断缴后如何补缴",
         f=dict(closed=0, on_time=0, overdue=1, on_call=0, surveyed=0, satisfied=0, reopened=0)),
    dict(no="20260315-0001", at="2026-03-15 10:00", ch="walk_in", type="legal_aid", cat="dispute",
         dept="legal_aid", who="handler", due="2026-03-20 17:30", replied="2026-03-16 09:00", closed="",
         status="", on_call="", survey="", reopen="", name="吴经理", phone="", summary="被公司无故辞退，要求法律援助",
         reply_h=23, f=dict(closed=0, on_time=0, overdue=0, on_call=0, surveyed=0, satisfied=0, reopened=0)),
    dict(no="20260320-0001", at="2026-03-20 11:00", ch="online", type="suggestion", cat="education",
         dept="women", who="", due="2026-04-01 17:30", replied="2026-03-25 11:00", closed="2026-03-26 09:00",
         status="", on_call="", survey="联系不上", reopen="", name="冯敏", phone="", summary="建议开设夜校技能培训班",
         reply_h=120, f=dict(closed=1, on_time=1, overdue=0, on_call=0, surveyed=0, satisfied=0, reopened=0)),
    dict(no="20260331-0002", at="2026-03-31 23:59", ch="hotline", type="consult", cat="wages", dept="", who="",
         due="2026-04-02 17:30", replied="", closed="", status="", on_call="是", survey="", reopen="",
         name="郑强", phone="13312345678", summary="=HYPERLINK(\"http://x\")工资条怎么看",
         f=dict(closed=1, on_time=1, overdue=0, on_call=1, surveyed=0, satisfied=0, reopened=0)),
    dict(no="20260331-0001", at="2026-03-31 15:00", ch="hotline", type="consult", cat="wages", dept="legal_aid",
         who="handler", due="2026-04-02 17:30", replied="", closed="2026-04-02 10:00", status="已办结",
         on_call="", survey="满意", reopen="", name="卫东", phone="15012345678", summary="+欠薪两个月",
         f=dict(closed=1, on_time=1, overdue=0, on_call=0, surveyed=1, satisfied=1, reopened=0)),
    # around March: local dates decide ------------------------------------------------
    dict(no="20260228-0001", at="2026-02-28 23:50", ch="hotline", type="consult", cat="wages", dept="", who="",
         due="2026-03-03 17:30", replied="", closed="", status="", on_call="是", survey="", reopen="",
         name="", phone="13800000001", summary="询问最低工资标准", f=None),
    dict(no="20260210-0001", at="2026-02-10 09:00", ch="hotline", type="consult", cat="contract",
         dept="legal_aid", who="handler", due="2026-02-12 17:30", replied="2026-02-11 09:00",
         closed="2026-02-11 10:00", status="", on_call="", survey="满意", reopen="", name="", phone="13800000002",
         summary="试用期能否不签合同", f=None),
    dict(no="20260401-0001", at="2026-04-01 00:05", ch="hotline", type="consult", cat="wages", dept="", who="",
         due="2026-04-03 17:30", replied="", closed="", status="", on_call="是", survey="", reopen="",
         name="", phone="13800000003", summary="四月的来电", f=None),
]
MARCH_CASES = [c for c in CASES if c["f"] is not None]
COUNT_FLAGS = ("closed", "on_time", "overdue", "on_call", "surveyed", "satisfied", "reopened")

# The totals for March, worked out by hand from the table above.
MARCH_TOTALS = {"registered": 9, "closed": 6, "on_time": 5, "overdue_open": 2, "closed_on_call": 2, "surveyed": 4,
                "satisfied": 3, "reopened": 1, "closure_rate": 6 / 9, "on_time_rate": 5 / 6,
                "first_contact_rate": 2 / 9, "survey_rate": 4 / 6, "satisfaction_rate": 3 / 4, "reopen_rate": 1 / 6,
                "avg_reply_hours": 96.0, "answer_rate": None}

CATEGORY_NAMES = {"wages": "工资报酬/欠薪", "hardship": "困难帮扶", "contract": "劳动合同", "insurance": "社会保险",
                  "dispute": "劳动争议", "education": "教育培训与求学"}
TYPE_NAMES = {"consult": "问题咨询", "help": "服务帮扶", "legal_aid": "法律援助", "complaint": "信访投诉",
              "suggestion": "意见建议"}
DEPT_NAMES = {"legal_aid": "法律援助中心", "women": "女工部"}
CHANNEL_ZH = {"hotline": "12351热线", "radio": "电台直播", "walk_in": "来访", "letter": "来信", "online": "网上"}


def ledger_csv(cases=CASES, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for c in cases:
        writer.writerow([c["no"], c["at"], CHANNEL_ZH[c["ch"]], c["name"], c["phone"], TYPE_NAMES[c["type"]],
                         CATEGORY_NAMES.get(c["cat"], c["cat"]), c["summary"], DEPT_NAMES.get(c["dept"], c["dept"]),
                         c["who"], c["due"], c["replied"], c["closed"], c["status"], c["on_call"], c["survey"],
                         c["reopen"]])
    return out.getvalue().encode("utf-8")


def group_key(case: dict, by: str) -> str | None:
    return {"category": case["cat"], "type": case["type"], "department": case["dept"] or None,
            "handler": case["who"] or None, "channel": case["ch"]}[by]


def expected(cases: list[dict]) -> dict:
    """The figures of a set of cases from their hand-set flags."""
    n = {k: sum(c["f"][k] for c in cases) for k in COUNT_FLAGS}
    replied = [c["reply_h"] for c in cases if "reply_h" in c]

    def r(a, b):
        return a / b if b else None

    return {"registered": len(cases), "closed": n["closed"], "on_time": n["on_time"], "overdue_open": n["overdue"],
            "closed_on_call": n["on_call"], "surveyed": n["surveyed"], "satisfied": n["satisfied"],
            "reopened": n["reopened"], "closure_rate": r(n["closed"], len(cases)),
            "on_time_rate": r(n["on_time"], n["closed"]), "first_contact_rate": r(n["on_call"], len(cases)),
            "survey_rate": r(n["surveyed"], n["closed"]), "satisfaction_rate": r(n["satisfied"], n["surveyed"]),
            "reopen_rate": r(n["reopened"], n["closed"]),
            "avg_reply_hours": round(sum(replied) / len(replied), 2) if replied else None}


def expected_groups(by: str) -> dict:
    keys = {group_key(c, by) for c in MARCH_CASES}
    return {k: expected([c for c in MARCH_CASES if group_key(c, by) == k]) for k in keys}


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-9


@pytest.fixture
def ledger(app, users):
    with app.test_request_context():
        report = importer.import_ledger(get_user("supervisor"), "ledger.csv", ledger_csv(), dry_run=False)
        assert report.errors == [], report.errors
        assert report.imported and len(report.new) == len(CASES)
        db.session.commit()
    return app


@pytest.fixture
def supervisor(app, users, login):
    return login(app.test_client(), "supervisor")


# ---------------------------------------------------------------- helpers reading the page

class Cells(HTMLParser):
    """Rows of the KPI table (tr data-key) -> {figure: (text, href)}; cards (div data-figure) too."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, dict[str, tuple[str, str | None]]] = {}
        self.cards: dict[str, dict[str, tuple[str, str | None]]] = {}
        self.row = self.cell = self.card = self.part = None
        self.text, self.href = "", None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-key" in a:
            self.row = a["data-key"]
            self.rows[self.row] = {}
        elif tag == "td" and self.row is not None and "data-figure" in a:
            self.cell, self.text, self.href = a["data-figure"], "", None
        elif tag == "div" and "data-figure" in a and "card" in (a.get("class") or ""):
            self.card = a["data-figure"]
            self.cards[self.card] = {}
        elif self.card is not None and ("data-value" in a or "data-part" in a):
            self.part = "value" if "data-value" in a else a["data-part"]
            self.text, self.href = "", a.get("href")
        if tag == "a" and self.cell is not None:
            self.href = a.get("href")

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.rows[self.row][self.cell] = (self.text.strip(), self.href)
            self.cell = None
        elif tag in ("a", "span") and self.part is not None:
            self.cards[self.card][self.part] = (self.text.strip(), self.href)
            self.part = None
        elif tag == "tr":
            self.row = None

    def handle_data(self, data):
        if self.cell is not None or self.part is not None:
            self.text += data


def parse_page(html: str) -> Cells:
    p = Cells()
    p.feed(html)
    return p


def shown(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:.1f}"
    return str(value)


PAGE_FIGURES = [("registered", "registered", "count"), ("closed", "closed", "count"),
                ("closure_rate", "closure_rate", "rate"), ("on_time", "on_time", "count"),
                ("on_time_rate", "on_time_rate", "rate"), ("overdue_open", "overdue_open", "count"),
                ("on_call", "closed_on_call", "count"), ("first_contact_rate", "first_contact_rate", "rate"),
                ("surveyed", "surveyed", "count"), ("survey_rate", "survey_rate", "rate"),
                ("satisfied", "satisfied", "count"), ("satisfaction_rate", "satisfaction_rate", "rate"),
                ("reopened", "reopened", "count"), ("reopen_rate", "reopen_rate", "rate"),
                ("avg_reply_hours", "avg_reply_hours", "hours")]


def list_count(client, href: str) -> int:
    parts = urlsplit(href)
    assert parts.path == "/cases", href
    page = client.get(href).get_data(as_text=True)
    match = re.search(r'data-total="(\d+)"', page)
    assert match, page[:2000]
    return int(match.group(1))


def row_key(key: str | None) -> str:
    return key if key is not None else "-"


# ---------------------------------------------------------------- the figures

def test_import_keeps_the_historical_dates_and_events(ledger):
    with ledger.app_context():
        case = db.session.scalar(select(Case).where(Case.case_no == "20260302-0001"))
        assert case.status == "closed" and case.department.code == "legal_aid" and case.handler.username == "handler"
        assert case.created_at.isoformat() == "2026-03-02T01:00:00+00:00"
        assert case.replied_at.isoformat() == "2026-03-03T02:00:00+00:00"
        assert case.survey_result == "basically_satisfied"
        kinds = [(e.kind, e.at.isoformat()) for e in case.events]
        assert kinds == [("register", "2026-03-02T01:00:00+00:00"), ("assign", "2026-03-02T01:00:00+00:00"),
                         ("reply", "2026-03-03T02:00:00+00:00"), ("close", "2026-03-03T04:00:00+00:00"),
                         ("survey", "2026-03-03T04:00:00+00:00")]
        assert case.events[0].data["via"] == "import" and case.events[0].actor.username == "supervisor"
        first = db.session.scalar(select(Case).where(Case.case_no == "20260301-0001"))
        assert first.resolved_on_call and first.status == "closed"
        assert first.created_at.isoformat() == "2026-02-28T16:30:00+00:00"  # UTC: still February


def test_api_figures_for_every_grouping(ledger, api):
    client = api("supervisor")
    resp = client.get("/reports/kpis", query_string=MARCH)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["from"] == "2026-03-01" and body["to"] == "2026-03-31" and body["groups"] == []
    for key, value in MARCH_TOTALS.items():
        assert same(body["totals"][key], value), (key, body["totals"][key], value)
    assert body["totals"]["calls"] is None or isinstance(body["totals"]["calls"], dict)
    assert {k: v for k, v in expected(MARCH_CASES).items()} == {
        k: pytest.approx(v) if v is not None else None for k, v in MARCH_TOTALS.items() if k != "answer_rate"}
    for by in ("category", "type", "department", "handler", "channel"):
        body = client.get("/reports/kpis", query_string={**MARCH, "by": by}).get_json()
        want = expected_groups(by)
        got = {g["key"]: g for g in body["groups"]}
        assert set(got) == set(want), by
        for key, figures in want.items():
            for name, value in figures.items():
                assert same(got[key][name], value), (by, key, name, got[key][name], value)
        assert sum(g["registered"] for g in body["groups"]) == 9
    # two cases by hand, as a check on the check
    wages = {g["key"]: g for g in client.get("/reports/kpis", query_string={**MARCH, "by": "category"})
             .get_json()["groups"]}["wages"]
    assert (wages["registered"], wages["closed"], wages["on_time"], wages["closed_on_call"], wages["surveyed"],
            wages["satisfied"]) == (4, 4, 4, 2, 3, 3)
    nobody = {g["key"]: g for g in client.get("/reports/kpis", query_string={**MARCH, "by": "department"})
              .get_json()["groups"]}[None]
    assert nobody["label"] and nobody["registered"] == 3 and nobody["overdue_open"] == 1


def test_periods_use_local_dates(ledger, api):
    client = api("supervisor")
    feb = client.get("/reports/kpis", query_string={"from": "2026-02-01", "to": "2026-02-28"}).get_json()
    assert feb["totals"]["registered"] == 2  # 20260228-0001 at 23:50 local, not 20260301-0001 (16:30 UTC)
    day = client.get("/reports/kpis", query_string={"from": "2026-03-01", "to": "2026-03-01"}).get_json()
    assert day["totals"]["registered"] == 1
    april = client.get("/reports/kpis", query_string={"from": "2026-04-01", "to": "2026-04-30"}).get_json()
    assert april["totals"]["registered"] == 1


def test_api_refuses_bad_input_and_other_roles(ledger, api):
    client = api("supervisor")
    assert client.get("/reports/kpis", query_string={"by": "weather"}).status_code == 422
    assert client.get("/reports/kpis", query_string={"from": "2026-03-31", "to": "2026-03-01"}).status_code == 422
    assert client.get("/reports/kpis", query_string={"from": "2026-03-01"}).status_code == 422
    assert client.get("/reports/kpis", query_string={"from": "March"}).status_code == 422
    assert client.get("/reports/kpis", query_string={"period": "month"}).status_code == 422
    for role in ("operator", "handler", "producer"):
        assert api(role).get("/reports/kpis").status_code == 403
    assert api("admin").get("/reports/kpis").status_code == 200
    body = client.get("/reports/kpis").get_json()  # default: this month to date (November 2026)
    assert (body["from"], body["to"]) == ("2026-11-01", "2026-11-30") and body["totals"]["registered"] == 0
    assert body["totals"]["closure_rate"] is None


@pytest.mark.parametrize("by", ["category", "type", "department", "handler", "channel"])
def test_page_figures_and_drill_down_for_every_grouping(ledger, supervisor, by):
    resp = supervisor.get("/reports", query_string={"period": "custom", **MARCH, "by": by})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    page = parse_page(html)
    want = expected_groups(by)
    assert set(page.rows) == {row_key(k) for k in want} | {"*"}
    checked = 0
    for key, figures in [*want.items(), ("*", expected(MARCH_CASES))]:
        cells = page.rows[row_key(key) if key != "*" else "*"]
        for figure, api_name, kind in PAGE_FIGURES:
            text, href = cells[figure]
            assert text == shown(figures[api_name], kind), (by, key, figure, text, figures[api_name])
            if kind == "count" and figures[api_name]:
                assert href, (by, key, figure)
                assert list_count(supervisor, href) == figures[api_name], (by, key, figure, href)
                checked += 1
    assert checked >= 8


def test_page_cards_and_their_lists(ledger, supervisor):
    html = supervisor.get("/reports", query_string={"period": "custom", **MARCH}).get_data(as_text=True)
    cards = parse_page(html).cards
    assert cards["registered"]["value"][0] == "9"
    assert cards["closure_rate"]["value"][0] == "66.7%"
    assert cards["on_time_rate"]["value"][0] == "83.3%"
    assert cards["overdue_open"]["value"][0] == "2"
    assert cards["first_contact_rate"]["value"][0] == "22.2%"
    assert cards["survey_rate"]["value"][0] == "66.7%"
    assert cards["satisfaction_rate"]["value"][0] == "75.0%"
    assert cards["reopen_rate"]["value"][0] == "16.7%"
    assert cards["avg_reply_hours"]["value"][0] == "96.0"
    assert cards["answer_rate"]["value"][0] == "—"
    for name, (numerator, denominator) in {"closure_rate": (6, 9), "on_time_rate": (5, 6), "survey_rate": (4, 6),
                                           "satisfaction_rate": (3, 4), "reopen_rate": (1, 6),
                                           "first_contact_rate": (2, 9)}.items():
        text, href = cards[name]["numerator"]
        assert int(text) == numerator and list_count(supervisor, href) == numerator, name
        text, href = cards[name]["denominator"]
        assert int(text) == denominator and list_count(supervisor, href) == denominator, name
    assert list_count(supervisor, cards["overdue_open"]["value"][1]) == 2
    # the daily chart: registered and closed per local day, each with its list
    assert 'data-chart="' in html
    assert list_count(supervisor, "/cases?from=2026-03-31&to=2026-03-31") == 2
    assert list_count(supervisor, "/cases?status=closed&closed_from=2026-03-12&closed_to=2026-03-12") == 1
    # overdue board: every overdue case, per department
    assert list_count(supervisor, "/cases?overdue=1&department=-") == 1
    assert list_count(supervisor, "/cases?overdue=1&department=women") == 1


def test_previous_period_and_presets(ledger, supervisor, clock):
    from conftest import local

    clock.set(local(2026, 3, 31, 18, 0))
    html = supervisor.get("/reports").get_data(as_text=True)  # this month: 1 to 31 March, against February
    assert "2026-02-01" in html and "2026-02-28" in html
    cards = parse_page(html).cards
    assert cards["registered"]["value"][0] == "9"  # the whole local day of the 31st belongs to the period
    assert "Before: 2" in html  # February: 2026-02-10 and 2026-02-28 23:50 local
    for preset in ("today", "week", "year"):
        assert supervisor.get("/reports", query_string={"period": preset}).status_code == 200
    assert supervisor.get("/reports", query_string={"period": "decade"}).status_code == 422
    assert supervisor.get("/reports", query_string={"by": "weather"}).status_code == 422


def test_only_supervisors_and_admins_see_reports(ledger, app, login):
    for role in ("operator", "handler", "producer"):
        client = login(app.test_client(), role)
        assert client.get("/reports").status_code == 403
        assert client.get("/reports/ledger.xlsx").status_code == 403
        assert client.get("/reports/import").status_code == 403
        page = client.get("/cases" if role != "handler" else "/cases/queue").get_data(as_text=True)
        assert 'href="/reports"' not in page
    admin = login(app.test_client(), "admin")
    assert admin.get("/reports").status_code == 200
    assert 'href="/reports"' in admin.get("/reports").get_data(as_text=True)


# ---------------------------------------------------------------- exports

def group_names(app, by):
    """{label: code} of a grouping's groups, as the exports name them."""
    from hotline.cases.models import CHANNELS
    from hotline.auth.models import User
    from hotline.reference.models import CaseType, Category, Department
    from hotline.reports import kpis

    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):  # the supervisor fixture reads English pages
        model = {"category": Category.id, "type": CaseType.code, "department": Department.id, "handler": User.id}
        keys = list(db.session.scalars(select(model[by]))) if by in model else list(CHANNELS)
        return {label: code for code, label in kpis.group_labels(by, keys + [None]).values()}


def test_kpi_workbook_has_the_page_figures(app, ledger, supervisor):
    resp = supervisor.get("/reports/kpis.xlsx", query_string={"period": "custom", **MARCH})
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].startswith("attachment")
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames[:6] == ["总体", "按类别", "按诉求类型", "按承办部门", "按承办人", "按渠道"]
    header = [c.value for c in wb["总体"][1]]
    assert header[:5] == ["期间", "日期", "受理量", "办结量", "办结率"]
    columns = {name: i for i, name in enumerate(header)}
    totals = [c.value for c in wb["总体"][2]]
    assert totals[columns["受理量"]] == 9 and totals[columns["当前超期"]] == 2
    assert totals[columns["按时办结率"]] == pytest.approx(5 / 6)
    assert totals[columns["满意率"]] == pytest.approx(3 / 4)
    assert totals[columns["平均答复时长(小时)"]] == pytest.approx(96.0)
    assert wb["总体"].freeze_panes == "C2"
    zh = {"registered": "受理量", "closed": "办结量", "closure_rate": "办结率", "on_time": "按时办结量",
          "on_time_rate": "按时办结率", "overdue_open": "当前超期", "closed_on_call": "即时办结量",
          "first_contact_rate": "即时办结率", "surveyed": "回访量", "survey_rate": "回访率", "satisfied": "满意量",
          "satisfaction_rate": "满意率", "reopened": "重办量", "reopen_rate": "重办率",
          "avg_reply_hours": "平均答复时长(小时)"}
    labels = {}  # the workbook names groups, never by their codes (wages, legal_aid)
    for by in ("category", "type", "department", "handler", "channel"):
        labels[by] = group_names(app, by)
    for by, sheet in (("category", "按类别"), ("type", "按诉求类型"), ("department", "按承办部门"),
                      ("handler", "按承办人"), ("channel", "按渠道")):
        ws = wb[sheet]
        head = [c.value for c in ws[1]]
        rows = {labels[by][r[0]]: dict(zip(head, r)) for r in ws.iter_rows(min_row=3, values_only=True)}
        codes = {k for k in labels[by].values() if k}
        assert not codes & {v for r in ws.iter_rows(values_only=True) for v in r}, "a code in the workbook"
        want = expected_groups(by)
        assert set(rows) == set(want), (by, set(rows))
        for key, figures in want.items():
            for name, header_zh in zh.items():
                got = rows[key][header_zh]
                assert same(got, figures[name]) if got is not None else figures[name] is None, (by, key, name)
    daily = {r[0]: (r[1], r[2]) for r in wb["每日"].iter_rows(min_row=2, values_only=True)}
    assert daily["2026-03-01"] == (1, 1) and daily["2026-03-31"] == (2, 1) and daily["2026-03-12"] == (0, 1)


def test_kpi_csv_per_grouping(app, ledger, supervisor):
    for by in ("category", "handler"):
        names = group_names(app, by)
        resp = supervisor.get("/reports/kpis.csv", query_string={"period": "custom", **MARCH, "by": by})
        assert resp.status_code == 200 and resp.data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
        head = rows[0]
        assert head[1:4] == ["受理量", "办结量", "办结率"]
        body = {names[r[0]]: dict(zip(head, r)) for r in rows[2:]}
        total = dict(zip(head, rows[1]))
        assert total["受理量"] == "9" and total["按时办结率"] == "83.3%" and total["满意率"] == "75.0%"
        for key, figures in expected_groups(by).items():
            assert body[key]["受理量"] == str(figures["registered"])
            assert body[key]["办结率"] == shown(figures["closure_rate"], "rate").replace("—", "")


def test_ledger_xlsx_read_back(ledger, supervisor):
    resp = supervisor.get("/reports/ledger.xlsx", query_string=MARCH)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["台账"]
    assert ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    assert head[:8] == ["工单编号", "登记时间", "渠道", "来电人", "电话", "诉求类型", "类别", "诉求摘要"]
    assert {"承办部门", "承办人", "答复时限", "答复时间", "是否按时", "状态", "回访结果"} <= set(head)
    assert ws["A1"].font.b
    data = [dict(zip(head, r)) for r in rows[1:]]
    assert [r["工单编号"] for r in data] == sorted(c["no"] for c in MARCH_CASES)[:1] + [
        r["工单编号"] for r in data][1:]
    assert len(data) == 9
    first = data[0]
    assert first["工单编号"] == "20260301-0001" and first["登记时间"].strftime("%Y-%m-%d %H:%M") == "2026-03-01 00:30"
    assert first["来电人"] == "王*" and first["电话"] == "138****5678"  # always masked
    assert first["渠道"] == "12351热线" and first["类别"] == "工资报酬/欠薪" and first["即时办结"] == "是"
    closed = [r for r in data if r["状态"] == "已办结"]
    assert len(closed) == 6 and sum(r["是否按时"] == "是" for r in closed) == 5
    assert sum(r["是否按时"] == "已超期" for r in data) == 2
    by_no = {r["工单编号"]: r for r in data}
    assert by_no["20260331-0002"]["诉求摘要"].startswith("'=HYPERLINK")  # formula neutralised
    assert by_no["20260331-0001"]["诉求摘要"] == "'+欠薪两个月"
    assert by_no["20260303-0001"]["回访结果"] == "不满意" and by_no["20260303-0001"]["重办次数"] == 1
    assert by_no["20260305-0001"]["承办部门"] == "女工部" and by_no["20260305-0001"]["承办人"] == "Other_Handler"
    assert wb["说明"]["A1"].value == "期间"


def test_ledger_csv_has_a_bom_and_follows_the_list_filters(ledger, supervisor):
    resp = supervisor.get("/reports/ledger.csv", query_string={**MARCH, "status": "closed", "on_time": "1"})
    assert resp.status_code == 200 and resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][0] == "工单编号" and len(rows) == 1 + 5
    assert all(r[rows[0].index("是否按时")] == "是" for r in rows[1:])
    text = resp.data.decode("utf-8-sig")
    assert "13812345678" not in text and "138****5678" in text
    assert "'=HYPERLINK" in text and "\r\n" in text
    # the list page offers the same export
    page = supervisor.get("/cases", query_string={**MARCH, "status": "closed"}).get_data(as_text=True)
    assert "/reports/ledger.xlsx?" in page and 'data-total="6"' in page


# ---------------------------------------------------------------- import

BAD_ROWS = HEADER + []


def test_import_dry_run_reports_every_error_and_saves_nothing(app, users, supervisor):
    from conftest import csrf_from

    rows = [
        ["T-1", "2026-03-01 09:00", "12351热线", "", "13812345678", "问题咨询", "工资报酬/欠薪", "好的一行", "", "", "",
         "", "", "", "", "", ""],
        ["T-2", "明天", "12351热线", "", "12345", "咨询", "工资报酬/欠薪", "", "火星部", "", "", "", "", "", "", "", ""],
        ["T-3", "2026-03-02 09:00", "飞鸽", "", "", "问题咨询", "天气", "摘要", "legal_aid", "nobody", "",
         "2026-03-01 09:00", "", "", "也许", "很好", "x"],
        ["T-1", "2026-03-03 09:00", "12351热线", "", "", "问题咨询", "wages", "重复的编号", "", "", "", "", "", "", "",
         "", ""],
    ]
    data = ledger_csv([], HEADER).decode() + "".join(",".join(r) + "\n" for r in rows)
    page = supervisor.get("/reports/import").get_data(as_text=True)
    resp = supervisor.post("/reports/import", data={
        "csrf_token": csrf_from(page), "action": "check",
        "file": (io.BytesIO(data.encode("utf-8")), "bad.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    with app.test_request_context():
        report = importer.import_ledger(None, "bad.csv", data.encode("utf-8"), dry_run=True)
    errors = {(e.row, e.column) for e in report.errors}
    assert (3, "受理时间") in errors and (3, "来电号码") in errors and (3, "诉求类型") in errors
    assert (3, "诉求摘要") in errors and (3, "承办部门") in errors
    assert (4, "渠道") in errors and (4, "问题分类") in errors and (4, "承办人") in errors
    assert (4, "答复时间") in errors and (4, "即时办结") in errors and (4, "回访结果") in errors
    assert (4, "重办次数") in errors and (5, "工单编号") in errors
    assert (2, "工单编号") not in errors  # the good row is fine
    for row, column in errors:
        assert f"<td class=\"num\">{row}</td><td>{column}</td>" in html
    # the actual import of the same file: refused whole
    resp = supervisor.post("/reports/import", data={
        "csrf_token": csrf_from(page), "action": "import",
        "file": (io.BytesIO(data.encode("utf-8")), "bad.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
        assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == 0


def test_import_page_then_again_adds_nothing(app, users, supervisor):
    from conftest import csrf_from

    page = supervisor.get("/reports/import").get_data(as_text=True)
    token = csrf_from(page)

    def post(action):
        return supervisor.post("/reports/import", data={
            "csrf_token": token, "action": action, "file": (io.BytesIO(ledger_csv()), "ledger.csv")},
            content_type="multipart/form-data")

    resp = post("check")
    assert resp.status_code == 200 and 'data-count="new">12<' in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    resp = post("import")
    assert resp.status_code == 200 and 'data-count="new">12<' in resp.get_data(as_text=True)
    resp = post("import")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'data-count="new">0<' in html and 'data-count="existing">12<' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 12
        # a case registered later on an imported day does not clash with the imported numbers
        from hotline.cases.models import CaseCounter
        from datetime import date

        assert db.session.get(CaseCounter, date(2026, 3, 31)).last == 2


def test_import_xlsx_and_cli(app, users, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(HEADER)
    from datetime import datetime

    ws.append(["X-1", datetime(2026, 5, 4, 9, 30), "来访", "张三", 13812345678, "问题咨询", "wages", "excel 行",
               "法律援助中心", "Handler", datetime(2026, 5, 6), datetime(2026, 5, 5, 10, 0), datetime(2026, 5, 5),
               "已办结", "否", "满意", 0])
    path = tmp_path / "ledger.xlsx"
    wb.save(path)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hotline", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output and "dry run" in result.output
    result = runner.invoke(args=["hotline", "import", str(path), "--user", "supervisor"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["hotline", "import", str(path)])
    assert "0 new, 1 already present" in result.output
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.case_no == "X-1"))
        assert case.caller_phone == "+8613812345678" and case.handler.username == "handler"
        assert case.reply_due_at.isoformat() == "2026-05-06T09:30:00+00:00"  # a bare date: 17:30 local
        assert case.closed_at.isoformat() == "2026-05-05T09:30:00+00:00"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(ledger_csv([], HEADER) + "Y-1,,,,,,,,,,,,,,,,\n".encode())
    result = runner.invoke(args=["hotline", "import", str(bad)])
    assert result.exit_code == 2 and "row 2, column 受理时间" in result.output


def test_import_reads_gbk_csv_and_refuses_other_files(app, users):
    data = ledger_csv(CASES[:1]).decode("utf-8").encode("gb18030")
    with app.test_request_context():
        report = importer.import_ledger(None, "gbk.csv", data, dry_run=True)
        assert report.errors == [] and report.new == ["20260301-0001"]
        with pytest.raises(importer.FileProblem):
            importer.import_ledger(None, "notes.docx", b"x", dry_run=True)
        with pytest.raises(importer.FileProblem):
            importer.import_ledger(None, "broken.xlsx", b"not a zip", dry_run=True)
        report = importer.import_ledger(None, "empty.csv", "工单编号,受理时间\n".encode(), dry_run=True)
        assert {e.column for e in report.errors} >= {"诉求类型", "类别", "诉求摘要"}


# ---------------------------------------------------------------- hot topics

def test_hot_topics_find_rising_categories_and_words(app, users, supervisor):
    rows = []
    for day in range(1, 21):  # February: social insurance questions
        rows.append(dict(CASES[4], due="", no=f"H02{day:02d}", at=f"2026-02-{day:02d} 10:00", summary="咨询社保断缴后如何补缴",
                         cat="insurance", status="已登记", dept=""))
    for day in range(1, 11):
        rows.append(dict(CASES[4], due="", no=f"H02{day + 20:02d}", at=f"2026-02-{day + 10:02d} 11:00",
                         summary="公司拖欠工资怎么办", cat="wages", status="已登记", dept=""))
    for day in range(1, 21):  # March: unpaid wages before the holiday
        rows.append(dict(CASES[4], due="", no=f"H03{day:02d}", at=f"2026-03-{day:02d} 10:00",
                         summary="农民工欠薪，老板跑路" if day % 2 else "工地欠薪三个月未发", cat="wages", status="已登记",
                         dept=""))
    for day in range(1, 6):
        rows.append(dict(CASES[4], due="", no=f"H03{day + 20:02d}", at=f"2026-03-{day + 20:02d} 11:00",
                         summary="咨询社保转移", cat="insurance", status="已登记", dept=""))
    with app.test_request_context():
        report = importer.import_ledger(None, "hot.csv", ledger_csv(rows), dry_run=False)
        assert report.errors == [], report.errors[:3]
        db.session.commit()
    resp = supervisor.get("/reports/hot", query_string={**MARCH, "partial": "1"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    categories, words = html.split("<h3>", 2)[1:3]
    assert 'data-topic="wages"' in categories and 'data-topic="insurance"' not in categories
    assert 'data-topic="欠薪"' in words and 'data-topic="社保"' not in words
    assert "H0301" in words or "H0319" in words  # examples link to cases
    page = supervisor.get("/reports/hot", query_string=MARCH)
    assert page.status_code == 200 and "<h1>" in page.get_data(as_text=True)
    dash = supervisor.get("/reports", query_string={"period": "custom", **MARCH}).get_data(as_text=True)
    assert 'data-src="/reports/hot?partial=1' in dash


def test_dashboard_with_no_cases_and_csp_friendly_markup(app, users, supervisor):
    resp = supervisor.get("/reports")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html and "onclick" not in html
    assert '/static/vendor/echarts.min.js' in html and '/static/reports.js' in html
    assert parse_page(html).cards["closure_rate"]["value"][0] == "—"
