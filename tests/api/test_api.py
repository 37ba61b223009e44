"""The JSON API /api/v1 (DESIGN.md §6): the door over the case services, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import get_user, local, statements
from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db

BASE = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资三个月，询问如何维权",
        "caller": {"phone": "138 1234 5678", "name": "王建国"}}


@pytest.fixture
def saved(app):
    """saved() -> (cases, events, versions) now in the database: 'nothing was saved' is saved() == before."""

    def count():
        with app.app_context():
            cases = db.session.scalar(select(func.count()).select_from(Case))
            events = db.session.scalar(select(func.count()).select_from(CaseEvent))
            versions = tuple(db.session.scalars(select(Case.version).order_by(Case.id)))
            return cases, events, versions

    return count


def create(api, username="operator", **extra):
    body = {**BASE, **extra}
    resp = api(username).post("/cases", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def act(api, username, case, action, expect=200, **params):
    resp = api(username).post(f"/cases/{case['case_no']}/{action}", json={"version": case["version"], **params})
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def error_of(resp, status, code=None):
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    body = resp.get_json()
    assert set(body) == {"error"} and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# ---------------------------------------------------------------- create

def test_create_returns_the_case_with_sequential_numbers(api, saved):
    first = api("operator").post("/cases", json=BASE)
    assert first.status_code == 201
    case = first.get_json()
    assert case["case_no"] == "20261130-0001"
    assert first.headers["Location"].endswith("/api/v1/cases/20261130-0001")
    assert case["status"] == "registered" and isinstance(case["version"], int)
    assert case["caller"] == {"phone": "+8613812345678", "name": "王建国", "employer": None, "district": None}
    assert case["reply_due_at"] == "2026-12-02T17:30:00+08:00"  # consult: 2 working days
    assert case["created_at"] == "2026-11-30T10:00:00+08:00"
    assert [e["kind"] for e in case["events"]] == ["register"]
    assert case["events"][0]["actor"] == "operator" and case["events"][0]["data"]["via"] == "api"
    assert create(api, "producer", channel="radio")["case_no"] == "20261130-0002"
    assert create(api)["case_no"] == "20261130-0003"
    assert saved()[:2] == (3, 3)


def test_create_closed_on_the_call_and_dispatched_at_once(api):
    closed = create(api, resolved_on_call=True, answer="可到劳动监察大队投诉。")
    assert closed["status"] == "closed" and closed["resolved_on_call"] and closed["answer"] == "可到劳动监察大队投诉。"
    dispatched = create(api, type="legal_aid", category="dispute", department="legal_aid", handler="handler",
                        urgent=True)
    assert (dispatched["status"], dispatched["department"], dispatched["handler"]) == ("assigned", "legal_aid", "handler")
    assert dispatched["reply_due_at"] == "2026-11-30T17:30:00+08:00"  # urgent, in hours: same day
    assert dispatched["accept_due_at"] == "2026-11-30T17:30:00+08:00"  # never after the reply deadline
    assert [e["kind"] for e in dispatched["events"]] == ["register", "assign"]


@pytest.mark.parametrize("raw, expected", [
    ("138 1234 5678", "+8613812345678"),
    ("+86-138-1234-5678", "+8613812345678"),
    ("0512-65230000", "+8651265230000"),
    ("(0512) 6523 0000", "+8651265230000"),
    ("  13812345678 ", "+8613812345678"),
])
def test_phone_numbers_are_normalised_to_e164(api, raw, expected):
    assert create(api, caller={"phone": raw})["caller"]["phone"] == expected


@pytest.mark.parametrize("raw", ["abc", "138-abcd-5678", "12345", "+86 1", "138123456789012345", ""])
def test_phone_numbers_that_are_not_numbers_are_refused(api, saved, raw):
    before = saved()
    err = error_of(api("operator").post("/cases", json={**BASE, "caller": {"phone": raw}}), 422, "invalid")
    assert "caller.phone" in err["fields"]
    assert saved() == before


def test_walk_in_and_letter_cases_need_no_phone(api):
    assert create(api, channel="walk_in", caller={"name": "吴经理"})["caller"]["phone"] is None
    assert create(api, channel="letter", caller={})["channel"] == "letter"
    assert create(api, channel="online", caller=None)["caller"]["phone"] is None


@pytest.mark.parametrize("change, field", [
    ({"summary": ""}, "summary"),
    ({"summary": "   "}, "summary"),
    ({"summary": "欠" * 10_000}, "summary"),
    ({"summary": None}, "summary"),
    ({"detail": "x" * 10_000}, "detail"),
    ({"type": "gossip"}, "type"),
    ({"type": None}, "type"),
    ({"category": "astrology"}, "category"),
    ({"channel": "fax"}, "channel"),
    ({"department": "no_such_dept"}, "department"),
    ({"department": "legal_aid", "handler": "nobody"}, "handler"),
    ({"department": "legal_aid", "handler": "other_handler"}, "handler"),  # works in another department
    ({"department": "legal_aid", "handler": "supervisor"}, "handler"),  # not a handler
    ({"handler": "handler"}, "department"),  # a handler without a department is not silently dropped
    ({"resolved_on_call": True}, "answer"),
    ({"resolved_on_call": True, "answer": "答复", "department": "legal_aid"}, "department"),
    ({"confidential": True, "broadcast_ok": True}, "broadcast_ok"),
    ({"caller": {"phone": "13812345678", "name": "王" * 65}}, "caller.name"),
    ({"urgent": "yes"}, "urgent"),
    ({"summary": 42}, "summary"),
    ({"caller": "13812345678"}, "caller"),
    ({"caller": None}, "caller.phone"),  # the hotline channel needs a phone
    ({"caller": {"phone": 13812345678}}, "caller.phone"),
    ({"priority": "high"}, "priority"),  # not in the schema: refused, not ignored
    ({"caller": {"phone": "13812345678", "id_number": "320500"}}, "caller.id_number"),
    ({"summary": "欠薪\x00三个月"}, "summary"),
    ({"caller": {"phone": "13812345678", "name": "王\x00"}}, "caller.name"),
])
def test_bad_create_input_is_refused_and_nothing_is_saved(api, saved, change, field):
    create(api)
    before = saved()
    err = error_of(api("operator").post("/cases", json={**BASE, **change}), 422, "invalid")
    assert field in err["fields"], err
    assert saved() == before
    # The number is not used up either: the next case gets the next one.
    assert create(api)["case_no"] == "20261130-0002"


@pytest.mark.parametrize("data, content_type", [
    ("{not json", "application/json"),
    ("[1, 2]", "application/json"),
    ("null", "application/json"),
    ('"summary"', "application/json"),
    ("", "application/json"),
    (b"\xff\xfe", "application/json"),
])
def test_a_body_that_is_not_a_json_object_is_400_bad_json(api, saved, data, content_type):
    before = saved()
    client = api("operator")
    resp = client.client.post("/api/v1/cases", data=data, content_type=content_type, headers=client.headers)
    error_of(resp, 400, "bad_json")
    assert saved() == before


def test_only_operators_and_producers_register(api, saved):
    before = saved()
    for username in ("supervisor", "handler", "admin"):
        error_of(api(username).post("/cases", json=BASE), 403, "forbidden")
    # a producer registers (radio call-ins) but does not dispatch
    error_of(api("producer").post("/cases", json={**BASE, "department": "legal_aid"}), 403, "forbidden")
    assert saved() == before


# ---------------------------------------------------------------- tokens

def test_missing_wrong_expired_or_revoked_token_is_401(app, api, users, saved, clock):
    from hotline.auth.models import ApiToken
    from hotline.auth.service import issue_token

    before = saved()
    client = app.test_client()
    error_of(client.post("/api/v1/cases", json=BASE), 401, "unauthorized")
    error_of(client.get("/api/v1/cases"), 401, "unauthorized")
    for header in ("Bearer hl_wrong", "Bearer ", "Basic b3BlcmF0b3I6eA==", "Bearer " + "x" * 500):
        error_of(client.post("/api/v1/cases", json=BASE, headers={"Authorization": header}), 401, "unauthorized")
    with app.app_context():
        short = issue_token(get_user("operator"), days=1)
        revoked = issue_token(get_user("operator"))
        db.session.scalar(select(ApiToken).order_by(ApiToken.id.desc())).revoked_at = local(2026, 11, 30, 9, 0)
        db.session.commit()
    error_of(client.post("/api/v1/cases", json=BASE, headers={"Authorization": f"Bearer {revoked}"}), 401)
    assert client.post("/api/v1/cases", json=BASE, headers={"Authorization": f"Bearer {short}"}).status_code == 201
    clock.set(local(2026, 12, 1, 10, 0, 1))  # one day and a second later: expired
    error_of(client.post("/api/v1/cases", json=BASE, headers={"Authorization": f"Bearer {short}"}), 401,
             "unauthorized")
    assert saved()[:2] == (before[0] + 1, before[1] + 1)


def test_openapi_document_needs_no_token(app):
    resp = app.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.get_json()["openapi"].startswith("3.1")


# ---------------------------------------------------------------- lifecycle

def test_full_lifecycle_through_the_api(api, clock):
    case = create(api, type="legal_aid", category="dispute")  # 5 working days: Mon Dec 7
    assert case["reply_due_at"] == "2026-12-07T17:30:00+08:00"
    case = act(api, "operator", case, "assign", department="legal_aid", handler="handler")
    assert (case["status"], case["department"], case["handler"]) == ("assigned", "legal_aid", "handler")
    clock.set(local(2026, 11, 30, 14, 0))
    case = act(api, "handler", case, "accept")
    assert case["status"] == "accepted"
    case = act(api, "handler", case, "note", text="已联系当事人，约定周三面谈。")
    case = act(api, "handler", case, "extend", reply_due_at="2026-12-14T17:30:00+08:00", reason="需调取劳动仲裁材料")
    assert case["extension_requested"] == "2026-12-14T17:30:00+08:00"
    assert case["reply_due_at"] == "2026-12-07T17:30:00+08:00"
    case = act(api, "supervisor", case, "approve_extension")
    assert case["reply_due_at"] == "2026-12-14T17:30:00+08:00" and case["extension_requested"] is None
    clock.set(local(2026, 12, 3, 11, 0))
    case = act(api, "handler", case, "reply", content="已为您指派法律援助律师。", method="phone")
    assert (case["status"], case["answer"], case["reply_method"]) == ("replied", "已为您指派法律援助律师。", "phone")
    assert case["replied_at"] == "2026-12-03T11:00:00+08:00"
    case = act(api, "operator", case, "close")
    assert case["status"] == "closed" and case["closed_at"] == "2026-12-03T11:00:00+08:00"
    case = act(api, "operator", case, "survey", result="dissatisfied")
    assert case["survey_result"] == "dissatisfied"
    clock.set(local(2026, 12, 4, 9, 0))
    case = act(api, "supervisor", case, "reopen", reason="回访不满意，重新办理")
    assert case["status"] == "accepted" and case["closed_at"] is None and case["survey_result"] is None
    assert case["reply_due_at"] == "2026-12-11T17:30:00+08:00"
    assert [e["kind"] for e in case["events"]] == [
        "register", "assign", "accept", "note", "extend_request", "extend_approve", "reply", "close", "survey",
        "reopen"]
    assert [e["actor"] for e in case["events"]] == [
        "operator", "operator", "handler", "handler", "handler", "supervisor", "handler", "operator", "operator",
        "supervisor"]
    assert case["events"][-1]["data"]["reason"] == "回访不满意，重新办理"
    fetched = api("handler").get(f"/cases/{case['case_no']}").get_json()
    assert fetched == case


def test_an_actions_answer_reads_its_events_actors_names_only(app, api):
    """The answer to an action lists the case's events with their actors' names, read as the case answer reads
    them: not the actors' roles as well (a statement more, on every action)."""
    case = create(api, department="legal_aid")
    api("handler")  # its token issued outside the count
    with app.app_context(), statements() as seen:
        accepted = act(api, "handler", case, "accept")
    assert [e["kind"] for e in accepted["events"]] == ["register", "assign", "accept"]
    assert [e["actor"] for e in accepted["events"]] == ["operator", "operator", "handler"]
    assert not [s for s in seen if s.startswith("SELECT user_role.")], seen


