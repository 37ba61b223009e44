"""Reads on a streaming replica (DATABASE_REPLICA_URL): reports, exports, the KPI API and search.

A door opts in with @reads_from_replica (or route_reads() for work it runs itself). From then on, in
that request's session, plain SELECTs go to the replica; everything else goes to the primary:

* writes never reach the replica: a flush, INSERT/UPDATE/DELETE, SELECT … FOR UPDATE and text()
  (but SET, a planner setting for the reads) go to the primary whatever the route (a hot standby
  would refuse them anyway);
* read-your-writes: once the session has written (a flush, or a statement that is not a SELECT,
  SHOW or SET), every later read of that request goes to the primary too. Noting the last use of the
  request's own token or session is not such a write (BOOKKEEPING_TABLES);
* the replica is used only while it answers and lags no more than HOTLINE_REPLICA_MAX_LAG_SECONDS.
  The check (one query) is cached for HOTLINE_REPLICA_CHECK_SECONDS per process; a replica that does
  not answer within its connect timeout is skipped, and the request reads from the primary.

Without DATABASE_REPLICA_URL nothing changes: every statement goes to the primary.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import TextClause

log = logging.getLogger("hotline.replica")
EXTENSION = "hotline_replica"

# The replica's delay: nothing to replay means no delay, however long ago the last transaction was (an
# idle primary); WAL received but not replayed yet counts from the last transaction replayed. Without a
# WAL receiver streaming, the replica no longer follows the primary. WAL waiting while no transaction
# has been replayed since the standby started: the delay is unknown (NULL), and the primary is used.
LAG_SQL = text("""
    SELECT pg_is_in_recovery() AS standby,
           EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming,
           CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
                ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
           END AS lag
""")


class Replica:
    """The replica's engine and its last health check."""

    def __init__(self, engine: Engine, max_lag: float, check_seconds: float):
        self.engine = engine
        self.max_lag = max_lag
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._usable = False
        self.last_lag: float | None = None
        self.last_error: str | None = None

    def usable(self) -> bool:
        """True when the replica answers, is a standby in recovery and lags at most max_lag (cached)."""
        with self._lock:
            now = time.monotonic()
            if self._checked_at is not None and now - self._checked_at < self.check_seconds:
                return self._usable
            self._usable = self._check()
            self._checked_at = time.monotonic()
            return self._usable

    def _check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                row = conn.execute(LAG_SQL).one()
        except Exception as exc:  # noqa: BLE001  (down, restarting, unreachable: read from the primary)
            self.last_error, self.last_lag = (str(exc).strip().splitlines() or [""])[0][:200], None
            log.warning("replica not used: %s", self.last_error)
            return False
        self.last_lag = row.lag
        if not row.standby:
            # A promoted replica is a second primary: reading it would show a history that diverges.
            self.last_error = "not in recovery (promoted?)"
        elif not row.streaming:
            self.last_error = "not streaming from the primary"
        elif row.lag is None:
            self.last_error = "delay unknown (WAL waiting, nothing replayed since the standby started)"
        elif row.lag > self.max_lag:
            self.last_error = f"lags {row.lag:.1f}s (more than {self.max_lag:g}s)"
        else:
            self.last_error = None
            return True
        log.warning("replica not used: %s", self.last_error)
        return False

    def forget(self) -> None:
        """Check again at the next request (tests, and after an operator fixed the replica)."""
        with self._lock:
            self._checked_at = None


# The execution option of a SELECT that writes: INSERTs inside its WITH (the case register's one-statement
# registration, hotline/cases/events.py). By its form it would pass for a read; it goes to the primary and
# counts as the request's write.
WRITES_OPTION = "hotline_writes"


def _plain_select(clause: Any) -> bool:
    return (clause is not None and bool(getattr(clause, "is_select", False))
            and getattr(clause, "_for_update_arg", None) is None
            and not clause.get_execution_options().get(WRITES_OPTION))


def _text_start(clause: Any) -> str:
    return (getattr(clause, "text", "") or "").lstrip()[:7].upper() if isinstance(clause, TextClause) else ""


def _setting(clause: Any) -> bool:
    """SET (LOCAL) … or SELECT set_config(…): planner settings for the reads that follow, so they go where
    the reads go."""
    if _text_start(clause).startswith("SET "):
        return True
    return isinstance(clause, TextClause) and clause.text.lstrip().lower().startswith("select set_config(")


def _not_a_write(clause: Any) -> bool:
    return _plain_select(clause) or _setting(clause) or _text_start(clause).startswith(("SELECT ", "SHOW "))


class RoutingSession(FlaskSession):
    """Flask-SQLAlchemy's session, sending a routed request's plain SELECTs to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        replica = self.info.get("replica")
        if replica is not None and bind is None and not self.info.get("wrote") and (
                _plain_select(clause) or _setting(clause)):
            return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


# The request's own credentials (a token's or a session's last use, noted at most once a minute) are
# bookkeeping no report reads: writing them does not send the request's reads to the primary.
BOOKKEEPING_TABLES = frozenset({"api_token", "user_session"})


@event.listens_for(RoutingSession, "after_flush")
def _flushed(session, flush_context) -> None:
    changed = [*session.new, *session.dirty, *session.deleted]
    if any(getattr(getattr(obj, "__table__", None), "name", None) not in BOOKKEEPING_TABLES for obj in changed):
        session.info["wrote"] = True


@event.listens_for(RoutingSession, "do_orm_execute")
def _executed(state) -> None:
    if not _not_a_write(state.statement):
        state.session.info["wrote"] = True


def init_app(app) -> None:
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.pop("connect_args", {}) or {})
    # A replica that does not answer must not hold the page up: give up quickly and use the primary.
    connect_args.setdefault("connect_timeout", int(app.config.get("HOTLINE_REPLICA_CONNECT_TIMEOUT", 2)))
    engine = create_engine(url, connect_args=connect_args, **options)
    app.extensions[EXTENSION] = Replica(engine, float(app.config["HOTLINE_REPLICA_MAX_LAG_SECONDS"]),
                                        float(app.config["HOTLINE_REPLICA_CHECK_SECONDS"]))


def replica() -> Replica | None:
    return current_app.extensions.get(EXTENSION) if has_app_context() else None


def route_reads() -> bool:
    """Send this session's plain reads to the replica (if there is one and it is fit); True if so."""
    from hotline.extensions import db

    rep = replica()
    session = db.session()
    if rep is None or session.info.get("wrote") or not rep.usable():
        session.info.pop("replica", None)
        return False
    session.info["replica"] = rep.engine
    return True


def reads_from_replica(view):
    """Decorator for doors that only read (reports, exports, the KPI API, search)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        route_reads()
        return view(*args, **kwargs)

    return wrapper
