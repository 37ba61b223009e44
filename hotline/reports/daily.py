"""Daily figures: the dashboard's counts per local day, kept exact, so a year is ~365 rows per group.

report_day holds, for every local day up to report_rollup.through, the counts of kpis.count_columns()
over the cases registered that day, per grouping value; report_day_closed the cases closed each day.
Days after `through` (today, at least) are always counted live from the cases.

Kept exact two ways, both reusing the figures' SQL conditions (hotline/cases/queries.py via
kpis.count_columns), never a copy of them:

* the same transaction: when a flush changes a case of a day already rolled up (a case closed,
  reopened, surveyed, moved to another department…), the listener below reads the case's
  contribution before and after the flush, by those conditions, and adds the difference to the day's
  rows (INSERT … ON CONFLICT DO UPDATE, rows taken in one order: no lost update, no deadlock);
* the `rollup` job (jobs.py, idempotent): once a day is over it counts that day from the cases and
  moves `through` on. It first takes a SHARE lock on the case table (PostgreSQL; on SQLite the write
  lock), so it waits for every transaction writing cases and counts what they committed; a writer
  reads `through` only after its own flush (holding its row lock), so it either sees the new value
  and adds its difference, or the job counts after it.

The telephony figures (telephony.figures.call_figures: calls that came in, call-backs made) are kept
per local day the same two ways in report_day_calls, up to report_rollup.calls_through, by telephony's
own conditions (telephony.figures.call_count_columns, callback_done). The call roll-up runs in
transactions of its own, under an advisory lock that every transaction writing calls or call-back
attempts takes shared in its first such flush (held to its commit): the job counts before or after
each writer, never beside it, and never holds the case table's lock at the same time.

An empty table (a database migrated with cases already in it) makes the dashboard count live until
the job has built it: `flask --app wsgi hotline run-job rollup` builds it at once.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from sqlalchemy import String, bindparam, cast, delete, event, func, inspect, literal, select, update
from sqlalchemy.orm import Session

from hotline import clock
from hotline.cases import signals as case_signals
from hotline.cases.models import Case
from hotline.db_helpers import add_to_counts
from hotline.extensions import db
from hotline.reports.models import ReportDay, ReportDayCalls, ReportDayClosed, ReportRollup
from hotline.telephony.figures import CALL_COUNTS, call_count_columns, callback_done, inbound_call
from hotline.telephony.models import Call, CallbackAttempt

COUNTS = ("registered", "closed", "on_time", "on_call", "surveyed", "satisfied", "reopened", "reopened_closed",
          "attempted", "resolved", "replied", "reply_seconds")
ID_DIMS = ("category", "department", "handler")  # integer keys; type and channel are codes
CHUNK_DAYS = 31  # the job counts at most this many days per transaction (its lock stays short)


def dims() -> dict[str, Any]:
    from hotline.reports.kpis import GROUP_COLUMNS

    return {d: GROUP_COLUMNS[d] for d in ("category", "type", "department", "handler", "channel")}


def key_of(value: Any) -> str:
    return "" if value is None else str(value)


def raw_key(dim: str, key: str) -> Any:
    if key == "":
        return None
    return int(key) if dim in ID_DIMS else key


def midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.local_tz()).astimezone(timezone.utc)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def through() -> date | None:
    value = db.session.scalar(select(ReportRollup.through).where(ReportRollup.id == 1))
    return None if value is None else _as_date(value)


PER_TRANSACTION = ("report_tuned", "daily_state")  # session.info keys forgotten when a transaction ends


def _state() -> tuple[date | None, date | None]:
    """(through, calls_through) for the readers, read once per transaction (a report reads them several
    times). The roll-up and the listener read them afresh; reset() forgets them."""
    info = db.session.info
    if "daily_state" not in info:
        row = db.session.execute(select(ReportRollup.through, ReportRollup.calls_through)
                                 .where(ReportRollup.id == 1)).one_or_none()
        info["daily_state"] = (None, None) if row is None else tuple(
            None if v is None else _as_date(v) for v in row)
    return info["daily_state"]


@event.listens_for(Session, "after_transaction_end")
def _forget_per_transaction(session: Session, transaction) -> None:
    if transaction.parent is None:
        for key in PER_TRANSACTION:
            session.info.pop(key, None)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:  # a savepoint rolled back undoes set_config too
    for key in PER_TRANSACTION:
        session.info.pop(key, None)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def calls_through() -> date | None:
    value = db.session.scalar(select(ReportRollup.calls_through).where(ReportRollup.id == 1))
    return None if value is None else _as_date(value)


# ---------------------------------------------------------------- reading

def usable_through(first: date) -> date | None:
    """The last rolled-up day if the period starting at `first` can use the daily figures, else None."""
    last = _state()[0]
    return last if last is not None and last >= first else None


def counts(first: date, last: date, by: str | None) -> list[Any]:
    """Rows (group_key, counts…) summed over the days [first, last]; one row (group_key None) without by."""
    dim = by or "channel"  # every case has exactly one channel: its rows add up to the totals
    key = ReportDay.key
    sums = [func.coalesce(func.sum(getattr(ReportDay, c)), 0).label(c) for c in COUNTS]
    stmt = select(*([key] if by else []), *sums).where(ReportDay.day >= first, ReportDay.day <= last,
                                                       ReportDay.dim == dim)
    if by:
        return [SimpleNamespace(group_key=raw_key(by, row[0]), **dict(zip(COUNTS, row[1:])))
                for row in db.session.execute(stmt.group_by(key))]
    row = db.session.execute(stmt).one()
    return [SimpleNamespace(group_key=None, **dict(zip(COUNTS, row)))]


def intake(first: date, last: date) -> dict[date, int]:
    return {_as_date(d): int(n) for d, n in db.session.execute(
        select(ReportDay.day, func.sum(ReportDay.registered)).where(
            ReportDay.day >= first, ReportDay.day <= last, ReportDay.dim == "channel").group_by(ReportDay.day))}


def calls_usable_through(first: date) -> date | None:
    """The last day of the daily call figures if the period starting at `first` can use them, else None."""
    last = _state()[1]
    return last if last is not None and last >= first else None


def call_counts(first: date, last: date) -> dict[str, int]:
    """telephony.figures.call_figures over the local days [first, last], from the daily call figures."""
    row = db.session.execute(select(*[func.coalesce(func.sum(getattr(ReportDayCalls, c)), 0) for c in CALL_COUNTS])
                             .where(ReportDayCalls.day >= first, ReportDayCalls.day <= last)).one()
    return {c: int(n) for c, n in zip(CALL_COUNTS, row)}


def closures(first: date, last: date) -> dict[date, int]:
    return {_as_date(d): int(n) for d, n in db.session.execute(
        select(ReportDayClosed.day, ReportDayClosed.closed).where(
            ReportDayClosed.day >= first, ReportDayClosed.day <= last))}


# ---------------------------------------------------------------- the roll-up (job)

def _lock_cases() -> None:
    """Wait for every transaction writing cases, and hold new ones off until this one commits."""
    if _dialect() == "postgresql":
        db.session.connection().exec_driver_sql("LOCK TABLE hotline_case IN SHARE MODE")
    else:  # SQLite: take the database's write lock before counting
        db.session.execute(update(ReportRollup).where(ReportRollup.id == 1).values(through=ReportRollup.through))


def _recount(first: date, last: date) -> None:
    """Replace the rows of the days [first, last] by a count from the cases."""
    from hotline.reports.kpis import count_columns, local_day

    start, end = midnight_utc(first), midnight_utc(last + timedelta(days=1))
    in_days = (Case.created_at >= start, Case.created_at < end)
    db.session.execute(delete(ReportDay).where(ReportDay.day >= first, ReportDay.day <= last))
    db.session.execute(delete(ReportDayClosed).where(ReportDayClosed.day >= first, ReportDayClosed.day <= last))
    columns = count_columns()
    for dim, col in dims().items():
        day = local_day(Case.created_at)
        key = func.coalesce(cast(col, String), "")
        db.session.execute(ReportDay.__table__.insert().from_select(
            ["day", "dim", "key", *COUNTS],
            select(day, literal(dim), key, *columns).where(*in_days).group_by(day, key)))
    closed_day = local_day(Case.closed_at)
    db.session.execute(ReportDayClosed.__table__.insert().from_select(
        ["day", "closed"], select(closed_day, func.count()).where(
            Case.closed_at >= start, Case.closed_at < end).group_by(closed_day)))


CALLS_LOCK = 1235121  # pg_advisory_xact_lock key: the call roll-up (exclusive) against call writers (shared)


def _lock_calls(session: Session, exclusive: bool) -> None:
    """The call roll-up waits for every transaction that wrote calls or call-back attempts, and holds new
    ones off until it commits. An advisory lock, not LOCK TABLE on the two tables: a writer may touch them
    in either order, and the roll-up never holds the case table's lock at the same time (no cycle)."""
    if session.get_bind().dialect.name == "postgresql":
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        # session.connection(): the primary's, even in a request whose plain SELECTs go to a replica
        session.connection().execute(select(getattr(func, fn)(CALLS_LOCK)))
    elif exclusive:  # SQLite: take the database's write lock before counting
        session.execute(update(ReportRollup).where(ReportRollup.id == 1).values(
            calls_through=ReportRollup.calls_through))