def test_return_needs_a_reason_and_sends_the_case_back(api, saved):
    case = create(api, department="legal_aid")
    before = saved()
    err = error_of(api("handler").post(f"/cases/{case['case_no']}/return", json={"version": case["version"]}), 422)
    assert "reason" in err["fields"]
    assert saved() == before
    case = act(api, "handler", case, "return", reason="属于女职工权益，应转女工部")
    assert case["events"][-1]["kind"] == "return"
    assert case["events"][-1]["data"]["reason"] == "属于女职工权益，应转女工部"
    # 退单审核: it waits for the centre, which sends it back to the dispatch list.
    assert (case["status"], case["department"], case["return_reason"]) == ("assigned", "legal_aid",
                                                                           "属于女职工权益，应转女工部")
    case = act(api, "operator", case, "accept_return")
    assert (case["status"], case["department"], case["handler"]) == ("registered", None, None)
    case = act(api, "operator", case, "assign", department="women")
    assert case["department"] == "women"


def test_assign_on_a_dispatched_case_reassigns_it(api):
    case = create(api, department="legal_aid", handler="handler")
    error_of(api("operator").post(f"/cases/{case['case_no']}/assign",
                                  json={"version": case["version"], "department": "women"}), 403, "forbidden")
    case = act(api, "supervisor", case, "assign", department="legal_aid", handler="handler_b")
    assert case["handler"] == "handler_b" and case["events"][-1]["kind"] == "reassign"


