"""The station line reaches the studio: console moves drive the callers' live calls through the real
twilio.rest.Client (calls(sid).update with TwiML, calls.create for the producer's phone), recorded by the
project's Twilio stand-in; a refused REST call is shown on the console and retried, never lost."""
from __future__ import annotations

from urllib.parse import unquote

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from conftest import csrf_from, get_user, local
from hotline.extensions import db
from hotline.jobs import run_job
from hotline.radio.models import CallIn
from hotline.telephony import settings as line_settings
from radio.test_radio import producer, show  # noqa: F401  (fixtures)
from twilio_http import RecordingHttpClient, twilio_error

TOKEN = "secret-token"
PUBLIC = "https://hotline.example.org"
ACCOUNT = "AC" + "1" * 32
STUDIO = "sip:studio@hybrid.fm.example.org"
PRODUCER_PHONE = "+8613900000009"
CALLS = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls"


@pytest.fixture
def station(app, show):
    http = RecordingHttpClient()
    app.config.update(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_FROM="+8651263000000",
                      HOTLINE_PUBLIC_URL=PUBLIC)
    app.extensions["twilio_http_client"] = http
    with app.app_context():
        get_user("producer").phone = PRODUCER_PHONE
        line_settings.get().studio_line = STUDIO
        db.session.commit()
    yield http
    app.extensions.pop("twilio_http_client", None)
    app.config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None, TWILIO_FROM=None, HOTLINE_PUBLIC_URL=None)


