"""The production shape: two app servers (as if on two hosts) and two schedulers on one PostgreSQL.

Nothing one process needs may live only in another's memory: the session is a signed cookie (any server
with the same SECRET_KEY reads it, CSRF token included), failed logins are counted in rows, live calls are rows (a call that rang through
server A is on server B's poll, and the take made on B shows on A), case numbers come from a counter row
locked in the registering transaction, and job locks are lease rows whose holders are visible as
PostgreSQL sessions. Real gunicorn and scheduler processes, real HTTP on loopback, one throwaway database.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from conftest import BACKENDS, PASSWORD, PgDatabase, make_app, migrate_and_seed
from hotline.extensions import db

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL is not among the test backends")

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "multi-server-" + "k" * 40
TWILIO_TOKEN = "multi-server-twilio-token"
PUBLIC = "https://hotline.example.org"  # what Twilio would call, through the proxy in front of both servers
NOW = "2026-11-30T10:00:00+08:00"  # Monday morning: the line is open, calls queue for operators
PER_THREAD = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    """One server's address; requests with an optional cookie, no redirects followed."""

    def __init__(self, port: int):
        self.port = port

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read(), resp
        finally:
            conn.close()

    def get(self, path: str, cookie: str = "", **headers):
        return self.request("GET", path, headers={"Cookie": cookie, **headers} if cookie else headers)

    def post_form(self, path: str, form: dict, cookie: str = "", **headers):
        headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        if cookie:
            headers["Cookie"] = cookie
        return self.request("POST", path, urllib.parse.urlencode(form).encode(), headers)


def session_cookie(headers: dict, resp) -> str | None:
    for name, value in resp.getheaders():
        if name.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0]
    return None


def csrf_of(html: bytes) -> str:
    m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token on the page"
    return m.group(1).decode()


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=5)


def wait_ready(proc: subprocess.Popen, http: Http, log: Path, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-2000:]
        try:
            if http.get("/login")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server on {http.port} not ready: {log.read_text()[-2000:]}")


def login(http: Http, username: str, password: str) -> tuple[int, str]:
    """The login form on one server: (status of the POST, session cookie to use afterwards)."""
    _status, headers, page, resp = http.get("/login")
    cookie = session_cookie(headers, resp)
    status, headers, _body, resp = http.post_form("/login", {"csrf_token": csrf_of(page), "username": username,
                                                             "password": password}, cookie)
    return status, session_cookie(headers, resp) or cookie


@pytest.fixture
def shape(tmp_path):
    """One database; servers A and B (gunicorn, 2 workers each); two schedulers. Yields what the test needs."""
    from hotline.auth.service import create_user, issue_token

    pg = PgDatabase("hotline_multi")
    app = make_app(pg.url)
    procs: list[subprocess.Popen] = []
    try:
        migrate_and_seed(app)
        with app.app_context():
            operator = create_user("op", "接线员甲", ["operator"], PASSWORD)
            create_user("h1", "承办人乙", ["handler"], PASSWORD, "legal_aid", "+8613900000001")
            tokens = [issue_token(operator) for _ in range(4)]
            db.session.commit()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
        base.update({"HOTLINE_ENV": "development", "HOTLINE_SCHEDULER": "0", "SECRET_KEY": SECRET_KEY,
                     "DATABASE_URL": pg.url, "HOTLINE_NOW": NOW, "PYTHONUNBUFFERED": "1"})
        # Web servers check Twilio's signatures; the schedulers have no Twilio account (SMS to the log backend).
        web_env = {**base, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "HOTLINE_PUBLIC_URL": PUBLIC}
        sched_env = {**base, "HOTLINE_SCAN_SECONDS": "1", "HOTLINE_NOTIFY_SECONDS": "1"}
        servers = []
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"server-{name}.log"
            proc = start([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "60",
                          "wsgi:app"], web_env, log)
            procs.append(proc)
            servers.append((proc, Http(port), log))
        sched_logs = [tmp_path / f"scheduler{i}.log" for i in range(2)]
        scheds = [start([sys.executable, "-m", "flask", "--app", "wsgi", "hotline", "scheduler"], sched_env, log)
                  for log in sched_logs]
        procs.extend(scheds)
        for proc, http, log in servers:
            wait_ready(proc, http, log)
        yield {"app": app, "a": servers[0][1], "b": servers[1][1], "tokens": tokens, "scheds": scheds,
               "sched_logs": sched_logs}
    finally:
        for proc in procs:
            stop(proc)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        pg.drop()