def test_merge_closes_the_duplicate(api, saved):
    first = create(api)
    dup = create(api)
    before = saved()
    err = error_of(api("operator").post(f"/cases/{dup['case_no']}/merge",
                                        json={"version": dup["version"], "into": "20991231-0001"}), 422)
    assert "into" in err["fields"]
    error_of(api("operator").post(f"/cases/{dup['case_no']}/merge",
                                  json={"version": dup["version"], "into": dup["case_no"]}), 422)
    assert saved() == before
    merged = act(api, "operator", dup, "merge", into=first["case_no"])
    assert (merged["status"], merged["merged_into"]) == ("closed", first["case_no"])
    target = api("operator").get(f"/cases/{first['case_no']}").get_json()
    assert target["events"][-1]["kind"] == "merged_from"
    assert target["events"][-1]["data"]["case_no"] == dup["case_no"]
    error_of(api("supervisor").post(f"/cases/{dup['case_no']}/reopen",
                                    json={"version": merged["version"], "reason": "x"}), 409, "illegal_move")


def test_escalate_is_for_supervisors(api, saved):
    case = create(api, department="legal_aid")
    before = saved()
    error_of(api("operator").post(f"/cases/{case['case_no']}/escalate", json={"version": case["version"]}),
             403, "forbidden")
    assert saved() == before
    case = act(api, "supervisor", case, "escalate", note="请加快办理")
    assert case["escalated"] and case["events"][-1]["data"]["note"] == "请加快办理"


