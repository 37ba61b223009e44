"""Telephony webhooks: signatures, the TwiML of each branch, calls, voicemail cases and the call-back list.

Every webhook request is signed with twilio's RequestValidator for the exact URL and parameters, as
Twilio signs it; the clock is moved with the `clock` fixture.
"""
from __future__ import annotations

import re

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from conftest import get_user, local
from hotline.cases import service as cases
from hotline.audit.models import CaseView
from hotline.auth.models import User
from hotline.cases.models import Case, CaseEvent
from hotline.cases.signals import Origin
from hotline.extensions import db
from hotline.notify.models import Notice
from hotline.telephony import callbacks, figures, parsing
from hotline.telephony.models import Call, Callback, CallbackAttempt, InboundSms
from twilio_http import RecordingHttpClient

TOKEN = "secret-token"
PUBLIC = "https://hotline.example.org"
CALLER = "+8613812345678"
HOTLINE = "+8651212351"

GREETING_OPEN = "您好，这里是12351职工服务热线。正在为您转接接线员，请稍候。"
QUEUE_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    f'<Say language="zh-CN">{GREETING_OPEN}</Say>'
    f'<Enqueue action="{PUBLIC}/twilio/voice/queue" method="POST" waitUrl="{PUBLIC}/twilio/voice/wait" '
    'waitUrlMethod="POST">12351</Enqueue></Response>'
)


def voicemail_twiml(text: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Say language="zh-CN">{text}</Say>'
        f'<Record action="{PUBLIC}/twilio/voice/recorded" finishOnKey="#" maxLength="120" method="POST" '
        f'playBeep="true" recordingStatusCallback="{PUBLIC}/twilio/recording" '
        'recordingStatusCallbackEvent="completed absent" recordingStatusCallbackMethod="POST" timeout="10" '
        'trim="trim-silence" />'
        '<Say language="zh-CN">没有收到您的留言。欢迎在工作时间再次来电，再见。</Say><Hangup /></Response>'
    )


class Twilio:
    """Posts webhooks the way Twilio does: form-encoded, signed for the public URL with the auth token."""

    def __init__(self, app, http: RecordingHttpClient):
        self.app = app
        self.http = http
        self.client = app.test_client()

    def post(self, path: str, params: dict, *, sign_url: str | None = None, sign_params: dict | None = None,
             token: str = TOKEN, signature: str | None = None, **kw):
        params = {k: str(v) for k, v in params.items()}
        if signature is None:
            signed = sign_params if sign_params is not None else params
            signature = RequestValidator(token).compute_signature(sign_url or PUBLIC + path, signed)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        return self.client.post(path, data=params, headers=headers, **kw)

    def ring(self, sid: str = "CA1", caller: str = CALLER):
        return self.post("/twilio/voice", {"CallSid": sid, "AccountSid": "AC" + "1" * 32, "From": caller,
                                           "To": HOTLINE, "CallStatus": "ringing", "Direction": "inbound"})

    def answer(self, sid: str = "CA1", queue_time: int = 12, operator=None):
        path = "/twilio/voice/bridged" + (f"?operator={operator}" if operator else "")
        return self.post(path, {"CallSid": sid, "QueueTime": queue_time, "QueueSid": "QU1",
                                "DequeingCallSid": "CAagent"})

    def left(self, sid: str = "CA1", result: str = "hangup", queue_time: int = 30):
        return self.post("/twilio/voice/queue", {"CallSid": sid, "QueueResult": result, "QueueTime": queue_time,
                                                 "QueueSid": "QU1"})

    def status(self, sid: str = "CA1", status: str = "completed", duration: int = 60, **extra):
        return self.post("/twilio/voice/status", {"CallSid": sid, "CallStatus": status, "CallDuration": duration,
                                                  **extra})

    def recording(self, sid: str = "CA1", seconds: int = 35, rec: str = "RE1", status: str = "completed"):
        return self.post("/twilio/recording", {
            "CallSid": sid, "RecordingSid": rec, "RecordingStatus": status, "RecordingDuration": seconds,
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Recordings/{rec}"})

    def sms(self, body: str, caller: str = CALLER, sid: str = "SM1"):
        return self.post("/twilio/sms", {"MessageSid": sid, "From": caller, "To": HOTLINE, "Body": body})


@pytest.fixture
def line(app):
    http = RecordingHttpClient()
    app.config.update(TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_FROM="+15005550006",
                      TWILIO_MESSAGING_SERVICE_SID=None, HOTLINE_PUBLIC_URL=PUBLIC)
    app.extensions["twilio_http_client"] = http
    yield Twilio(app, http)
    app.extensions.pop("twilio_http_client", None)
    app.config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None, TWILIO_FROM=None, HOTLINE_PUBLIC_URL=None,
                      HOTLINE_ENV="test")


def calls() -> list[Call]:
    db.session.expire_all()
    return list(db.session.scalars(select(Call).order_by(Call.id)))


def call(sid: str = "CA1") -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.call_sid == sid))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def stored() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(count(m) for m in (Call, Case, InboundSms, Callback, Notice, CaseEvent))


def entries() -> list[Callback]:
    db.session.expire_all()
    return list(db.session.scalars(select(Callback).order_by(Callback.id)))


# ---------------------------------------------------------------- signatures

WEBHOOKS = ["/twilio/voice", "/twilio/voice/status", "/twilio/voice/wait", "/twilio/voice/queue",
            "/twilio/voice/dial", "/twilio/voice/bridged", "/twilio/voice/agent", "/twilio/voice/recorded",
            "/twilio/recording", "/twilio/sms"]