def _recount_calls(first: date, last: date) -> None:
    """Replace the daily call figures of the days [first, last] by a count from the calls."""
    from hotline.reports.kpis import local_day

    start, end = midnight_utc(first), midnight_utc(last + timedelta(days=1))
    db.session.execute(delete(ReportDayCalls).where(ReportDayCalls.day >= first, ReportDayCalls.day <= last))
    day = local_day(Call.started_at)
    rows = {_as_date(r.day): dict.fromkeys(CALL_COUNTS, 0) | {c: int(r._mapping[c]) for c in CALL_COUNTS[:-1]}
            for r in db.session.execute(select(day.label("day"), *call_count_columns()).where(
                inbound_call(), Call.started_at >= start, Call.started_at < end).group_by(day))}
    at_day = local_day(CallbackAttempt.at)
    for d, n in db.session.execute(select(at_day, func.count()).where(
            CallbackAttempt.at >= start, CallbackAttempt.at < end, callback_done()).group_by(at_day)):
        rows.setdefault(_as_date(d), dict.fromkeys(CALL_COUNTS, 0))["callbacks_done"] = int(n)
    if rows:
        db.session.execute(ReportDayCalls.__table__.insert(), [{"day": d, **c} for d, c in sorted(rows.items())])


def _roll_up_calls(until: date) -> int:
    days = 0
    while True:
        _lock_calls(db.session(), exclusive=True)
        last = calls_through()
        if last is None:
            first_at = db.session.scalar(select(func.min(Call.started_at)))
            first_att = db.session.scalar(select(func.min(CallbackAttempt.at)))
            moments = [m for m in (first_at, first_att) if m is not None]
            first = min(moments).astimezone(clock.local_tz()).date() if moments else until
        else:
            first = last + timedelta(days=1)
        if first > until:
            db.session.commit()
            return days
        chunk_end = min(until, first + timedelta(days=CHUNK_DAYS - 1))
        _recount_calls(first, chunk_end)
        db.session.execute(update(ReportRollup).where(ReportRollup.id == 1).values(calls_through=chunk_end))
        db.session.commit()
        days += (chunk_end - first).days + 1