def ring(app, sid: str, phone: str):
    params = {"CallSid": sid, "From": phone, "To": "+8651263000000", "CallStatus": "ringing"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/radio/twilio/voice", params)
    resp = app.test_client().post("/radio/twilio/voice", data=params, headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 200 and "<Enqueue>radio-gonghui_zhisheng</Enqueue>" in resp.get_data(as_text=True)


def row(sid: str) -> CallIn:
    db.session.expire_all()
    return db.session.scalar(select(CallIn).where(CallIn.call_sid == sid))


def move(client, app, sid: str, action: str):
    with app.app_context():
        callin = row(sid)
        callin_id, version = callin.id, callin.version
    token = csrf_from(client.get(f"/radio/episodes/{callin.episode_id}").get_data(as_text=True))
    resp = client.post(f"/radio/callins/{callin_id}/{action}", data={"csrf_token": token, "version": version})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


def transcript(http: RecordingHttpClient, start: int = 0) -> list[str]:
    """Each REST request as one line: which call, and the TwiML or status sent."""
    lines = []
    for req in http.requests[start:]:
        target = req["uri"].removeprefix(CALLS).removesuffix(".json") or "(new call)"
        data = req["data"]
        what = data.get("Twiml") or f"Status={data.get('Status')}"
        to = f" To={data['To']}" if data.get("To") else ""
        lines.append(f"{req['method']} Calls{target}{to} {unquote(what)}")
    return lines


def test_a_show_with_three_callers_screened_put_on_air_and_dropped(app, station, producer, show, capsys):
    for n, phone in enumerate(("+8613811110001", "+8613811110002", "+8613811110003"), 1):
        ring(app, f"CAcaller{n}", phone)
    # caller 1: screened on the producer's phone, ready, on air
    move(producer, app, "CAcaller1", "screen")
    first = transcript(station)
    assert first[0].startswith("POST Calls/CAcaller1 ") and "<Conference beep=\"false\" endConferenceOnExit=\"false\"" \
        in first[0] and "radio-screen-" in first[0] and "导播正在为您接听" in first[0]
    assert first[1].startswith(f"POST Calls(new call) To={PRODUCER_PHONE} ") and "endConferenceOnExit=\"true\"" in first[1]
    with app.app_context():
        assert row("CAcaller1").producer_sid == "CA" + "0" * 31 + "2"
        assert row("CAcaller1").line_action is None
    move(producer, app, "CAcaller1", "ready")
    move(producer, app, "CAcaller1", "on_air")
    # caller 2 screened and put on air: caller 1 leaves the air with a goodbye
    move(producer, app, "CAcaller2", "screen")
    move(producer, app, "CAcaller2", "ready")
    move(producer, app, "CAcaller2", "on_air")
    # caller 3: screened, then dropped
    move(producer, app, "CAcaller3", "screen")
    move(producer, app, "CAcaller3", "drop")
    # the show ends: caller 2, on air, hears the closing words
    with app.app_context():
        episode_id = row("CAcaller2").episode_id
    token = csrf_from(producer.get(f"/radio/episodes/{episode_id}").get_data(as_text=True))
    assert producer.post(f"/radio/episodes/{episode_id}/end", data={"csrf_token": token}).status_code == 302
    lines = transcript(station)
    with capsys.disabled():
        print("\nSimulated show through the REST stand-in:")
        for line in lines:
            print("  " + line)
    on_air = [line for line in lines if f"<Sip>{STUDIO}</Sip>" in line]
    assert [line.split()[1] for line in on_air] == ["Calls/CAcaller1", "Calls/CAcaller2"]
    assert any(line.startswith("POST Calls/CAcaller1 ") and "感谢您参与节目" in line for line in lines)
    assert any(line.startswith("POST Calls/CAcaller3 ") and "本次未能接入直播" in line and "<Hangup />" in line
               for line in lines)
    assert lines[-1].startswith("POST Calls/CAcaller2 ") and "本期节目已经结束" in lines[-1] and "<Hangup />" in lines[-1]
    assert sum("Status=completed" in line for line in lines) == 3  # each producer leg hung up after screening
    assert sum(line.startswith("POST Calls(new call)") for line in lines) == 3
    with app.app_context():
        assert [(row(f"CAcaller{n}").status, row(f"CAcaller{n}").line_action) for n in (1, 2, 3)] == [
            ("done", None), ("done", None), ("dropped", None)]


def test_a_refused_rest_call_is_shown_on_the_console_and_retried_never_lost(app, station, producer, show, clock):
    ring(app, "CAcaller1", "+8613811110001")
    station.answers = [twilio_error(503, 20503, "Service Unavailable")]
    move(producer, app, "CAcaller1", "on_air")
    with app.app_context():
        callin = row("CAcaller1")
        assert callin.status == "on_air" and callin.line_action == "on_air"
        assert "Twilio 503" in callin.line_error and callin.line_next_at == local(2026, 12, 5, 13, 35, 5)
        episode_id = callin.episode_id
    page = producer.get(f"/radio/episodes/{episode_id}").get_data(as_text=True)
    assert "The phone line did not follow" in page and "Twilio 503" in page and "Retry now" in page
    with app.app_context():
        assert run_job("channels")["line_pushed"] == 0  # not due yet
        clock.set(local(2026, 12, 5, 13, 35, 5))
        assert run_job("channels")["line_pushed"] == 1
        assert run_job("channels")["line_pushed"] == 0
        assert row("CAcaller1").line_action is None and row("CAcaller1").line_error is None
    sent = [line for line in transcript(station) if "<Sip>" in line]
    assert len(sent) == 2  # the refused one and the retry; nothing more
    assert "The phone line did not follow" not in producer.get(f"/radio/episodes/{episode_id}").get_data(as_text=True)


def test_a_newer_move_replaces_an_old_one_still_waiting(app, station, producer, show):
    ring(app, "CAcaller1", "+8613811110001")
    station.answers = [twilio_error(500, 20500, "Internal Server Error")]
    move(producer, app, "CAcaller1", "on_air")
    move(producer, app, "CAcaller1", "drop")
    lines = transcript(station)
    assert "<Sip>" in lines[0] and "本次未能接入直播" in lines[1] and len(lines) == 2  # the old on_air is not replayed
    with app.app_context():
        assert row("CAcaller1").line_action is None


def test_a_caller_who_hung_up_needs_no_move(app, station, producer, show):
    ring(app, "CAcaller1", "+8613811110001")
    station.answers = [twilio_error(404, 20404, "The requested resource was not found")]
    move(producer, app, "CAcaller1", "drop")
    with app.app_context():
        callin = row("CAcaller1")
        assert (callin.status, callin.line_action, callin.line_error) == ("dropped", None, None)


def test_screening_without_a_producer_phone_says_so_on_the_console(app, station, producer, show):
    with app.app_context():
        get_user("producer").phone = None
        db.session.commit()
    ring(app, "CAcaller1", "+8613811110001")
    move(producer, app, "CAcaller1", "screen")
    with app.app_context():
        assert row("CAcaller1").line_error == "the producer has no phone number on their account"
    assert station.requests == []
