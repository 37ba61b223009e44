"""SMS with callers: receipt, reply notice and 回访 survey through the outbox; survey replies by SMS."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import csrf_from, get_user, local
from hotline.cases import service as cases
from hotline.cases.models import Case, CaseEvent
from hotline.cases.signals import Origin
from hotline.extensions import db
from hotline.notify import delivery
from hotline.notify.models import Notice
from hotline.telephony import sms as caller_sms
from hotline.telephony.models import InboundSms, SurveyRequest
from telephony.test_telephony import CALLER, line  # noqa: F401  (the fixture)

SURVEY_TEXT = "【苏州市总工会】您的工单20261130-0001已办结。请对办理结果进行评价：回复1满意 2基本满意 3不满意。回复TD退订"
BASE = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资",
        "caller": {"phone": "138 1234 5678", "name": "王建国"}}


def caller_notices(kind: str | None = None) -> list[Notice]:
    db.session.expire_all()
    stmt = select(Notice).where(Notice.recipient_id.is_(None)).order_by(Notice.id)
    if kind:
        stmt = stmt.where(Notice.kind == kind)
    return list(db.session.scalars(stmt))


def inbound() -> list[InboundSms]:
    db.session.expire_all()
    return list(db.session.scalars(select(InboundSms).order_by(InboundSms.id)))


def closed_case(**extra) -> Case:
    """A case closed on the call by an operator, the caller agreeing to SMS."""
    case = cases.register(get_user("operator"), {**BASE, "resolved_on_call": True, "answer": "已解答", **extra},
                          origin=Origin(sms_consent=True))
    db.session.commit()
    return case


def survey_events(case: Case) -> list[CaseEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                           CaseEvent.kind == "survey").order_by(CaseEvent.id)))


# ---------------------------------------------------------------- outgoing

def test_receipt_with_the_case_number_goes_through_twilio(app, line, users):
    with app.app_context():
        case = cases.register(get_user("operator"), BASE, origin=Origin(sms_consent=True))
        db.session.commit()
        [receipt] = caller_notices()
        assert (receipt.kind, receipt.to_phone, receipt.status, receipt.case_id) == (
            "caller_receipt", CALLER, "pending", case.id)
        assert delivery.deliver_pending()["sent"] == 1
        [req] = line.http.requests
        assert req["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
        assert {k: req["data"].get(k) for k in ("To", "From", "Body")} == {
            "To": CALLER, "From": "+15005550006",
            "Body": "【苏州市总工会】您反映的问题已受理，工单号20261130-0001，我们将在12月2日17:30前答复您。回复TD退订"}
        assert caller_notices()[0].status == "sent"


def test_no_consent_or_no_mobile_means_no_sms(app, line, users):
    with app.app_context():
        cases.register(get_user("operator"), BASE)
        cases.register(get_user("operator"), {**BASE, "caller": {"phone": "0512-6523 0000"}},
                       origin=Origin(sms_consent=True))
        cases.register(get_user("operator"), {**BASE, "resolved_on_call": True, "answer": "已解答"})
        db.session.commit()
        assert caller_notices() == []
        assert db.session.scalars(select(SurveyRequest)).all() == []


def test_reply_notice_when_answered_never_at_night(app, line, users, clock):
    with app.app_context():
        case = cases.register(get_user("operator"), {**BASE, "department": "legal_aid", "handler": "handler"},
                              origin=Origin(sms_consent=True))
        handler = get_user("handler")
        cases.perform(handler, case, "accept", case.version, {})
        clock.set(local(2026, 11, 30, 22, 15))
        cases.perform(handler, case, "reply", case.version, {"content": "已联系用人单位"})
        db.session.commit()
        [notice] = caller_notices("caller_answered")
        assert notice.body == "【苏州市总工会】您的工单20261130-0001已答复，请留意承办部门的答复。如有疑问请致电12351。回复TD退订"
        assert notice.next_attempt_at == local(2026, 12, 1, 8, 0)
        # The receipt, written in the day but not yet sent, is held too: nothing reaches a caller at night.
        assert delivery.deliver_pending() == {"sent": 0, "retry": 0, "failed": 0, "unknown": 0, "held": 1}
        [receipt] = caller_notices("caller_receipt")
        assert (receipt.status, receipt.next_attempt_at) == ("pending", local(2026, 12, 1, 8, 0))
        assert line.http.requests == []
        clock.set(local(2026, 12, 1, 7, 59))
        assert delivery.deliver_pending()["sent"] == 0
        clock.set(local(2026, 12, 1, 8, 0))
        assert delivery.deliver_pending()["sent"] == 2  # both, once
        assert delivery.deliver_pending()["sent"] == 0
        assert len(line.http.requests) == 2


def test_survey_after_closure_reply_1_is_recorded_and_counts(app, line, users, api):
    with app.app_context():
        case = cases.register(get_user("operator"), {**BASE, "department": "legal_aid"},
                              origin=Origin(sms_consent=True))
        handler = get_user("handler")
        cases.perform(handler, case, "accept", case.version, {})
        cases.perform(handler, case, "reply", case.version, {"content": "已答复"})
        cases.perform(get_user("operator"), case, "close", case.version, {})
        db.session.commit()
        [survey] = caller_notices("caller_survey")
        assert survey.body == SURVEY_TEXT and "回复1满意 2基本满意 3不满意" in survey.body
        assert line.sms("1").status_code == 200
        assert line.sms("1").get_data(as_text=True) == '<?xml version="1.0" encoding="UTF-8"?><Response />'
        db.session.expire_all()
        case = db.session.get(Case, case.id)
        assert case.survey_result == "satisfied"
        [event] = survey_events(case)
        assert (event.actor_id, event.data["channel"], event.data["after"]) == (
            None, "sms", {"survey_result": "satisfied"})
        [row] = inbound()  # the retry with the same MessageSid stored nothing
        assert (row.result, row.needs_attention, row.case_id) == ("recorded", False, case.id)
        [thanks] = caller_notices("caller_thanks")
        assert thanks.body == "【苏州市总工会】感谢您对工单20261130-0001的评价！"
    body = api("supervisor").get(f"/cases/{case.case_no}").get_json()
    assert body["survey_result"] == "satisfied"
    assert body["events"][-1]["kind"] == "survey" and body["events"][-1]["actor"] is None


def test_1_twice_is_recorded_once_and_a_changed_mind_goes_to_the_operators(app, line, users, clock):
    with app.app_context():
        case = closed_case()
        line.sms("1", sid="SM1")
        clock.set(local(2026, 11, 30, 10, 5))
        line.sms("1", sid="SM2")
        line.sms("3", sid="SM3")
        assert [(r.result, r.needs_attention) for r in inbound()] == [
            ("recorded", False), ("duplicate", False), ("no_survey", True)]
        assert len(survey_events(case)) == 1
        assert db.session.get(Case, case.id).survey_result == "satisfied"


@pytest.mark.parametrize("body, result", [
    ("2", "basically_satisfied"), ("３", "dissatisfied"), (" 1 ", "satisfied"), ("满意", "satisfied"),
    ("基本满意。", "basically_satisfied"), ("不满意！", "dissatisfied"), ("1满意", "satisfied"),
    ("3 不满意", "dissatisfied"),
])
def test_replies_people_really_send_are_understood(app, line, users, body, result):
    with app.app_context():
        case = closed_case()
        line.sms(body)
        assert db.session.get(Case, case.id).survey_result == result


@pytest.mark.parametrize("body", ["谢谢", "👍", "1 2", "12", "3满意", "ok", "", "好" * 2000, "🙏🏻" * 700])
def test_unreadable_replies_land_on_the_operators_list(app, line, users, login, body):
    with app.app_context():
        case = closed_case()
        assert line.sms(body).status_code == 200
        [row] = inbound()
        assert (row.result, row.needs_attention, row.case_id) == ("unreadable", True, case.id)
        assert row.body == body[:4000]
        assert db.session.get(Case, case.id).survey_result is None
        assert db.session.scalar(select(SurveyRequest.status)) == "pending"  # still waiting for an answer
    page = login(app.test_client(), "operator").get("/calls/sms").get_data(as_text=True)
    assert "Not understood" in page and case.case_no in page
    if len(body) > 300:
        assert body[:300] not in page and body[:299] + "…" in page


def test_operators_record_or_dismiss_a_reply_from_the_list(app, line, users, login):
    with app.app_context():
        case = closed_case()
        line.sms("挺好的，谢谢", sid="SM1")
        line.sms("1", caller="+8613900000000", sid="SM2")  # no survey for this number at all
        first, second = inbound()
        assert (second.result, second.case_id) == ("no_survey", None)
    client = login(app.test_client(), "operator")
    page = client.get("/calls/sms").get_data(as_text=True)
    assert "挺好的，谢谢" in page and "No survey waiting" in page and "Not understood" in page
    token = csrf_from(page)
    resp = client.post(f"/calls/sms/{first.id}", data={"csrf_token": token, "result": "basically_satisfied"},
                       follow_redirects=True)
    assert f"Survey result recorded on case {case.case_no}." in resp.get_data(as_text=True)
    resp = client.post(f"/calls/sms/{second.id}", data={"csrf_token": token}, follow_redirects=True)
    assert "Message marked as dealt with." in resp.get_data(as_text=True)
    assert "No SMS reply is waiting for an operator." in resp.get_data(as_text=True)
    again = client.post(f"/calls/sms/{second.id}", data={"csrf_token": token}, follow_redirects=True)
    assert "This message was already dealt with." in again.get_data(as_text=True)
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(Case, case.id).survey_result == "basically_satisfied"
        [event] = survey_events(case)
        assert event.actor_id == get_user("operator").id and event.data["channel"] == "sms"
        assert db.session.scalar(select(SurveyRequest.status)) == "superseded"
    everything = client.get("/calls/sms?all=1").get_data(as_text=True)
    assert "Dealt with by Operator" in everything
    assert login(app.test_client(), "handler").get("/calls/sms").status_code == 403


def test_a_reopened_case_is_surveyed_again_after_the_next_closure(app, line, users):
    with app.app_context():
        case = closed_case()
        cases.perform(get_user("supervisor"), case, "reopen", case.version, {"reason": "来电人说没解决"})
        db.session.commit()
        line.sms("1", sid="SM1")  # the first survey was withdrawn with the reopening
        assert inbound()[0].result == "no_survey"
        assert db.session.scalar(select(SurveyRequest.status)) == "cancelled"
        assert case.status == "registered"  # closed on the call, so no department yet: back to dispatch
        cases.perform(get_user("operator"), case, "assign", case.version, {"department": "legal_aid"})
        handler = get_user("handler")
        cases.perform(handler, case, "accept", case.version, {})
        cases.perform(handler, case, "reply", case.version, {"content": "再次答复"})
        cases.perform(get_user("operator"), case, "close", case.version, {})
        db.session.commit()
        assert [n.dedupe_key for n in caller_notices("caller_survey")] == [
            f"caller_survey:{case.id}:0:{CALLER}:sms", f"caller_survey:{case.id}:1:{CALLER}:sms"]
        line.sms("2", sid="SM2")
        assert db.session.get(Case, case.id).survey_result == "basically_satisfied"


def test_a_survey_recorded_by_phone_ends_the_sms_survey(app, line, users):
    with app.app_context():
        case = closed_case()
        cases.perform(get_user("operator"), case, "survey", case.version, {"result": "satisfied"})
        db.session.commit()
        line.sms("3")
        assert inbound()[0].result == "no_survey"
        assert db.session.get(Case, case.id).survey_result == "satisfied"


def test_survey_replies_after_the_reply_window_go_to_the_operators(app, line, users, clock):
    with app.app_context():
        closed_case()
        clock.set(local(2026, 12, 7, 10, 1))  # seven days and a minute later
        line.sms("1")
        assert (inbound()[0].result, inbound()[0].needs_attention) == ("no_survey", True)


def test_the_survey_of_a_case_closed_at_night_goes_out_in_the_morning(app, line, users, clock):
    clock.set(local(2026, 11, 30, 23, 30))
    with app.app_context():
        closed_case()
        [survey] = caller_notices("caller_survey")
        assert survey.next_attempt_at == local(2026, 12, 1, 8, 0)
        line.sms("1")  # before it was even sent: not an answer to it
        assert inbound()[0].result == "no_survey"


def test_sms_from_a_withheld_number_or_without_body_is_kept_for_operators(app, line, users):
    with app.app_context():
        assert line.post("/twilio/sms", {"MessageSid": "SM1"}).status_code == 200
        [row] = inbound()
        assert (row.from_phone, row.body, row.result, row.needs_attention) == ("anonymous", "", "unreadable", True)


def test_parse_reply_is_strict():
    assert caller_sms.parse_reply("1") == "satisfied"
    assert caller_sms.parse_reply("2基本满意") == "basically_satisfied"
    assert caller_sms.parse_reply("2满意") is None
    assert caller_sms.parse_reply("不满意 不满意") is None
    assert caller_sms.parse_reply(None) is None



# Forms refuse such characters (hotline/text.py); Twilio would not send the SMS again, so its webhook keeps
# the message and drops only the characters no text field can hold.
def test_a_survey_reply_with_control_characters_still_counts(app, line, users):
    with app.app_context():
        case = closed_case()
        assert line.sms("1\x1b\x07").status_code == 200
        assert db.session.get(Case, case.id).survey_result == "satisfied"


def test_an_sms_with_control_characters_is_kept_without_them(app, line, users):
    with app.app_context():
        closed_case()
        assert line.sms("谢\x00谢\x0b").status_code == 200
        [row] = inbound()
        assert (row.body, row.result) == ("谢谢", "unreadable")
