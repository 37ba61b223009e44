"""The case pages: logging a call, the screen-pop, the case page and its action forms, the queue, the list.

Every test speaks to the web door as a browser would (forms with CSRF tokens) and checks what the user
sees on the page, then what was (or was not) saved.
"""
from __future__ import annotations

import html
import re

import pytest
from conftest import csrf_from, get_user, local
from sqlalchemy import func, select

from hotline.cases import access, service
from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db

PHONE = "13812345678"


# ---------------------------------------------------------------- helpers

def text_of(resp) -> str:
    """The page as text: tags dropped, entities decoded, whitespace squeezed."""
    body = resp.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(body)).strip()


def count_cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def load(app, case_no: str) -> dict:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.case_no == case_no))
        events = db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id))
        return {"status": case.status, "version": case.version, "events": events, "answer": case.answer,
                "phone": case.caller_phone, "department": case.department.code if case.department else None,
                "handler": case.handler.username if case.handler else None}


def make_case(app, username="operator", **overrides) -> str:
    """Register a case through the service (as another door would) and commit; returns its number."""
    data = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资三个月",
            "caller": {"phone": PHONE, "name": "王建国"}, "detail": "来电人详细情况"}
    caller = overrides.pop("caller", None)
    data.update(overrides)
    if caller:
        data["caller"] = caller
    with app.test_request_context():
        case = service.register(get_user(username), data)
        db.session.commit()
        return case.case_no


def act(app, case_no: str, username: str, action: str, **params) -> None:
    with app.test_request_context():
        case = service.get_case(get_user(username), case_no)
        service.perform(get_user(username), case, action, case.version, params)
        db.session.commit()


def new_form(**overrides) -> dict:
    form = {"phone": "+86 138 1234 5678", "channel": "hotline", "caller_name": "王建国",
            "caller_employer": "苏州某电子厂", "caller_district": "吴中区", "type": "consult",
            "category": "wages", "summary": "公司拖欠工资三个月，询问如何维权", "detail": "工厂停产，老板失联。",
            "outcome": "register"}
    form.update(overrides)
    return form


def post_new(client, **overrides):
    page = client.get("/cases/new")
    data = new_form(**overrides)
    data["csrf_token"] = csrf_from(page.get_data(as_text=True))
    return client.post("/cases/new", data={k: v for k, v in data.items() if v is not None})