def test_reject_extension(api):
    case = create(api, department="legal_aid", handler="handler")
    case = act(api, "handler", case, "extend", reply_due_at="2026-12-09", reason="需要时间")
    assert case["extension_requested"] == "2026-12-09T00:00:00+08:00"  # a bare date is local time
    case = act(api, "supervisor", case, "reject_extension", note="期限内可以办结")
    assert case["extension_requested"] is None and case["reply_due_at"] == "2026-12-02T17:30:00+08:00"
    assert case["events"][-1]["kind"] == "extend_reject"


# ---------------------------------------------------------------- refused moves, nothing saved

def test_stale_version_is_409_and_changes_nothing(api, saved):
    case = create(api)
    act(api, "operator", case, "assign", department="legal_aid")
    before = saved()
    err = error_of(api("supervisor").post(f"/cases/{case['case_no']}/escalate",
                                          json={"version": case["version"], "note": "旧版本"}), 409, "stale_version")
    assert case["case_no"] in err["message"]
    error_of(api("operator").post(f"/cases/{case['case_no']}/assign",
                                  json={"version": case["version"], "department": "women"}), 409, "stale_version")
    assert saved() == before


def test_action_from_the_wrong_state_is_409(api, saved):
    case = create(api)
    before = saved()
    for username, action, params in [("operator", "close", {}), ("supervisor", "reopen", {"reason": "x"}),
                                     ("operator", "survey", {"result": "satisfied"}),
                                     ("supervisor", "approve_extension", {})]:
        error_of(api(username).post(f"/cases/{case['case_no']}/{action}",
                                    json={"version": case["version"], **params}), 409, "illegal_move")
    assert saved() == before


def test_action_by_the_wrong_role_is_403(api, saved):
    case = create(api, department="legal_aid")
    before = saved()
    for username, action, params in [("handler", "close", {}), ("operator", "accept", {}),
                                     ("producer", "escalate", {}), ("handler", "approve_extension", {}),
                                     ("operator", "reply", {"content": "答复"})]:
        error_of(api(username).post(f"/cases/{case['case_no']}/{action}",
                                    json={"version": case["version"], **params}), 403, "forbidden")
    assert saved() == before


@pytest.mark.parametrize("body, field", [
    ({"reply_due_at": "09/12/2026", "reason": "材料未齐"}, "reply_due_at"),
    ({"reply_due_at": "2026-12-09 5pm", "reason": "材料未齐"}, "reply_due_at"),
    ({"reply_due_at": "", "reason": "材料未齐"}, "reply_due_at"),
    ({"reply_due_at": "2026-12-01T17:30:00+08:00", "reason": "材料未齐"}, "reply_due_at"),  # earlier
    ({"reply_due_at": "2026-12-09T17:30:00+08:00"}, "reason"),
    ({"reply_due_at": 20261209, "reason": "材料未齐"}, "reply_due_at"),
    ({"reply_due_at": "0001-01-01T00:00:00+08:00", "reason": "材料未齐"}, "reply_due_at"),  # off the calendar in UTC
    ({"reply_due_at": "2026-12-09T17:30:00+08:00", "reason": "x", "approved": True}, "approved"),
])
def test_bad_extension_requests_are_refused(api, saved, body, field):
    case = create(api, department="legal_aid", handler="handler")
    before = saved()
    resp = api("handler").post(f"/cases/{case['case_no']}/extend", json={"version": case["version"], **body})
    err = error_of(resp, 422, "invalid")
    assert field in err["fields"]
    assert saved() == before


