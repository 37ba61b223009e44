"""Login, throttling, sessions and the deny-by-default rule."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conftest import PASSWORD, csrf_from, get_user
from hotline.auth.access import rule_of
from hotline.auth.models import LoginAttempt
from hotline.extensions import db


def post_login(client, username, password):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_every_route_declares_who_may_use_it(app):
    missing = [rule.rule for rule in app.url_map.iter_rules()
               if rule.endpoint != "static" and rule_of(app.view_functions[rule.endpoint]) is None]
    assert missing == []


def test_pages_need_login(app, users):
    client = app.test_client()
    resp = client.get("/cases")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_login_lands_on_the_role_home_page(app, users):
    client = app.test_client()
    resp = post_login(client, "operator", PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cases/new")
    resp = post_login(app.test_client(), "handler", PASSWORD)
    assert resp.headers["Location"].endswith("/cases/queue")


def test_wrong_password_is_refused_and_recorded(app, users):
    client = app.test_client()
    resp = post_login(client, "operator", "wrong-password")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True) or "Wrong user name or password" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.username == "operator", LoginAttempt.success.is_(False))) == 1


def test_repeated_failures_lock_the_account_for_a_while(app, users, clock):
    from conftest import DEFAULT_NOW
    from datetime import timedelta

    client = app.test_client()
    for _ in range(5):
        assert post_login(client, "operator", "wrong-password").status_code == 401
    # Even the right password is refused now, and the refusal is recorded.
    assert post_login(client, "operator", PASSWORD).status_code == 429
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.refused.is_(True))) == 1
    clock.set(DEFAULT_NOW + timedelta(minutes=16))
    assert post_login(client, "operator", PASSWORD).status_code == 302


def test_login_without_csrf_token_is_refused(app, users):
    client = app.test_client()
    client.get("/login")
    resp = client.post("/login", data={"username": "operator", "password": PASSWORD})
    assert resp.status_code == 400


def test_open_redirect_after_login_is_ignored(app, users):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login?next=//evil.example/x", data={"username": "operator", "password": PASSWORD,
                                                             "csrf_token": token})
    assert resp.headers["Location"].endswith("/cases/new")


def test_password_change_logs_out_other_sessions(app, users, login):
    first = login(app.test_client(), "operator")
    second = login(app.test_client(), "operator")
    page = second.get("/account/password").get_data(as_text=True)
    resp = second.post("/account/password", data={"current": PASSWORD, "new": "a-much-better-passphrase",
                                                   "csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    assert second.get("/cases").status_code == 200
    assert first.get("/cases").status_code == 302  # logged out


def test_weak_new_password_is_refused(app, users, login):
    client = login(app.test_client(), "operator")
    page = client.get("/account/password").get_data(as_text=True)
    resp = client.post("/account/password", data={"current": PASSWORD, "new": "1234567890",
                                                  "csrf_token": csrf_from(page)})
    assert resp.status_code == 422
    with app.app_context():
        from werkzeug.security import check_password_hash
        assert check_password_hash(get_user("operator").password_hash, PASSWORD)


def test_logout_is_post_only(app, users, login):
    client = login(app.test_client(), "operator")
    assert client.get("/logout").status_code == 405
    assert client.get("/cases").status_code == 200


def test_security_headers_are_set(app):
    resp = app.test_client().get("/login")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_production_refuses_weak_secret_and_pinned_clock(monkeypatch):
    import pytest

    from hotline.config import ConfigError, load_config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("HOTLINE_NOW", raising=False)
    with pytest.raises(ConfigError):
        load_config({"HOTLINE_ENV": "production"})
    with pytest.raises(ConfigError):
        load_config({"HOTLINE_ENV": "production", "SECRET_KEY": "x" * 40, "HOTLINE_NOW": "2026-01-01T00:00:00+08:00"})
    assert load_config({"HOTLINE_ENV": "production", "SECRET_KEY": "x" * 40})["HOTLINE_SCHEDULER"] is False


@pytest.mark.parametrize("public_url, setting, secure", [
    (None, None, False),                              # plain development set-up
    ("https://12351.union.example", None, True),      # served over HTTPS: cookie never sent in clear
    ("http://intranet.union.local", None, False),
    ("https://12351.union.example", "0", False),      # said otherwise explicitly
    (None, "1", True),
])
def test_session_cookie_is_secure_when_the_site_is_served_over_https(monkeypatch, public_url, setting, secure):
    from hotline.config import load_config

    for name, value in (("HOTLINE_PUBLIC_URL", public_url), ("SESSION_COOKIE_SECURE", setting)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    cfg = load_config({"HOTLINE_ENV": "production", "SECRET_KEY": "x" * 40})
    assert (cfg["SESSION_COOKIE_SECURE"], cfg["SESSION_COOKIE_HTTPONLY"], cfg["SESSION_COOKIE_SAMESITE"]) == (
        secure, True, "Lax")


# ---------------------------------------------------------------- API tokens: last use, one query

def _token_and_client(app):
    from hotline.auth.service import issue_token

    with app.app_context():
        raw = issue_token(get_user("operator"), days=30)
        db.session.commit()
    return {"Authorization": f"Bearer {raw}"}, app.test_client()


def _last_used(app):
    from hotline.auth.models import ApiToken

    with app.app_context():
        return db.session.scalar(select(ApiToken.last_used_at))


def test_a_tokens_last_use_is_written_at_most_once_a_minute(app, users, clock):
    """Every API request would otherwise write the token's row (and 8 clients sharing one token would queue
    for it): the last use is noted when it is a minute old, so "last used" is right to the minute."""
    from datetime import timedelta

    from conftest import local

    headers, client = _token_and_client(app)
    start = local(2026, 11, 30, 10, 0)
    clock.set(start)
    assert client.get("/api/v1/reference", headers=headers).status_code == 200
    assert _last_used(app) == start
    clock.set(start + timedelta(seconds=59))
    assert client.get("/api/v1/reference", headers=headers).status_code == 200
    assert _last_used(app) == start  # within the minute: not written again
    clock.set(start + timedelta(seconds=60))
    assert client.get("/api/v1/reference", headers=headers).status_code == 200
    assert _last_used(app) == start + timedelta(seconds=60)
    clock.set(start + timedelta(seconds=200))
    assert client.get("/api/v1/cases/20990101-0001", headers=headers).status_code == 404  # a failed request too
    assert _last_used(app) == start + timedelta(seconds=200)


def test_the_tokens_user_roles_and_organisation_are_one_query(app, users):
    """The visibility rule asks for the caller's organisation on every answer about a case: it comes with the
    token, so showing a case through the API asks nothing more about the caller."""
    from sqlalchemy import event

    headers, client = _token_and_client(app)
    with app.app_context():
        engine = db.engine
    resp = client.post("/api/v1/cases", json={"type": "consult", "category": "wages", "summary": "公司拖欠工资",
                                              "caller": {"phone": "13812345678"}}, headers=headers)
    assert resp.status_code == 201
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get(f"/api/v1/cases/{resp.get_json()['case_no']}", headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    token_reads = [s for s in statements if "api_token" in s]
    assert len(token_reads) == 1 and "organisation" in token_reads[0] and "user_role" in token_reads[0]
    assert not [s for s in statements if "FROM organisation" in s and "api_token" not in s]
