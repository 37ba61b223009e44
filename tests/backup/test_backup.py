"""`hotline backup DEST` and `hotline restore SRC` (docs/backup.md), on SQLite and PostgreSQL.

A backup taken while several operators register cases through the API holds every case that was
acknowledged before it started, and no half-written one; restored into a fresh database, the app
serves them. A file that is not a hotline backup is refused and changes nothing.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time

import pytest
from sqlalchemy import func, select, text

from conftest import DEFAULT_NOW, PgDatabase, get_user, make_app
from hotline.cases.models import Case, CaseCounter, CaseEvent
from hotline.clock import set_now
from hotline.extensions import db

BODY = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资三个月",
        "caller": {"phone": "13812345678", "name": "王建国"}, "detail": "备份测试"}


def pg_tools() -> bool:
    return bool(shutil.which("pg_dump") or glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))


@pytest.fixture
def tools(backend_name):
    if backend_name == "postgresql" and not pg_tools():
        pytest.skip("pg_dump/pg_restore are not installed")
    return backend_name


@pytest.fixture
def fresh(backend_name):
    """An app on a second, empty database of the same kind (never migrated): where backups are restored."""
    if backend_name == "sqlite":
        directory = tempfile.mkdtemp(prefix="hotline-restore-")
        app = make_app(f"sqlite:///{directory}/fresh.sqlite3")
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(directory, ignore_errors=True)
    else:
        pg = PgDatabase("hotline_restore")
        app = make_app(pg.url)
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        pg.drop()


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=["hotline", *map(str, args)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def snapshot(app) -> dict:
    """Everything a restore could change, in comparable form."""
    with app.app_context():
        counts = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}
        cases = db.session.execute(select(Case.case_no, Case.version, Case.status).order_by(Case.id)).all()
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        return {"counts": counts, "cases": [tuple(c) for c in cases], "revision": revision}


def register(app, count: int) -> list[str]:
    from hotline.cases import service

    numbers = []
    with app.test_request_context():
        for _ in range(count):
            numbers.append(service.register(get_user("operator"), dict(BODY)).case_no)
        db.session.commit()
    return numbers


def test_backup_under_load_holds_every_acknowledged_case_and_restores(app, users, api, tools, fresh, tmp_path):
    """Four operators register cases through the API without pause while the backup runs."""
    clients = [api("operator") for _ in range(4)]
    acked: list[tuple[str, float, float]] = []  # (case number, sent, acknowledged), monotonic clock
    failures: list[str] = []
    lock, stop = threading.Lock(), threading.Event()

    def operator(client, n):
        while not stop.is_set():
            sent = time.monotonic()
            resp = client.post("/cases", json={**BODY, "summary": f"负载下登记 {n}", "detail": "详情" * 500})
            if resp.status_code != 201:
                failures.append(f"{resp.status_code} {resp.get_data(as_text=True)[:200]}")
                return
            with lock:
                acked.append((resp.get_json()["case_no"], sent, time.monotonic()))

    def acked_count():
        with lock:
            return len(acked)

    threads = [threading.Thread(target=operator, args=(c, n), daemon=True) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while acked_count() < 20 and time.monotonic() < deadline and not failures:
            time.sleep(0.01)
        assert failures == [] and acked_count() >= 20
        # Back up until registrations were acknowledged while a backup ran (the app kept writing).
        for attempt in range(10):
            dest = tmp_path / f"backup-{attempt}"
            started = time.monotonic()
            code, output = cli(app, "backup", dest)
            finished = time.monotonic()
            assert code == 0, output
            with lock:
                during = [a for a in acked if started < a[2] < finished]
            if during:
                break
        assert during, "no registration finished while the backup ran"
        target = acked_count() + 8  # and some more after it
        while acked_count() < target and time.monotonic() < deadline and not failures:
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert failures == []
    assert "backup written to" in output
    reported = int(re.search(r"(\d+) cases", output).group(1))  # counted in the backup's own snapshot

    code, output = cli(fresh, "restore", "--yes", dest)
    assert code == 0, output
    assert "restored" in output

    with fresh.app_context():
        restored = set(db.session.scalars(select(Case.case_no)))
        assert len(restored) == reported
        before = {no for no, _sent, ack in acked if ack < started}
        after = {no for no, sent, _ack in acked if sent > finished}
        assert before <= restored, f"acknowledged before the backup but missing: {sorted(before - restored)}"
        assert not restored & after, "registered after the backup finished, yet in it"
        assert restored <= {no for no, _s, _a in acked}
        # No half-written case: each has its register event, and the day's counter matches its numbers.
        lacking = db.session.scalars(select(Case.case_no).where(~select(CaseEvent.id).where(
            CaseEvent.case_id == Case.id, CaseEvent.kind == "register").exists())).all()
        assert lacking == []
        counter = db.session.scalar(select(CaseCounter.last))
        assert sorted(restored) == [f"20261130-{n:04d}" for n in range(1, counter + 1)]
    # The restored database serves: an operator reads a case through the API of the fresh app.
    set_now(fresh, DEFAULT_NOW)
    with fresh.app_context():
        from hotline.auth.service import issue_token

        token = issue_token(get_user("operator"))
        db.session.commit()
    some = sorted(before)[0]
    resp = fresh.test_client().get(f"/api/v1/cases/{some}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.get_json()["case_no"] == some


def test_restore_replaces_the_database_and_keeps_a_copy_of_the_old_one(app, users, tools, tmp_path):
    kept = register(app, 3)
    code, output = cli(app, "backup", tmp_path)
    assert code == 0, output
    backup = next(p for p in tmp_path.iterdir() if p.name.startswith("hotline-"))
    state = snapshot(app)
    register(app, 2)  # after the backup: gone after the restore
    code, output = cli(app, "restore", "--yes", backup)
    assert code == 0, output
    assert snapshot(app) == state
    with app.app_context():
        assert sorted(db.session.scalars(select(Case.case_no))) == kept
    # The database as it was (5 cases) was backed up beside the backup first; it restores too.
    safety = [p for p in tmp_path.iterdir() if p.name.startswith("before-restore-")]
    assert len(safety) == 1 and str(safety[0]) in output
    code, output = cli(app, "restore", "--yes", "--no-safety-copy", safety[0])
    assert code == 0, output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 5


@pytest.mark.parametrize("content", [b"", b"not a database at all\n" * 100, os.urandom(64 * 1024),
                                     b"SQLite format 3\x00" + os.urandom(8192), b"PGDMP" + os.urandom(4096)])
def test_restore_refuses_garbage_and_changes_nothing(app, users, tools, tmp_path, content):
    register(app, 2)
    state = snapshot(app)
    garbage = tmp_path / "backup.dump"
    garbage.write_bytes(content)
    code, output = cli(app, "restore", "--yes", garbage)
    assert code == 2
    assert "is not a hotline backup" in output or "not a readable SQLite database" in output, output
    assert "the database was not changed" in output
    assert snapshot(app) == state
    assert [p.name for p in tmp_path.iterdir()] == ["backup.dump"]  # no copy made either


def test_restore_refuses_a_database_of_another_application(app, users, tools, tmp_path):
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    conn.execute("INSERT INTO alembic_version VALUES ('0123456789ab')")
    conn.commit()
    conn.close()
    state = snapshot(app)
    code, output = cli(app, "restore", "--yes", other)
    assert code == 2 and "not a hotline backup" in output
    if tools == "sqlite":
        assert "no hotline_case, case_event, user_account tables" in output
    assert snapshot(app) == state


def test_restore_refuses_a_backup_at_an_unknown_schema_revision(app, users, tools, fresh, tmp_path):
    register(app, 1)
    code, output = cli(app, "backup", tmp_path / "good")
    assert code == 0, output
    # A backup from a release this code does not know: restore it elsewhere, change its revision, back it up.
    code, output = cli(fresh, "restore", "--yes", tmp_path / "good")
    assert code == 0, output
    with fresh.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
        db.session.commit()
    code, output = cli(fresh, "backup", tmp_path / "future")
    assert code == 0 and "note: the database is at schema revision ffffffffffff" in output
    state = snapshot(app)
    code, output = cli(app, "restore", "--yes", tmp_path / "future")
    assert code == 2 and "schema revision ffffffffffff, which this version of the code does not know" in output
    assert snapshot(app) == state


def test_backup_does_not_overwrite_unless_forced(app, users, tools, tmp_path):
    dest = tmp_path / "backup"
    dest.write_bytes(b"an older backup")
    code, output = cli(app, "backup", dest)
    assert code == 2 and "exists" in output and dest.read_bytes() == b"an older backup"
    code, output = cli(app, "backup", "--force", dest)
    assert code == 0, output
    assert dest.read_bytes() != b"an older backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup"]  # no partial file left behind
    code, output = cli(app, "backup", tmp_path / "missing" / "backup")
    assert code == 2 and "does not exist" in output


def test_postgresql_tools_missing_or_too_old_say_so(app, users, backend_name, tmp_path):
    if backend_name != "postgresql":
        pytest.skip("PostgreSQL only")
    empty = tmp_path / "bin"
    empty.mkdir()
    code, output = cli(app, "backup", "--pg-bin", empty, tmp_path / "b")
    assert code == 2 and "pg_dump was not found in" in output and "postgresql-client-" in output
    old = empty / "pg_restore"
    old.write_text("#!/bin/sh\necho 'pg_restore (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    (tmp_path / "x.dump").write_bytes(b"PGDMP")
    code, output = cli(app, "restore", "--yes", "--pg-bin", empty, tmp_path / "x.dump")
    assert code == 2 and "pg_restore is too old" in output and "the database was not changed" in output