CURRENT = object()  # stands for the case's current version


@pytest.mark.parametrize("body, field", [
    ({"content": "答复"}, "version"),
    ({"version": "1", "content": "答复"}, "version"),
    ({"version": True, "content": "答复"}, "version"),
    ({"version": 1.5, "content": "答复"}, "version"),
    ({"version": CURRENT, "content": ""}, "content"),
    ({"version": CURRENT, "content": "答" * 2001}, "content"),
    ({"version": CURRENT, "content": "答复", "method": "pigeon"}, "method"),
    ({"version": CURRENT, "content": "答复", "method": 1}, "method"),
])
def test_bad_action_bodies_are_refused(api, saved, body, field):
    case = create(api, department="legal_aid", handler="handler")
    case = act(api, "handler", case, "accept")
    body = {**body, "version": case["version"]} if body.get("version") is CURRENT else body
    before = saved()
    err = error_of(api("handler").post(f"/cases/{case['case_no']}/reply", json=body), 422, "invalid")
    assert field in err["fields"]
    assert saved() == before


def test_unknown_action_or_case_is_404(api, saved):
    case = create(api)
    before = saved()
    error_of(api("supervisor").post(f"/cases/{case['case_no']}/delete", json={"version": 1}), 404, "not_found")
    error_of(api("supervisor").post("/cases/20261130-9999/escalate", json={"version": 1}), 404, "not_found")
    error_of(api("supervisor").get("/cases/20261130-9999"), 404, "not_found")
    error_of(api("supervisor").get("/cases/nonsense"), 404, "not_found")
    assert saved() == before


def test_bad_json_on_an_action_is_400(api, saved):
    case = create(api)
    client = api("operator")
    before = saved()
    resp = client.client.post(f"/api/v1/cases/{case['case_no']}/assign", data="version=1",
                              content_type="application/json", headers=client.headers)
    error_of(resp, 400, "bad_json")
    assert saved() == before


# ---------------------------------------------------------------- who sees what

def test_confidential_case_is_masked_for_a_producer(api):
    case = create(api, confidential=True, detail="在某电子厂工作，担心被报复",
                  caller={"phone": "13812345678", "name": "王建国", "employer": "某电子厂"})
    assert case["caller"]["phone"] == "+8613812345678" and case["detail"]  # the registering operator sees it
    seen = api("producer").get(f"/cases/{case['case_no']}").get_json()
    assert seen["caller"]["phone"] == "138****5678"
    assert seen["caller"]["name"].startswith("王") and "建国" not in seen["caller"]["name"]
    assert "employer" not in seen["caller"] and "district" not in seen["caller"]
    assert seen["detail"] is None
    assert "某电子厂" not in str(seen) and "13812345678" not in str(seen)
    listed = api("producer").get("/cases").get_json()["items"][0]
    assert listed["caller"]["phone"] == "138****5678" and listed["detail"] is None
    # no phone oracle over confidential cases
    assert api("producer").get("/cases", query_string={"phone": "13812345678"}).get_json()["items"] == []
    assert api("supervisor").get(f"/cases/{case['case_no']}").get_json()["detail"] == "在某电子厂工作，担心被报复"


def test_handler_of_another_department_gets_404(api, saved):
    case = create(api, department="legal_aid")
    assert api("handler").get(f"/cases/{case['case_no']}").status_code == 200
    before = saved()
    error_of(api("other_handler").get(f"/cases/{case['case_no']}"), 404, "not_found")
    error_of(api("other_handler").post(f"/cases/{case['case_no']}/accept", json={"version": case["version"]}),
             404, "not_found")
    assert api("other_handler").get("/cases").get_json()["items"] == []
    assert saved() == before


# ---------------------------------------------------------------- lists