FULL = {"CallSid": "CA9", "MessageSid": "SM9", "From": CALLER, "To": HOTLINE, "CallStatus": "completed",
        "CallDuration": "30", "Body": "1", "QueueResult": "hangup", "QueueTime": "5", "DialCallStatus": "busy",
        "RecordingSid": "RE9", "RecordingStatus": "completed", "RecordingDuration": "20",
        "RecordingUrl": "https://api.twilio.com/x/RE9"}


@pytest.mark.parametrize("path", WEBHOOKS)
def test_forged_missing_and_tampered_signatures_get_403_and_store_nothing(app, line, path):
    with app.app_context():
        before = stored()
        forged = line.post(path, FULL, token="not-the-token")
        missing = line.post(path, FULL, signature="")
        tampered = line.post(path, {**FULL, "From": "+8613900000000"}, sign_params=FULL)
        other_url = line.post(path, FULL, sign_url=PUBLIC + "/twilio/elsewhere")
        extra_param = line.post(path, {**FULL, "Extra": "x"}, sign_params=FULL)
        for resp in (forged, missing, tampered, other_url, extra_param):
            assert resp.status_code == 403, (path, resp.status_code)
            assert "not signed by Twilio" in resp.get_data(as_text=True)
        assert stored() == before
        assert line.post(path, FULL).status_code in (200, 204)  # the same request, signed: accepted


def test_without_a_public_url_the_request_url_is_what_is_signed(app, line):
    app.config["HOTLINE_PUBLIC_URL"] = None
    with app.app_context():
        params = {"CallSid": "CA1", "From": CALLER}
        assert line.post("/twilio/voice", params).status_code == 403  # signed for the public URL
        resp = line.post("/twilio/voice", params, sign_url="http://localhost/twilio/voice")
        assert resp.status_code == 200
        assert '<Enqueue action="http://localhost/twilio/voice/queue"' in resp.get_data(as_text=True)


def test_behind_a_proxy_proxyfix_restores_the_url_twilio_called(backend):
    """HOTLINE_PROXY_FIX=1: X-Forwarded-Proto/Host give back https://public.example.org as Twilio saw it."""
    from hotline import create_app

    _name, base_app, _snapshot = backend
    app = create_app({"HOTLINE_ENV": "test", "SQLALCHEMY_DATABASE_URI": base_app.config["SQLALCHEMY_DATABASE_URI"],
                      "SECRET_KEY": "test-" + "k" * 40, "HOTLINE_PROXY_FIX": 1, "TWILIO_AUTH_TOKEN": TOKEN})
    try:
        client = app.test_client()
        params = {"CallSid": "CAproxy", "From": CALLER}
        signature = RequestValidator(TOKEN).compute_signature("https://public.example.org/twilio/voice/wait", params)
        proxied = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https", "X-Forwarded-Host":
                   "public.example.org", "X-Forwarded-For": "54.172.60.1"}
        assert client.post("/twilio/voice/wait", data=params, headers=proxied).status_code == 200
        direct = {"X-Twilio-Signature": signature}
        assert client.post("/twilio/voice/wait", data=params, headers=direct).status_code == 403
    finally:
        with app.app_context():
            db.engine.dispose()


def test_production_without_an_auth_token_refuses_every_webhook(app, line, caplog):
    app.config.update(TWILIO_AUTH_TOKEN=None, HOTLINE_ENV="production")
    with app.app_context():
        resp = line.ring()  # signed with the development token would not help either
        dev = line.post("/twilio/voice", {"CallSid": "CA2", "From": CALLER}, token="development-only-twilio-token")
        assert resp.status_code == dev.status_code == 403
        assert calls() == []
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text


def test_webhooks_need_no_csrf_token_but_pages_do(app, line, users, login):
    with app.app_context():
        assert app.config["WTF_CSRF_ENABLED"]
        assert line.ring().status_code == 200
        client = login(app.test_client(), "operator")
        assert client.post("/calls/CA1/take").status_code == 400  # no CSRF token on a page form


# ---------------------------------------------------------------- TwiML of each branch

def test_office_hours_greeting_then_the_operators_queue(app, line):
    with app.app_context():
        resp = line.ring()
        assert resp.status_code == 200 and resp.mimetype == "text/xml"
        assert resp.get_data(as_text=True) == QUEUE_TWIML
        [row] = calls()
        assert (row.call_sid, row.from_phone, row.route, row.status, row.direction) == (
            "CA1", CALLER, "queue", "ringing", "inbound")
        assert row.started_at == local(2026, 11, 30, 10, 0)


@pytest.mark.parametrize("moment", [
    local(2026, 11, 30, 17, 30),  # closing time
    local(2026, 11, 30, 7, 59),  # before opening
    local(2026, 12, 5, 10, 0),  # Saturday
    local(2026, 10, 1, 10, 0),  # National Day
], ids=["closing-time", "early", "saturday", "holiday"])
def test_after_hours_a_chinese_greeting_and_a_recording(app, line, clock, moment):
    from hotline.telephony.settings import DEFAULTS

    clock.set(moment)
    with app.app_context():
        body = line.ring().get_data(as_text=True)
        assert body == voicemail_twiml(DEFAULTS["say_greeting_closed"])
        assert call().route == "voicemail"


def test_a_make_up_saturday_is_a_working_day(app, line, clock):
    clock.set(local(2026, 2, 28, 9, 0))  # 调休上班
    with app.app_context():
        assert "<Enqueue" in line.ring().get_data(as_text=True)


def test_a_retried_voice_webhook_answers_the_same_and_stores_one_call(app, line, clock):
    with app.app_context():
        first = line.ring().get_data(as_text=True)
        clock.set(local(2026, 11, 30, 18, 0))  # the retry arrives after closing: still the first answer
        assert line.ring().get_data(as_text=True) == first
        assert len(calls()) == 1


