"""回访 by voice: an automated call with key presses, recorded like an operator's 回访; unanswered calls end on
the operators' worklist."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import get_user, local
from hotline.cases import service as cases
from hotline.cases.signals import Origin
from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db
from hotline.jobs import run_job
from hotline.notify.models import Notice
from hotline.telephony import settings as line_settings
from hotline.telephony.models import SurveyRequest
from telephony.test_telephony import CALLER, PUBLIC, line  # noqa: F401  (the fixture)

BASE = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资",
        "caller": {"phone": "138 1234 5678", "name": "王建国"}, "resolved_on_call": True, "answer": "已解答"}
LEG = "CA" + "0" * 31 + "1"


@pytest.fixture
def voice(app, line, users):
    with app.app_context():
        cfg = line_settings.get()
        cfg.voice_survey, cfg.voice_survey_tries = True, 2
        db.session.commit()
    return line


def closed_case() -> Case:
    case = cases.register(get_user("operator"), dict(BASE), origin=Origin(sms_consent=True))
    db.session.commit()
    return case


def survey() -> SurveyRequest:
    db.session.expire_all()
    return db.session.scalar(select(SurveyRequest))


def test_a_closed_case_gets_a_call_and_key_presses_are_recorded_like_an_operators_survey(app, voice):
    with app.app_context():
        case = closed_case()
        row = survey()
        assert (row.channel, row.status, row.tries, row.next_try_at) == ("voice", "pending", 0, local(2026, 11, 30, 10))
        assert db.session.scalar(select(Notice).where(Notice.kind == "caller_survey")) is None  # no SMS survey
        assert run_job("channels")["survey_placed"] == 1
        assert run_job("channels")["survey_placed"] == 0  # one call at a time
        row_id, case_id = row.id, case.id
    [req] = voice.http.requests
    assert req["uri"].endswith("/Calls.json") and req["data"]["To"] == CALLER
    assert req["data"]["Url"] == f"{PUBLIC}/twilio/survey/voice?survey={row_id}"
    assert req["data"]["StatusCallback"] == f"{PUBLIC}/twilio/survey/status?survey={row_id}"
    first = voice.post(f"/twilio/survey/voice?survey={row_id}", {"CallSid": LEG, "CallStatus": "in-progress"})
    assert first.get_data(as_text=True) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Gather action="{PUBLIC}/twilio/survey/answer?survey={row_id}&amp;step=1" input="dtmf" method="POST" '
        'numDigits="1" timeout="8"><Say language="zh-CN">您好，这里是12351职工服务热线回访。您在11月30日反映的问题已经办结。'
        '请对办理结果进行评价：满意请按1，基本满意请按2，不满意请按3。</Say></Gather>'
        f'<Redirect method="POST">{PUBLIC}/twilio/survey/answer?survey={row_id}&amp;step=1</Redirect></Response>')
    wrong = voice.post(f"/twilio/survey/answer?survey={row_id}&step=1", {"CallSid": LEG, "Digits": "7"})
    assert "没有收到有效的按键" in wrong.get_data(as_text=True)
    second = voice.post(f"/twilio/survey/answer?survey={row_id}&step=1", {"CallSid": LEG, "Digits": "2"})
    assert "已解决请按1，未解决请按2" in second.get_data(as_text=True) and "step=2" in second.get_data(as_text=True)
    last = voice.post(f"/twilio/survey/answer?survey={row_id}&step=2", {"CallSid": LEG, "Digits": "1"})
    assert "感谢您的评价" in last.get_data(as_text=True) and "<Hangup />" in last.get_data(as_text=True)
    again = voice.post(f"/twilio/survey/answer?survey={row_id}&step=2", {"CallSid": LEG, "Digits": "2"})
    assert "这次回访已经完成" in again.get_data(as_text=True)  # Twilio's retry records nothing more
    voice.post(f"/twilio/survey/status?survey={row_id}", {"CallSid": LEG, "CallStatus": "completed"})
    with app.app_context():
        db.session.expire_all()
        case = db.session.get(Case, case_id)
        assert case.survey_result == "basically_satisfied"
        [event] = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "survey"))
        assert (event.actor_id, event.data["channel"], event.data["after"]["survey_resolved"]) == (None, "voice", True)
        assert case.survey_resolved is True
        assert (survey().status, survey().answered_at) == ("answered", local(2026, 11, 30, 10))


def test_the_case_page_shows_the_voice_survey_like_any_other(app, voice, login):
    with app.app_context():
        case = closed_case()
        case_no = case.case_no
        run_job("channels")
        row_id = survey().id
    voice.post(f"/twilio/survey/answer?survey={row_id}&step=1", {"CallSid": LEG, "Digits": "3"})
    voice.post(f"/twilio/survey/answer?survey={row_id}&step=2", {"CallSid": LEG, "Digits": "2"})
    page = login(app.test_client(), "operator").get(f"/cases/{case_no}").get_data(as_text=True)
    assert "Problem solved" in page and "Dissatisfied" in page


def test_nobody_answering_twice_puts_the_case_on_the_operators_worklist(app, voice, login, clock):
    with app.app_context():
        case = closed_case()
        case_no = case.case_no
        run_job("channels")
        row = survey()
        voice.post(f"/twilio/survey/status?survey={row.id}", {"CallSid": LEG, "CallStatus": "no-answer"})
        row = survey()
        assert (row.status, row.tries, row.call_sid, row.next_try_at) == ("pending", 1, None, local(2026, 11, 30, 12))
        assert run_job("channels")["survey_placed"] == 0
        clock.set(local(2026, 11, 30, 12, 0))
        assert run_job("channels")["survey_placed"] == 1
        leg2 = voice.http.requests[-1]
        assert leg2["data"]["To"] == CALLER
        voice.post(f"/twilio/survey/status?survey={row.id}", {"CallSid": "CA" + "0" * 31 + "2", "CallStatus": "busy"})
        assert survey().status == "unreached"
        clock.set(local(2026, 11, 30, 16, 0))
        assert run_job("channels")["survey_placed"] == 0
    page = login(app.test_client(), "operator").get("/calls/callbacks").get_data(as_text=True)
    assert "Survey calls nobody answered" in page and case_no in page and "2 calls" in page


def test_a_case_closed_at_night_is_called_in_the_morning(app, voice, clock):
    clock.set(local(2026, 11, 30, 22, 10))
    with app.app_context():
        closed_case()
        assert survey().next_try_at == local(2026, 12, 1, 8, 0)
        assert run_job("channels")["survey_placed"] == 0
        clock.set(local(2026, 12, 1, 8, 0))
        assert run_job("channels")["survey_placed"] == 1


def test_a_webhook_for_an_unknown_survey_or_call_changes_nothing(app, voice):
    with app.app_context():
        closed_case()
        run_job("channels")
        row_id = survey().id
    stray = voice.post(f"/twilio/survey/answer?survey={row_id}&step=2", {"CallSid": "CAstranger", "Digits": "1"})
    assert "这次回访已经完成" in stray.get_data(as_text=True)
    assert voice.post("/twilio/survey/voice?survey=nope", {"CallSid": LEG}).status_code == 200
    with app.app_context():
        assert survey().status == "pending" and db.session.scalar(select(Case)).survey_result is None


def test_voice_survey_off_keeps_the_sms_survey(app, line, users):
    with app.app_context():
        closed_case()
        assert survey().channel == "sms"
        assert db.session.scalar(select(Notice).where(Notice.kind == "caller_survey")) is not None