@pytest.fixture
def seven(api, clock):
    """Seven cases over two days; returns their numbers, oldest first."""
    specs = [
        (local(2026, 11, 27, 9, 0), dict(urgent=True, summary="欠薪三个月 一")),
        (local(2026, 11, 27, 10, 0), dict(type="complaint", channel="radio", caller={"phone": "13900000000"},
                                          department="legal_aid", handler="handler")),
        (local(2026, 11, 27, 11, 0), dict(type="help", category="hardship", channel="walk_in", caller={},
                                          summary="困难帮扶")),
        (local(2026, 11, 30, 9, 0), dict(category="insurance", summary="社保断缴")),
        (local(2026, 11, 30, 9, 10), dict(type="legal_aid", category="dispute", department="women")),
        (local(2026, 11, 30, 9, 20), dict(channel="letter", caller={}, summary="来信：欠薪 100% 未付")),
        (local(2026, 11, 30, 9, 30), dict(type="suggestion", category="other", channel="online",
                                          caller={"phone": "0512-65230000"})),
    ]
    numbers = []
    for at, extra in specs:
        clock.set(at)
        numbers.append(create(api, **extra)["case_no"])
    clock.set(local(2026, 11, 30, 10, 0))
    return numbers


def listed(api, username="supervisor", **query):
    resp = api(username).get("/cases", query_string=query)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert "events" not in (body["items"][0] if body["items"] else {})
    return [c["case_no"] for c in body["items"]]


def test_list_filters(api, seven):
    c = seven
    newest_first = list(reversed(c))
    assert c[:3] == ["20261127-0001", "20261127-0002", "20261127-0003"]
    assert listed(api) == newest_first
    assert listed(api, status="assigned") == [c[4], c[1]]
    assert listed(api, status="open") == newest_first
    assert listed(api, overdue="1") == [c[0]]  # urgent, due Fri 17:30
    assert listed(api, overdue="0") == newest_first[:-1]
    assert listed(api, type="complaint") == [c[1]]
    assert listed(api, category="wages") == [c[5], c[1], c[0]]
    assert listed(api, department="legal_aid") == [c[1]]
    assert listed(api, handler="handler") == [c[1]]
    assert listed(api, channel="walk_in") == [c[2]]
    assert listed(api, phone="138 1234 5678") == [c[4], c[3], c[0]]
    assert listed(api, phone="0512 6523 0000") == [c[6]]
    assert listed(api, q="欠薪") == [c[5], c[0]]
    assert listed(api, q="100%") == [c[5]]
    assert listed(api, q=c[2]) == [c[2]]
    assert listed(api, **{"from": "2026-11-28"}) == newest_first[:4]
    assert listed(api, to="2026-11-27") == newest_first[4:]
    assert listed(api, **{"from": "2026-11-27", "to": "2026-11-27"}, category="wages") == [c[1], c[0]]
    assert listed(api, "handler") == [c[1]]  # a handler lists their department's cases
    assert listed(api, "other_handler") == [c[4]]


def test_cursor_pagination(api, seven):
    pages, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api("operator").get("/cases", query_string=query).get_json()
        pages.append([c["case_no"] for c in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum(pages, []) == list(reversed(seven))
    filtered = api("operator").get("/cases", query_string={"limit": 2, "category": "wages"}).get_json()
    rest = api("operator").get("/cases", query_string={"limit": 2, "category": "wages",
                                                       "cursor": filtered["next_cursor"]}).get_json()
    assert [c["case_no"] for c in filtered["items"] + rest["items"]] == [seven[5], seven[1], seven[0]]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("query, field", [
    ({"status": "lost"}, "status"),
    ({"overdue": "maybe"}, "overdue"),
    ({"type": "gossip"}, "type"),
    ({"category": "astrology"}, "category"),
    ({"department": "nowhere"}, "department"),
    ({"channel": "fax"}, "channel"),
    ({"phone": "abc"}, "phone"),
    ({"from": "27/11/2026"}, "from"),
    ({"to": "2026-13-01"}, "to"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"q": "x" * 101}, "q"),
    ({"stauts": "open"}, "stauts"),  # a typo is refused, not ignored
    ({"from": "0001-01-01"}, "from"),  # local midnight would fall before year 1 in UTC
    ({"to": "9999-12-31"}, "to"),
    ({"q": "欠薪\x00"}, "q"),  # PostgreSQL text cannot hold NUL: refused, not a crash
])
def test_bad_list_filters_are_422(api, query, field):
    err = error_of(api("supervisor").get("/cases", query_string=query), 422, "invalid")
    assert field in err["fields"]


# ---------------------------------------------------------------- reference and deadlines

def test_reference_lists(api):
    body = api("handler").get("/reference").get_json()
    assert set(body) == {"channels", "types", "categories", "departments", "organisations"}
    assert [c["code"] for c in body["channels"]] == ["hotline", "radio", "voicemail", "walk_in", "letter", "online"]
    assert all(isinstance(c["name"], str) and c["name"] for c in body["channels"])
    assert [t["code"] for t in body["types"]] == ["consult", "help", "legal_aid", "complaint", "suggestion"]
    assert body["types"][0] == {"code": "consult", "name": "问题咨询"}
    assert {"code": "wages", "name": "工资报酬/欠薪"} in body["categories"]
    assert body["departments"][0] == {"code": "legal_aid", "name": "法律援助中心", "org": "city"}
    assert body["organisations"] == [{"code": "city", "name": "苏州市总工会职工援助中心（12351）", "parent": None}]
    english = api("handler").get("/reference?lang=en").get_json()
    assert english["channels"][0] == {"code": "hotline", "name": "12351 hotline"}


@pytest.mark.parametrize("start, type_, due_at, uncertain", [
    ("2026-09-30T10:00+08:00", "consult", "2026-10-09T17:30:00+08:00", False),  # over National Day
    ("2026-02-13T16:00+08:00", "complaint", "2026-03-12T17:30:00+08:00", False),  # over Spring Festival
    ("2026-12-31T09:00+08:00", "help", "2027-01-07T17:30:00+08:00", True),  # into uncovered 2027
    ("2026-09-30T02:00:00Z", "consult", "2026-10-09T17:30:00+08:00", False),  # UTC input
    ("2026-11-28T11:00", "consult", "2026-12-01T17:30:00+08:00", False),  # no offset: local; Saturday
])
def test_workday_due(api, start, type_, due_at, uncertain):
    resp = api("operator").get("/workdays/due", query_string={"start": start, "type": type_})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"due_at": due_at, "uncertain": uncertain}