def post_action(client, case_no: str, action: str, version=None, **params):
    page = client.get(f"/cases/{case_no}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    if version is None:
        version = re.search(r'name="version" value="(\d+)"', body).group(1)
    data = {"csrf_token": csrf_from(body), "version": version, **params}
    return client.post(f"/cases/{case_no}/{action}", data=data)


# ---------------------------------------------------------------- logging a call

def test_logging_page_puts_the_phone_first_and_documents_the_shortcuts(app, users, login):
    client = login(app.test_client(), "operator")
    page = client.get("/cases/new")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    first_input = re.search(r'<(input|select|textarea)(?![^>]*type="hidden")[^>]*>', body).group(0)
    assert 'id="phone"' in first_input and "autofocus" in first_input
    text = text_of(page)
    assert "Ctrl+Enter" in text and "Alt+1" in text and "Alt+5" in text
    # Every visible field has a label.
    for field_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', body):
        assert f'for="{field_id}"' in body, field_id
    assert "style=" not in body and "onclick" not in body and "<script>" not in body


def test_operator_logs_a_call_with_a_spaced_plus86_phone_and_dispatches_it(app, users, login):
    client = login(app.test_client(), "operator")
    resp = post_new(client, phone="+86 138-1234 5678", outcome="dispatch", department="legal_aid",
                    handler="handler")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    text = text_of(page)
    # Monday 2026-11-30 10:00 + 2 working days for a consult: Wednesday 2026-12-02 17:30 local.
    assert "Case 20261130-0001 registered and dispatched to 法律援助中心. Reply due 2026-12-02 17:30." in text
    assert "13812345678" in text and "王建国" in text and "苏州某电子厂" in text
    assert "Handler Handler" in text  # the handler's display name after its label
    saved = load(app, "20261130-0001")
    assert saved["phone"] == "+8613812345678"
    assert (saved["status"], saved["department"], saved["handler"]) == ("assigned", "legal_aid", "handler")
    # Accept deadline shown: end of the next working day.
    assert "2026-12-01 17:30" in text


def test_register_only_shows_number_and_deadline(app, users, login):
    client = login(app.test_client(), "operator")
    resp = post_new(client, type="complaint", category="contract")
    page = client.get(resp.headers["Location"])
    text = text_of(page)
    # A complaint: 15 working days from Mon 2026-11-30 → Mon 2026-12-21.
    assert "Case 20261130-0001 registered. Reply due 2026-12-21 17:30." in text
    assert load(app, "20261130-0001")["status"] == "registered"


def test_close_on_the_call_needs_an_answer_and_saves_nothing_without_it(app, users, login):
    client = login(app.test_client(), "operator")
    resp = post_new(client, outcome="close", answer="   ")
    assert resp.status_code == 422
    text = text_of(resp)
    assert "Answer is required." in text
    body = resp.get_data(as_text=True)
    # What the operator typed is still there, and the answer field is marked.
    assert "公司拖欠工资三个月，询问如何维权" in body
    assert re.search(r'<textarea id="answer"[^>]*aria-invalid="true"', body)
    assert count_cases(app) == 0

    resp = post_new(client, outcome="close", answer="可向劳动监察大队投诉，并申请法律援助。")
    assert resp.status_code == 302
    text = text_of(client.get(resp.headers["Location"]))
    assert "Case 20261130-0001 registered and closed on the call." in text
    assert "可向劳动监察大队投诉，并申请法律援助。" in text
    assert load(app, "20261130-0001")["status"] == "closed"


@pytest.mark.parametrize("form, field, message", [
    ({"phone": "138-abc"}, "phone", "The phone number may contain only digits"),
    ({"phone": ""}, "phone", "Please enter the caller's phone number."),
    ({"summary": ""}, "summary", "Summary is required."),
    ({"summary": "长" * 10000}, "summary", "Summary is too long (10000 characters, at most 200)."),
    ({"type": "bogus"}, None, "Unknown case type: bogus"),
    ({"type": None}, None, "Choose the case type."),
    ({"category": ""}, "category", "Choose the category."),
    ({"outcome": "dispatch", "department": ""}, "department", "Choose the department to dispatch the case to."),
    ({"outcome": "dispatch", "department": "women", "handler": "handler"}, "handler", "does not work in 女工部"),
    ({"confidential": "1", "broadcast_ok": "1"}, "broadcast_ok", "A confidential case cannot be cleared for broadcast."),
])
def test_bad_input_on_the_logging_page_is_refused_with_the_field_marked(app, users, login, form, field, message):
    client = login(app.test_client(), "operator")
    resp = post_new(client, **form)
    assert resp.status_code == 422
    assert message in text_of(resp)
    if field:
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', resp.get_data(as_text=True)), field
    assert count_cases(app) == 0


def test_landline_with_area_code_is_accepted(app, users, login):
    client = login(app.test_client(), "operator")
    resp = post_new(client, phone="0512-6523 0000", channel="walk_in")
    assert resp.status_code == 302
    assert load(app, "20261130-0001")["phone"] == "+8651265230000"


def test_only_operators_and_producers_log_calls_and_producers_do_not_dispatch(app, users, login):
    handler = login(app.test_client(), "handler")
    assert handler.get("/cases/new").status_code == 403
    producer = login(app.test_client(), "producer")
    page = producer.get("/cases/new")
    assert page.status_code == 200
    assert 'value="dispatch"' not in page.get_data(as_text=True)
    anonymous = app.test_client().get("/cases/new")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_prefilled_phone_from_a_screen_pop_link(app, users, login):
    client = login(app.test_client(), "operator")
    body = client.get("/cases/new?phone=13812345678&channel=radio").get_data(as_text=True)
    assert re.search(r'id="phone" name="phone" value="13812345678"', body)
    assert re.search(r'<option value="radio" selected>', body)


# ---------------------------------------------------------------- caller screen-pop

def test_caller_history_shows_earlier_and_open_cases_and_hides_confidential_ones(app, users, login):
    closed = make_case(app, resolved_on_call=True, answer="已解答。", summary="询问加班费如何计算")
    open_one = make_case(app, summary="公司拖欠工资三个月")
    secret = make_case(app, confidential=True, summary="举报单位违法用工（保密）")
    make_case(app, caller={"phone": "13900001111"}, summary="别的来电人")

    other = login(app.test_client(), "operator2")
    resp = other.get("/cases/caller?phone=138 1234 5678")
    assert resp.status_code == 200
    text = text_of(resp)
    assert "2 earlier cases from 13812345678" in text and "1 open" in text
    assert closed in text and open_one in text and "询问加班费如何计算" in text
    assert secret not in text and "保密" not in text
    assert "别的来电人" not in text
    assert "add a note to the open case" in text

    # The operator who logged the confidential case sees it.
    own = login(app.test_client(), "operator")
    text = text_of(own.get("/cases/caller?phone=%2B8613812345678"))
    assert "3 earlier cases" in text and secret in text


def test_caller_history_counts_every_case_and_warns_of_an_open_one_however_old(app, users, login):
    # A caller with 200 cases: the open one is the oldest, far beyond the 20 the pop-up lists.
    oldest = make_case(app, summary="最早的一件，仍在办理")
    with app.test_request_context():
        operator = get_user("operator")
        for i in range(199):
            service.register(operator, {"channel": "hotline", "type": "consult", "category": "wages",
                                        "summary": f"第{i}次来电咨询", "caller": {"phone": PHONE},
                                        "resolved_on_call": True, "answer": "已解答。"})
        db.session.commit()
    text = text_of(login(app.test_client(), "operator2").get(f"/cases/caller?phone={PHONE}"))
    assert "200 earlier cases from 13812345678" in text and "1 open" in text
    assert oldest in text and "add a note to the open case" in text
    assert "Showing 21; all 200 in the case list" in text


def test_caller_history_for_a_new_caller_and_for_a_bad_number(app, users, login):
    client = login(app.test_client(), "operator")
    assert "No earlier cases from 13700001111: a new caller." in text_of(client.get("/cases/caller?phone=13700001111"))
    resp = client.get("/cases/caller?phone=12ab")
    assert resp.status_code == 422 and "only digits" in text_of(resp)
    # Handlers do not get the screen-pop.
    assert login(app.test_client(), "handler").get("/cases/caller?phone=13700001111").status_code == 403


def test_caller_history_offers_the_known_caller_details(app, users, login):
    make_case(app, caller={"phone": PHONE, "name": "王建国", "employer": "苏州某电子厂", "district": "吴中区"})
    client = login(app.test_client(), "operator2")
    body = client.get(f"/cases/caller?phone={PHONE}").get_data(as_text=True)
    assert 'data-fill-caller' in body and 'data-employer="苏州某电子厂"' in body


# ---------------------------------------------------------------- handler: queue, accept, reply

def test_handler_sees_the_case_in_the_queue_accepts_and_replies(app, users, login):
    mine = make_case(app, department="legal_aid", handler="handler", summary="被公司无故辞退")
    dept = make_case(app, department="legal_aid", summary="不签劳动合同", type="complaint", category="contract")
    make_case(app, department="women", summary="女工部的案子")

    client = login(app.test_client(), "handler")
    queue = client.get("/cases/queue")
    assert queue.status_code == 200
    text = text_of(queue)
    assert "My cases 1" in text and "My department's cases 2" in text
    # Only the open tab ("My cases", since the handler has one) is rendered; the other is a link.
    assert mine in text and "被公司无故辞退" in text and dept not in text
    assert "12-01 17:30" in text  # accept due: end of the next working day
    dept_text = text_of(client.get("/cases/queue?tab=department"))
    assert mine in dept_text and dept in dept_text
    assert "女工部的案子" not in text + dept_text

    resp = post_action(client, mine, "accept")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    assert f"Case {mine} accepted." in text_of(page)
    assert load(app, mine)["status"] == "accepted"

    resp = post_action(client, mine, "reply", content="已告知来电人申请劳动仲裁的流程和材料。", method="phone")
    assert resp.status_code == 302
    text = text_of(client.get(resp.headers["Location"]))
    assert f"Reply to case {mine} recorded." in text
    assert "已告知来电人申请劳动仲裁的流程和材料。" in text
    # The timeline tells the story with names, local times and before → after.
    assert "Accepted Handler 2026-11-30 10:00" in text
    assert "Status: Accepted → Replied" in text
    saved = load(app, mine)
    assert saved["status"] == "replied" and saved["answer"] == "已告知来电人申请劳动仲裁的流程和材料。"


def test_queue_accept_button_returns_to_the_queue(app, users, login):
    case_no = make_case(app, department="legal_aid")
    client = login(app.test_client(), "handler")
    body = client.get("/cases/queue").get_data(as_text=True)
    data = {"csrf_token": csrf_from(body), "version": "2", "next": "queue"}
    resp = client.post(f"/cases/{case_no}/accept", data=data)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cases/queue")
    assert f"Case {case_no} accepted." in text_of(client.get("/cases/queue"))


def test_overdue_and_due_soon_rows_are_coloured(app, users, login, clock):
    late = make_case(app, department="legal_aid", handler="handler", urgent=True)  # due today 17:30
    clock.set(local(2026, 11, 30, 14, 0))
    client = login(app.test_client(), "handler")
    body = client.get("/cases/queue").get_data(as_text=True)
    assert re.search(rf'<tr class="due_soon">\s*<td class="no"><a [^>]*>{late}', body)
    clock.set(local(2026, 12, 1, 9, 0))
    client = login(app.test_client(), "handler")  # the next morning: yesterday's session has ended
    body = client.get("/cases/queue").get_data(as_text=True)
    assert re.search(rf'<tr class="overdue">\s*<td class="no"><a [^>]*>{late}', body)
    assert "Overdue" in text_of(client.get(f"/cases/{late}"))


def test_handler_returns_with_reason_and_asks_for_extension(app, users, login):
    case_no = make_case(app, department="legal_aid", handler="handler", type="complaint", category="contract")
    client = login(app.test_client(), "handler")
    post_action(client, case_no, "accept")
    resp = post_action(client, case_no, "extend", reply_due_at="2027-01-08T17:30", reason="需调取证据")
    assert resp.status_code == 302
    text = text_of(client.get(resp.headers["Location"]))
    assert "requested; a supervisor will decide" in text
    assert "Extension requested" in text and "2027-01-08 17:30" in text and "需调取证据" in text

    supervisor = login(app.test_client(), "supervisor")
    resp = post_action(supervisor, case_no, "approve_extension")
    assert "approved; reply due 2027-01-08 17:30" in text_of(supervisor.get(resp.headers["Location"]))

    resp = post_action(client, case_no, "return", reason="")
    assert resp.status_code == 422 and "Reason is required." in text_of(resp)
    resp = post_action(client, case_no, "return", reason="属于女工部职责")
    assert resp.status_code == 302
    assert load(app, case_no)["status"] == "accepted"  # waits for the centre's review (退单审核)
    operator = login(app.test_client(), "operator")
    resp = post_action(operator, case_no, "accept_return")
    assert resp.status_code == 302
    assert load(app, case_no)["status"] == "registered"
    # Once returned, the department's handler no longer sees it.
    assert client.get(f"/cases/{case_no}").status_code == 404


# ---------------------------------------------------------------- conflicts and refusals

def test_stale_version_gives_409_with_a_clear_message_and_changes_nothing(app, users, login):
    case_no = make_case(app, department="legal_aid", handler="handler")
    client = login(app.test_client(), "handler")
    page = client.get(f"/cases/{case_no}")
    token = csrf_from(page.get_data(as_text=True))
    # Meanwhile a colleague accepts it.
    act(app, case_no, "handler_b", "accept")
    before = load(app, case_no)

    resp = client.post(f"/cases/{case_no}/return", data={"csrf_token": token, "version": "2",
                                                        "reason": "不是我们的事"})
    assert resp.status_code == 409
    text = text_of(resp)
    assert f"Case {case_no} was changed by someone else meanwhile." in text
    assert "This page now shows the case as it is now." in text
    # The page shows the current state and keeps what was typed.
    assert "Accepted Handler_B" in text
    assert "不是我们的事" in resp.get_data(as_text=True)
    assert load(app, case_no) == before


def test_missing_csrf_token_is_refused_and_changes_nothing(app, users, login):
    case_no = make_case(app, department="legal_aid")
    client = login(app.test_client(), "handler")
    before = load(app, case_no)
    resp = client.post(f"/cases/{case_no}/accept", data={"version": "2"})
    assert resp.status_code == 400
    assert "The form expired or was not sent from this site." in text_of(resp)
    assert load(app, case_no) == before

    operator = login(app.test_client(), "operator")
    resp = operator.post("/cases/new", data=new_form())
    assert resp.status_code == 400 and count_cases(app) == 1


def test_get_on_an_action_url_is_405(app, users, login):
    case_no = make_case(app, department="legal_aid")
    client = login(app.test_client(), "handler")
    resp = client.get(f"/cases/{case_no}/accept")
    assert resp.status_code == 405
    assert "Method not allowed." in text_of(resp)
    assert load(app, case_no)["status"] == "assigned"


def test_handler_of_another_department_gets_404(app, users, login):
    case_no = make_case(app, department="legal_aid")
    client = login(app.test_client(), "other_handler")
    resp = client.get(f"/cases/{case_no}")
    assert resp.status_code == 404
    assert f"Case {case_no} was not found." in text_of(resp)
    token = csrf_from(client.get("/cases/queue").get_data(as_text=True))
    resp = client.post(f"/cases/{case_no}/accept", data={"csrf_token": token, "version": "2"})
    assert resp.status_code == 404
    assert load(app, case_no)["status"] == "assigned"
    # Not in their list either.
    assert case_no not in text_of(client.get("/cases"))


def test_only_allowed_actions_are_offered_and_others_refused(app, users, login):
    case_no = make_case(app, department="legal_aid")
    operator = login(app.test_client(), "operator")
    body = operator.get(f"/cases/{case_no}").get_data(as_text=True)
    actions = set(re.findall(rf'action="/cases/{case_no}/(\w+)"', body))
    assert actions == {"merge", "note"}
    resp = post_action(operator, case_no, "accept")
    assert resp.status_code == 403
    assert "You may not accept this case." in text_of(resp)
    assert load(app, case_no)["status"] == "assigned"

    resp = post_action(operator, case_no, "frobnicate")
    assert resp.status_code == 404


def test_illegal_move_is_409_with_message(app, users, login):
    case_no = make_case(app)
    supervisor = login(app.test_client(), "supervisor")
    resp = post_action(supervisor, case_no, "close")
    assert resp.status_code == 409
    assert "Cannot close a case that is registered." in text_of(resp)


def test_supervisor_dispatches_escalates_merges_and_reopens(app, users, login):
    first = make_case(app, summary="第一次来电")
    dup = make_case(app, summary="同一件事又打来")
    sup = login(app.test_client(), "supervisor")
    resp = post_action(sup, first, "assign", department="legal_aid", handler="handler_b")
    assert f"Case {first} dispatched to 法律援助中心." in text_of(sup.get(resp.headers["Location"]))
    resp = post_action(sup, first, "escalate", note="请加快办理")
    text = text_of(sup.get(resp.headers["Location"]))
    assert "Escalated" in text and "请加快办理" in text
    resp = post_action(sup, first, "reassign", department="women", handler="")
    text = text_of(sup.get(resp.headers["Location"]))
    assert "Department: 法律援助中心 → 女工部" in text and "Handler: Handler_B → —" in text

    resp = post_action(sup, dup, "merge", into="20990101-0001")
    assert resp.status_code == 422 and "Case 20990101-0001 to merge into was not found." in text_of(resp)
    resp = post_action(sup, dup, "merge", into=first)
    text = text_of(sup.get(resp.headers["Location"]))
    assert f"Case {dup} merged into {first}." in text and f"Merged into {first}" in text

    closed = make_case(app, resolved_on_call=True, answer="已解答。")
    resp = post_action(sup, closed, "reopen", reason="来电人再次反映未解决")
    text = text_of(sup.get(resp.headers["Location"]))
    assert "reopened; reply due" in text and "来电人再次反映未解决" in text


def test_operator_closes_a_replied_case_and_records_the_survey(app, users, login):
    case_no = make_case(app, department="legal_aid", handler="handler")
    act(app, case_no, "handler", "accept")
    act(app, case_no, "handler", "reply", content="已答复。")
    operator = login(app.test_client(), "operator")
    resp = post_action(operator, case_no, "close")
    assert f"Case {case_no} closed." in text_of(operator.get(resp.headers["Location"]))
    resp = post_action(operator, case_no, "survey", result="basically_satisfied")
    text = text_of(operator.get(resp.headers["Location"]))
    assert "Survey result for case" in text and "Basically satisfied" in text
    resp = post_action(operator, case_no, "note", text="")
    assert resp.status_code == 422 and "Note is required." in text_of(resp)


# ---------------------------------------------------------------- confidentiality on the case page

def test_confidential_case_page_masks_the_caller_for_a_producer(app, users, login):
    case_no = make_case(app, confidential=True, detail="举报人身份需保密",
                        caller={"phone": PHONE, "name": "王建国", "employer": "某厂"})
    producer = login(app.test_client(), "producer")
    resp = producer.get(f"/cases/{case_no}")
    assert resp.status_code == 200
    text = text_of(resp)
    assert "138****5678" in text and access.mask_name("王建国") in text
    assert PHONE not in text and "王建国" not in text and "某厂" not in text
    assert "举报人身份需保密" not in text and "Hidden: the caller asked for confidentiality." in text
    assert "Confidential" in text

    supervisor = login(app.test_client(), "supervisor")
    text = text_of(supervisor.get(f"/cases/{case_no}"))
    assert PHONE in text and "王建国" in text and "举报人身份需保密" in text


# ---------------------------------------------------------------- the list

def test_list_filters_and_cursor_pagination(app, users, login):
    numbers = {}
    for i in range(5):
        numbers[f"consult{i}"] = make_case(app, summary=f"工资咨询第{i}号")
    numbers["radio"] = make_case(app, channel="radio", type="help", category="hardship", summary="电台来电帮扶")
    numbers["legal"] = make_case(app, department="legal_aid", summary="辞退法律援助", type="legal_aid",
                                 category="dispute")
    client = login(app.test_client(), "supervisor")

    page1 = client.get("/cases?type=consult&limit=2")
    assert page1.status_code == 200
    text = text_of(page1)
    assert numbers["consult4"] in text and numbers["consult3"] in text
    assert numbers["consult2"] not in text and numbers["radio"] not in text
    body = page1.get_data(as_text=True)
    next_url = html.unescape(re.search(r'href="([^"]*cursor=[^"]*)"[^>]*rel="next"', body).group(1))
    assert "type=consult" in next_url and "limit=2" in next_url

    page2 = client.get(next_url)
    text = text_of(page2)
    assert numbers["consult2"] in text and numbers["consult1"] in text and numbers["consult4"] not in text
    assert "« First page" in text
    page3 = client.get(html.unescape(re.search(r'href="([^"]*cursor=[^"]*)"[^>]*rel="next"',
                                                page2.get_data(as_text=True)).group(1)))
    text = text_of(page3)
    assert numbers["consult0"] in text and "Next page" not in text

    text = text_of(client.get("/cases?channel=radio"))
    assert numbers["radio"] in text and numbers["consult0"] not in text
    text = text_of(client.get("/cases?department=legal_aid&status=open"))
    assert numbers["legal"] in text and numbers["radio"] not in text
    text = text_of(client.get("/cases?q=帮扶"))
    assert numbers["radio"] in text and numbers["legal"] not in text
    text = text_of(client.get("/cases?phone=138 1234 5678&from=2026-11-30&to=2026-11-30"))
    assert numbers["legal"] in text and numbers["consult0"] in text
    text = text_of(client.get("/cases?from=2026-12-01"))
    assert "No cases match these filters." in text
    # Filters stay filled in.
    assert 'value="帮扶"' in client.get("/cases?q=帮扶").get_data(as_text=True)


def test_list_total_is_capped_for_broad_filters(app, users, login, monkeypatch):
    """A broad filter does not count every match: past the cap the list says "N+" (the cases still page)."""
    numbers = [make_case(app, summary=f"工资咨询第{i}号") for i in range(5)]
    client = login(app.test_client(), "supervisor")
    monkeypatch.setitem(app.config, "HOTLINE_LIST_COUNT_CAP", 3)
    page = client.get("/cases?type=consult&limit=2")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-total="3+"' in body
    text = text_of(page)
    assert "3+ cases match these filters." in text and numbers[4] in text and numbers[3] in text
    assert 'rel="next"' in body  # the rest is still reachable
    # Up to the cap the total is exact.
    assert "1 case matches these filters." in text_of(client.get(f"/cases?q={numbers[0]}"))
    monkeypatch.setitem(app.config, "HOTLINE_LIST_COUNT_CAP", 5)
    assert "5 cases match these filters." in text_of(client.get("/cases?type=consult"))
    # A search counts its ranked candidates, as before.
    assert "5 cases match these filters." in text_of(client.get("/cases?q=工资咨询"))
    monkeypatch.setitem(app.config, "HOTLINE_LIST_COUNT_CAP", 3)
    assert "共3+件工单符合筛选条件。" in text_of(client.get("/cases?type=consult&lang=zh_Hans_CN"))


def test_a_list_past_its_cap_is_not_counted_again_on_its_next_pages(app, users, login, monkeypatch):
    """Past the cap every page says "3+": the next pages (and the same list again) do not count again for
    HOTLINE_LIST_PAST_CAP_SECONDS; after that, or below the cap, the total is counted afresh."""
    from conftest import statements
    from hotline.cases import queries

    numbers = [make_case(app, summary=f"工资咨询第{i}号") for i in range(5)]
    client = login(app.test_client(), "supervisor")
    monkeypatch.setitem(app.config, "HOTLINE_LIST_COUNT_CAP", 3)
    now = [1000.0]
    monkeypatch.setattr(queries, "_monotonic", lambda: now[0])

    def page(url):
        with app.app_context(), statements() as seen:
            resp = client.get(url)
        counted = [s for s in seen if "count(*)" in s and "FROM (SELECT hotline_case.id" in s]
        return resp.get_data(as_text=True), counted

    first, counted = page("/cases?type=consult&limit=2")
    assert 'data-total="3+"' in first and len(counted) == 1
    next_url = html.unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))
    second, counted = page(next_url)
    assert 'data-total="3+"' in second and counted == []
    assert numbers[2] in text_of_html(second) and numbers[4] not in text_of_html(second)
    # Another person's list of the same filter is counted for them: a handler sees none of these cases.
    stranger = login(app.test_client(), "handler")
    with app.app_context(), statements() as seen:
        theirs = stranger.get("/cases?type=consult&limit=2").get_data(as_text=True)
    assert 'data-total="3+"' not in theirs
    assert [s for s in seen if "count(*)" in s and "FROM (SELECT hotline_case.id" in s]
    now[0] += 61
    _, counted = page(next_url)
    assert len(counted) == 1  # counted again once the time is up
    # Another filter, below the cap: counted every time, and a new case shows at once.
    _, counted = page("/cases?type=consult&category=insurance")
    assert len(counted) == 1
    make_case(app, category="insurance")
    again, counted = page("/cases?type=consult&category=insurance")
    assert len(counted) == 1 and 'data-total="1"' in again
    # 0 seconds: always counted.
    monkeypatch.setitem(app.config, "HOTLINE_LIST_PAST_CAP_SECONDS", 0)
    _, counted = page("/cases?type=consult&limit=2")
    assert len(counted) == 1