def test_two_servers_and_two_schedulers_share_only_the_database(shape):
    a, b, app = shape["a"], shape["b"], shape["app"]

    # 1. Log in on A; the cookie is a session on B too (signed with the shared SECRET_KEY).
    status, cookie = login(a, "op", PASSWORD)
    assert status == 302
    status, _h, page, _r = b.get("/account/password", cookie)
    assert status == 200 and "接线员甲".encode() in page  # B knows who is logged in
    status, headers, _body, _r = b.get("/account/password")
    assert status == 302 and "/login" in headers["location"]  # and without the cookie, nobody is
    # Failed logins are counted in the database: three on A and two on B lock the account on both.
    assert [login(srv, "h1", "wrong-password")[0] for srv in (a, a, a, b, b)] == [401] * 5
    assert login(b, "h1", PASSWORD)[0] == 429 and login(a, "h1", PASSWORD)[0] == 429

    # 2. A call rings through A (Twilio's signed webhook); B's live panel polls it.
    params = {"CallSid": "CAmulti1", "AccountSid": "AC" + "1" * 32, "From": "+8613812345678", "To": "+8651212351",
              "CallStatus": "ringing", "Direction": "inbound"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + "/twilio/voice", params)
    status, _h, twiml, _r = a.post_form("/twilio/voice", params, **{"X-Twilio-Signature": signature})
    assert status == 200 and b"<Enqueue" in twiml
    status, _h, live, _r = b.get("/calls/live", cookie)
    calls = {c["sid"]: c for c in json.loads(live)["calls"]}
    assert status == 200 and calls["CAmulti1"]["status"] == "ringing" and calls["CAmulti1"]["operator"] is None

    # 3. The operator takes it on B with a form token from a page A rendered; A's panel shows it taken.
    status, _h, new_page, resp = a.get("/cases/new", cookie)
    cookie = session_cookie(_h, resp) or cookie  # the form token went into the session A sent back
    status, headers, _body, _r = b.post_form("/calls/CAmulti1/take", {"csrf_token": csrf_of(new_page)}, cookie)
    assert status == 302 and "call=CAmulti1" in headers["location"]
    calls = {c["sid"]: c for c in json.loads(a.get("/calls/live", cookie)[2])["calls"]}
    assert calls["CAmulti1"]["mine"] and calls["CAmulti1"]["status"] == "in_progress"

    # 4. Registrations on A and B at once: every number handed out once, the day's numbers without a gap.
    numbers: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()

    def register(http: Http, token: str, worker: int):
        for i in range(PER_THREAD):
            body = json.dumps({"channel": "hotline", "type": "consult", "category": "wages",
                               "summary": f"multi {worker}-{i}", "caller": {"phone": "13812345678"},
                               "department": "legal_aid", "handler": "h1"}).encode()
            status, _h, out, _r = http.request("POST", "/api/v1/cases", body, {
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            with lock:
                (numbers.append(json.loads(out)["case_no"]) if status == 201
                 else failures.append(f"{status} {out[:200]!r}"))

    threads = [threading.Thread(target=register, args=(srv, shape["tokens"][i], i))
               for i, srv in enumerate((a, b, a, b))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert failures == []
    assert len(numbers) == len(set(numbers)) == 4 * PER_THREAD
    assert sorted(int(no.split("-")[1]) for no in numbers) == list(range(1, 4 * PER_THREAD + 1))

    # 5. The two schedulers send each dispatch SMS once between them; their locks are rows, their holders
    #    sessions that every process can see.
    expected = 4 * PER_THREAD
    deadline = time.monotonic() + 40  # a bound, not a wait: poll until the outbox is sent
    sent = 0
    while time.monotonic() < deadline:
        with app.app_context():
            sent = db.session.scalar(text("SELECT count(*) FROM notice WHERE channel = 'sms' AND status = 'sent'"))
            db.session.remove()
        if sent >= expected:
            break
        time.sleep(0.3)
    with app.app_context():
        leases = set(db.session.scalars(text("SELECT name FROM job_lease")))
        sessions = list(db.session.scalars(text(
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()")))
        bodies = Counter(db.session.scalars(text("SELECT to_phone || ': ' || body FROM notice WHERE channel = 'sms'")))
        db.session.remove()
    output = "".join(log.read_text() for log in shape["sched_logs"])
    assert sent == expected, output[-3000:]
    logged = Counter(line.split("SMS (log backend) to ", 1)[1] for line in output.splitlines()
                     if "SMS (log backend) to " in line)
    assert logged == bodies  # every SMS in the outbox left exactly once, whichever scheduler sent it
    assert {"overdue", "notify", "reminders", "digest", "calls"} <= leases
    for proc in shape["scheds"]:
        assert proc.poll() is None
        assert any(f":{proc.pid}:" in name for name in sessions), sessions  # lease holder == session name