def test_workday_due_urgent_category_and_unencoded_plus(api, app):
    get = lambda **q: api("handler").get("/workdays/due", query_string=q).get_json()  # noqa: E731
    assert get(start="2026-11-30T10:00+08:00", type="complaint", urgent="1")["due_at"] == "2026-11-30T17:30:00+08:00"
    assert get(start="2026-11-30T18:00+08:00", type="complaint", urgent="1")["due_at"] == "2026-12-01T17:30:00+08:00"
    with app.app_context():
        from hotline.reference.models import Category

        db.session.scalar(select(Category).where(Category.code == "injury")).reply_days = 3
        db.session.commit()
    assert get(start="2026-11-30T10:00+08:00", type="consult", category="injury")["due_at"] == \
        "2026-12-03T17:30:00+08:00"
    # "+08:00" typed straight into a URL arrives as " 08:00"
    raw = api("handler").get("/workdays/due?start=2026-09-30T10:00+08:00&type=consult").get_json()
    assert raw == {"due_at": "2026-10-09T17:30:00+08:00", "uncertain": False}


@pytest.mark.parametrize("query, field", [
    ({"start": "30/09/2026 10:00", "type": "consult"}, "start"),
    ({"start": "2026-09-31T10:00+08:00", "type": "consult"}, "start"),
    ({"start": "tomorrow", "type": "consult"}, "start"),
    ({"start": "9999-12-31T10:00+08:00", "type": "consult"}, "start"),
    ({"start": "0001-01-01T00:00+08:00", "type": "consult"}, "start"),
    ({"start": "1999-12-31T10:00+08:00", "type": "consult"}, "start"),
    ({"type": "consult"}, "start"),
    ({"start": "2026-09-30T10:00+08:00"}, "type"),
    ({"start": "2026-09-30T10:00+08:00", "type": "gossip"}, "type"),
    ({"start": "2026-09-30T10:00+08:00", "type": "consult", "category": "astrology"}, "category"),
    ({"start": "2026-09-30T10:00+08:00", "type": "consult", "urgent": "yes"}, "urgent"),
    ({"start": "2026-09-30T10:00+08:00", "type": "consult", "days": "3"}, "days"),
])
def test_workday_due_bad_input_is_422(api, query, field):
    err = error_of(api("operator").get("/workdays/due", query_string=query), 422, "invalid")
    assert field in err["fields"]


def test_workday_due_needs_a_token(app, users):
    error_of(app.test_client().get("/api/v1/workdays/due?start=2026-09-30&type=consult"), 401, "unauthorized")


def test_messages_follow_the_language(api):
    zh = error_of(api("operator").post("/cases", json={**BASE, "summary": ""}), 422)
    en = error_of(api("operator").post("/cases?lang=en", json={**BASE, "summary": ""}), 422)
    assert en["message"] == "Summary is required."
    assert zh["fields"].keys() == en["fields"].keys()


