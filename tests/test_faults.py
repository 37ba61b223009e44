"""Faults: the database goes away, a process dies. Nothing acknowledged is lost, nothing is doubled.

The first test runs a short bench/faults (its own PostgreSQL cluster, gunicorn, two schedulers, eight
clients; a web worker and a scheduler killed, PostgreSQL crashed and started again). The others pin the
behaviours it relies on, one at a time: a clean 503 while the database is unreachable, a commit that lost
its connection, and a job lease whose holder died being taken over at once.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from hotline import create_app
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.jobs import HOLDER, run_job

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("HOTLINE_PG_BIN", "/usr/lib/postgresql/15/bin"))
CASE = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "欠薪三个月",
        "caller": {"phone": "13812345678"}}


def _cluster_tools_missing() -> str | None:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return f"initdb/pg_ctl not found in {PG_BIN} (set HOTLINE_PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    return None


@pytest.mark.skipif(_cluster_tools_missing() is not None, reason=_cluster_tools_missing() or "")
def test_fault_script_short_run_passes_every_check():
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "faults"), "--seconds", "20"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        proc.terminate()  # on SIGTERM the script stops its servers and deletes its cluster
        stdout, stderr = proc.communicate(timeout=60)
        pytest.fail("bench/faults did not finish within 240 s\n" + stdout + stderr[-3000:])
    report = stdout + stderr[-3000:]
    assert proc.returncode == 0, report
    assert "all checks passed" in stdout, report



def test_fault_script_logs_each_sms_in_one_write(monkeypatch, tmp_path):
    """CI once counted an SMS as sent but never logged: print() writes the line and its newline apart, and a
    log line of another job's thread landed between them, so the check's parser missed it."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("hotline_bench_faults", str(ROOT / "bench" / "faults"))
    faults = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(faults)
    log = open(tmp_path / "scheduler0.log", "a")
    monkeypatch.setattr(sys, "stdout", log)
    real_write, writes = os.write, []

    def spy(fd, data):
        if fd == log.fileno():
            writes.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy)
    faults.twilio_transport().request("POST", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
                                      data={"To": "+8613900000001", "Body": "【12351】新工单 20261204-0001"})
    log.close()
    line = 'TWILIO {"to": "+8613900000001", "body": "【12351】新工单 20261204-0001"}\n'
    assert writes == [line.encode()]
    assert faults.scheduler_sms(tmp_path) == {("+8613900000001", "【12351】新工单 20261204-0001"): 1}


# ---------------------------------------------------------------- the database is away


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def app_without_database():
    app = create_app({"HOTLINE_ENV": "test", "SECRET_KEY": "t" * 40, "HOTLINE_SCHEDULER": False,
                      "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://root@127.0.0.1:{_closed_port()}/gone"})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_api_answers_503_with_retry_after_while_the_database_is_unreachable(app_without_database):
    client = app_without_database.test_client()
    resp = client.get("/api/v1/cases", headers={"Authorization": "Bearer hl_whatever"})
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "5"
    assert resp.get_json()["error"]["code"] == "unavailable"
    assert "数据库暂时无法访问，未保存任何内容" in resp.get_json()["error"]["message"]


def test_health_check_answers_for_the_process_and_its_database(app, app_without_database):
    assert app.test_client().get("/healthz").get_json() == {"status": "ok"}
    resp = app_without_database.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"


def test_page_answers_a_plain_503_page_while_the_database_is_unreachable(app_without_database):
    client = app_without_database.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:0"  # a logged-in browser: loading the user needs the database
        session["lang"] = "en"
    resp = client.get("/cases")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
    html = resp.get_data(as_text=True)
    assert "The database is not available just now; nothing was saved." in html and 'lang="en"' in html


def test_a_commit_that_loses_its_connection_answers_503_and_saves_nothing(app, api, backend_name):
    """PostgreSQL ends the request's session just before COMMIT (as a restart would)."""
    if backend_name != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")
    client = api("operator")
    client.get("/reference")  # token checked, pool warm

    def end_session(session):
        pid = session.connection().connection.driver_connection.info.backend_pid
        with app.app_context():
            with db.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                for _ in range(100):  # bounded: the backend is gone within milliseconds
                    if not other.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"),
                                         {"pid": pid}).first():
                        break
                    time.sleep(0.01)

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: errors go to the error handlers
    event.listen(db.session, "before_commit", end_session, once=True)  # every session of the app: the request's
    try:
        resp = client.post("/cases", json={**CASE, "summary": "lost at commit"})
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
        if event.contains(db.session, "before_commit", end_session):
            event.remove(db.session, "before_commit", end_session)
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert "check whether your change was saved" in resp.get_json()["error"]["message"] or \
        "请先确认您的修改是否已保存" in resp.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    # The pool threw the dead connection away: the next request is normal.
    assert client.post("/cases", json={**CASE, "summary": "after"}).status_code == 201


# ---------------------------------------------------------------- job leases


def test_a_lease_left_by_this_process_is_taken_again(app):
    """A run lost the database before it could release its lease: the next run here does not wait 5 min."""
    from datetime import datetime, timedelta, timezone

    from hotline.notify.models import JobLease

    with app.app_context():
        db.session.add(JobLease(name="overdue", holder=HOLDER, runs=1,
                                until=datetime.now(timezone.utc) + timedelta(minutes=5)))
        db.session.commit()
        assert run_job("overdue") == {"cases": 0, "warnings": 0, "overdue": 0, "notices": 0}


def test_a_lease_whose_holder_has_no_session_left_is_taken_over(app, backend_name):
    """PostgreSQL: the holder's name is its sessions' application_name. Alive, it keeps the lease; killed
    (its sessions end), another process takes the lease at once instead of after it expires."""
    if backend_name != "postgresql":
        pytest.skip("sessions are PostgreSQL's")
    from datetime import datetime, timedelta, timezone

    import psycopg

    from hotline.notify.models import JobLease

    other = "otherhost:4242:abcdef"
    with app.app_context():
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        db.session.add(JobLease(name="overdue", holder=other, runs=1,
                                until=datetime.now(timezone.utc) + timedelta(minutes=5)))
        db.session.commit()
    holder = psycopg.connect(url, application_name=other)
    try:
        with app.app_context():
            assert run_job("overdue") is None  # the holder is alive: skipped
    finally:
        pid = holder.info.backend_pid
        holder.close()
    with app.app_context():
        for _ in range(200):  # bounded: the backend exits within milliseconds of the socket closing
            if not db.session.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).first():
                break
            db.session.rollback()
            time.sleep(0.01)
        db.session.rollback()
        assert run_job("overdue") == {"cases": 0, "warnings": 0, "overdue": 0, "notices": 0}
        assert db.session.get(JobLease, "overdue").holder == HOLDER