def test_waiting_music_then_leave_for_voicemail_after_the_longest_wait(app, line):
    from hotline.telephony.settings import DEFAULTS, TWILIO_HOLD_MUSIC

    with app.app_context():
        line.ring()
        wait = line.post("/twilio/voice/wait", {"CallSid": "CA1", "QueueTime": "30", "QueuePosition": "2"})
        assert wait.get_data(as_text=True) == (
            '<?xml version="1.0" encoding="UTF-8"?><Response>'
            f'<Say language="zh-CN">{DEFAULTS["say_wait"]}</Say><Play>{TWILIO_HOLD_MUSIC}</Play></Response>')
        done = line.post("/twilio/voice/wait", {"CallSid": "CA1", "QueueTime": "120"}).get_data(as_text=True)
        assert done == '<?xml version="1.0" encoding="UTF-8"?><Response><Leave /></Response>'
        left = line.left(result="leave", queue_time=120).get_data(as_text=True)
        assert left == voicemail_twiml(DEFAULTS["say_busy"])
        row = call()
        assert (row.route, row.queue_result, row.wait_seconds) == ("voicemail", "leave", 120)


def test_dial_mode_rings_a_number_and_falls_back_to_voicemail(app, line):
    from hotline.telephony.settings import DEFAULTS

    with app.app_context():
        from hotline.telephony import settings as line_settings

        line_settings.get().dial_to = "+8651265230000"
        db.session.commit()
        body = line.ring().get_data(as_text=True)
        assert body == ('<?xml version="1.0" encoding="UTF-8"?><Response>'
                        f'<Say language="zh-CN">{GREETING_OPEN}</Say>'
                        f'<Dial action="{PUBLIC}/twilio/voice/dial" method="POST" timeout="120">'
                        '<Number>+8651265230000</Number></Dial></Response>')
        busy = line.post("/twilio/voice/dial", {"CallSid": "CA1", "DialCallStatus": "no-answer"})
        assert busy.get_data(as_text=True) == voicemail_twiml(DEFAULTS["say_busy"])
        line.ring("CA2")
        done = line.post("/twilio/voice/dial", {"CallSid": "CA2", "DialCallStatus": "completed",
                                                "DialCallDuration": "95"})
        assert done.get_data(as_text=True) == '<?xml version="1.0" encoding="UTF-8"?><Response />'
        line.status("CA2", duration=110)
        row = call("CA2")
        assert (row.status, row.talk_seconds, row.answered_at) == ("answered", 95, local(2026, 11, 30, 9, 58, 25))


def test_an_operators_phone_dequeues_the_next_caller(app, line, users):
    with app.app_context():
        get_user("operator").phone = "+8613900000001"
        db.session.commit()
        operator_id = get_user("operator").id
        by_phone = line.post("/twilio/voice/agent", {"CallSid": "CAagent1", "From": "+8613900000001"})
        by_client = line.post("/twilio/voice/agent", {"CallSid": "CAagent2", "From": "client:operator"})
        expected = ('<?xml version="1.0" encoding="UTF-8"?><Response><Dial>'
                    f'<Queue method="POST" url="{PUBLIC}/twilio/voice/bridged?operator={operator_id}">12351</Queue>'
                    '</Dial></Response>')
        assert by_phone.get_data(as_text=True) == by_client.get_data(as_text=True) == expected
        stranger = line.post("/twilio/voice/agent", {"CallSid": "CAx", "From": "client:handler"})
        assert stranger.get_data(as_text=True) == (
            '<?xml version="1.0" encoding="UTF-8"?><Response>'
            '<Say language="zh-CN">此号码只供接线员使用，再见。</Say><Hangup /></Response>')
        # The operators' own legs are kept apart from callers' calls.
        assert {c.call_sid: c.direction for c in calls()} == {"CAagent1": "agent", "CAagent2": "agent"}
        line.status("CAagent1")
        assert figures.calls_on(local(2026, 11, 30, 0, 0).date()) == []


def test_settings_change_the_office_hours_without_code(app, line, users, login, clock):
    client = login(app.test_client(), "admin")
    page = client.get("/calls/settings").get_data(as_text=True)
    from conftest import csrf_from
    from hotline.telephony.settings import DEFAULTS

    form = {k: ("1" if v is True else "" if v in (None, False) else str(v)) for k, v in DEFAULTS.items()}
    form.update(csrf_token=csrf_from(page), close_time="20:00", open_days="every_day",
                say_greeting_open="您好，12351。")
    assert client.post("/calls/settings", data=form).status_code == 302
    clock.set(local(2026, 12, 5, 19, 0))  # a Saturday evening: open now
    with app.app_context():
        body = line.ring().get_data(as_text=True)
        assert '<Say language="zh-CN">您好，12351。</Say><Enqueue' in body


# ---------------------------------------------------------------- a call that is answered