def test_expired_token_after_clock_moves(app, users, clock):
    """Tokens last API_TOKEN_DAYS; the clock decides, not the wall."""
    from hotline.auth.service import issue_token

    with app.app_context():
        token = issue_token(get_user("supervisor"))
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    clock.set(local(2026, 11, 30, 10, 0) + timedelta(days=app.config["API_TOKEN_DAYS"], seconds=1))
    error_of(client.get("/api/v1/cases", headers=headers), 401, "unauthorized")


def test_a_conflict_found_at_commit_is_409_not_200(api, monkeypatch):
    """If the single commit point meets a concurrent change, the API answers 409 stale_version."""
    from sqlalchemy.orm.exc import StaleDataError

    client = api("operator")

    def conflict():
        raise StaleDataError("UPDATE statement on table 'hotline_case' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(db.session, "commit", conflict)
    resp = client.post("/cases", json=BASE)
    monkeypatch.undo()
    error_of(resp, 409, "stale_version")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert api("operator").get("/cases").get_json()["items"] == []


ODD_TEXT = ["", " ", "0", "-1", "1e400", "\x00", "%", "_", "\\", "null", "x" * 300, "0001-01-01", "9999-12-31",
            "2026-02-30", "１３８１２３４５６７８", "++8613812345678", "2026-11-30T10:00+99:00"]
ODD_JSON = [None, True, 0, -1, 10**30, 1.5, "", "x" * 3000, [], {}, {"a": 1}, "\x00", "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00", "１３８１２３４５６７８"]


def test_odd_input_never_crashes(app, api):
    """Whatever arrives, the answer is a JSON error or a success, never a 500."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    case = create(api, department="legal_aid", handler="handler")
    crashed = []

    def check(resp, *what):
        if resp.status_code >= 500 or not resp.is_json:
            crashed.append((resp.status_code, *what))
        return resp

    for name in ("status", "overdue", "type", "category", "department", "handler", "channel", "phone", "q", "from",
                 "to", "cursor", "limit"):
        for value in ODD_TEXT:
            check(api("supervisor").get("/cases", query_string={name: value}), "list", name, value)
    for name in ("start", "type", "category", "urgent"):
        for value in ODD_TEXT:
            query = {"start": "2026-11-30T10:00+08:00", "type": "consult", name: value}
            check(api("operator").get("/workdays/due", query_string=query), "due", name, value)
    for name in ("channel", "type", "category", "summary", "detail", "urgent", "answer", "department", "handler",
                 "caller"):
        for value in ODD_JSON:
            check(api("operator").post("/cases", json={**BASE, name: value}), "create", name, value)
    for action, who, names in [("extend", "handler", ("reply_due_at", "reason")), ("merge", "operator", ("into",)),
                               ("reply", "handler", ("content", "method")), ("survey", "operator", ("result",)),
                               ("assign", "supervisor", ("department", "handler")), ("note", "handler", ("text",))]:
        for name in (*names, "version"):
            for value in ODD_JSON:
                body = {"version": case["version"], "reason": "r", "reply_due_at": "2026-12-09", name: value}
                resp = check(api(who).post(f"/cases/{case['case_no']}/{action}", json=body), action, name, value)
                if resp.status_code == 200:
                    case = resp.get_json()
    for path in ("/cases/%00", "/cases/" + "9" * 500, f"/cases/{case['case_no']}%00/note"):
        check(api("supervisor").get(path), "path", path)
    check(api("supervisor").post("/cases/%00/note", json={"version": 1, "text": "x"}), "action path")
    assert crashed == []


def test_json_answers_read_as_the_standard_library_wrote_them(app):
    """JSON responses go through orjson (hotline/jsonio.py): the same keys in the same order, dates, numbers
    and texts as Flask's own encoder gave, so no client sees a difference."""
    import dataclasses
    import json
    import uuid
    from datetime import date, datetime, timezone
    from decimal import Decimal

    from flask.json.provider import DefaultJSONProvider

    @dataclasses.dataclass
    class Point:
        x: int

    value = {"z": "拖欠工资 \u2028", "a": [1, 2.5, None, True], "when": datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc),
             "day": date(2026, 11, 30), "money": Decimal("12.30"), "id": uuid.UUID(int=5), "p": Point(3), "n": {7: "seven"},
             "big": 2 ** 70}
    with app.app_context():
        ours = app.json.dumps(value, separators=(",", ":"))
        flask_own = DefaultJSONProvider(app).dumps(value, separators=(",", ":"))
        assert list(json.loads(ours)) == list(json.loads(flask_own)) == sorted(json.loads(flask_own))
        assert json.loads(ours) == json.loads(flask_own)
        resp = app.json.response({"b": "工单", "a": 1})
        assert resp.mimetype == "application/json" and json.loads(resp.get_data()) == {"a": 1, "b": "工单"}
