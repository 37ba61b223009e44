"""Trust, second round (issue 14): one regression test (or more) per finding of the hostile test.

Each test replays the request that reproduced the finding and checks what it gets now.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from conftest import DEFAULT_NOW, PASSWORD, csrf_from, get_user, local
from hotline.auth.models import ApiToken, LoginAttempt, UserSession
from hotline.cases import service as cases
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.telephony.models import Call, Callback

from radio.test_radio import _twilio, show, twilio_on  # noqa: F401  (fixtures)
from telephony.test_telephony import line  # noqa: F401  (fixture)

BODY = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "拖欠工资",
        "caller": {"phone": "13812345678"}}


def case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def post_login(client, username, password, address="10.1.1.1"):
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_from(client.get("/login?lang=en").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def cli(app, *args, input=None):
    result = app.test_cli_runner().invoke(args=["hotline", *map(str, args)], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


# ---------------------------------------------------------------- 1. the API and the browser's cookie

def test_1_the_api_ignores_the_session_cookie_and_writes_need_json(app, users, login, api):
    browser = login(app.test_client(), "operator")
    # The reproduction: a text/plain POST that carries only the cookie (what a cross-site form can send).
    resp = browser.post("/api/v1/cases", data=json.dumps(BODY), content_type="text/plain")
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized"
    assert browser.get("/api/v1/cases").status_code == 401  # reads too: bearer tokens only
    assert case_count(app) == 0
    # With a token, a write that is not application/json is 415, and stores nothing.
    client = api("operator")
    resp = client.client.post("/api/v1/cases", data=json.dumps(BODY), content_type="text/plain",
                              headers=client.headers)
    assert resp.status_code == 415 and resp.get_json()["error"]["code"] == "unsupported_media_type"
    assert case_count(app) == 0
    assert client.post("/cases", json=BODY).status_code == 201


# ---------------------------------------------------------------- 2. sessions end on the server

def _cookie_copy(app, client):
    """A second browser holding a copy of the first one's session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_2_logout_ends_the_session_for_a_copied_cookie(app, users, login):
    client = login(app.test_client(), "operator")
    copy = _cookie_copy(app, client)
    assert copy.get("/cases").status_code == 200
    token = csrf_from(client.get("/cases/new").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    resp = copy.get("/cases")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    with app.app_context():
        row = db.session.scalar(select(UserSession))
        assert row.ended_reason == "logout" and row.ended_at is not None


def test_2_sessions_end_after_idle_time_and_at_their_lifetime(app, users, login, clock):
    client = login(app.test_client(), "operator")
    # Used every 7 hours: alive at 7 h (idle < 8 h), ended at 12 h after login (absolute lifetime).
    clock.set(DEFAULT_NOW + timedelta(hours=7))
    assert client.get("/cases").status_code == 200
    clock.set(DEFAULT_NOW + timedelta(hours=12))
    assert client.get("/cases").status_code == 302
    idle = login(app.test_client(), "operator")
    clock.set(DEFAULT_NOW + timedelta(hours=12 + 8, minutes=1))  # 8 h since its last request
    assert idle.get("/cases").status_code == 302
    with app.app_context():
        reasons = sorted(r.ended_reason for r in db.session.scalars(select(UserSession)))
        assert reasons == ["idle", "lifetime"]


def test_2_idle_and_lifetime_are_settings(app, users, login, clock):
    app.config.update(SESSION_IDLE_HOURS=1, SESSION_LIFETIME_HOURS=2)
    try:
        client = login(app.test_client(), "operator")
        clock.set(DEFAULT_NOW + timedelta(minutes=61))
        assert client.get("/cases").status_code == 302
    finally:
        app.config.update(SESSION_IDLE_HOURS=8, SESSION_LIFETIME_HOURS=12)


def test_2_an_admin_reset_ends_the_users_sessions_and_tokens(app, users, login, api):
    victim = login(app.test_client(), "operator")
    client = api("operator")
    assert client.get("/cases").status_code == 200
    admin = login(app.test_client(), "admin")
    with app.app_context():
        user_id = get_user("operator").id
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    resp = admin.post(f"/admin/users/{user_id}/password", data={"csrf_token": csrf_from(page),
                                                                 "password": "Spring-tea-2027"})
    assert resp.status_code == 302
    assert victim.get("/cases").status_code == 302
    assert client.get("/cases").status_code == 401
    assert admin.get("/admin/users").status_code == 200  # the admin's own session is not touched
    with app.app_context():
        assert db.session.scalar(select(ApiToken.revoked_reason)) == "reset"


def test_2_a_password_change_ends_tokens_and_keeps_this_browser(app, users, login, api):
    client = api("operator")
    assert client.get("/cases").status_code == 200
    browser = login(app.test_client(), "operator")
    other = login(app.test_client(), "operator")
    page = browser.get("/account/password").get_data(as_text=True)
    resp = browser.post("/account/password", data={"current": PASSWORD, "new": "a-much-better-passphrase",
                                                    "csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    assert browser.get("/cases").status_code == 200
    assert other.get("/cases").status_code == 302
    assert client.get("/cases").status_code == 401


# ---------------------------------------------------------------- 3. tokens: scope, revoke, list

def test_3_tokens_can_be_listed_and_revoked_and_have_a_scope(app, users):
    code, out = cli(app, "token", "producer", "--days", "30", "--scope", "digest")
    assert code == 0, out
    raw = out.strip().splitlines()[-1]  # the token is the last line
    assert raw.startswith("hl_")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 403  # a digest token reads digests only
    assert client.get("/api/v1/digests/2026-11-30", headers=headers).status_code in (200, 404)
    code, out = cli(app, "token", "list", "producer")
    assert code == 0 and "digest" in out and "active" in out
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
        assert db.session.scalar(select(ApiToken.last_used_at)) is not None
    code, out = cli(app, "token", "revoke", token_id)
    assert code == 0 and f"revoked token {token_id}" in out
    resp = client.get("/api/v1/digests/2026-11-30", headers=headers)
    assert resp.status_code == 401
    code, out = cli(app, "token", "list")
    assert "revoked" in out


def test_3_days_0_is_refused_clearly(app, users):
    code, out = cli(app, "token", "operator", "--days", "0")
    assert code == 2 and "3650" in out  # "days must be a whole number from 1 to 3650" (in the UI's language)
    code, out = cli(app, "token", "operator", "--scope", "everything")
    assert code == 2 and "full, read, digest" in out
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_3_a_read_token_only_reads_within_the_role(app, users):
    code, out = cli(app, "token", "operator", "--scope", "read")
    headers = {"Authorization": f"Bearer {out.strip().splitlines()[-1]}"}
    client = app.test_client()
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    resp = client.post("/api/v1/cases", json=BODY, headers=headers)
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "token_scope"
    assert client.get("/api/v1/reports/kpis", headers=headers).status_code == 403  # not the operator's
    assert case_count(app) == 0


def test_3_the_admin_page_issues_lists_and_revokes_tokens(app, users, login):
    admin = login(app.test_client(), "admin")
    page = admin.get("/admin/tokens").get_data(as_text=True)
    resp = admin.post("/admin/tokens", data={"csrf_token": csrf_from(page), "username": "producer", "days": "7",
                                             "scope": "digest"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="new-token"' in html
    raw = html.split('<code id="new-token">')[1].split("</code>")[0]
    app.test_client().get("/api/v1/digests/feed.atom", headers={"Authorization": f"Bearer {raw}"})
    listing = admin.get("/admin/tokens").get_data(as_text=True)
    assert raw not in listing and "2026-11-30 10:00" in listing  # last used, shown; the token itself never again
    bad = admin.post("/admin/tokens", data={"csrf_token": csrf_from(page), "username": "producer", "days": "0"})
    assert bad.status_code == 422
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert admin.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(page)}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ApiToken.revoked_reason)) == "revoked"
    assert app.test_client().get("/api/v1/digests/feed.atom",
                                 headers={"Authorization": f"Bearer {raw}"}).status_code == 401


# ---------------------------------------------------------------- 4. no lock-outs by strangers

def test_4_a_stranger_cannot_lock_the_owner_out_of_her_own_desk(app, users):
    stranger = app.test_client()
    for _ in range(30):  # far beyond every limit, from the stranger's address
        post_login(stranger, "operator", "wrong-password", address="203.0.113.9")
    assert post_login(stranger, "operator", PASSWORD, address="203.0.113.9").status_code == 429
    # The owner, from her own desk, at the same moment:
    assert post_login(app.test_client(), "operator", PASSWORD, address="10.1.1.5").status_code == 302


def test_4_refused_attempts_never_count_and_the_back_off_grows(app, users, clock):
    client = app.test_client()
    for _ in range(5):
        assert post_login(client, "operator", "wrong-password").status_code == 401
    # Locked for 1 minute; hammering meanwhile is refused and does not lengthen the lock.
    for _ in range(10):
        assert post_login(client, "operator", "wrong-password").status_code == 429
    clock.set(DEFAULT_NOW + timedelta(minutes=1, seconds=1))
    assert post_login(client, "operator", "wrong-password").status_code == 401  # the 6th counted failure
    clock.set(DEFAULT_NOW + timedelta(minutes=2, seconds=30))  # 1.5 min later: the lock is 2 min now
    assert post_login(client, "operator", PASSWORD).status_code == 429
    clock.set(DEFAULT_NOW + timedelta(minutes=3, seconds=2))
    assert post_login(client, "operator", PASSWORD).status_code == 302
    with app.app_context():
        locks = list(db.session.scalars(select(LoginAttempt.minutes).where(LoginAttempt.kind == "lock")
                                     .order_by(LoginAttempt.id)))
        assert locks == [1, 2]


def test_4_an_admin_unlocks_and_both_are_in_the_audit_log(app, users, login):
    client = app.test_client()
    for _ in range(5):
        post_login(client, "handler", "wrong-password", address="10.2.2.2")
    assert post_login(client, "handler", PASSWORD, address="10.2.2.2").status_code == 429
    admin = login(app.test_client(), "admin")
    page = admin.get("/admin/tokens").get_data(as_text=True)
    assert "10.2.2.2" in page  # the lock in force is listed
    assert admin.post("/admin/unlock", data={"csrf_token": csrf_from(page), "username": "handler"}).status_code == 302
    assert post_login(client, "handler", PASSWORD, address="10.2.2.2").status_code == 302
    audit = admin.get("/admin/audit?tab=logins&user=handler").get_data(as_text=True)
    assert 'data-outcome="locked"' in audit and 'data-outcome="unlocked"' in audit


# ---------------------------------------------------------------- 5. one need-to-know rule

@pytest.fixture
def three_callers(app, users):
    with app.app_context():
        hotline = cases.register(get_user("operator"), {**BODY, "caller": {"phone": "13812345678", "name": "王师傅"},
                                                        "detail": "热线细节"})
        radio = cases.register(get_user("producer"), {**BODY, "channel": "radio",
                                                      "caller": {"phone": "13700002222", "name": "李听众"}})
        secret = cases.register(get_user("operator"), {**BODY, "confidential": True, "summary": "保密的诉求",
                                                       "caller": {"phone": "13900001111"}})
        db.session.commit()
        return hotline.case_no, radio.case_no, secret.case_no


def test_5_producers_read_callers_of_radio_call_ins_only(app, api, three_callers):
    hotline, radio, _secret = three_callers
    producer = api("producer")
    case = producer.get(f"/cases/{hotline}").get_json()
    assert case["caller"]["phone"] == "138****5678" and case["detail"] is None
    assert producer.get(f"/cases/{radio}").get_json()["caller"]["phone"] == "+8613700002222"
    # Phone look-up: no hotline caller found by number.
    assert producer.get("/cases", query_string={"phone": "13812345678"}).get_json()["items"] == []
    assert len(producer.get("/cases", query_string={"phone": "13700002222"}).get_json()["items"]) == 1


def test_5_admins_never_read_confidential_cases_and_see_callers_masked(app, api, login, three_callers):
    hotline, _radio, secret = three_callers
    admin = api("admin")
    assert admin.get(f"/cases/{secret}").status_code == 404
    assert secret not in [c["case_no"] for c in admin.get("/cases").get_json()["items"]]
    assert admin.get(f"/cases/{hotline}").get_json()["caller"]["phone"] == "138****5678"
    page = login(app.test_client(), "admin").get(f"/cases/{hotline}").get_data(as_text=True)
    assert "13812345678" not in page and "热线细节" not in page
    assert login(app.test_client(), "admin").get(f"/cases/{secret}").status_code == 404
    # Operators and supervisors as before.
    assert api("operator").get(f"/cases/{hotline}").get_json()["caller"]["phone"] == "+8613812345678"
    assert api("supervisor").get(f"/cases/{secret}").get_json()["caller"]["phone"] == "+8613900001111"


# ---------------------------------------------------------------- 6. no personal data in system text

def test_6_a_voicemail_summary_holds_no_number(app, line, clock, api):
    clock.set(local(2026, 11, 30, 20, 0))
    with app.app_context():
        line.ring()
        line.recording(seconds=42)
        summary = db.session.scalar(select(Case.summary))
    assert "13812345678" not in summary and "42" in summary
    client = api("supervisor")
    assert client.get("/cases", query_string={"q": "13812345678"}).get_json()["items"] == []


def test_6_the_migration_takes_the_number_out_of_existing_summaries(app):
    """The data step of migration c7e2a9d4f1b8, run on rows as the old code wrote them. (Upgrading a database
    to the revision before it and registering cases there would need the models of that time.)"""
    import importlib.util
    from pathlib import Path

    path = next(Path(__file__).resolve().parent.parent.glob("migrations/versions/*_c7e2a9d4f1b8_*.py"))
    spec = importlib.util.spec_from_file_location("trust_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        old = ["13812345678的语音留言，42秒。请收听后补全工单。",
               "Voicemail from 051265230000, 9 seconds. Listen to it and complete the case."]
        for summary in old:
            cases.register(None, {"channel": "voicemail", "type": "consult", "category": "other",
                                  "caller": {"phone": "13812345678"}, "summary": "x"})
        cases.register(None, {
            "channel": "hotline", "type": "consult", "category": "other", "caller": {"phone": "13812345678"},
            "summary": "13812345678的语音留言，这是热线摘要"})  # not a voicemail case: left alone
        ids = list(db.session.scalars(select(Case.id).order_by(Case.id)))
        for case_id, summary in zip(ids, old):  # the texts the old code wrote
            db.session.execute(update(Case).where(Case.id == case_id).values(summary=summary))
        db.session.flush()
        migration.strip_numbers_from_voicemail_summaries(db.session.connection())
        summaries = list(db.session.scalars(select(Case.summary).order_by(Case.id)))
        db.session.rollback()
    assert summaries == ["语音留言，42秒。请收听后补全工单。",
                         "Voicemail, 9 seconds. Listen to it and complete the case.",
                         "13812345678的语音留言，这是热线摘要"]


# ---------------------------------------------------------------- 7. call and call-back ids are checked

def test_7_a_producer_cannot_close_a_missed_call_entry(app, users, login, clock):
    with app.app_context():
        entry = Callback(phone="+8613812345678", day=DEFAULT_NOW.date(), status="open", calls=1,
                         first_call_at=DEFAULT_NOW, last_call_at=DEFAULT_NOW, attempts=0, updated_at=DEFAULT_NOW)
        db.session.add(entry)
        db.session.commit()
        entry_id = entry.id
    producer = login(app.test_client(), "producer")
    page = producer.get("/cases/new").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "phone": "13812345678", "channel": "hotline", "type": "consult",
            "category": "wages", "summary": "问工资", "outcome": "close", "answer": "已答复",
            "resolved_on_call": "1", "callback_id": str(entry_id)}
    assert producer.post("/cases/new", data=form).status_code == 403
    with app.app_context():
        assert db.session.get(Callback, entry_id).status == "open"
    assert case_count(app) == 0
    operator = login(app.test_client(), "operator")
    page = operator.get("/cases/new").get_data(as_text=True)
    for field, value in (("callback_id", "999999"), ("callback_id", "abc"), ("call_sid", "CAnothing")):
        resp = operator.post("/cases/new", data={**form, "csrf_token": csrf_from(page), "callback_id": "",
                                                 field: value})
        assert resp.status_code == 422, (field, value)
    assert case_count(app) == 0


# ---------------------------------------------------------------- 8. user names are not told apart

def test_8_an_unknown_user_name_costs_the_same_hash_work(app, users, monkeypatch):
    from hotline.auth import service

    checked = []
    real = service.check_password_hash

    def counting(pwhash, password):  # the real check, counted
        checked.append(pwhash.split("$")[0])
        return real(pwhash, password)

    monkeypatch.setattr(service, "check_password_hash", counting)
    assert post_login(app.test_client(), "no-such-user", "wrong-password").status_code == 401
    assert post_login(app.test_client(), "operator", "wrong-password").status_code == 401
    assert len(checked) == 2 and checked[0] == checked[1]  # one hash of the same method either way


def test_8_the_handler_filter_does_not_tell_whether_a_user_exists(app, api, three_callers):
    client = api("supervisor")
    nobody = client.get("/cases", query_string={"handler": "no-such-user"})
    someone = client.get("/cases", query_string={"handler": "handler_b"})  # exists, has no case
    assert nobody.status_code == someone.status_code == 200
    assert nobody.get_json() == someone.get_json() == {"items": [], "next_cursor": None}


# ---------------------------------------------------------------- 9. clear 4xx instead of 500

@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_9_digest_dates_at_the_ends_of_the_calendar(app, users, login, api, day):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        producer = login(app.test_client(), "producer")
        assert producer.get(f"/digest/{day}").status_code == 422
        page = producer.get("/digest").get_data(as_text=True)
        assert producer.post("/digest/build", data={"csrf_token": csrf_from(page), "date": day}).status_code == 422
        for suffix in ("", ".txt", ".docx"):
            assert api("producer").get(f"/digests/{day}{suffix}").status_code == 422
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None


def _damaged_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["工单编号", "受理时间"])
    book.active.append(["T-1", "2026-03-01 09:00"])
    good = io.BytesIO()
    book.save(good)
    source = zipfile.ZipFile(io.BytesIO(good.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for name in source.namelist():
            data = source.read(name)
            damaged.writestr(name, data[: len(data) // 2] if name == "xl/worksheets/sheet1.xml" else data)
    return out.getvalue()


def test_9_a_malformed_xlsx_import_is_a_clear_422(app, users, login):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        supervisor = login(app.test_client(), "supervisor")
        page = supervisor.get("/reports/import").get_data(as_text=True)
        resp = supervisor.post("/reports/import", data={
            "csrf_token": csrf_from(page), "action": "check", "file": (io.BytesIO(_damaged_xlsx()), "台账.xlsx")},
            content_type="multipart/form-data")
        assert resp.status_code == 422 and "could not be read as an Excel workbook" in resp.get_data(as_text=True)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None


def test_9_json_nested_1000_deep_is_400(app, api):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        client = api("operator")
        raw = '{"summary": ' + "[" * 1000 + "]" * 1000 + "}"
        resp = client.client.post("/api/v1/cases", data=raw, content_type="application/json",
                                  headers=client.headers)
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "bad_json"
        # brackets inside a string are text, not nesting
        resp = client.post("/cases", json={**BODY, "summary": "[" * 100 + "问工资"})
        assert resp.status_code == 201
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None


# ---------------------------------------------------------------- 10. javascript: recordings

def test_10_a_javascript_recording_url_is_never_a_link(app, users, line, login, clock):
    clock.set(local(2026, 11, 30, 20, 0))
    with app.app_context():
        line.ring()
        line.post("/twilio/recording", {"CallSid": "CA1", "RecordingSid": "RE1", "RecordingStatus": "completed",
                                        "RecordingDuration": "35", "RecordingUrl": "javascript:alert(1)//.mp3"})
        line.ring(sid="CA2", caller="+8613900000002")
        db.session.scalar(select(Call).where(Call.call_sid == "CA2")).recording_url = "JavaScript:alert(2)"
        db.session.commit()
    operator = login(app.test_client(), "operator")
    for path in ("/calls?date=2026-11-30", "/calls/callbacks"):
        html = operator.get(path).get_data(as_text=True).lower()
        assert "javascript:" not in html, path


# ---------------------------------------------------------------- 11. backups are private

def test_11_backups_are_created_readable_by_their_owner_only(app, users, backend_name, tmp_path):
    import shutil

    if backend_name == "postgresql" and not (shutil.which("pg_dump") or os.path.exists("/usr/lib/postgresql")):
        pytest.skip("pg_dump is not installed")
    old = os.umask(0o022)
    try:
        code, out = cli(app, "backup", tmp_path / "nightly")
    finally:
        os.umask(old)
    assert code == 0, out
    assert (os.stat(tmp_path / "nightly").st_mode & 0o777) == 0o600


# ---------------------------------------------------------------- 12. no copies in caches

def test_12_case_pages_and_api_answers_say_no_store(app, users, login, api, three_callers):
    hotline, _radio, _secret = three_callers
    operator = login(app.test_client(), "operator")
    for path in (f"/cases/{hotline}", "/cases", "/cases/new"):
        assert operator.get(path).headers.get("Cache-Control") == "no-store", path
    assert api("operator").get(f"/cases/{hotline}").headers.get("Cache-Control") == "no-store"
    assert api("operator").get("/cases").headers.get("Cache-Control") == "no-store"


# ---------------------------------------------------------------- 13. weak passwords

@pytest.mark.parametrize("weak", ["abcdabcdab", "zhangwei1990", "wangfang123456", "Woaini1314!", "19900101ab",
                                  "liuyang19880808", "1qaz2wsx3edc", "123456abcd", "xiaoli112233", "short1!"])
def test_13_weak_passwords_are_refused(ctx, users, weak):
    from hotline.auth.service import check_password_strength
    from hotline.errors import InvalidInput

    with pytest.raises(InvalidInput):
        check_password_strength(weak, "operator")


@pytest.mark.parametrize("strong", [PASSWORD, "Spring-tea-2027", "a-much-better-passphrase", "正确的马电池订书钉与回形针"])
def test_13_good_passwords_pass(ctx, users, strong):
    from hotline.auth.service import check_password_strength

    check_password_strength(strong, "operator")


def test_13_the_reproduction_abcdabcdab_is_refused_on_the_page(app, users, login):
    client = login(app.test_client(), "operator")
    page = client.get("/account/password").get_data(as_text=True)
    resp = client.post("/account/password", data={"current": PASSWORD, "new": "abcdabcdab",
                                                   "csrf_token": csrf_from(page)})
    assert resp.status_code == 422


# ---------------------------------------------------------------- 14. no public development keys

def test_14_development_keys_are_this_instances_own(monkeypatch, tmp_path):
    from hotline.config import load_config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    keys = []
    for name in ("one", "two"):
        monkeypatch.setenv("HOTLINE_INSTANCE_DIR", str(tmp_path / name))
        cfg = load_config({"HOTLINE_ENV": "development"})
        keys.append(cfg["SECRET_KEY"])
        assert load_config({"HOTLINE_ENV": "development"})["SECRET_KEY"] == cfg["SECRET_KEY"]  # kept
        assert (os.stat(tmp_path / name / "secret_key").st_mode & 0o777) == 0o600
    assert keys[0] != keys[1] and "development-only-key" not in keys and len(keys[0]) >= 32


def test_14_a_webhook_signed_with_the_old_public_token_is_refused(app, users):
    # Development and test without TWILIO_AUTH_TOKEN: the key used to be "development-only-twilio-token".
    params = {"CallSid": "CAforged", "From": "+8613812345678", "To": "+8651212351", "CallStatus": "ringing"}
    url = "http://localhost/twilio/voice"
    forged = RequestValidator("development-only-twilio-token").compute_signature(url, params)
    resp = app.test_client().post("/twilio/voice", data=params, headers={"X-Twilio-Signature": forged})
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Call)) == 0


# ---------------------------------------------------------------- 15. request size; radio webhooks

def test_15_a_request_larger_than_the_limit_is_413(app, users, api):
    client = api("operator")
    huge = b'{"summary": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    resp = client.client.post("/api/v1/cases", data=huge, content_type="application/json",
                              headers=client.headers)
    assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "too_large"
    assert case_count(app) == 0


def test_15_radio_webhooks_drop_unstorable_characters_like_the_others(app, show, twilio_on):  # noqa: F811
    from hotline.radio.models import CallIn

    params = {"CallSid": "CAradio\x00", "From": "+8613812345678", "To": "+8651263000000", "CallStatus": "ringing",
              "FromCity": "WU\x07JIANG\x00"}
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        resp = _twilio(app, "/radio/twilio/voice", params)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert resp.status_code == 200
    with app.app_context():
        row = db.session.scalar(select(CallIn))
        assert (row.area, row.call_sid) == ("WUJIANG", "CAradio")