def roll_up(until: date | None = None) -> dict[str, int]:
    """Count every day up to `until` (default and at most yesterday: never a day not over yet, which the
    listener relies on) not rolled up yet; idempotent. Commits per chunk. The cases first (under the case
    table's lock), then the calls (under the calls' lock), never both."""
    yesterday = clock.now().astimezone(clock.local_tz()).date() - timedelta(days=1)
    until = min(until or yesterday, yesterday)
    if db.session.get(ReportRollup, 1) is None:
        db.session.add(ReportRollup(id=1, through=None))
        db.session.flush()
    days = 0
    while True:
        _lock_cases()
        last = through()
        if last is None:
            first_at = db.session.scalar(select(func.min(Case.created_at)))
            first = (first_at.astimezone(clock.local_tz()).date() if first_at else until)
        else:
            first = last + timedelta(days=1)
        if first > until:
            db.session.commit()
            return {"days": days, "call_days": _roll_up_calls(until)}
        chunk_end = min(until, first + timedelta(days=CHUNK_DAYS - 1))
        _recount(first, chunk_end)
        db.session.execute(update(ReportRollup).where(ReportRollup.id == 1).values(through=chunk_end))
        db.session.commit()
        days += (chunk_end - first).days + 1


def reset() -> None:
    """Forget the daily figures (the next roll-up counts everything again)."""
    db.session.execute(delete(ReportDay))
    db.session.execute(delete(ReportDayClosed))
    db.session.execute(delete(ReportDayCalls))
    db.session.execute(update(ReportRollup).values(through=None, calls_through=None))
    db.session.info.pop("daily_state", None)


