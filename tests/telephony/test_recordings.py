"""Recordings kept and played: downloaded from Twilio's media host with the account's credentials (a local
stand-in here), stored under the recordings folder, played on the case page through an authorised route,
deleted after the keeping period; downloads that fail or are not audio are retried with a clear state."""
from __future__ import annotations

import base64
import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from conftest import get_user, local
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.jobs import run_job
from hotline.telephony import recordings
from hotline.telephony.models import Recording
from telephony.test_telephony import CALLER, TOKEN, line  # noqa: F401  (the fixture)

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(2000)
ACCOUNT = "AC" + "1" * 32


class Media(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        media = self.server.media
        media.requests.append({"path": self.path, "auth": self.headers.get("Authorization")})
        status, content_type, body = media.answers.pop(0) if media.answers else (200, "audio/mpeg", MP3)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def media(app, line, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Media)
    server.media = type("State", (), {"requests": [], "answers": []})()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config.update(TWILIO_MEDIA_HOSTS="127.0.0.1", HOTLINE_RECORDINGS_DIR=str(tmp_path / "recordings"))
    server.media.base = f"http://127.0.0.1:{server.server_address[1]}/2010-04-01/Accounts/{ACCOUNT}/Recordings"
    yield server.media
    server.shutdown()
    server.server_close()
    app.config.update(TWILIO_MEDIA_HOSTS="api.twilio.com")


def voicemail(line, media, sid="CA1", rec="RE1", caller=CALLER):
    line.ring(sid, caller)
    line.left(sid, result="leave")
    line.post("/twilio/recording", {"CallSid": sid, "RecordingSid": rec, "RecordingStatus": "completed",
                                    "RecordingDuration": 35, "RecordingUrl": f"{media.base}/{rec}"})
    line.status(sid, duration=60)


def rec() -> Recording:
    db.session.expire_all()
    return db.session.scalar(select(Recording))


def test_a_voicemail_is_downloaded_stored_and_played_only_for_those_allowed(app, line, media, users, login, tmp_path):
    with app.app_context():
        voicemail(line, media)
        case = db.session.scalar(select(Case))
        assert "http" not in case.detail and "twilio" not in case.detail.lower()
        assert rec().status == "pending"
        assert run_job("channels")["recording_stored"] == 1
        assert run_job("channels")["recording_stored"] == 0
        row = rec()
        assert (row.status, row.content_type, row.size, row.path) == ("stored", "audio/mpeg", len(MP3), "2026/11/RE1.mp3")
        case_no, rec_id = case.case_no, row.id
    [req] = media.requests
    assert req["path"].endswith("/Recordings/RE1.mp3")
    assert req["auth"] == "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert (tmp_path / "recordings" / "2026" / "11" / "RE1.mp3").read_bytes() == MP3
    operator = login(app.test_client(), "operator")
    page = operator.get(f"/cases/{case_no}").get_data(as_text=True)
    assert f'<audio controls preload="none" src="/calls/recordings/{rec_id}/audio">' in page
    assert media.base not in page and "api.twilio.com" not in page
    audio = operator.get(f"/calls/recordings/{rec_id}/audio")
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg" and audio.data == MP3
    assert audio.headers["Cache-Control"] == "private, no-store"
    part = operator.get(f"/calls/recordings/{rec_id}/audio", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == MP3[:10]
    other = login(app.test_client(), "other_handler")  # a handler of another department does not see the case
    assert other.get(f"/calls/recordings/{rec_id}/audio").status_code == 404
    assert app.test_client().get(f"/calls/recordings/{rec_id}/audio").status_code in (302, 401)
    calls_page = login(app.test_client(), "supervisor").get("/calls?date=2026-11-30").get_data(as_text=True)
    assert f"/calls/recordings/{rec_id}/audio" in calls_page and media.base not in calls_page


def test_something_that_is_not_audio_is_retried_and_then_stored_once(app, line, media, users, clock):
    with app.app_context():
        voicemail(line, media)
        media.answers = [(200, "text/html", b"<html>login</html>"), (200, "audio/mpeg", b"not an mp3 at all")]
        assert run_job("channels")["recording_failed"] == 1
        row = rec()
        assert row.status == "pending" and row.last_error == "not audio (text/html, 18 bytes)"
        assert row.next_attempt_at == local(2026, 11, 30, 10, 1)
        assert run_job("channels")["recording_failed"] == 0  # waits
        clock.set(local(2026, 11, 30, 10, 1))
        assert run_job("channels")["recording_failed"] == 1
        assert "not audio (audio/mpeg" in rec().last_error
        clock.set(local(2026, 11, 30, 10, 5))
        assert run_job("channels")["recording_stored"] == 1
        assert (rec().status, rec().attempts) == ("stored", 3)
    assert len(media.requests) == 3


def test_a_download_that_keeps_failing_ends_failed_and_says_so_on_the_case(app, line, media, users, login, clock):
    with app.app_context():
        voicemail(line, media)
        case_no = db.session.scalar(select(Case)).case_no
        media.answers = [(404, "application/json", b'{"code": 20404}')] * recordings.MAX_ATTEMPTS
        for n in range(recordings.MAX_ATTEMPTS):
            clock.set(local(2026, 11, 30, 10) + timedelta(hours=3 * n))
            run_job("channels")
        row = rec()
        assert (row.status, row.attempts, row.last_error) == ("failed", recordings.MAX_ATTEMPTS, "Twilio answered 404")
    page = login(app.test_client(), "operator").get(f"/cases/{case_no}").get_data(as_text=True)
    assert "The recording could not be fetched: Twilio answered 404" in page


def test_credentials_go_only_to_twilio_media_hosts(app, line, users):
    with app.app_context():
        line.ring("CA1")
        line.left("CA1", result="leave")
        line.post("/twilio/recording", {"CallSid": "CA1", "RecordingSid": "RE9", "RecordingStatus": "completed",
                                        "RecordingDuration": 20, "RecordingUrl": "https://evil.example.org/RE9"})
        run_job("channels")
        assert rec().last_error == "not a Twilio media address" and rec().status == "pending"


def test_recordings_are_deleted_after_the_keeping_period_with_a_log_entry(app, line, media, users, clock, caplog,
                                                                          tmp_path):
    with app.app_context():
        voicemail(line, media)
        run_job("channels")
        path = tmp_path / "recordings" / rec().path
        assert path.exists()
        clock.set(local(2027, 5, 28, 10, 0))  # 179 days
        run_job("channels")
        assert rec().status == "stored"
        clock.set(local(2027, 5, 29, 10, 1))
        with caplog.at_level(logging.INFO, logger="hotline.telephony"):
            assert run_job("channels")["recording_deleted"] == 1
        assert not path.exists()
        row = rec()
        assert (row.status, row.path, row.deleted_at) == ("deleted", None, local(2027, 5, 29, 10, 1))
        assert "recording RE1 of call CA1 deleted after 180 days" in caplog.text


@pytest.fixture
def s3(app, monkeypatch):
    from sms_gateways import S3StandIn

    stand_in = S3StandIn("hotline-rec")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    app.config.update(HOTLINE_RECORDINGS_STORE="s3://hotline-rec/recordings", S3_ENDPOINT_URL=stand_in.url,
                      S3_REGION="cn-east-1")
    yield stand_in
    stand_in.close()
    app.config.update(HOTLINE_RECORDINGS_STORE=None, S3_ENDPOINT_URL=None, S3_REGION=None)


def test_recordings_in_s3_compatible_storage(app, line, media, s3, users, login, clock, tmp_path):
    with app.app_context():
        voicemail(line, media)
        s3.down = True
        assert run_job("channels")["recording_failed"] == 1
        assert rec().status == "pending" and "ServiceUnavailable" in rec().last_error
        s3.down = False
        clock.set(local(2026, 11, 30, 10, 1))
        assert run_job("channels")["recording_stored"] == 1
        rec_id, path = rec().id, rec().path
    assert s3.objects == {f"recordings/{path}": ("audio/mpeg", MP3)}
    put = [r for r in s3.requests if r["method"] == "PUT"][-1]
    assert put["path"] == f"/hotline-rec/recordings/{path}"
    assert put["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIATESTKEY/")
    assert not (tmp_path / "recordings").exists()  # nothing on the local disk
    audio = login(app.test_client(), "operator").get(f"/calls/recordings/{rec_id}/audio")
    assert audio.status_code == 200 and audio.data == MP3
    with app.app_context():
        clock.set(local(2027, 5, 29, 10, 2))
        assert run_job("channels")["recording_deleted"] == 1
    assert s3.objects == {} and [r["method"] for r in s3.requests][-1] == "DELETE"
