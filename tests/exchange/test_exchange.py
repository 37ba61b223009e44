"""File exchange with the 12351 platform: import of handed-down cases, feedback export (docs/exchange.md).

The CLI speaks the default language (Chinese): the report lines are checked as an operator reads them."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import get_user, local
from hotline.cases import service as cases
from hotline.cases.models import Case, CaseEvent
from hotline.exchange import service as exchange
from hotline.extensions import db

FIXTURE = Path(__file__).parent.parent / "data" / "exchange_cases.jsonl"
LINES = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
IDS = [line["external_id"] for line in LINES]


def run(app, *args):
    return app.test_cli_runner().invoke(args=["hotline", "exchange", *args])


def write_jsonl(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Case)),
                db.session.scalar(select(func.count()).select_from(CaseEvent)))


def case_by_external(external_id: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.external_id == external_id))


def test_import_jsonl_registers_each_case_with_its_platform_id_and_deadline(app, users, api):
    result = run(app, "import", str(FIXTURE), "--user", "operator")
    assert result.exit_code == 0, result.output
    assert "3 rows, 3 new, 0 already imported, 0 errors; imported 3" in result.output
    with app.app_context():
        first, second, third = (case_by_external(i) for i in IDS)
        assert first.case_no == "20261130-0001" and f"{IDS[0]} -> 20261130-0001" in result.output
        assert first.status == "registered" and first.registered_by.username == "operator"
        assert first.caller_phone == "+8613812345678" and first.caller_employer == "某电子厂"
        assert first.caller_district == "工业园区" and first.category.code == "wages"
        # consult: 2 working days → Wed 2 Dec 17:30; the platform's deadline (Tue 1 Dec 17:30) is earlier: it rules.
        assert first.reply_due_at == local(2026, 12, 1, 17, 30)
        # Chinese type/category names are read; a bare-date deadline later than ours leaves ours (5 days).
        assert second.type_code == "legal_aid" and second.category.code == "women"
        assert second.reply_due_at == local(2026, 12, 7, 17, 30)
        assert third.caller_phone == "+8651265230000" and third.reply_due_at == local(2026, 12, 2, 17, 30)
        event = first.events[0]
        assert event.kind == "register" and event.data["via"] == "exchange"
        assert event.data["platform"]["external_id"] == IDS[0]
        assert event.data["platform"]["received_at"] == "2026-11-30T00:41:00+00:00"
    body = api("supervisor").get(f"/cases/{'20261130-0001'}").get_json()
    assert body["external_id"] == IDS[0] and body["reply_due_at"] == "2026-12-01T17:30:00+08:00"
    listed = api("supervisor").get("/cases").get_json()["items"]
    assert {item["external_id"] for item in listed} == set(IDS)
    # The search finds them (the migration adding external_id keeps SQLite's search triggers).
    found = api("supervisor").get("/cases", query_string={"q": "拖欠三个月工资"}).get_json()["items"]
    assert [item["external_id"] for item in found] == [IDS[0]]


def test_case_page_shows_the_platform_id(app, users, login):
    assert run(app, "import", str(FIXTURE)).exit_code == 0
    client = login(app.test_client(), "operator")
    page = client.get("/cases/20261130-0001").get_data(as_text=True)
    assert "Platform case id" in page and IDS[0] in page
    assert "Handed down by the 12351 platform" in page  # the timeline's registration entry says where from
    zh = login(app.test_client(), "supervisor", lang="zh_Hans_CN").get("/cases/20261130-0001").get_data(as_text=True)
    assert "平台编号" in zh and "12351平台下派" in zh


def test_import_xlsx_then_the_same_cases_as_json_lines_are_skipped(app, users, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    # Chinese headers, Excel dates and a phone number typed as a number.
    ws.append(["平台编号", "受理时间", "来电人", "来电号码", "诉求摘要", "详细内容", "诉求类型", "类别", "办理时限",
               "单位", "地区", "渠道", "平台备注"])
    first = LINES[0]
    ws.append([first["external_id"], datetime(2026, 11, 30, 8, 41), "王建国", 13812345678, first["summary"],
               first["detail"], "问题咨询", "工资报酬/欠薪", datetime(2026, 12, 1, 17, 30), "某电子厂", "工业园区",
               "12351热线", "加急"])
    path = tmp_path / "handed_down.xlsx"
    wb.save(path)
    result = run(app, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "1 rows, 1 new" in result.output and "fields not read: 平台备注" in result.output
    with app.app_context():
        case = case_by_external(IDS[0])
        assert case.reply_due_at == local(2026, 12, 1, 17, 30) and case.channel == "hotline"
    # The JSON lines file carries the same first case: same content, so skipped, not an error.
    result = run(app, "import", str(FIXTURE))
    assert result.exit_code == 0, result.output
    assert "3 rows, 2 new, 1 already imported" in result.output
    assert f"row 1, {IDS[0]}: already imported as case 20261130-0001; skipped" in result.output


def test_reimport_of_the_same_file_adds_nothing(app, users):
    assert run(app, "import", str(FIXTURE)).exit_code == 0
    before = counts(app)
    result = run(app, "import", str(FIXTURE))
    assert result.exit_code == 0, result.output
    assert "3 rows, 0 new, 3 already imported, 0 errors; imported 0" in result.output
    assert counts(app) == before


def test_same_external_id_with_different_content_is_an_error_and_nothing_is_saved(app, users, tmp_path):
    write_jsonl(tmp_path / "first.jsonl", LINES[:1])
    assert run(app, "import", str(tmp_path / "first.jsonl")).exit_code == 0
    before = counts(app)
    changed = [{**LINES[0], "summary": "公司拖欠四个月工资"}, *LINES[1:]]
    result = run(app, "import", str(write_jsonl(tmp_path / "changed.jsonl", changed)))
    assert result.exit_code == 2
    assert (f"row 1, field external_id: {IDS[0]}已导入为工单20261130-0001，但内容不同。"
            in result.output)
    assert "nothing saved" in result.output
    assert counts(app) == before  # the two good new lines are not saved either
    # Within one file: a repeated id is skipped when identical, an error when not.
    twice = [LINES[1], LINES[1], {**LINES[2], "external_id": IDS[1]}]
    result = run(app, "import", str(write_jsonl(tmp_path / "twice.jsonl", twice)))
    assert result.exit_code == 2
    assert f"row 2, {IDS[1]}: already imported as an earlier row of this file; skipped" in result.output
    assert f"row 3, field external_id: {IDS[1]}与第1行重复，但内容不同。" in result.output
    assert counts(app) == before


def test_every_bad_line_is_reported_and_none_is_saved(app, users, tmp_path):
    bad = [
        LINES[0],
        {**LINES[1], "category": "加班费"},                       # unknown category
        {**LINES[2], "received_at": "2026-13-45 09:00"},          # bad date
        {**LINES[0], "external_id": "X-4", "deadline": "next week"},
        {**LINES[0], "external_id": "X-5", "caller_phone": "12345"},
        {k: v for k, v in LINES[0].items() if k not in ("summary", "type")} | {"external_id": "X-6"},
        {**LINES[0], "external_id": "X-7", "type": "gossip"},
        {**LINES[0], "external_id": "X-8", "deadline": "2026-11-29T17:30:00+08:00"},
        {**LINES[0], "external_id": "X-9", "caller_phone": "555", "category": "overtime",
         "received_at": "2026-12-01T09:00:00+08:00"},
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", bad)
    with path.open("a", encoding="utf-8") as f:
        f.write("not json\n")
    result = run(app, "import", str(path))
    assert result.exit_code == 2
    out = result.output
    assert "row 2, field category: 未知类别：加班费" in out
    assert "row 3, field received_at: 不是日期时间" in out
    assert "row 4, field deadline: 不是日期时间" in out
    assert "row 5, field caller_phone: 12345不是有效的电话号码。" in out
    assert "row 6, field summary: 必填。" in out and "row 6, field type: 必填。" in out
    assert "row 7, field type: 未知诉求类型：gossip" in out
    assert "row 8, field deadline: 早于受理时间。" in out
    # Several problems on one line: each named with its value.
    assert "row 9, field received_at: 时间晚于当前时间。" in out
    assert "row 9, field caller_phone: 555不是有效的电话号码。" in out and "row 9, field category: 未知类别：overtime" in out
    assert "row 10, field -: 不是JSON对象。" in out
    assert "10 rows, 1 new, 0 already imported, 12 errors; nothing saved" in out
    assert counts(app) == (0, 0)  # the good first line is not saved either


def test_dry_run_reports_and_writes_nothing(app, users, tmp_path):
    result = run(app, "import", str(FIXTURE), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "3 rows, 3 new, 0 already imported, 0 errors; dry run, nothing saved" in result.output
    assert counts(app) == (0, 0)
    bad = write_jsonl(tmp_path / "bad.jsonl", [{**LINES[0], "category": "nope"}])
    result = run(app, "import", str(bad), "--dry-run")
    assert result.exit_code == 2 and "row 1, field category: 未知类别：nope" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
        # The next case registered by phone still gets the day's first number: the dry run used none.
        case = cases.register(get_user("operator"), {"type": "consult", "category": "wages", "summary": "x",
                                                      "caller": {"phone": "13812345678"}})
        assert case.case_no == "20261130-0001"
        db.session.rollback()


def test_file_problems_are_refused(app, users, tmp_path):
    other = tmp_path / "cases.csv"
    other.write_text("a,b\n", encoding="utf-8")
    result = run(app, "import", str(other))
    assert result.exit_code == 2 and "JSON Lines" in result.output
    sheet = tmp_path / "broken.xlsx"
    sheet.write_bytes(b"PK not really")
    result = run(app, "import", str(sheet))
    assert result.exit_code == 2 and "Excel工作簿" in result.output
    with app.test_request_context():
        report = exchange.import_file(None, "empty.jsonl", b"\n\n", dry_run=False)
        assert [e.reason for e in report.errors] == ["文件中没有工单。"]
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["external_id", "received_at", "caller_phone", "summary", "type", "category"])
    wb.save(tmp_path / "no_deadline.xlsx")
    result = run(app, "import", str(tmp_path / "no_deadline.xlsx"))
    assert result.exit_code == 2 and "row 1, field deadline: 缺少该列。" in result.output


def act(username, case, action, **params):
    cases.perform(get_user(username), case, action, case.version, params)
    db.session.commit()


def test_export_writes_the_feedback_of_platform_cases_changed_since(app, users, clock, tmp_path):
    assert run(app, "import", str(FIXTURE)).exit_code == 0
    with app.app_context():
        # A case phoned in directly: never reported to the platform.
        cases.register(get_user("operator"), {"type": "consult", "category": "wages", "summary": "本地来电",
                                              "caller": {"phone": "13900001111"}})
        db.session.commit()
        first = case_by_external(IDS[0])
        clock.set(local(2026, 12, 1, 9, 0))
        act("operator", first, "assign", department="legal_aid", handler="handler")
        act("handler", first, "accept")
        clock.set(local(2026, 12, 1, 15, 0))
        act("handler", first, "reply", content="已协调企业于12月5日前补发工资。", method="phone")
        clock.set(local(2026, 12, 2, 10, 0))
        act("operator", first, "close")
        clock.set(local(2026, 12, 3, 11, 0))
        act("operator", first, "survey", result="basically_satisfied", resolved="true")
        third = case_by_external(IDS[2])
        act("operator", third, "merge", into=first.case_no)
    result = run(app, "export", "--since", "2026-11-30")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["external_id"] for r in records] == [IDS[1], IDS[0], IDS[2]]  # oldest change first
    done = records[1]
    assert done == {
        "external_id": IDS[0], "case_no": "20261130-0001", "status": "closed",
        "reply": "已协调企业于12月5日前补发工资。", "reply_method": "phone",
        "replied_at": "2026-12-01T15:00:00+08:00", "closed_at": "2026-12-02T10:00:00+08:00",
        "closure_result": "closed", "merged_into": None, "survey_result": "basically_satisfied",
        "survey_resolved": True, "surveyed_at": "2026-12-03T11:00:00+08:00",
        "updated_at": "2026-12-03T11:00:00+08:00",
    }
    assert records[0]["status"] == "registered" and records[0]["reply"] is None
    assert records[2]["closure_result"] == "merged" and records[2]["merged_into"] == "20261130-0001"
    # Since 3 Dec: only what changed then (the 回访 and the merge).
    result = run(app, "export", "--since", "2026-12-03")
    ids = [json.loads(line)["external_id"] for line in result.stdout.splitlines() if line.startswith("{")]
    assert ids == [IDS[0], IDS[2]]
    # The same as .xlsx.
    from openpyxl import load_workbook

    out = tmp_path / "feedback.xlsx"
    result = run(app, "export", "--since", "2026-12-03", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == exchange.EXPORT_FIELDS
    assert rows[1][:4] == (IDS[0], "20261130-0001", "closed", "已协调企业于12月5日前补发工资。")
    assert rows[1][9] == "basically_satisfied" and rows[1][11] == datetime(2026, 12, 3, 11, 0)


def test_export_refuses_a_bad_date_and_lists_nothing_without_platform_cases(app, users):
    result = run(app, "export", "--since", "yesterday")
    assert result.exit_code == 2 and "不是日期" in result.output
    with app.app_context():
        cases.register(get_user("operator"), {"type": "consult", "category": "wages", "summary": "本地来电",
                                              "caller": {"phone": "13900001111"}})
        db.session.commit()
    result = run(app, "export", "--since", "2026-11-01")
    assert result.exit_code == 0 and result.stdout == "" and "0 cases" in result.output


@pytest.mark.parametrize("username", ["handler", "supervisor", "admin"])
def test_only_those_who_register_cases_may_be_named_as_importing(app, users, username):
    result = run(app, "import", str(FIXTURE), "--user", username)
    assert result.exit_code == 2 and "只有接线员和编辑/导播可以登记工单。" in result.output
    assert counts(app) == (0, 0)


def test_api_door_imports_all_or_nothing_with_the_same_rules(app, users, api):
    operator = api("operator")
    resp = operator.post("/exchange/import", {"lines": LINES, "dry_run": True})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"dry_run": True, "rows": 3, "new": IDS, "skipped": [], "imported": [],
                               "ignored_fields": []}
    assert counts(app) == (0, 0)
    bad = [LINES[0], {**LINES[1], "category": "加班费", "platform_note": "x"}, "not an object"]
    resp = operator.post("/exchange/import", {"lines": bad})
    body = resp.get_json()
    assert resp.status_code == 422 and body["error"]["code"] == "invalid"
    assert body["error"]["fields"] == {"lines[1].category": "未知类别：加班费", "lines[2]": "不是JSON对象。"}
    assert counts(app) == (0, 0)
    resp = operator.post("/exchange/import", {"lines": LINES})
    assert resp.status_code == 200
    assert resp.get_json()["imported"] == [{"external_id": i, "case_no": f"20261130-000{n}"}
                                           for n, i in enumerate(IDS, start=1)]
    again = operator.post("/exchange/import", {"lines": LINES[:1]}).get_json()
    assert again["imported"] == [] and again["skipped"] == [
        {"line": 0, "external_id": IDS[0], "case_no": "20261130-0001"}]
    with app.app_context():
        assert case_by_external(IDS[0]).events[0].actor.username == "operator"
    # Only operators register cases; a supervisor's token is refused and nothing changes.
    before = counts(app)
    assert api("supervisor").post("/exchange/import", {"lines": [{**LINES[0], "external_id": "S-1"}]}).status_code == 403
    assert operator.post("/exchange/import", {"lines": []}).status_code == 422
    assert counts(app) == before