# ---------------------------------------------------------------- the same transaction

def contributions(session: Session, ids: list[int]) -> dict[int, Any]:
    """{case id: its day, closing day, grouping values and counts}, by the figures' own conditions."""
    if not ids:
        return {}
    return {row.id: row for row in session.execute(_built(session, _case_contributions), {"ids": ids})}


_STATEMENTS: dict[tuple, Any] = {}


def _built(session: Session, build: Callable[[], Any]) -> Any:
    """The listener's SELECT made by `build`, built once per database and zone: its SQL depends on nothing else,
    and building the figures' conditions anew on every flush cost more than running them."""
    tz = clock.local_tz()
    cache_key = (session.get_bind().dialect.name, tz.key, clock.now().astimezone(tz).utcoffset(), build)
    statement = _STATEMENTS.get(cache_key)
    if statement is None:
        statement = _STATEMENTS[cache_key] = build()
    return statement


def _case_contributions() -> Any:
    from hotline.reports.kpis import count_columns, local_day

    return (select(Case.id, local_day(Case.created_at).label("day"), local_day(Case.closed_at).label("closed_day"),
                   *[c.label(f"dim_{d}") for d, c in dims().items()], *count_columns())
            .where(Case.id.in_(bindparam("ids", expanding=True))).group_by(Case.id))


def _call_contributions() -> Any:
    from hotline.reports.kpis import local_day

    return (select(Call.id, local_day(Call.started_at).label("day"), *call_count_columns())
            .where(Call.id.in_(bindparam("ids", expanding=True)), inbound_call()).group_by(Call.id))


def _attempt_contributions() -> Any:
    from hotline.reports.kpis import local_day

    return (select(CallbackAttempt.id, local_day(CallbackAttempt.at).label("day"))
            .where(CallbackAttempt.id.in_(bindparam("ids", expanding=True)), callback_done()))


def _changed_cases(session: Session) -> tuple[list[Case], list[Case]]:
    persistent = [o for o in (*session.dirty, *session.deleted)
                  if isinstance(o, Case) and o.id is not None and (o in session.deleted or session.is_modified(o))]
    new = [o for o in session.new if isinstance(o, Case)]
    return persistent, new


def _maybe_rolled_up(obj: Case, last: date | None) -> bool:
    """Whether this change could touch a rolled-up day (else the listener has nothing to do)."""
    if last is None:
        return False
    tz = clock.local_tz()
    moments = [obj.created_at, *inspect(obj).attrs.created_at.history.deleted,
               obj.closed_at, *inspect(obj).attrs.closed_at.history.deleted]
    return any(m is not None and m.astimezone(tz).date() <= last for m in moments)


def call_contributions(session: Session, calls: list[int], attempts: list[int]) -> dict[tuple[str, int], Any]:
    """{("call"|"attempt", id): (day, counts)} by telephony's own conditions; a call that is not inbound or an
    attempt that made no call has no row (it counts nothing)."""
    out: dict[tuple[str, int], Any] = {}
    primary = session.connection()  # what this transaction wrote, even where plain SELECTs go to a replica
    if calls:
        for row in primary.execute(_built(session, _call_contributions), {"ids": calls}):
            out[("call", row.id)] = (_as_date(row.day), {c: int(row._mapping[c]) for c in CALL_COUNTS[:-1]})
    if attempts:
        for row in primary.execute(_built(session, _attempt_contributions), {"ids": attempts}):
            out[("attempt", row.id)] = (_as_date(row.day), {"callbacks_done": 1})
    return out


def _changed_calls(session: Session) -> tuple[list[Any], list[Any]]:
    def ours(o: Any) -> bool:
        return isinstance(o, (Call, CallbackAttempt))

    persistent = [o for o in (*session.dirty, *session.deleted)
                  if ours(o) and o.id is not None and (o in session.deleted or session.is_modified(o))]
    return persistent, [o for o in session.new if ours(o)]


def _split(objs: list[Any]) -> tuple[list[int], list[int]]:
    return ([o.id for o in objs if isinstance(o, Call)], [o.id for o in objs if isinstance(o, CallbackAttempt)])


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context, instances) -> None:
    persistent, _new = _changed_cases(session)
    # Always replaced: a flush that failed must not leave its cases for the next one.
    session.info["daily_old"] = contributions(session, [o.id for o in persistent]) if persistent else {}
    calls, new_calls = _changed_calls(session)
    if calls or new_calls:
        _lock_calls(session, exclusive=False)  # held to the commit: the call roll-up counts before or after us
    session.info["daily_calls_old"] = call_contributions(session, *_split(calls)) if calls else {}


