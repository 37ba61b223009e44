"""The closed loop (issue 16): correction, 督办 and 延期 that reach people, 回访 by phone with the three
rates, review of dissatisfied cases, 退单审核, escalation by the clock, the admin change log."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db
from hotline.notify.models import Notice
from tests.conftest import local

BASE = {"channel": "hotline", "type": "consult", "category": "contract", "summary": "公司拖欠工资三个月",
        "caller": {"phone": "13812345678", "name": "王建国"}}


def create(api, username="operator", **extra):
    resp = api(username).post("/cases", json={**BASE, **extra})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def act(api, username, case, action, expect=200, **params):
    resp = api(username).post(f"/cases/{case['case_no']}/{action}", json={"version": case["version"], **params})
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def error(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)[:400]
    return resp.get_json()["error"]


@pytest.fixture
def state(app):
    """What a refused request must leave alone: events, case versions, notices."""
    def snapshot():
        with app.app_context():
            return (db.session.scalar(select(func.count()).select_from(CaseEvent)),
                    db.session.scalar(select(func.coalesce(func.sum(Case.version), 0))),
                    db.session.scalar(select(func.count()).select_from(Notice)))
    return snapshot


def notices_of(api, username):
    resp = api(username).get("/notices")
    assert resp.status_code == 200
    return resp.get_json()["items"]


@pytest.fixture
def head(app, users):
    """handler_b heads the legal aid department."""
    from hotline.admin import service as admin

    with app.app_context():
        admin.update_department("legal_aid", "法律援助中心", True, head="handler_b")
        db.session.commit()


# ---------------------------------------------------------------- edit

def test_edit_recounts_the_deadline_from_registration_and_records_before_and_after(api, clock):
    clock.set(local(2026, 12, 1, 10, 0))  # Tuesday
    case = create(api, channel="voicemail", summary="请收听后补全工单")
    assert case["reply_due_at"] == "2026-12-03T17:30:00+08:00"  # consult: 2 working days
    clock.set(local(2026, 12, 2, 9, 0))
    case = act(api, "operator", case, "edit", reason="听完留言，补全工单", type="complaint", category="wages",
               summary="建筑工地拖欠工资，要求投诉", caller={"name": "赵大山", "district": "吴中区"})
    assert (case["type"], case["category"], case["summary"]) == ("complaint", "wages", "建筑工地拖欠工资，要求投诉")
    assert case["caller"]["name"] == "赵大山" and case["caller"]["district"] == "吴中区"
    assert case["reply_due_at"] == "2026-12-22T17:30:00+08:00"  # complaint: 15 working days from Tue 12-01
    event = case["events"][-1]
    assert event["kind"] == "edit" and event["data"]["reason"] == "听完留言，补全工单"
    assert event["data"]["before"]["type"] == "consult" and event["data"]["after"]["type"] == "complaint"
    assert event["data"]["before"]["caller_name"] == "王建国" and event["data"]["after"]["caller_name"] == "赵大山"
    assert event["data"]["after"]["reply_due_at"].startswith("2026-12-22T09:30")  # stored in UTC
    assert "caller_phone" not in event["data"]["after"]  # unchanged fields are not listed


def test_edit_refusals_change_nothing(api, state):
    case = create(api)
    before = state()
    assert "reason" in error(api("operator").post(f"/cases/{case['case_no']}/edit",
                                                  json={"version": case["version"], "summary": "新摘要"}), 422)["fields"]
    assert "colour" in error(api("operator").post(f"/cases/{case['case_no']}/edit", json={
        "version": case["version"], "reason": "r", "colour": "red"}), 422)["fields"]
    assert "category" in error(api("operator").post(f"/cases/{case['case_no']}/edit", json={
        "version": case["version"], "reason": "r", "category": "no_such"}), 422)["fields"]
    error(api("operator").post(f"/cases/{case['case_no']}/edit", json={
        "version": case["version"], "reason": "r", "confidential": True, "broadcast_ok": True}), 422)
    assert state() == before


def test_edit_who_and_when(api, state):
    case = create(api, department="legal_aid")
    before = state()
    # Operators correct cases before dispatch only; supervisors any open case; nobody a closed one.
    error(api("operator").post(f"/cases/{case['case_no']}/edit", json={
        "version": case["version"], "reason": "r", "summary": "改"}), 409)
    error(api("handler").post(f"/cases/{case['case_no']}/edit", json={
        "version": case["version"], "reason": "r", "summary": "改"}), 403)
    assert state() == before
    case = act(api, "supervisor", case, "edit", reason="分类有误", category="wages")
    assert case["category"] == "wages"
    closed = create(api, resolved_on_call=True, answer="已当场解答")
    error(api("supervisor").post(f"/cases/{closed['case_no']}/edit", json={
        "version": closed["version"], "reason": "r", "summary": "改"}), 409)


def test_edit_on_the_case_page(app, users, login, clock):
    from tests.conftest import csrf_from

    clock.set(local(2026, 12, 1, 10, 0))
    client = login(app.test_client(), "operator")
    page = client.post("/cases/new", data={"csrf_token": csrf_from(client.get("/cases/new").get_data(as_text=True)),
                                           "channel": "hotline", "type": "consult", "category": "contract",
                                           "phone": "13812345678", "summary": "咨询合同", "outcome": "register"})
    case_no = page.headers["Location"].rsplit("/", 1)[-1]
    html = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert 'id="act-edit"' in html
    form = {"csrf_token": csrf_from(html), "version": "1", "type": "complaint", "category": "contract",
            "summary": "投诉单位不签合同", "detail": "", "phone": "13812345678", "caller_name": "",
            "caller_employer": "", "caller_district": "", "reason": ""}
    resp = client.post(f"/cases/{case_no}/edit", data=form)
    assert resp.status_code == 422 and "Reason is required." in resp.get_data(as_text=True)
    resp = client.post(f"/cases/{case_no}/edit", data={**form, "reason": "来电人要求投诉"})
    assert resp.status_code == 302
    html = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert "Case %s corrected." % case_no in html
    assert "2026-12-22 17:30" in html and "Corrected" in html


# ---------------------------------------------------------------- 督办, 延期, notices

def test_escalation_and_extension_reach_people(api, head):
    case = create(api, department="legal_aid", handler="handler")
    case = act(api, "handler", case, "accept")
    case = act(api, "supervisor", case, "escalate", note="请本周内答复")
    for who in ("handler", "handler_b"):  # the handler and the department head
        items = [n for n in notices_of(api, who) if n["kind"] == "escalated"]
        assert len(items) == 1 and items[0]["case_no"] == case["case_no"] and "请本周内答复" in items[0]["text"]
        assert items[0]["read"] is False and items[0]["created_at"].endswith("+08:00")
    case = act(api, "handler", case, "extend", reply_due_at="2026-12-09T17:30:00+08:00", reason="需调取证据")
    asked = [n for n in notices_of(api, "supervisor") if n["kind"] == "extension_request"]
    assert len(asked) == 1 and asked[0]["case_no"] == case["case_no"]
    assert not [n for n in notices_of(api, "handler") if n["kind"] == "extension_decision"]
    act(api, "supervisor", case, "approve_extension")
    decided = [n for n in notices_of(api, "handler") if n["kind"] == "extension_decision"]
    assert len(decided) == 1 and "12-09 17:30" in decided[0]["text"]


def test_the_notices_page_and_api_show_the_same(app, api, login, head):
    case = create(api, department="legal_aid", handler="handler")
    act(api, "supervisor", case, "escalate")
    items = notices_of(api, "handler")
    html = login(app.test_client(), "handler").get("/notices").get_data(as_text=True)
    assert items and all(n["text"].split(" http")[0] in html for n in items)


def test_extension_to_a_day_off_is_refused_with_the_next_working_day(api, state):
    case = create(api, department="legal_aid", handler="handler")
    before = state()
    err = error(api("handler").post(f"/cases/{case['case_no']}/extend", json={
        "version": case["version"], "reply_due_at": "2026-12-06T17:30:00+08:00", "reason": "延期"}), 422)  # Sunday
    assert "2026-12-07" in err["message"] and "reply_due_at" in err["fields"]
    err = error(api("handler").post(f"/cases/{case['case_no']}/extend", json={
        "version": case["version"], "reply_due_at": "2026-12-05T09:00:00+08:00", "reason": "延期"}), 422)  # Saturday
    assert "2026-12-07" in err["message"]
    # Same day as the current deadline, a little later: not a working day after it.
    err = error(api("handler").post(f"/cases/{case['case_no']}/extend", json={
        "version": case["version"], "reply_due_at": "2026-12-02T18:30:00+08:00", "reason": "延期"}), 422)
    assert state() == before


def test_urgent_accept_deadline_is_not_after_the_reply_deadline(api, clock):
    clock.set(local(2026, 12, 1, 10, 0))
    case = create(api, urgent=True, department="legal_aid")
    assert case["reply_due_at"] == "2026-12-01T17:30:00+08:00"
    assert case["accept_due_at"] == "2026-12-01T17:30:00+08:00"


# ---------------------------------------------------------------- 回访, review

def _closed(api, **extra):
    case = create(api, department="legal_aid", handler="handler", **extra)
    case = act(api, "handler", case, "accept")
    case = act(api, "handler", case, "reply", content="已答复：可申请劳动仲裁")
    return act(api, "operator", case, "close")


def test_unresolved_survey_goes_to_review_and_reopen_sends_it_back(api, clock, state):
    case = _closed(api)
    case = act(api, "operator", case, "survey", result="basically_satisfied", resolved=False)
    assert (case["survey_result"], case["survey_resolved"], case["review_pending"]) == (
        "basically_satisfied", False, True)
    assert [n["case_no"] for n in notices_of(api, "supervisor") if n["kind"] == "review"] == [case["case_no"]]
    listed = api("supervisor").get("/cases?review=pending").get_json()["items"]
    assert [c["case_no"] for c in listed] == [case["case_no"]]

    before = state()
    assert "decision" in error(api("supervisor").post(f"/cases/{case['case_no']}/review",
                                                      json={"version": case["version"]}), 422)["fields"]
    assert "reason" in error(api("supervisor").post(f"/cases/{case['case_no']}/review", json={
        "version": case["version"], "decision": "uphold"}), 422)["fields"]
    error(api("operator").post(f"/cases/{case['case_no']}/review", json={
        "version": case["version"], "decision": "reopen"}), 403)
    assert state() == before

    clock.set(local(2026, 12, 2, 9, 0))
    case = act(api, "supervisor", case, "review", decision="reopen", reason="来电人称仍未拿到工资")
    assert (case["status"], case["department"], case["handler"]) == ("accepted", "legal_aid", "handler")
    assert case["reply_due_at"] == "2026-12-04T17:30:00+08:00"  # a new deadline, counted from now
    assert case["review_pending"] is False and case["survey_result"] is None
    assert api("supervisor").get("/cases?review=pending").get_json()["items"] == []
    assert [n["kind"] for n in notices_of(api, "handler") if n["case_no"] == case["case_no"]].count("reopened") == 1
    # Not pending any more: a second decision is refused.
    error(api("supervisor").post(f"/cases/{case['case_no']}/review", json={
        "version": case["version"], "decision": "uphold", "reason": "x"}), 409)


def test_dissatisfied_upheld_leaves_the_list_and_satisfied_never_enters(api):
    case = act(api, "operator", _closed(api), "survey", result="dissatisfied", resolved=True)
    assert case["review_pending"] is True
    case = act(api, "supervisor", case, "review", decision="uphold", reason="已依法答复，诉求超出范围")
    assert (case["status"], case["review_pending"]) == ("closed", False)
    ok = act(api, "operator", _closed(api), "survey", result="satisfied", resolved=True)
    assert ok["review_pending"] is False
    assert api("supervisor").get("/cases?review=pending").get_json()["items"] == []
    error(api("supervisor").post(f"/cases/{ok['case_no']}/review", json={
        "version": ok["version"], "decision": "reopen"}), 409)
    # Unreachable: nothing to say about the problem.
    err = error(api("operator").post(f"/cases/{ok['case_no']}/survey", json={
        "version": ok["version"], "result": "unreachable", "resolved": True}), 422)
    assert "resolved" in err["fields"]


def test_followup_worklist_lists_recent_unsurveyed_cases_and_records_the_call(app, api, login, clock):
    from tests.conftest import csrf_from

    clock.set(local(2026, 11, 23, 10, 0))
    old = _closed(api, summary="上周办结的工单")
    clock.set(local(2026, 11, 30, 10, 0))  # Monday: the window is Wed 11-25 onwards
    recent = _closed(api, summary="今天办结的工单")
    confidential = _closed(api, summary="保密来电", confidential=True)
    client = login(app.test_client(), "operator2")  # did not register them: the confidential number is masked
    html = client.get("/cases/followup").get_data(as_text=True)
    assert recent["case_no"] in html and confidential["case_no"] in html and old["case_no"] not in html
    assert 'href="tel:+8613812345678">13812345678</a>' in html
    assert "138****5678" in html  # the confidential one
    resp = client.post(f"/cases/{recent['case_no']}/survey", data={
        "csrf_token": csrf_from(html), "version": str(recent["version"]), "next": "followup",
        "contacted": "yes", "result": "satisfied", "resolved": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cases/followup")
    case = api("operator").get(f"/cases/{recent['case_no']}").get_json()
    assert (case["survey_result"], case["survey_resolved"]) == ("satisfied", True)
    html = client.get("/cases/followup").get_data(as_text=True)
    assert f"Survey result for case {recent['case_no']} recorded." in html
    assert f'action="/cases/{recent["case_no"]}/survey"' not in html
    assert f'action="/cases/{confidential["case_no"]}/survey"' in html


# ---------------------------------------------------------------- 退单审核

def test_return_waits_for_review_and_a_refusal_reaches_the_handler(app, api, login):
    case = create(api, department="legal_aid", handler="handler")
    case = act(api, "handler", case, "return", reason="属于女职工权益")
    assert (case["status"], case["department"]) == ("assigned", "legal_aid") and case["return_requested"]
    assert [c["case_no"] for c in api("supervisor").get("/cases?return=pending").get_json()["items"]] == [
        case["case_no"]]
    html = login(app.test_client(), "supervisor").get("/cases/supervise?tab=return").get_data(as_text=True)
    assert case["case_no"] in html
    error(api("handler").post(f"/cases/{case['case_no']}/return", json={
        "version": case["version"], "reason": "再退"}), 409)  # already waiting
    assert "reason" in error(api("operator").post(f"/cases/{case['case_no']}/refuse_return", json={
        "version": case["version"]}), 422)["fields"]
    case = act(api, "operator", case, "refuse_return", reason="涉及欠薪，仍由法律援助中心办理")
    assert (case["status"], case["department"], case["return_requested"]) == ("assigned", "legal_aid", None)
    refused = [n for n in notices_of(api, "handler") if n["kind"] == "return_refused"]
    assert len(refused) == 1 and "涉及欠薪" in refused[0]["text"]
    error(api("operator").post(f"/cases/{case['case_no']}/accept_return", json={"version": case["version"]}), 409)


def test_supervisor_filters(api):
    urgent = create(api, urgent=True)
    escalated = act(api, "supervisor", create(api), "escalate")
    ext = create(api, department="legal_aid", handler="handler")
    act(api, "handler", ext, "extend", reply_due_at="2026-12-09T17:30:00+08:00", reason="延期")

    def nos(query):
        return [c["case_no"] for c in api("supervisor").get(f"/cases?{query}").get_json()["items"]]

    assert nos("urgent=1") == [urgent["case_no"]]
    assert nos("escalated=1") == [escalated["case_no"]]
    assert nos("extension=pending") == [ext["case_no"]]
    assert "review" in error(api("supervisor").get("/cases?review=yes"), 422)["fields"]


# ---------------------------------------------------------------- 督办 by the clock

def test_scheduler_escalates_once_after_n_working_days_overdue(app, api, clock):
    from hotline.jobs import run_job

    case = create(api, department="legal_aid", handler="handler")  # consult, due Wed 12-02 17:30
    with app.app_context():
        clock.set(local(2026, 12, 4, 18, 0))  # Fri: 2 working days overdue
        assert run_job("escalate")["escalated"] == 0
        clock.set(local(2026, 12, 7, 17, 31))  # Mon after hours: 3 working days overdue
        assert run_job("escalate")["escalated"] == 1
        assert run_job("escalate")["escalated"] == 0  # once
    fetched = api("supervisor").get(f"/cases/{case['case_no']}").get_json()
    assert fetched["escalated"] is True
    assert [e["kind"] for e in fetched["events"]].count("escalate") == 1
    assert fetched["events"][-1]["actor"] is None and fetched["events"][-1]["data"]["auto"] is True
    assert [n["kind"] for n in notices_of(api, "handler")].count("escalated") == 1


def test_escalation_delay_is_a_setting_per_type(app, api, clock, users, login):
    from tests.conftest import csrf_from
    from hotline.jobs import run_job

    admin = login(app.test_client(), "admin")
    form = {"csrf_token": csrf_from(admin.get("/admin/types").get_data(as_text=True))}
    with app.app_context():
        from hotline.reference.models import CaseType
        for t in db.session.scalars(select(CaseType)):
            form[f"reply_days-{t.code}"] = str(t.reply_days)
            form[f"escalate_after-{t.code}"] = "1" if t.code == "consult" else str(t.escalate_after_days)
    assert admin.post("/admin/types", data=form).status_code == 302
    create(api, department="legal_aid")
    with app.app_context():
        clock.set(local(2026, 12, 3, 17, 31))  # 1 working day overdue
        assert run_job("escalate")["escalated"] == 1


# ---------------------------------------------------------------- the three rates

def test_kpis_give_response_and_resolution_rates_with_drill_down(api, app, login):
    a = act(api, "operator", _closed(api), "survey", result="satisfied", resolved=True)
    act(api, "operator", _closed(api), "survey", result="dissatisfied", resolved=False)
    act(api, "operator", _closed(api), "survey", result="unreachable")
    act(api, "operator", _closed(api), "survey", result="basically_satisfied")  # by SMS: no resolved answer
    _closed(api)  # not surveyed
    totals = api("supervisor").get("/reports/kpis?from=2026-11-30&to=2026-11-30").get_json()["totals"]
    assert (totals["attempted"], totals["surveyed"], totals["resolved"]) == (4, 3, 1)
    assert totals["response_rate"] == pytest.approx(3 / 4)
    assert totals["resolution_rate"] == pytest.approx(1 / 3)
    assert totals["satisfaction_rate"] == pytest.approx(2 / 3)
    resolved = api("supervisor").get("/cases?from=2026-11-30&to=2026-11-30&status=closed&survey=reached&resolved=1")
    assert [c["case_no"] for c in resolved.get_json()["items"]] == [a["case_no"]]
    html = login(app.test_client(), "supervisor").get(
        "/reports?preset=custom&from=2026-11-30&to=2026-11-30").get_data(as_text=True)
    assert "Response rate" in html and "Resolution rate" in html and "75.0%" in html and "33.3%" in html
    assert "survey=attempted" in html and "resolved=1" in html


# ---------------------------------------------------------------- the admin change log

def test_admin_changes_are_logged_with_before_and_after(app, users, login):
    from tests.conftest import csrf_from

    admin = login(app.test_client(), "admin")
    page = admin.get("/admin/departments/legal_aid")
    token = csrf_from(page.get_data(as_text=True))
    resp = admin.post("/admin/departments/legal_aid", data={"csrf_token": token, "name": "法律援助中心（新）",
                                                             "active": "1", "sort_order": "1", "head": ""})
    assert resp.status_code in (200, 302)
    with app.app_context():
        from hotline.audit.models import AdminChange
        rows = list(db.session.scalars(select(AdminChange).where(AdminChange.area == "departments")))
        change = rows[-1]
        assert change.action == "update" and change.target == "legal_aid"
        assert change.before["name"] == "法律援助中心" and change.after["name"] == "法律援助中心（新）"
        assert change.actor.username == "admin"
        users_rows = list(db.session.scalars(select(AdminChange).where(AdminChange.area == "users")))
        assert users_rows and users_rows[0].after["password_hash"] == "(changed)"
    html = admin.get("/admin/changes?area=departments").get_data(as_text=True)
    assert "法律援助中心（新）" in html
    assert login(app.test_client(), "supervisor").get("/admin/changes").status_code == 403


def test_postgresql_refuses_changing_the_timeline_and_the_logs(app, api, backend_name):
    if backend_name != "postgresql":
        pytest.skip("the triggers are PostgreSQL's")
    from sqlalchemy.exc import DBAPIError

    create(api)
    with app.app_context():
        for statement in ("UPDATE case_event SET kind = 'note'", "DELETE FROM case_event",
                          "UPDATE admin_change SET target = 'x'", "DELETE FROM admin_change"):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == 1
        assert db.session.scalar(text("SELECT count(*) FROM admin_change")) > 0


def test_a_confidential_caller_is_corrected_only_by_those_who_may_see_it(api, state):
    case = create(api, confidential=True)
    before = state()
    error(api("operator2").post(f"/cases/{case['case_no']}/edit", json={
        "version": case["version"], "reason": "r", "caller": {"name": "李四"}}), 403)
    error(api("operator2").post(f"/cases/{case['case_no']}/edit", json={
        "version": case["version"], "reason": "r", "detail": "改写"}), 403)
    assert state() == before
    case = act(api, "operator2", case, "edit", reason="摘要有错别字", summary="公司拖欠工资四个月")
    assert case["caller"]["phone"] == "138****5678"  # still masked for operator2
    assert "caller_name" not in case["events"][-1]["data"]["after"]
    case = act(api, "operator", case, "edit", reason="来电人补充姓名", caller={"name": "李四"})
    assert case["caller"]["name"] == "李四"
    seen_by_other = api("operator2").get(f"/cases/{case['case_no']}").get_json()["events"][-1]["data"]
    assert seen_by_other["before"] == {} and seen_by_other["after"] == {}  # the names stay hidden
