"""The floor for bench/run --compare: what Flask, Flask-SQLAlchemy, SQLAlchemy and the driver cost alone.

A minimal Flask app on the same stack and the same engine settings as hotline.create_app(), with
one endpoint per benchmark scenario that does the single equivalent query or insert (through the
app's own table definitions, so column types and conversions are the same) and returns a small
JSON answer. No authentication, no access rules, no templates, no validation, no events.

    gunicorn -w N -b 127.0.0.1:PORT 'bench.floor_app:app'     (DATABASE_URL selects the database)
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, request
from sqlalchemy import event, func, insert, or_, select

from hotline import models  # noqa: F401  (registers the tables)
from hotline.cases.models import Case, CaseEvent
from hotline.config import load_config
from hotline.extensions import db

try:
    from hotline.search import summary_condition
except ImportError:  # older trees: LIKE
    summary_condition = None

OPEN_FOR_QUEUE = ("assigned", "accepted")


def create_floor() -> Flask:
    app = Flask(__name__)
    cfg = load_config({"HOTLINE_ENV": "development"})
    app.config["SQLALCHEMY_DATABASE_URI"] = cfg["SQLALCHEMY_DATABASE_URI"]
    app.config["HOTLINE_NOW"] = cfg.get("HOTLINE_NOW")
    app.config["HOTLINE_TIMEZONE"] = cfg.get("HOTLINE_TIMEZONE")
    sqlite = cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    # The same engine options as create_app(): pool_pre_ping on PostgreSQL, a 30 s lock timeout on SQLite.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = ({"connect_args": {"timeout": 30}} if sqlite
                                               else cfg["SQLALCHEMY_ENGINE_OPTIONS"])
    db.init_app(app)
    if sqlite:
        with app.app_context():
            @event.listens_for(db.engine, "connect")
            def _pragmas(dbapi_conn, _record):  # the same pragmas as hotline._sqlite_pragmas
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

    cases = Case.__table__
    events = CaseEvent.__table__

    def now() -> datetime:
        fixed = app.config.get("HOTLINE_NOW")
        return datetime.fromisoformat(fixed).astimezone(timezone.utc) if fixed else datetime.now(timezone.utc)

    def brief(rows):
        return [{"id": r.id, "case_no": r.case_no, "status": r.status, "summary": r.summary} for r in rows]

    def insert_case(case_no_of):
        """One INSERT of a case row from the request's JSON; `case_no_of(t)` gives its number (a value or SQL)."""
        body = request.get_json()
        t = now()
        row = db.session.execute(insert(cases).values(
            case_no=case_no_of(t), channel=body.get("channel", "hotline"), type_code=body["type"],
            category_id=int(body.get("category_id", 1)), caller_phone=body["caller"]["phone"],
            caller_name=body["caller"].get("name"), summary=body["summary"], detail=body.get("detail", ""),
            urgent=False, confidential=False, broadcast_ok=False, resolved_on_call=False, status="registered",
            version=1, reply_due_at=t + timedelta(days=2), due_uncertain=False, escalated=False, reopen_count=0,
            created_at=t, updated_at=t,
        ).returning(cases.c.id, cases.c.case_no)).one()
        db.session.commit()
        return jsonify(id=row.id, case_no=row.case_no), 201

    @app.post("/floor/cases")
    def register():
        """One INSERT of a case row (what registering costs without numbering, deadlines, events, checks)."""
        return insert_case(lambda t: "F" + uuid.uuid4().hex[:15])

    @app.post("/floor/cases/numbered")
    def register_numbered():
        """The same INSERT taking the day's gap-free number the way the app's does (PostgreSQL: the database
        function the app's INSERT calls, whose counter row stays locked to the commit): what numbering alone
        costs 8 clients at once."""
        zone = ZoneInfo(app.config.get("HOTLINE_TIMEZONE") or "Asia/Shanghai")
        return insert_case(lambda t: func.hotline_take_case_no(t.astimezone(zone).date()))

    @app.get("/floor/queue/<int:handler_id>")
    def queue(handler_id: int):
        rows = db.session.execute(
            select(cases).where(cases.c.handler_id == handler_id, cases.c.status.in_(OPEN_FOR_QUEUE))
            .order_by(cases.c.reply_due_at, cases.c.id).limit(500)).all()
        return jsonify(items=brief(rows))

    @app.get("/floor/cases/<case_no>")
    def show(case_no: str):
        """The case and its events in one query."""
        rows = db.session.execute(
            select(cases, events.c.id.label("event_id"), events.c.kind, events.c.at, events.c.actor_id, events.c.data)
            .outerjoin(events, events.c.case_id == cases.c.id).where(cases.c.case_no == case_no)
            .order_by(events.c.id)).all()
        if not rows:
            return jsonify(error="not found"), 404
        head = rows[0]
        return jsonify(case_no=head.case_no, status=head.status, summary=head.summary,
                       events=[{"kind": r.kind, "at": r.at.isoformat(), "actor": r.actor_id, "data": r.data}
                               for r in rows if r.event_id is not None])

    @app.get("/floor/cases")
    def listing():
        """One SELECT for a list page: phone, free text (LIKE), status; keyset on id, newest first."""
        args = request.args
        limit = int(args.get("limit", 50))
        stmt = select(cases)
        if args.get("phone"):
            stmt = stmt.where(cases.c.caller_phone == args["phone"])
        if args.get("q"):  # the same condition as the app's list (hotline.search, or LIKE before it existed)
            q = args["q"]
            if summary_condition is not None:
                stmt = stmt.where(summary_condition(q, db.engine.dialect.name))
            else:
                pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                stmt = stmt.where(or_(cases.c.summary.like(pattern, escape="\\"), cases.c.case_no == q))
        if args.get("status"):
            stmt = stmt.where(cases.c.status == args["status"])
        if args.get("before"):
            stmt = stmt.where(cases.c.id < int(args["before"]))
        rows = db.session.execute(stmt.order_by(cases.c.id.desc()).limit(limit + 1)).all()
        return jsonify(items=brief(rows[:limit]), next=rows[limit - 1].id if len(rows) > limit else None)

    @app.get("/floor/ping")
    def ping():
        return jsonify(ok=True)

    return app


app = create_floor()