def test_answered_call_records_wait_talk_operator_and_goes_on_the_case(app, line, users, clock, login):
    with app.app_context():
        operator = get_user("operator")
        line.ring()
        clock.set(local(2026, 11, 30, 10, 0, 20))
        assert line.answer(queue_time=12, operator=operator.id).get_data(as_text=True) == (
            '<?xml version="1.0" encoding="UTF-8"?><Response />')
        row = call()
        assert (row.status, row.wait_seconds, row.operator_id, row.answered_at) == (
            "in_progress", 12, operator.id, local(2026, 11, 30, 10, 0, 20))
        case = cases.register(operator, {"type": "consult", "category": "wages", "summary": "欠薪",
                                         "caller": {"phone": CALLER}}, origin=Origin(call_sid="CA1"))
        db.session.commit()
        assert call().case_id == case.id
        clock.set(local(2026, 11, 30, 10, 4, 20))
        line.left(result="bridged", queue_time=12)
        line.status(duration=260)
        line.status(duration=260)  # Twilio retried the callback
        row = call()
        assert (row.status, row.talk_seconds, row.ended_at, row.twilio_status) == (
            "answered", 240, local(2026, 11, 30, 10, 4, 20), "completed")
        events = [e for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                                        CaseEvent.kind == "call"))]
        assert len(events) == 1
        assert events[0].data == {"call": "CA1", "wait_seconds": 12, "talk_seconds": 240}
        assert events[0].actor_id == operator.id
        assert entries() == []  # an answered call needs no call-back
        case_no = case.case_no
    page = login(app.test_client(), "supervisor").get(f"/cases/{case_no}").get_data(as_text=True)
    assert "Phone call" in page and "Talk time (s):</span> 240" in page and "Waiting time (s):</span> 12" in page