# Servers' clocks may differ by up to this much: a case registered this close to midnight is checked against
# the roll-up's last day rather than taken to be of a day no roll-up has counted.
CLOCK_MARGIN = timedelta(minutes=5)


def _of_a_day_not_over(new: list[Case]) -> bool:
    """Whether every one of these new cases was registered (and closed, if it was) on a day not over yet.
    The roll-up counts only days that are over, so none can have counted such a case: a registration need
    not read `through` (one statement less while it holds the day's case number)."""
    tz = clock.local_tz()
    today = (clock.now() + CLOCK_MARGIN).astimezone(tz).date()

    def not_over(moment: datetime | None) -> bool:
        return moment is not None and moment.astimezone(tz).date() >= today

    return all(not_over(o.created_at) and (o.closed_at is None or not_over(o.closed_at)) for o in new)


def _flush_needed(case: Case, **_ignored: Any) -> bool:
    """A new case the case service would write past the flush (hotline/cases/signals.py): the figures need to
    see it when a roll-up may have counted its day (within CLOCK_MARGIN of midnight)."""
    return not _of_a_day_not_over([case])


case_signals.writing_at_once.connect(_flush_needed)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context) -> None:
    _after_flush_calls(session)
    old = session.info.pop("daily_old", {})
    persistent, new = _changed_cases(session)
    if not old and not new:
        return
    if not old and not persistent and _of_a_day_not_over(new):
        return
    # Read after this flush's own writes to the case table: see the module's docstring.
    last = session.scalar(select(ReportRollup.through).where(ReportRollup.id == 1))
    last = None if last is None else _as_date(last)
    if last is None:
        return
    touched = [o for o in (*persistent, *new) if _maybe_rolled_up(o, last)]
    if not touched and not old:
        return
    alive = [o.id for o in (*persistent, *new) if o not in session.deleted]
    now_rows = contributions(session, alive) if (touched or old) else {}
    deltas: dict[tuple, dict[str, float]] = {}
    closed: dict[date, int] = {}

    def add(row: Any, sign: int) -> None:
        day = _as_date(row.day)
        if day <= last:
            for d in dims():
                k = (day, d, key_of(getattr(row, f"dim_{d}")))
                acc = deltas.setdefault(k, dict.fromkeys(COUNTS, 0))
                for c in COUNTS:
                    acc[c] += sign * (getattr(row, c) or 0)
        if row.closed_day is not None and _as_date(row.closed_day) <= last:
            cd = _as_date(row.closed_day)
            closed[cd] = closed.get(cd, 0) + sign

    for row in old.values():
        add(row, -1)
    for row in now_rows.values():
        add(row, +1)
    _apply(session, deltas, closed)


def _apply(session: Session, deltas: dict[tuple, dict[str, float]], closed: dict[date, int]) -> None:
    add_to_counts(session, ReportDay.__table__, ("day", "dim", "key"), COUNTS,
                  [{"day": day, "dim": dim, "key": key, **acc}
                   for (day, dim, key), acc in sorted(deltas.items()) if any(acc.values())])
    add_to_counts(session, ReportDayClosed.__table__, ("day",), ("closed",),
                  [{"day": day, "closed": n} for day, n in sorted(closed.items()) if n])


def _after_flush_calls(session: Session) -> None:
    old = session.info.pop("daily_calls_old", {})
    persistent, new = _changed_calls(session)
    if not old and not new:
        return
    last = session.connection().scalar(select(ReportRollup.calls_through).where(ReportRollup.id == 1))
    if last is None:
        return
    last = _as_date(last)
    alive = [o for o in (*persistent, *new) if o not in session.deleted]
    deltas: dict[date, dict[str, int]] = {}
    for sign, rows in ((-1, old), (+1, call_contributions(session, *_split(alive)))):
        for day, counts in rows.values():
            if day <= last:
                acc = deltas.setdefault(day, dict.fromkeys(CALL_COUNTS, 0))
                for c, n in counts.items():
                    acc[c] += sign * n
    add_to_counts(session, ReportDayCalls.__table__, ("day",), CALL_COUNTS,
                  [{"day": day, **acc} for day, acc in sorted(deltas.items()) if any(acc.values())])