def text_of_html(body: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_list_overdue_filter_and_handler_scope(app, users, login, clock):
    late = make_case(app, department="legal_aid", urgent=True)
    other = make_case(app, department="women")
    clock.set(local(2026, 12, 2, 9, 0))
    sup = login(app.test_client(), "supervisor")
    text = text_of(sup.get("/cases?overdue=1"))
    assert late in text and other in text  # both missed their accept deadline (Dec 1 17:30)
    handler = login(app.test_client(), "handler")
    text = text_of(handler.get("/cases"))
    assert late in text and other not in text


@pytest.mark.parametrize("query, message", [
    ("status=bogus", "Unknown status: bogus"),
    ("from=2026-13-01", "2026-13-01 is not a date (use YYYY-MM-DD)."),
    ("overdue=maybe", "overdue must be 1 or 0."),
    ("channel=fax", "Unknown channel: fax"),
    ("category=nope", "Unknown category: nope"),
    ("phone=abc", "The phone number may contain only digits"),
    ("cursor=garbage", "The page cursor is not valid; start from the first page."),
    ("limit=1000", "limit must be a number between 1 and 100."),
])
def test_bad_filter_value_gives_422_with_a_message(app, users, login, query, message):
    make_case(app)
    client = login(app.test_client(), "operator")
    resp = client.get(f"/cases?{query}")
    assert resp.status_code == 422
    text = text_of(resp)
    assert message in text
    assert "20261130-0001" not in text


def test_list_masks_confidential_callers(app, users, login):
    case_no = make_case(app, confidential=True)
    text = text_of(login(app.test_client(), "producer").get("/cases"))
    assert case_no in text and "138****5678" in text and PHONE not in text


def test_every_case_view_declares_its_roles(app):
    from hotline.auth.access import rule_of

    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("cases."):
            assert rule_of(view), endpoint


def test_a_producer_cannot_dispatch_while_registering(app, users, login):
    # Dispatch at registration is the assign move, which the lifecycle table gives to operators and supervisors.
    producer = login(app.test_client(), "producer")
    resp = post_new(producer, channel="radio", outcome="dispatch", department="legal_aid")
    assert resp.status_code == 403
    assert "Your role may register cases but not dispatch them." in text_of(resp)
    assert count_cases(app) == 0
    resp = post_new(producer, channel="radio")
    assert resp.status_code == 302 and load(app, "20261130-0001")["status"] == "registered"


def test_the_pages_stylesheet_and_script_are_served(app, users, login):
    # Deny-by-default must not close the static files the pages link to (CSP allows only 'self').
    anonymous = app.test_client()
    for path in ("/static/app.css", "/static/app.js"):
        resp = anonymous.get(path)
        assert resp.status_code == 200, path
        resp.close()
    body = login(app.test_client(), "operator").get("/cases/new").get_data(as_text=True)
    assert 'href="/static/app.css"' in body and 'src="/static/app.js"' in body


def test_caller_history_lists_open_cases_first(app, users, login):
    open_one = make_case(app, summary="仍在办理")
    closed = make_case(app, resolved_on_call=True, answer="已解答。", summary="已办结")
    text = text_of(login(app.test_client(), "operator").get(f"/cases/caller?phone={PHONE}"))
    assert text.index(open_one) < text.index(closed)