def test_the_operator_takes_a_ringing_call_from_the_page(app, line, users, login, clock):
    from conftest import csrf_from

    with app.app_context():
        cases.register(get_user("operator2"), {"type": "consult", "category": "wages", "summary": "上次的欠薪问题",
                                               "caller": {"phone": CALLER}})
        db.session.commit()
        line.ring()
    client = login(app.test_client(), "operator")
    page = client.get("/cases/new").get_data(as_text=True)
    assert 'data-live-url="/calls/live"' in page and 'name="sms_receipt"' in page
    live = client.get("/calls/live").get_json()
    [item] = live["calls"]
    assert (item["from"], item["status"], item["cases"], item["open_count"]) == ("13812345678", "ringing", 1, 1)
    assert item["open_cases"] == [{"case_no": "20261130-0001", "summary": "上次的欠薪问题"}]
    assert item["take_url"] == "/calls/CA1/take"
    clock.set(local(2026, 11, 30, 10, 0, 9))
    resp = client.post(item["take_url"], data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/cases/new?phone=13812345678&channel=hotline&call=CA1"
    form_page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert '<input type="hidden" name="call_sid" value="CA1">' in form_page
    assert 'value="13812345678"' in form_page  # as operators type it
    resp = client.post("/cases/new", data={
        "csrf_token": csrf_from(form_page), "phone": "+8613812345678", "channel": "hotline", "type": "consult",
        "category": "wages", "summary": "又来问欠薪", "outcome": "register", "call_sid": "CA1", "sms_receipt": "1"})
    assert resp.status_code == 302
    with app.app_context():
        row = call()
        assert (row.status, row.operator.username, row.answer_source, row.wait_seconds) == (
            "in_progress", "operator", "operator", 9)
        assert row.case.case_no == "20261130-0002"
        # Twilio's own word on the answer replaces the click.
        line.answer(queue_time=3, operator=get_user("operator").id)
        assert (call().answer_source, call().wait_seconds) == ("twilio", 3)
    live = client.get("/calls/live").get_json()["calls"][0]
    assert (live["status"], live["mine"], live["case_no"]) == ("in_progress", True, "20261130-0002")


def test_a_call_taken_by_one_operator_cannot_be_taken_by_another(app, line, users, login):
    from conftest import csrf_from

    with app.app_context():
        line.ring()
    first = login(app.test_client(), "operator")
    token = csrf_from(first.get("/cases/new").get_data(as_text=True))
    assert first.post("/calls/CA1/take", data={"csrf_token": token}).status_code == 302
    second = login(app.test_client(), "operator2")
    token2 = csrf_from(second.get("/cases/new").get_data(as_text=True))
    resp = second.post("/calls/CA1/take", data={"csrf_token": token2}, follow_redirects=True)
    assert "Operator has already taken this call." in resp.get_data(as_text=True)
    item = second.get("/calls/live").get_json()["calls"][0]
    assert item["operator"] == "Operator" and "take_url" not in item
    missing = second.post("/calls/CAnone/take", data={"csrf_token": token2}, follow_redirects=True)
    assert "Call not found." in missing.get_data(as_text=True)


def test_live_calls_json_masks_numbers_for_producers_and_answers_304_when_unchanged(app, line, users, login):
    with app.app_context():
        line.ring()
        line.ring("CA2", caller="anonymous")
    producer = login(app.test_client(), "producer")
    resp = producer.get("/calls/live")
    body = resp.get_json()
    assert [c["from"] for c in body["calls"]] == ["138****5678", "Withheld number"]
    assert all("take_url" not in c for c in body["calls"]) and body["open"] is True
    again = producer.get("/calls/live", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    with app.app_context():
        line.status("CA2", duration=20)  # the anonymous caller hung up: the list changed
    changed = producer.get("/calls/live", headers={"If-None-Match": resp.headers["ETag"]})
    assert changed.status_code == 200 and len(changed.get_json()["calls"]) == 1
    handler = login(app.test_client(), "handler")
    assert handler.get("/calls/live").status_code == 403
    assert producer.post("/calls/CA1/take").status_code in (400, 403)


# ---------------------------------------------------------------- missed and abandoned calls: the call-back list

def test_five_abandoned_calls_from_one_caller_today_are_one_call_back_entry(app, line, clock):
    with app.app_context():
        for n in range(5):
            clock.set(local(2026, 11, 30, 10, 10 * n))
            line.ring(f"CA{n}")
            clock.set(local(2026, 11, 30, 10, 10 * n, 40))
            line.left(f"CA{n}", result="hangup", queue_time=32)
            line.status(f"CA{n}", duration=40)
        clock.set(local(2026, 12, 1, 9, 0))
        line.ring("CAnext")
        line.status("CAnext", duration=5)
        [today, tomorrow] = entries()
        assert (today.phone, today.day.isoformat(), today.calls, today.status) == (CALLER, "2026-11-30", 5, "open")
        assert (today.first_call_at, today.last_call_at) == (local(2026, 11, 30, 10, 0), local(2026, 11, 30, 10, 40))
        assert (tomorrow.day.isoformat(), tomorrow.calls) == ("2026-12-01", 1)
        assert {c.status for c in calls()} == {"abandoned"}
        assert call("CA0").wait_seconds == 32


def test_call_backs_are_logged_until_done(app, line, users, login, clock):
    from conftest import csrf_from

    with app.app_context():
        line.ring()
        line.status(duration=30)
        line.ring("CA2", caller="+8613900000009")
        line.status("CA2", duration=30)
        line.ring("CA3", caller="anonymous")
        line.status("CA3", duration=30)  # nobody can call a withheld number back
        first, second = entries()
    client = login(app.test_client(), "operator")
    page = client.get("/calls/callbacks").get_data(as_text=True)
    assert "13812345678" in page and "13900000009" in page and "Withheld number" not in page
    token = csrf_from(page)
    for n in range(3):
        clock.set(local(2026, 11, 30, 11 + n, 0))
        resp = client.post(f"/calls/callbacks/{first.id}/attempt", data={"csrf_token": token, "outcome": "no_answer",
                                                                         "note": f"第{n + 1}次无人接听"},
                           follow_redirects=True)
        assert resp.status_code == 200
    assert "Call-back done: Not reachable." in resp.get_data(as_text=True)
    client.post(f"/calls/callbacks/{second.id}/attempt", data={"csrf_token": token, "outcome": "reached"})
    refused = client.post(f"/calls/callbacks/{second.id}/attempt", data={"csrf_token": token, "outcome": "reached"},
                          follow_redirects=True)
    assert "This call-back is already done." in refused.get_data(as_text=True)
    bad = client.post(f"/calls/callbacks/{first.id}/attempt", data={"csrf_token": token, "outcome": "maybe"},
                      follow_redirects=True)
    assert "Choose how the call-back went." in bad.get_data(as_text=True) or "already done" in bad.get_data(as_text=True)
    with app.app_context():
        first, second = entries()
        assert (first.status, first.outcome, first.attempts) == ("done", "unreachable", 3)
        assert (second.status, second.outcome, second.attempts) == ("done", "reached", 1)
        assert count(CallbackAttempt) == 4
    done = client.get("/calls/callbacks?show=done").get_data(as_text=True)
    assert "第3次无人接听" in done and "Reached the caller" in done
    assert "Nobody is waiting for a call-back." in client.get("/calls/callbacks").get_data(as_text=True)


def test_a_call_back_becomes_a_case(app, line, users, login):
    from conftest import csrf_from

    with app.app_context():
        line.ring()
        line.status(duration=30)
        [entry] = entries()
    client = login(app.test_client(), "operator")
    page = client.get("/calls/callbacks").get_data(as_text=True)
    link = f"/cases/new?phone=13812345678&amp;channel=hotline&amp;callback={entry.id}"
    assert link in page
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert f'<input type="hidden" name="callback_id" value="{entry.id}">' in form
    resp = client.post("/cases/new", data={"csrf_token": csrf_from(form), "phone": "13812345678", "type": "help",
                                           "category": "hardship", "summary": "回拨后登记", "outcome": "register",
                                           "callback_id": str(entry.id)})
    assert resp.status_code == 302
    with app.app_context():
        [entry] = entries()
        assert (entry.status, entry.outcome, entry.case.case_no, entry.attempts) == (
            "done", "case", "20261130-0001", 1)
    assert "20261130-0001" in client.get("/calls/callbacks?show=done").get_data(as_text=True)


def test_a_caller_who_gets_through_later_needs_no_call_back(app, line, users, clock):
    with app.app_context():
        line.ring()
        line.left(result="hangup")
        line.status(duration=40)
        clock.set(local(2026, 11, 30, 11, 0))
        line.ring("CA2")
        line.answer("CA2", queue_time=5, operator=get_user("operator").id)
        [entry] = entries()
        assert (entry.status, entry.outcome) == ("done", "called_again")
        clock.set(local(2026, 11, 30, 15, 0))  # missed again in the afternoon: back on the list
        line.ring("CA3")
        line.status("CA3", duration=10)
        [entry] = entries()
        assert (entry.status, entry.calls) == ("open", 2)


# ---------------------------------------------------------------- voicemail

def test_a_voicemail_becomes_a_case_registered_by_the_system(app, line, clock):
    from hotline.telephony.settings import DEFAULTS

    clock.set(local(2026, 11, 30, 20, 0))  # Monday evening
    with app.app_context():
        line.ring()
        clock.set(local(2026, 11, 30, 20, 1))
        thanks = line.post("/twilio/voice/recorded", {"CallSid": "CA1", "RecordingDuration": "42",
                                                      "RecordingSid": "RE1", "RecordingUrl": "https://x/RE1"})
        assert thanks.get_data(as_text=True) == (
            '<?xml version="1.0" encoding="UTF-8"?><Response>'
            f'<Say language="zh-CN">{DEFAULTS["say_thanks"]}</Say><Hangup /></Response>')
        assert line.recording(seconds=42).status_code == 204
        assert line.recording(seconds=42).status_code == 204  # retried: still one case
        line.status(duration=75)
        [case] = db.session.scalars(select(Case)).all()
        assert (case.channel, case.type_code, case.category.code, case.caller_phone, case.registered_by_id) == (
            "voicemail", "consult", "other", CALLER, None)
        assert case.status == "registered"
        # The raw Twilio URL is never in the case text: the recording is kept and played on the case page.
        assert "http" not in case.detail and "RE1" not in case.detail
        assert "请在工单页面收听录音" in case.detail  # case data: in the hotline's language
        assert "42" in case.summary and "13812345678" not in case.summary  # no number in system text
        # Registered Monday evening: 2 working days for a consultation, counted from Tuesday.
        assert case.reply_due_at == local(2026, 12, 2, 17, 30)
        register = case.events[0]
        assert (register.kind, register.actor_id, register.data["via"]) == ("register", None, "telephony")
        row = call()
        assert (row.status, row.case_id, row.recording_seconds, row.wait_seconds) == ("voicemail", case.id, 42, None)
        assert entries() == []
        [receipt] = db.session.scalars(select(Notice).where(Notice.kind == "caller_receipt")).all()
        assert receipt.to_phone == CALLER and receipt.recipient_id is None and receipt.status == "pending"
        assert receipt.body == f"【苏州市总工会】您反映的问题已受理，工单号{case.case_no}，我们将在12月2日17:30前答复您。回复TD退订"
        assert [e.kind for e in case.events] == ["register", "call"]


def test_a_friday_night_voicemail_is_due_by_the_next_working_days(app, line, clock):
    clock.set(local(2026, 12, 4, 22, 30))
    with app.app_context():
        line.ring()
        line.recording(seconds=20)
        [case] = db.session.scalars(select(Case)).all()
        assert case.reply_due_at == local(2026, 12, 8, 17, 30)  # Monday, Tuesday


def test_a_voicemail_arriving_after_the_call_ended_takes_it_off_the_call_back_list(app, line, clock):
    clock.set(local(2026, 11, 30, 20, 0))
    with app.app_context():
        line.ring()
        line.status(duration=60)
        assert [(e.status, e.calls) for e in entries()] == [("open", 1)]
        assert call().status == "missed"
        line.recording(seconds=30)
        assert call().status == "voicemail" and call().case_id is not None
        assert [(e.status, e.outcome, e.calls) for e in entries()] == [("done", "voicemail", 0)]


def test_a_voicemail_from_a_withheld_number_waits_on_the_call_back_list(app, line, clock, users, login):
    clock.set(local(2026, 11, 30, 20, 0))
    with app.app_context():
        line.ring(caller="anonymous")
        line.recording(seconds=25)
        line.status(duration=40)
        assert count(Case) == 0
        [entry] = entries()
        assert (entry.phone, entry.calls) == ("anonymous", 1)
    page = login(app.test_client(), "operator").get("/calls/callbacks").get_data(as_text=True)
    assert "Withheld number" in page and re.search(r'href="/calls/recordings/\d+/audio"', page) and "Voicemail 25 s" in page
    assert "api.twilio.com" not in page


def test_no_recording_means_no_case_and_a_call_back(app, line, clock):
    clock.set(local(2026, 11, 30, 20, 0))
    with app.app_context():
        line.ring()
        assert line.recording(status="absent", seconds=0).status_code == 204
        line.status(duration=15)
        assert count(Case) == 0
        assert call().status == "missed" and len(entries()) == 1


# ---------------------------------------------------------------- bad input

def test_an_unknown_call_sid_on_a_status_callback_is_stored(app, line, users, login):
    with app.app_context():
        assert line.status("CAghost", duration=42, From="+8613700000000").status_code == 204
        row = call("CAghost")
        assert (row.unknown, row.status, row.route, row.from_phone) == (True, "missed", None, "+8613700000000")
        assert row.started_at == local(2026, 11, 30, 9, 59, 18)
        assert len(entries()) == 1  # the caller never reached us: call them back
    page = login(app.test_client(), "supervisor").get("/calls").get_data(as_text=True)
    assert "Unknown call" in page and "13700000000" in page


def test_missing_fields_are_refused_or_tolerated_without_crashing(app, line):
    with app.app_context():
        before = stored()
        no_sid = line.post("/twilio/voice", {"From": CALLER})
        assert no_sid.status_code == 400 and no_sid.get_data(as_text=True) == "Bad request: missing CallSid\n"
        assert line.post("/twilio/voice/status", {"CallStatus": "completed"}).status_code == 400
        assert line.post("/twilio/sms", {"From": CALLER, "Body": "1"}).status_code == 400
        assert line.post("/twilio/recording", {}).status_code == 400
        assert stored() == before
        # No From: a withheld caller. No status: nothing changes. Garbage numbers: ignored.
        assert line.post("/twilio/voice", {"CallSid": "CA1"}).status_code == 200
        assert call().from_phone == "anonymous"
        assert line.post("/twilio/voice/status", {"CallSid": "CA1"}).status_code == 204
        assert line.post("/twilio/voice/queue", {"CallSid": "CA1", "QueueTime": "soon"}).status_code == 200
        assert line.post("/twilio/voice/bridged?operator=abc", {"CallSid": "CA1", "QueueTime": "-5"}).status_code == 200
        row = call()
        assert row.status == "in_progress" and row.operator_id is None and row.wait_seconds == 0
        assert line.post("/twilio/voice/wait", {"CallSid": "CA1", "QueueTime": "x" * 50}).status_code == 200


@pytest.mark.parametrize("raw", ["anonymous", "Anonymous", "+266696687", "restricted", "", "client:alice",
                                 "not a number", "+86123"])
def test_withheld_or_unusable_caller_numbers_are_anonymous(app, line, raw):
    with app.app_context():
        assert line.ring(caller=raw).status_code == 200
        assert call().from_phone == "anonymous"
        assert call().from_raw == raw


# ---------------------------------------------------------------- the log, the API and the figures

def _a_day(line, clock, operator_id):
    """Ten calls on Monday 2026-11-30: answered quickly and slowly, abandoned, missed, voicemail."""
    plan = [("A1", 10, 8), ("A2", 11, 15), ("A3", 12, 16), ("A4", 13, 40)]
    for sid, minute, wait in plan:
        clock.set(local(2026, 11, 30, 10, minute))
        line.ring(sid, caller=f"+86138000000{minute}")
        clock.set(local(2026, 11, 30, 10, minute, wait + 8))
        line.answer(sid, queue_time=wait, operator=operator_id)
        clock.set(local(2026, 11, 30, 10, minute + 3))
        line.left(sid, result="bridged", queue_time=wait)
        line.status(sid, duration=180)
    for sid, minute in (("B1", 20), ("B2", 21), ("B3", 22)):
        clock.set(local(2026, 11, 30, 10, minute))
        line.ring(sid, caller="+8613900000001" if sid != "B3" else "anonymous")
        clock.set(local(2026, 11, 30, 10, minute, 50))
        line.left(sid, result="hangup", queue_time=42)
        line.status(sid, duration=50)
    clock.set(local(2026, 11, 30, 19, 0))
    line.ring("V1", caller="+8613700000002")
    line.recording("V1", seconds=30)
    line.status("V1", duration=60)
    clock.set(local(2026, 11, 30, 21, 0))
    line.ring("M1", caller="+8613700000003")
    line.status("M1", duration=5)
    clock.set(local(2026, 12, 1, 9, 0))
    line.ring("D2", caller="+8613700000004")  # the next day: not counted


def test_call_figures_for_the_reports(app, line, users, clock):
    with app.app_context():
        operator = get_user("operator")
        _a_day(line, clock, operator.id)
        [b, m] = [e for e in entries() if e.phone in ("+8613900000001", "+8613700000003")]
        clock.set(local(2026, 11, 30, 22, 0))
        callbacks.log_attempt(operator, b.id, "no_answer")
        callbacks.log_attempt(operator, b.id, "reached")
        clock.set(local(2026, 12, 1, 9, 30))
        callbacks.log_attempt(operator, m.id, "reached")
        db.session.commit()
        start, end = parsing.day_bounds(local(2026, 11, 30, 0, 0).date())
        assert figures.call_figures(start, end) == {
            "inbound": 9, "answered": 4, "answered_within_15s": 2, "abandoned": 3, "callbacks_done": 2}
        assert figures.status_counts(local(2026, 11, 30, 0, 0).date()) == {
            "answered": 4, "abandoned": 3, "voicemail": 1, "missed": 1}
        assert figures.call_figures(end, end + timedelta(days=1))["callbacks_done"] == 1


def test_call_log_page_filters_by_day_and_status(app, line, users, login, clock):
    with app.app_context():
        _a_day(line, clock, get_user("operator").id)
    clock.set(local(2026, 12, 1, 9, 5))
    client = login(app.test_client(), "supervisor")
    page = client.get("/calls?date=2026-11-30").get_data(as_text=True)
    for text in ("13800000010", "Answered", "Abandoned", "Voicemail", "Missed", "2:44", "Operator", "20261130-0001",
                 "Withheld number", "/calls/recordings/"):
        assert text in page, text
    assert "api.twilio.com" not in page  # the raw Twilio URL is never shown
    assert page.count("<tr class=\"call-") == 9
    only = client.get("/calls?date=2026-11-30&status=abandoned").get_data(as_text=True)
    assert only.count("<tr class=\"call-abandoned\">") == 3 and "call-answered" not in only
    today = client.get("/calls").get_data(as_text=True)
    assert today.count("<tr class=\"call-") == 1 and "13700000004" in today
    bad = client.get("/calls?date=2026-13-01")
    assert bad.status_code == 422 and "is not a date" in bad.get_data(as_text=True)
    admin = login(app.test_client(), "admin").get("/calls?date=2026-11-30").get_data(as_text=True)
    assert "138****0010" in admin and "13800000010" not in admin
    assert login(app.test_client(), "handler").get("/calls").status_code == 403


def test_api_lists_the_calls_of_a_day(app, line, users, api, clock):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    with app.app_context():
        _a_day(line, clock, get_user("operator").id)
    clock.set(local(2026, 12, 1, 10, 0))
    resp = api("supervisor").get("/calls?date=2026-11-30")
    assert resp.status_code == 200
    body = resp.get_json()
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    registry = Registry().with_resource("urn:doc", Resource.from_contents(doc, default_specification=DRAFT202012))
    errors = list(Draft202012Validator({"$ref": "urn:doc#/components/schemas/CallList"}, registry=registry)
                  .iter_errors(body))
    assert errors == []
    assert body["date"] == "2026-11-30" and len(body["items"]) == 9
    first = body["items"][0]
    assert first == {"sid": "A1", "from": "+8613800000010", "status": "answered",
                     "started_at": "2026-11-30T10:10:00+08:00", "answered_at": "2026-11-30T10:10:16+08:00",
                     "ended_at": "2026-11-30T10:13:00+08:00", "wait_seconds": 8, "talk_seconds": 164,
                     "operator": "operator", "case_no": None}
    voicemail = next(i for i in body["items"] if i["sid"] == "V1")
    assert voicemail["status"] == "voicemail" and voicemail["case_no"] == "20261130-0001"
    assert [i["from"] for i in body["items"] if i["sid"] == "B3"] == ["anonymous"]
    assert api("admin").get("/calls?date=2026-11-30").get_json()["items"][0]["from"] == "138****0010"
    assert [i["sid"] for i in api("operator").get("/calls").get_json()["items"]] == ["D2"]
    assert api("handler").get("/calls").status_code == 403
    bad = api("operator").get("/calls?date=30.11.2026&lang=en")
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"] == {"date": "Wrong date format."}
    assert api("operator").get("/calls?day=2026-11-30").status_code == 422
    assert app.test_client().get("/api/v1/calls").status_code == 401


# ---------------------------------------------------------------- a lost status callback

def test_calls_whose_end_was_never_reported_are_asked_of_twilio(app, line, clock):
    """The `calls` job: a call still 'ringing' half an hour later is looked up with Twilio's REST API."""
    from hotline.jobs import run_job
    from twilio_http import twilio_error

    with app.app_context():
        line.ring("CA1")
        line.ring("CA2", caller="+8613900000009")
        line.ring("CA3", caller="+8613900000008")
        clock.set(local(2026, 11, 30, 10, 20))
        line.ring("CA4", caller="+8613900000007")  # young: not asked about
        clock.set(local(2026, 11, 30, 10, 45))
        line.http.answers = [
            (200, {"sid": "CA1", "status": "completed", "duration": "95", "account_sid": "AC" + "1" * 32,
                   "start_time": "Mon, 30 Nov 2026 02:00:00 +0000", "end_time": "Mon, 30 Nov 2026 02:01:35 +0000"}),
            (200, {"sid": "CA2", "status": "in-progress", "duration": None, "account_sid": "AC" + "1" * 32}),
            twilio_error(404, 20404, "The requested resource was not found"),
        ]
        assert run_job("calls") == {"checked": 2, "ended": 2, "failed": 0}
        assert [r["method"] for r in line.http.requests] == ["GET"] * 3
        assert line.http.requests[0]["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Calls/CA1.json"
        one, two, three = call("CA1"), call("CA2"), call("CA3")
        assert (one.status, one.ended_at, one.twilio_status) == ("abandoned", local(2026, 11, 30, 10, 1, 35), "completed")
        assert two.status == "ringing" and two.ended_at is None
        assert (three.status, three.twilio_status) == ("missed", "failed")
        assert {e.phone for e in entries()} == {CALLER, "+8613900000008"}
        line.http.answers = [(503, {"code": 20503, "message": "Unavailable", "status": 503})] * 2
        assert run_job("calls")["failed"] == 1  # asked about CA2 again; Twilio down: next run tries again


def test_the_calls_job_does_nothing_without_twilio_credentials(app):
    from hotline.jobs import run_job

    with app.app_context():
        assert run_job("calls") == {"checked": 0, "ended": 0, "failed": 0}


# ---------------------------------------------------------------- retries arriving at the same time

def test_simultaneous_retries_store_one_call_one_case_one_reply(app, line, users, clock):
    """Twilio's retries can overlap: the unique CallSid / MessageSid and the row lock keep one of each."""
    from concurrent.futures import ThreadPoolExecutor

    clock.set(local(2026, 11, 30, 20, 0))

    def post(args):
        path, params = args
        client = app.test_client()
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
        return client.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code

    ring = ("/twilio/voice", {"CallSid": "CAsame", "From": CALLER})
    recording = ("/twilio/recording", {"CallSid": "CAsame", "RecordingSid": "REsame", "RecordingStatus": "completed",
                                       "RecordingDuration": "30", "RecordingUrl": "https://api.twilio.com/x/REsame"})
    reply = ("/twilio/sms", {"MessageSid": "SMsame", "From": CALLER, "Body": "谢谢"})
    with ThreadPoolExecutor(max_workers=6) as pool:
        for request in (ring, recording, reply):
            assert set(pool.map(post, [request] * 6)) <= {200, 204}
    with app.app_context():
        assert [c.call_sid for c in calls()] == ["CAsame"]
        assert count(Case) == 1 and count(InboundSms) == 1
        assert len([n for n in db.session.scalars(select(Notice)) if n.kind == "caller_receipt"]) == 1


def test_the_call_log_hides_the_number_of_a_confidential_case_from_those_who_do_not_work_it(
        app, line, users, login, api):
    with app.app_context():
        operator = get_user("operator")
        line.ring()
        line.answer(queue_time=3, operator=operator.id)
        cases.register(operator, {"type": "complaint", "category": "wages", "summary": "举报老板，请保密",
                                  "caller": {"phone": CALLER}, "confidential": True},
                       origin=Origin(call_sid="CA1"))
        db.session.commit()
    shown, masked = "13812345678", "138****5678"
    registrar = login(app.test_client(), "operator").get("/calls?date=2026-11-30").get_data(as_text=True)
    assert shown in registrar
    colleague = login(app.test_client(), "operator2").get("/calls?date=2026-11-30").get_data(as_text=True)
    assert shown not in colleague and masked in colleague
    supervisor = login(app.test_client(), "supervisor").get("/calls?date=2026-11-30").get_data(as_text=True)
    assert shown in supervisor
    # The API's call list follows the same rule (it gives numbers in E.164).
    [item] = api("operator2").get("/calls?date=2026-11-30").get_json()["items"]
    assert (item["from"], item["case_no"] is not None) == (masked, True)
    [item] = api("operator").get("/calls?date=2026-11-30").get_json()["items"]
    assert item["from"] == CALLER
    # Seeing the number is seeing the confidential caller: the registrar's and the supervisor's page views and
    # the registrar's API read are in the audit; the colleague, shown a masked number, is not.
    with app.app_context():
        seen = sorted((db.session.get(User, v.user_id).username, v.via, v.page)
                      for v in db.session.scalars(select(CaseView)))
    assert seen == [("operator", "api", "api.list_calls"), ("operator", "web", "telephony.calls"),
                    ("supervisor", "web", "telephony.calls")]
