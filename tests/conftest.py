"""The whole suite runs on SQLite and on PostgreSQL: every `app` test is parametrised over both.

Each backend gets a fresh database, migrated with Alembic once per session; every test starts
from the seeded reference data with no users or cases, and the clock pinned.
"""
from __future__ import annotations

import os
import re
import tempfile
import uuid
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, delete, event, insert, select, text

from hotline import create_app
from hotline.clock import set_now
from hotline.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("HOTLINE_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
PASSWORD = "correct-horse-battery"
# Monday 2026-11-30 10:00 in Shanghai: a plain working day.
DEFAULT_NOW = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
REFERENCE_TABLES = ("organisation", "department", "case_type", "category", "calendar_year", "calendar_day",
                    "knowledge_article", "knowledge_article_version",  # the seeded 知识库 articles
                    "reference_stamp")  # the stamp of the copies hotline/reference/lookup.py holds
APPEND_ONLY_TABLES = ("case_event", "case_view", "admin_change")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


class PgDatabase:
    """A throwaway PostgreSQL database, created and dropped by the tests."""

    def __init__(self, prefix: str = "hotline_test"):
        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}" TEMPLATE template0 ENCODING \'UTF8\''))
        self.url = re.sub(r"/[^/]*$", f"/{self.name}", PG_ADMIN_URL)

    def drop(self):
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def make_app(url: str):
    return create_app({"HOTLINE_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-" + "k" * 40,
                       "WTF_CSRF_ENABLED": True, "HOTLINE_SCHEDULER": False})


def migrate_and_seed(app):
    from flask_migrate import upgrade

    from hotline.seed import seed_reference

    with app.app_context():
        upgrade(revision="heads")
        seed_reference()
        db.session.commit()
        snapshot = {}
        for name in REFERENCE_TABLES:
            table = db.metadata.tables[name]
            snapshot[name] = [dict(r._mapping) for r in db.session.execute(select(table))]
    return snapshot


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request):
    """(name, app, reference snapshot) for one database, migrated once."""
    if request.param == "sqlite":
        tmp = tempfile.mkdtemp(prefix="hotline-test-")
        app = make_app(f"sqlite:///{tmp}/test.sqlite3")
        snapshot = migrate_and_seed(app)
        yield "sqlite", app, snapshot
        with app.app_context():
            db.engine.dispose()
    else:
        pg = PgDatabase()
        app = make_app(pg.url)
        snapshot = migrate_and_seed(app)
        yield "postgresql", app, snapshot
        with app.app_context():
            db.engine.dispose()
        pg.drop()


@contextmanager
def _each_statement(record):
    """Call record(statement, execution context) for every SQL statement sent while the block runs."""

    def note(conn, cursor, statement, parameters, context, executemany):
        record(statement, context)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


@contextmanager
def statements():
    """Every SQL statement sent while the block runs (the list fills as they go)."""
    seen: list[str] = []
    with _each_statement(lambda statement, context: seen.append(statement)):
        yield seen


@contextmanager
def compiled():
    """(statement, whether its compiled form came from SQLAlchemy's cache) of every statement sent in the block."""
    from sqlalchemy.engine.default import CACHE_HIT

    seen: list[tuple[str, bool]] = []
    with _each_statement(lambda statement, context: seen.append((statement, context.cache_hit is CACHE_HIT))):
        yield seen


@pytest.fixture
def translations_asked(monkeypatch):
    """Every message looked up through Flask-Babel from here on (the list fills as they go)."""
    import flask_babel

    asked: list[str] = []
    real = flask_babel.Domain.gettext

    def counting(self, string, **variables):
        asked.append(string)
        return real(self, string, **variables)

    monkeypatch.setattr(flask_babel.Domain, "gettext", counting)
    return asked


def reset_database(snapshot):
    # department.head_id and user_account.department_id point at each other: break the cycle first.
    db.session.execute(text("UPDATE department SET head_id = NULL"))
    if db.session.get_bind().dialect.name == "postgresql":
        # The timeline and the audit logs refuse DELETE (a trigger, see the closed-loop migration);
        # TRUNCATE is the owner's explicit wipe, which a row trigger does not see.
        db.session.execute(text(f"TRUNCATE {', '.join(APPEND_ONLY_TABLES)}"))
    tables = list(reversed(db.metadata.sorted_tables))
    for table in tables:
        db.session.execute(delete(table))
    for table in db.metadata.sorted_tables:
        rows = snapshot.get(table.name)
        if rows:
            db.session.execute(insert(table), rows)
    db.session.commit()


@pytest.fixture
def app(backend):
    name, app, snapshot = backend
    with app.app_context():
        reset_database(snapshot)
    set_now(app, DEFAULT_NOW)
    app.config["TESTING"] = True
    yield app
    set_now(app, None)
    with app.app_context():
        db.session.remove()


@pytest.fixture
def backend_name(backend):
    return backend[0]


@pytest.fixture
def ctx(app):
    """An app context for calling services directly; the test commits as a door would."""
    with app.test_request_context():
        yield app
        db.session.rollback()


@pytest.fixture
def clock(app):
    """Move the clock: clock.set(local(2026, 12, 1, 9, 0))."""

    class Mover:
        def set(self, moment: datetime):
            set_now(app, moment)

    return Mover()


@pytest.fixture
def users(app):
    """One user per role (handlers in legal_aid and women), committed. Returns {key: username}."""
    from hotline.auth.service import create_user

    spec = {
        "operator": (["operator"], None),
        "operator2": (["operator"], None),
        "handler": (["handler"], "legal_aid"),
        "handler_b": (["handler"], "legal_aid"),
        "other_handler": (["handler"], "women"),
        "producer": (["producer"], None),
        "supervisor": (["supervisor"], None),
        "admin": (["admin"], None),
        "editor": (["editor"], None),  # 知识库管理员
    }
    with app.app_context():
        for username, (roles, dept) in spec.items():
            create_user(username, username.title(), roles, PASSWORD, dept)
        db.session.commit()
    return {k: k for k in spec}


def get_user(username: str):
    from hotline.auth.models import User

    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def login(app):
    """login(client, username): a logged-in test client session (CSRF token from the form)."""

    def do(client, username, password=PASSWORD, lang="en"):
        # Most tests read English text; the session keeps the language (Chinese is the default).
        page = client.get(f"/login?lang={lang}")
        token = csrf_from(page.get_data(as_text=True))
        resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return client

    return do


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no csrf token on page"
    return match.group(1)


@pytest.fixture
def api(app, users):
    """api(username) -> a client wrapper sending a bearer token of that user."""
    from hotline.auth.service import issue_token

    tokens = {}

    class ApiClient:
        def __init__(self, username):
            self.client = app.test_client()
            if username not in tokens:
                with app.app_context():
                    tokens[username] = issue_token(get_user(username))
                    db.session.commit()
            self.headers = {"Authorization": f"Bearer {tokens[username]}"}

        def get(self, path, **kw):
            return self.client.get("/api/v1" + path, headers=self.headers, **kw)

        def post(self, path, json=None, **kw):
            return self.client.post("/api/v1" + path, headers=self.headers, json=json, **kw)

    return ApiClient
