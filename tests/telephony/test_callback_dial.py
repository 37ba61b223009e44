"""Click to call back (回拨): Twilio rings the operator's phone, then the caller; the attempt and its outcome
are logged from Twilio's answers, without typing."""
from __future__ import annotations

from sqlalchemy import select

from conftest import csrf_from, get_user
from hotline.extensions import db
from hotline.telephony.models import Callback, CallbackAttempt
from telephony.test_telephony import CALLER, PUBLIC, entries, line  # noqa: F401  (the fixture)
from twilio_http import twilio_error

OPERATOR_PHONE = "+8613900000005"


def missed(line, sid="CA1", caller=CALLER) -> int:
    line.ring(sid, caller)
    line.left(sid, result="hangup", queue_time=32)
    line.status(sid, duration=40)
    return entries()[-1].id


def attempts(entry_id: int) -> list[CallbackAttempt]:
    db.session.expire_all()
    return list(db.session.scalars(select(CallbackAttempt).where(CallbackAttempt.callback_id == entry_id)
                                   .order_by(CallbackAttempt.id)))


def dial(client, entry_id):
    token = csrf_from(client.get("/calls/callbacks").get_data(as_text=True))
    return client.post(f"/calls/callbacks/{entry_id}/dial", data={"csrf_token": token}, follow_redirects=True)


def operator_client(app, login, phone=OPERATOR_PHONE):
    with app.app_context():
        get_user("operator").phone = phone
        db.session.commit()
    return login(app.test_client(), "operator")


def test_call_back_rings_the_operator_then_the_caller_and_logs_the_outcome(app, line, users, login):
    with app.app_context():
        entry_id = missed(line)
    client = operator_client(app, login)
    assert "Call back" in client.get("/calls/callbacks").get_data(as_text=True)
    page = dial(client, entry_id).get_data(as_text=True)
    assert "Twilio is ringing your phone (13900000005)" in page
    [req] = line.http.requests
    assert req["uri"].endswith("/Calls.json") and req["data"]["To"] == OPERATOR_PHONE
    assert req["data"]["From"] == "+15005550006"
    assert req["data"]["Url"] == f"{PUBLIC}/twilio/callback/bridge?entry={entry_id}"
    assert req["data"]["StatusCallback"] == f"{PUBLIC}/twilio/callback/status?entry={entry_id}"
    leg = "CA" + "0" * 31 + "1"
    with app.app_context():
        assert db.session.get(Callback, entry_id).dial_sid == leg
    again = dial(client, entry_id).get_data(as_text=True)
    assert "being called back right now" in again and len(line.http.requests) == 1
    twiml = line.post(f"/twilio/callback/bridge?entry={entry_id}", {"CallSid": leg, "CallStatus": "in-progress"})
    assert twiml.get_data(as_text=True) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="zh-CN">正在为您回拨来电人，请稍候。</Say>'
        f'<Dial action="{PUBLIC}/twilio/callback/done?entry={entry_id}" callerId="+15005550006" method="POST" '
        f'timeout="30"><Number>{CALLER}</Number></Dial></Response>')
    done = {"CallSid": leg, "DialCallStatus": "completed", "DialCallDuration": "95", "DialCallSid": "CAcallee"}
    assert line.post(f"/twilio/callback/done?entry={entry_id}", done).status_code == 200
    assert line.post(f"/twilio/callback/done?entry={entry_id}", done).status_code == 200  # Twilio's retry
    line.post(f"/twilio/callback/status?entry={entry_id}", {"CallSid": leg, "CallStatus": "completed"})
    with app.app_context():
        [attempt] = attempts(entry_id)
        assert (attempt.outcome, attempt.operator_id) == ("reached", get_user("operator").id)
        assert attempt.note == "经Twilio回拨，通话95秒。"
        entry = db.session.get(Callback, entry_id)
        assert (entry.status, entry.outcome, entry.dial_sid) == ("done", "reached", None)


def test_no_answer_is_logged_and_the_entry_stays_for_another_try(app, line, users, login):
    with app.app_context():
        entry_id = missed(line)
    client = operator_client(app, login)
    dial(client, entry_id)
    leg = "CA" + "0" * 31 + "1"
    line.post(f"/twilio/callback/done?entry={entry_id}", {"CallSid": leg, "DialCallStatus": "no-answer"})
    with app.app_context():
        [attempt] = attempts(entry_id)
        assert attempt.outcome == "no_answer"
        entry = db.session.get(Callback, entry_id)
        assert (entry.status, entry.attempts, entry.dial_sid) == ("open", 1, None)


def test_the_operators_phone_not_answering_logs_nothing_and_says_why(app, line, users, login):
    with app.app_context():
        entry_id = missed(line)
    client = operator_client(app, login)
    dial(client, entry_id)
    leg = "CA" + "0" * 31 + "1"
    line.post(f"/twilio/callback/status?entry={entry_id}", {"CallSid": leg, "CallStatus": "no-answer"})
    with app.app_context():
        assert attempts(entry_id) == []
        assert db.session.get(Callback, entry_id).dial_sid is None
    page = client.get("/calls/callbacks").get_data(as_text=True)
    assert "您的电话未接听（no-answer），未呼叫来电人。" in page  # kept in the hotline's language
    # a bridge or done webhook for a dial that is over (or an unknown entry) changes nothing
    stale = line.post(f"/twilio/callback/bridge?entry={entry_id}", {"CallSid": leg})
    assert "<Hangup />" in stale.get_data(as_text=True)
    assert line.post("/twilio/callback/done?entry=999", {"CallSid": leg, "DialCallStatus": "completed"}).status_code == 200
    with app.app_context():
        assert attempts(entry_id) == []


def test_twilio_refusing_the_call_is_shown_and_nothing_is_logged(app, line, users, login):
    with app.app_context():
        entry_id = missed(line)
    client = operator_client(app, login)
    line.http.answers = [twilio_error(400, 21215, "Account not authorized to call +8613900000005")]
    page = dial(client, entry_id).get_data(as_text=True)
    assert "Twilio did not place the call" in page and "not authorized" in page
    with app.app_context():
        entry = db.session.get(Callback, entry_id)
        assert entry.dial_sid is None and "not authorized" in entry.dial_error
        assert attempts(entry_id) == []


def test_an_operator_without_a_phone_is_told_so(app, line, users, login):
    with app.app_context():
        entry_id = missed(line)
    client = operator_client(app, login, phone=None)
    page = dial(client, entry_id).get_data(as_text=True)
    assert "Your account has no phone number" in page and line.http.requests == []
