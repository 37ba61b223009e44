"""Reads on a streaming replica (hotline/replica.py), against a real one.

The shared test server does not accept replication connections (its pg_hba.conf has no `replication`
line, and changing it would need its configuration changed), so these tests start their own pair in
a temporary directory: a primary made with initdb and a hot standby cloned from it with
`pg_basebackup -R -X stream`, on two free ports, with the PostgreSQL binaries of this machine. They
skip, saying why, where those binaries are missing or the suite does not run on PostgreSQL.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import InternalError, OperationalError

from conftest import BACKENDS, DEFAULT_NOW, PASSWORD, csrf_from, get_user
from hotline import replica as replica_mod
from hotline.clock import set_now
from hotline.extensions import db

BIN = Path(os.environ.get("HOTLINE_PG_BIN", "/usr/lib/postgresql/15/bin"))
NEEDED = ("initdb", "pg_ctl", "pg_basebackup", "postgres")

pytestmark = [
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="replica tests need the PostgreSQL backend"),
    pytest.mark.skipif(not all((BIN / b).exists() for b in NEEDED),
                       reason=f"PostgreSQL server binaries not found in {BIN} (set HOTLINE_PG_BIN)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A primary and its hot standby, run as the `postgres` user when the tests run as root (the server
    refuses to run as root)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="hotline-replica-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no postgres user to run the test servers as")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.primary_port, self.replica_port = _free_port(), _free_port()
        self.primary = self.dir / "primary"
        self.standby = self.dir / "standby"

    def run(self, *args: str) -> None:
        out = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=60)
        if out.returncode:
            raise RuntimeError(f"{' '.join(args)}: {out.stderr or out.stdout}")

    def start(self, datadir: Path) -> None:
        self.run(str(BIN / "pg_ctl"), "-D", str(datadir), "-l", str(datadir) + ".log", "-w", "-t", "30", "start")

    def stop(self, datadir: Path) -> None:
        self.run(str(BIN / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop")

    def url(self, port: int, dbname: str = "hotline") -> str:
        return f"postgresql+psycopg://root@127.0.0.1:{port}/{dbname}"

    def up(self) -> None:
        self.run(str(BIN / "initdb"), "-D", str(self.primary), "-U", "root", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync")
        with open(self.primary / "postgresql.conf", "a") as conf:
            # Throwaway: no fsync; wal_level=replica and WAL senders are the defaults of PostgreSQL 15.
            conf.write(f"\nport = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.dir}'\nfsync = off\nfull_page_writes = off\n"
                       "shared_buffers = 16MB\nmax_wal_senders = 4\n")
        self.start(self.primary)
        admin = create_engine(self.url(self.primary_port, "postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE hotline TEMPLATE template0 ENCODING 'UTF8'"))
        admin.dispose()

    def clone(self) -> None:
        self.run(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "root",
                 "-D", str(self.standby), "-R", "-X", "stream", "-c", "fast", "--no-sync")
        with open(self.standby / "postgresql.auto.conf", "a") as conf:
            conf.write(f"\nport = {self.replica_port}\n")
        self.start(self.standby)

    def down(self) -> None:
        for datadir in (self.standby, self.primary):
            if (datadir / "postmaster.pid").exists():
                try:
                    self.stop(datadir)
                except RuntimeError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pair():
    """(app, cluster): an app whose database is the private primary and DATABASE_REPLICA_URL its standby."""
    from conftest import make_app, migrate_and_seed

    cluster = Cluster()
    try:
        cluster.up()
        app = make_app(cluster.url(cluster.primary_port))
        app.config.update(DATABASE_REPLICA_URL=cluster.url(cluster.replica_port),
                          HOTLINE_REPLICA_MAX_LAG_SECONDS=3600.0, HOTLINE_REPLICA_CHECK_SECONDS=0.0)
        replica_mod.init_app(app)
        migrate_and_seed(app)
        with app.app_context():
            from hotline.auth.service import create_user

            create_user("supervisor", "Supervisor", ["supervisor"], PASSWORD, None)
            create_user("operator", "Operator", ["operator"], PASSWORD, None)
            db.session.commit()
        cluster.clone()  # after the schema: the standby starts with it, then follows by streaming
        set_now(app, DEFAULT_NOW)
        yield app, cluster
        with app.app_context():
            db.engine.dispose()
        app.extensions[replica_mod.EXTENSION].engine.dispose()
    finally:
        cluster.down()


@pytest.fixture
def rep(pair):
    app, cluster = pair
    rep = app.extensions[replica_mod.EXTENSION]
    rep.max_lag = 3600.0
    rep.forget()
    with rep.engine.connect() as conn:  # replay running (a test may have paused it)
        conn.execute(text("SELECT pg_wal_replay_resume()"))
        conn.commit()
    # A transaction for the standby to replay (its delay is measured from the last one replayed).
    heartbeat = create_engine(cluster.url(cluster.primary_port, "postgres"))
    with heartbeat.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS heartbeat (at timestamptz)"))
        conn.execute(text("INSERT INTO heartbeat VALUES (now())"))
    heartbeat.dispose()
    _caught_up(app, rep)
    return rep


def _caught_up(app, rep, timeout: float = 20.0) -> None:
    """Wait until the standby has replayed everything the primary has written (an event, not a time)."""
    with app.app_context():
        target = db.session.scalar(text("SELECT pg_current_wal_lsn()::text"))
        db.session.rollback()
    deadline = time.monotonic() + timeout
    with rep.engine.connect() as conn:
        while conn.scalar(text("SELECT pg_last_wal_replay_lsn() >= CAST(:t AS pg_lsn)"), {"t": target}) is not True:
            conn.rollback()
            assert time.monotonic() < deadline, "the standby did not catch up"
            time.sleep(0.05)


def _login(app, username):
    client = app.test_client()
    token = csrf_from(client.get("/login?lang=en").get_data(as_text=True))
    assert client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


def _register(app, summary: str) -> None:
    from hotline.cases import service

    with app.test_request_context():
        service.register(get_user("operator"), {"channel": "hotline", "type": "consult", "category": "wages",
                                                "summary": summary, "caller": {"phone": "13812345678"}})
        db.session.commit()


def test_reports_read_from_the_standby_and_writes_stay_on_the_primary(pair, rep):
    app, _cluster = pair
    with app.test_request_context():
        assert replica_mod.route_reads() is True
        # A plain read of the routed session runs on the standby …
        assert db.session.scalar(select(func.pg_is_in_recovery())) is True
        # … text() and locking reads do not, and nothing can write there: the standby refuses.
        assert db.session.scalar(text("SELECT pg_is_in_recovery()")) is False
        with pytest.raises((InternalError, OperationalError), match="read-only"):
            with rep.engine.connect() as conn:
                conn.execute(text("CREATE TABLE nope (id int)"))
        db.session.rollback()
    with app.test_request_context():
        assert replica_mod.route_reads() is True
        # Read-your-writes: once this session has written, its reads go to the primary.
        _user = get_user("supervisor")
        _user.locale = "en"
        db.session.flush()
        assert db.session.scalar(select(func.pg_is_in_recovery())) is False
        db.session.rollback()
    with app.test_request_context():  # an unrouted session (every other door) reads the primary
        assert db.session.scalar(select(func.pg_is_in_recovery())) is False


def test_the_kpi_api_reads_the_standby_and_falls_back_when_it_lags_or_is_down(pair, rep):
    app, cluster = pair
    supervisor = _login(app, "supervisor")
    from hotline.auth.service import issue_token

    with app.app_context():
        token = issue_token(get_user("supervisor"))
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    def registered() -> int:
        resp = app.test_client().get("/api/v1/reports/kpis?from=2026-11-01&to=2026-11-30", headers=headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["totals"]["registered"]

    _register(app, "第一件")
    _caught_up(app, rep)
    assert registered() == 1

    # Replay paused: the standby still shows one case while the primary has two.
    with rep.engine.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
        conn.commit()
    _register(app, "第二件")
    assert registered() == 1  # read on the standby, within the allowed lag (an hour)
    assert supervisor.get("/reports?period=month").status_code == 200  # the dashboard too

    # The same delay beyond the setting: the primary answers, with both cases.
    rep.max_lag = 0.0
    rep.forget()
    assert registered() == 2
    assert rep.last_error and "lags" in rep.last_error

    # The standby stopped: the primary answers, and the page does not fail.
    rep.max_lag = 3600.0
    cluster.stop(cluster.standby)
    try:
        rep.forget()
        assert registered() == 2
        assert supervisor.get("/reports?period=month").status_code == 200
        assert rep.last_error and "lags" not in rep.last_error
    finally:
        cluster.start(cluster.standby)
        rep.engine.dispose()


def test_a_search_reads_the_standby_but_a_request_that_wrote_reads_its_own_write(pair, rep):
    app, _cluster = pair
    with rep.engine.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
        conn.commit()
    _register(app, "单位拖欠加班费")
    headers = {}
    from hotline.auth.service import issue_token

    with app.app_context():
        headers["Authorization"] = f"Bearer {issue_token(get_user('supervisor'))}"
        db.session.commit()  # the token itself is written while replay is paused: the standby lacks it
    # The token check and the search's own audit rows are writes on the primary; the search reads
    # the standby, which has not replayed the new case.
    resp = app.test_client().get("/api/v1/cases?q=加班费", headers=headers)
    assert resp.status_code == 200 and resp.get_json()["items"] == []
    with app.test_request_context():
        assert replica_mod.route_reads() is True
        _register_in_session("单位拖欠加班费（再次来电）")
        # This session wrote: its search sees the write at once.
        from hotline.cases import queries

        found = queries.list_cases(get_user("supervisor"), queries.parse_filter({"q": "再次来电"}), None, 10)[0]
        assert [c.summary for c in found] == ["单位拖欠加班费（再次来电）"]
        db.session.rollback()


def _register_in_session(summary: str) -> None:
    from hotline.cases import service

    service.register(get_user("operator"), {"channel": "hotline", "type": "consult", "category": "wages",
                                            "summary": summary, "caller": {"phone": "13812345678"}})
    db.session.flush()


def test_a_searchs_planner_settings_go_where_its_reads_go():
    """A search sets its planner settings for the transaction (custom plans, no JIT) before it reads: on a routed
    request they must be set on the replica's connection, where the search runs, not on the primary's."""
    from sqlalchemy import select as sql_select

    from hotline.cases import queries
    from hotline.cases.models import Case

    assert replica_mod._setting(queries.SEARCH_SETTINGS)
    assert replica_mod._setting(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    assert not replica_mod._setting(text("SELECT 1"))
    assert not replica_mod._setting(sql_select(Case.id))

    class Session(replica_mod.RoutingSession):
        def __init__(self):  # only get_bind's choice is tried: no engine, no Flask app
            self.info = {"replica": "the replica"}

    assert Session().get_bind(clause=queries.SEARCH_SETTINGS) == "the replica"


def test_a_select_that_writes_goes_to_the_primary_and_counts_as_the_requests_write(monkeypatch):
    """The registration writes the case and its first event in one SELECT (INSERTs inside its WITH,
    hotline/cases/events.py): by its form a read, it must not go to the replica, and it is the request's write."""
    from sqlalchemy import select as sql_select

    from hotline.cases.models import Case

    writing = sql_select(Case.id).execution_options(**{replica_mod.WRITES_OPTION: True})
    assert replica_mod._plain_select(sql_select(Case.id)) and not replica_mod._plain_select(writing)
    assert not replica_mod._not_a_write(writing)

    class Session(replica_mod.RoutingSession):
        def __init__(self):  # only get_bind's choice is tried: no engine, no Flask app
            self.info = {"replica": "the replica"}

    # The primary is whatever Flask-SQLAlchemy's session would choose: here a name, with no engine.
    monkeypatch.setattr(replica_mod.FlaskSession, "get_bind", lambda self, **kwargs: "the primary")
    assert Session().get_bind(clause=sql_select(Case.id)) == "the replica"
    assert Session().get_bind(clause=writing) == "the primary"
