"""Telephony pages (navigation, settings) and the simulator that posts signed webhooks without Twilio."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from conftest import csrf_from, get_user, local
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.telephony import settings as line_settings
from hotline.telephony.models import Call, Callback, InboundSms, TelephonySettings
from hotline.telephony.settings import DEFAULTS


def settings_form(**changes) -> dict:
    form = {k: ("1" if v is True else "" if v in (None, False) else str(v)) for k, v in DEFAULTS.items()}
    form.update(changes)
    return form


def test_navigation_shows_calls_to_those_who_use_them(app, users, login):
    operator = login(app.test_client(), "operator").get("/cases/new").get_data(as_text=True)
    assert 'href="/calls">Calls</a>' in operator and 'href="/calls/callbacks">Call-backs</a>' in operator
    handler = login(app.test_client(), "handler").get("/cases/queue").get_data(as_text=True)
    assert 'href="/calls"' not in handler
    admin = login(app.test_client(), "admin").get("/calls").get_data(as_text=True)
    assert 'href="/calls/settings"' in admin and 'href="/calls/callbacks"' not in admin
    assert "The line is open now (08:30 to 17:30)." in admin


def test_settings_page_saves_office_hours_and_texts(app, users, login):
    client = login(app.test_client(), "admin")
    page = client.get("/calls/settings").get_data(as_text=True)
    assert DEFAULTS["say_greeting_open"] in page and 'value="08:30"' in page
    resp = client.post("/calls/settings", data=settings_form(
        csrf_token=csrf_from(page), open_time="09:00", close_time="21:00", max_wait_seconds="60",
        sms_signature="【苏州工会】", sms_quiet_start="22:00", sms_quiet_end="07:30", voice_survey="1",
        voice_survey_tries="4", studio_line="sip:studio@hybrid.fm.example.org", recording_keep_days="30"),
        follow_redirects=True)
    assert "Telephony settings saved." in resp.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(TelephonySettings, 1)
        assert (row.open_time, row.close_time, row.max_wait_seconds) == ("09:00", "21:00", 60)
        assert (row.sms_signature, row.sms_quiet_start, row.sms_quiet_end) == ("【苏州工会】", "22:00", "07:30")
        assert (row.voice_survey, row.voice_survey_tries, row.studio_line, row.recording_keep_days) == (
            True, 4, "sip:studio@hybrid.fm.example.org", 30)
        assert row.updated_by_id == get_user("admin").id
        assert line_settings.is_open(local(2026, 11, 30, 20, 0))
        assert not line_settings.is_open(local(2026, 11, 30, 8, 45))


def test_settings_that_make_no_sense_are_refused_with_reasons(app, users, login):
    client = login(app.test_client(), "admin")
    token = csrf_from(client.get("/calls/settings").get_data(as_text=True))
    resp = client.post("/calls/settings", data=settings_form(
        csrf_token=token, open_time="18:00", close_time="9:00", max_wait_seconds="5", dial_to="12345",
        sms_signature="苏州市总工会", say_greeting_open="", hold_music_url="ftp://x", studio_line="12345",
        recording_keep_days="0",
        voicemail_category="nope"))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    for message in ("Use the form HH:MM, e.g. 08:30.", "Give a whole number from 15 to 1800.",
                    "Give the registered signature in 【】", "This text is required.",
                    "or its sip: address, or leave it empty.", "Give a whole number from 1 to 3650.",
                    "Give the web address (http or https) of the hold music.", "Choose a category.",
                    "Give a number in international form"):
        assert message in page, message
    assert 'value="18:00"' in page  # what the admin typed is kept
    later = client.post("/calls/settings", data=settings_form(csrf_token=token, open_time="18:00",
                                                               close_time="09:00"))
    assert "The line must close after it opens." in later.get_data(as_text=True)
    with app.app_context():
        assert line_settings.get().open_time == "08:30"
    assert login(app.test_client(), "operator").get("/calls/settings").status_code == 403


# ---------------------------------------------------------------- the simulator

def run(app, *args):
    result = app.test_cli_runner().invoke(args=["hotline", "simulate", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_simulator_rings_answers_and_hangs_up_with_signed_webhooks(app, users, clock):
    out = run(app, "ring", "--from", "13812345678", "--sid", "CAsim")
    assert "HTTP 200" in out and '<Say language="zh-CN">' in out and "<Enqueue" in out
    clock.set(local(2026, 11, 30, 10, 0, 30))
    assert "HTTP 200" in run(app, "answer", "--sid", "CAsim", "--operator", "operator")
    clock.set(local(2026, 11, 30, 10, 5, 30))
    assert "HTTP 204" in run(app, "hangup", "--sid", "CAsim")
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.call_sid == "CAsim"))
        assert (call.status, call.wait_seconds, call.talk_seconds, call.operator.username) == (
            "answered", 22, 300, "operator")


def test_simulator_voicemail_and_sms_reply(app, users, clock):
    clock.set(local(2026, 11, 30, 19, 0))
    out = run(app, "voicemail", "--from", "13912345670", "--seconds", "40")
    assert "<Record" in out and "voicemail case 20261130-0001" in out
    out = run(app, "sms-reply", "--from", "13912345670", "--body", "1")
    assert "HTTP 200" in out
    with app.app_context():
        case = db.session.scalar(select(Case))
        assert case.channel == "voicemail" and case.caller_phone == "+8613912345670"
        assert db.session.scalar(select(InboundSms.result)) == "no_survey"  # the case is not closed yet


def test_simulator_voicemail_in_office_hours_waits_out_the_queue_first(app, users):
    out = run(app, "voicemail", "--from", "13912345670")
    assert "<Enqueue" in out and "<Record" in out and "voicemail case 20261130-0001" in out


def test_a_simulated_day_adds_up(app, users, clock):
    out = run(app, "day", "--date", "2026-12-01", "--calls", "80", "--agents", "2", "--seed", "7")
    result = json.loads(out[out.index("{"):])
    figures, by_status = result["figures"], result["calls_by_status"]
    assert figures["inbound"] == 80 == sum(by_status.values())
    assert result["simulation"]["http_errors"] == 0
    assert figures["answered"] == by_status["answered"] and figures["abandoned"] == by_status.get("abandoned", 0)
    assert figures["answered_within_15s"] <= figures["answered"]
    assert result["simulation"]["cases_logged"] == figures["answered"]
    assert result["cases_by_channel"].get("voicemail", 0) <= by_status.get("voicemail", 0)
    assert figures["callbacks_done"] >= 1
    with app.app_context():
        # One entry per caller and day, whatever the number of missed calls.
        pairs = db.session.execute(select(Callback.phone, Callback.day)).all()
        assert len(pairs) == len(set(pairs))
        assert db.session.scalar(select(func.count()).select_from(Call).where(Call.unknown.is_(True))) == 1
