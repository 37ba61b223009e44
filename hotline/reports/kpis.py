"""The figures supervisors are judged on (architecture §5), computed once for the page, the API and the export.

Every figure is over the cases *registered* in the period (local dates), so each one is a count
of a set of cases that the case list can show with the same filters:

* 受理量 registered — registered in the period.
* 办结率 closed / registered — of those, the ones closed now.
* 按时办结率 on time / closed — closed cases replied (or closed on the call, or merged as a duplicate)
  by their reply deadline.
* 超期 overdue now — open and past its running deadline now, *whenever registered*: the one figure that is
  not limited to the period (overdue_now(); the card, the board, the table, the drill-down and the API all
  use it, and the list's overdue filter selects the same cases).
* 即时办结率 closed on the call / registered.
* 回访率 surveyed / closed — closed cases with a survey that reached the caller (satisfied,
  basically satisfied or dissatisfied; "unreachable" is an attempt, not a survey).
* 满意率 (satisfied + basically satisfied) / surveyed.
* 响应率 response_rate: 回访 contacted / 回访 attempted — closed cases whose survey reached the caller, over
  closed cases with any survey result (an unreachable caller is an attempt).
* 解决率 resolution_rate: resolved / contacted — closed cases whose caller said the problem was solved, over
  closed cases whose survey reached the caller.
* 重办率 reopened / closed — cases reopened at least once.
* 接通率 answered / inbound calls — from telephony, for the whole period (null until it is there).
* 平均答复时长 — mean hours from registration to reply, over replied cases not closed on the call.

The conditions themselves live in hotline/cases/queries.py, shared with the list's filters.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case as when, func, literal_column, select
from sqlalchemy.orm import lazyload

from hotline import clock
from hotline.auth.models import User
from hotline.cases.deadlines import overdue_condition
from hotline.cases.models import CHANNELS, Case
from hotline.cases.queries import (
    NONE_VALUE,
    on_time_condition,
    reopened_condition,
    running_due,
    survey_condition,
)
from hotline.extensions import db
from hotline.reference import lookup
from hotline.reference.models import CaseType, Category, Department
from hotline.reports.periods import Period
from hotline.templating import CHANNEL_LABELS

log = logging.getLogger(__name__)

GROUPINGS = ("category", "type", "department", "handler", "channel", "org")
GROUP_COLUMNS = {
    "org": Case.org_id,  # rolled up: each organisation's row counts its whole subtree (compute)
    "category": Case.category_id,
    "type": Case.type_code,
    "department": Case.department_id,
    "handler": Case.handler_id,
    "channel": Case.channel,
}
COUNT_KEYS = ("registered", "closed", "on_time", "overdue_open", "on_call", "surveyed", "satisfied", "reopened",
              "replied", "attempted", "resolved")
RATE_KEYS = ("closure_rate", "on_time_rate", "first_contact_rate", "survey_rate", "satisfaction_rate",
             "reopen_rate", "answer_rate", "response_rate", "resolution_rate")

# The cases behind each count, as case-list filters (besides the period and the group).
METRIC_FILTERS: dict[str, dict[str, str]] = {
    "registered": {},
    "closed": {"status": "closed"},
    "on_time": {"status": "closed", "on_time": "1"},
    "overdue_open": {"overdue": "1"},  # whenever registered: drill_args leaves the period out
    "on_call": {"on_call": "1"},
    "surveyed": {"status": "closed", "survey": "reached"},
    "satisfied": {"status": "closed", "survey": "positive"},
    "reopened": {"reopened": "1"},
    "attempted": {"status": "closed", "survey": "attempted"},
    "resolved": {"status": "closed", "survey": "reached", "resolved": "1"},
    "replied": {},  # not linked
}


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class Figures:
    """The counts of one group (or of the whole period) and the rates made from them."""

    key: str | None = None
    label: str = ""
    registered: int = 0
    closed: int = 0
    on_time: int = 0
    overdue_open: int = 0
    on_call: int = 0
    surveyed: int = 0
    satisfied: int = 0
    reopened: int = 0
    reopened_closed: int = 0  # of the closed cases, those reopened at least once (the rate's numerator)
    replied: int = 0  # replied cases not closed on the call (the average's denominator)
    attempted: int = 0  # closed cases with a 回访 result, reached or not
    resolved: int = 0  # closed cases whose caller said the problem was solved
    reply_seconds: float = 0.0
    calls: dict[str, int] | None = None  # telephony, for the totals only

    @property
    def closure_rate(self) -> float | None:
        return ratio(self.closed, self.registered)

    @property
    def on_time_rate(self) -> float | None:
        return ratio(self.on_time, self.closed)

    @property
    def first_contact_rate(self) -> float | None:
        return ratio(self.on_call, self.registered)

    @property
    def survey_rate(self) -> float | None:
        return ratio(self.surveyed, self.closed)

    @property
    def satisfaction_rate(self) -> float | None:
        return ratio(self.satisfied, self.surveyed)

    @property
    def response_rate(self) -> float | None:
        return ratio(self.surveyed, self.attempted)

    @property
    def resolution_rate(self) -> float | None:
        return ratio(self.resolved, self.surveyed)

    @property
    def reopen_rate(self) -> float | None:
        # Of the closed cases, the share reopened at least once: a reopened case still being worked is
        # not in the denominator, so it is not in the numerator either (the rate stays within 0..1).
        return ratio(self.reopened_closed, self.closed)

    @property
    def answer_rate(self) -> float | None:
        if not self.calls:
            return None
        return ratio(int(self.calls.get("answered") or 0), int(self.calls.get("inbound") or 0))

    @property
    def avg_reply_hours(self) -> float | None:
        if not self.replied:
            return None
        return round(self.reply_seconds / self.replied / 3600, 2)

    def add(self, row: Any) -> None:
        for name in COUNT_KEYS:  # overdue_open is not in the period's row: see overdue_now()
            setattr(self, name, getattr(self, name) + int(getattr(row, name, 0) or 0))
        self.reopened_closed += int(getattr(row, "reopened_closed", 0) or 0)
        self.reply_seconds += float(row.reply_seconds or 0)

    def as_dict(self, with_key: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": self.label} if with_key else {}
        out.update({
            "registered": self.registered, "closed": self.closed, "closure_rate": self.closure_rate,
            "on_time_rate": self.on_time_rate, "overdue_open": self.overdue_open,
            "first_contact_rate": self.first_contact_rate, "survey_rate": self.survey_rate,
            "satisfaction_rate": self.satisfaction_rate, "reopen_rate": self.reopen_rate,
            "answer_rate": self.answer_rate, "response_rate": self.response_rate,
            "resolution_rate": self.resolution_rate,
            # the numerators behind the rates, and the mean reply time
            "on_time": self.on_time, "closed_on_call": self.on_call, "surveyed": self.surveyed,
            "satisfied": self.satisfied, "reopened": self.reopened, "attempted": self.attempted,
            "resolved": self.resolved, "avg_reply_hours": self.avg_reply_hours,
        })
        if not with_key:
            calls = self.calls or {}
            out["calls"] = {k: calls.get(k) for k in ("inbound", "answered", "answered_within_15s", "abandoned",
                                                        "callbacks_done")} if self.calls else None
        return out


@dataclass
class Report:
    period: Period
    by: str | None
    totals: Figures
    groups: list[Figures] = field(default_factory=list)
    days: list[dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.period.first.isoformat(), "to": self.period.last.isoformat(), "by": self.by,
                "totals": self.totals.as_dict(), "groups": [g.as_dict(with_key=True) for g in self.groups]}


# ---------------------------------------------------------------- SQL

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _reply_seconds():
    if _dialect() == "postgresql":
        # date_part gives a float; EXTRACT gives numeric, whose sums are several times slower
        return func.date_part("epoch", Case.replied_at - Case.created_at)
    return (func.julianday(Case.replied_at) - func.julianday(Case.created_at)) * 86400.0


def count_columns() -> list:
    """One aggregate column per count, each the figure's condition from hotline.cases.queries (the same SQL at
    every moment: the roll-up listener builds it once)."""
    closed = Case.status == "closed"
    replied = and_(Case.replied_at.is_not(None), Case.resolved_on_call.is_(False))

    def n(condition):
        return func.count().filter(condition)  # COUNT(*) FILTER (WHERE …): PostgreSQL and SQLite ≥ 3.30

    return [
        func.count().label("registered"),
        n(closed).label("closed"),
        n(and_(closed, on_time_condition())).label("on_time"),
        n(Case.resolved_on_call.is_(True)).label("on_call"),
        n(and_(closed, survey_condition("reached"))).label("surveyed"),
        n(and_(closed, survey_condition("positive"))).label("satisfied"),
        n(reopened_condition()).label("reopened"),
        n(and_(closed, reopened_condition())).label("reopened_closed"),
        n(and_(closed, survey_condition("attempted"))).label("attempted"),
        n(and_(closed, survey_condition("reached"), Case.survey_resolved.is_(True))).label("resolved"),
        n(replied).label("replied"),
        func.coalesce(func.sum(when((replied, _reply_seconds()), else_=0)), 0).label("reply_seconds"),
    ]


def _in_period(period: Period):
    return and_(Case.created_at >= period.start_utc, Case.created_at < period.end_utc)


def local_day(column):
    """The local date of a UTC timestamp column, in SQL (the same text in SELECT and GROUP BY)."""
    tz = clock.local_tz()
    if _dialect() == "postgresql":
        return func.date(func.timezone(literal_column("'" + tz.key.replace("'", "''") + "'"), column))
    # SQLite keeps naive UTC text: shift by the zone's offset (Asia/Shanghai has no DST since 1991).
    offset = clock.now().astimezone(tz).utcoffset() or timedelta(0)
    return func.date(column, literal_column(f"'{int(offset.total_seconds() // 60):+d} minutes'"))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# A live count over at most this much (the days after the roll-up: today, usually) reads a few thousand
# index entries: the planner settings of _tune() are not worth their statement.
SHORT_LIVE = timedelta(days=2)


def _tune() -> None:
    """PostgreSQL, this transaction only: group a year of cases in memory rather than spilling sorts to
    disk, and skip JIT compilation, which costs more than it saves on these scans."""
    if _dialect() != "postgresql":
        return
    stmt = select(func.set_config("work_mem", "64MB", True), func.set_config("jit", "off", True))
    bind = db.session.get_bind(clause=stmt)  # the replica's connection, when the reads go there
    if db.session.info.get("report_tuned") is not bind:  # once per transaction (daily.PER_TRANSACTION)
        db.session.execute(stmt)
        db.session.info["report_tuned"] = bind


def _org_where(org_ids: frozenset[int] | None):
    """The cases owned by an organisation's subtree (None: every case, the root's figures)."""
    return None if org_ids is None else Case.org_id.in_(sorted(org_ids))


def _where(*conds):
    return and_(*[c for c in conds if c is not None])


def _aggregate(period: Period, now: datetime, by: str | None,
               with_days: bool, org_ids: frozenset[int] | None = None) -> tuple[Any, list[Any], dict[date, int]]:
    """(totals, one row per group, {local day: registered}) over the cases registered in the period.

    The days already rolled up come from the daily figures (hotline/reports/daily.py), the rest (today,
    at least) from the cases; a grouping the daily figures do not hold is counted live throughout.
    """
    from hotline.reports import daily as daily_figures

    # The daily figures are the whole network's: an organisation's subtree is counted live.
    usable = org_ids is None and by in (None, *daily_figures.dims())
    last = daily_figures.usable_through(period.first) if usable else None
    if last is None:
        return _aggregate_live(period, now, by, with_days, _where(_in_period(period), _org_where(org_ids)))
    upto = min(last, period.last)
    rows = {r.group_key: r for r in daily_figures.counts(period.first, upto, by)}
    days = daily_figures.intake(period.first, upto) if with_days else {}
    if upto < period.last:  # the days after the roll-up, counted live
        rest = and_(Case.created_at >= daily_figures.midnight_utc(upto + timedelta(days=1)),
                    Case.created_at < period.end_utc)
        short = period.end_utc - daily_figures.midnight_utc(upto + timedelta(days=1)) <= SHORT_LIVE
        live_total, live_groups, live_days = _aggregate_live(period, now, by, with_days, rest, tune=not short)
        days.update(live_days)
        for row in (live_groups if by else [live_total]):
            key = row.group_key if by else None
            if key not in rows:
                rows[key] = SimpleNamespace(group_key=key, **{c: 0 for c in daily_figures.COUNTS})
            for c in daily_figures.COUNTS:
                setattr(rows[key], c, getattr(rows[key], c) + (getattr(row, c) or 0))
    groups = [r for r in rows.values() if r.registered] if by else []
    if by:
        total = Figures()
        for row in groups:
            total.add(row)
    else:
        total = rows[None]
    return total, groups, days


def _aggregate_live(period: Period, now: datetime, by: str | None, with_days: bool,
                    where: Any, tune: bool = True) -> tuple[Any, list[Any], dict[date, int]]:
    """The same from the cases: every case falls in exactly one group (cases without a department or
    handler form the None group), so with a grouping the totals are the groups added up: the cases are
    read once, along the covering index ix_hotline_case_report. The days come from the narrow
    created_at index."""
    if tune:
        _tune()
    columns = count_columns()
    groups: list[Any] = []
    total: Any
    if by:
        col = GROUP_COLUMNS[by]
        groups = list(db.session.execute(select(col.label("group_key"), *columns).where(where).group_by(col)))
        total = Figures()
        for row in groups:
            total.add(row)
    else:
        total = db.session.execute(select(*columns).where(where)).one()
    days: dict[date, int] = {}
    if with_days:
        day = local_day(Case.created_at)
        days = {_as_date(d): int(n) for d, n in db.session.execute(
            select(day, func.count()).where(where).group_by(day))}
    return total, groups, days


# ---------------------------------------------------------------- labels

def group_labels(by: str, keys: list[Any]) -> dict[Any, tuple[str | None, str]]:
    """{raw key: (public key, label)} for one grouping; None is the group without a value."""
    out: dict[Any, tuple[str | None, str]] = {}
    ids = [k for k in keys if k is not None]
    row: Any
    # Categories, types and departments from the copies held between requests (hotline/reference/lookup.py).
    if by in ("category", "type", "department"):
        key = "code" if by == "type" else "id"
        model: type[CaseType] | type[Category] | type[Department] = (
            Category if by == "category" else CaseType if by == "type" else Department)
        wanted = set(ids)
        for row in lookup.all_rows(model):
            if getattr(row, key) in wanted:
                out[getattr(row, key)] = (row.code, row.name)
        if by == "department":
            out[None] = (None, _("Not dispatched"))
    elif by == "handler":
        for row in db.session.execute(select(User.id, User.username, User.display_name).where(User.id.in_(ids))):
            out[row.id] = (row.username, row.display_name)
        out[None] = (None, _("No handler named"))
    elif by == "channel":
        for code in CHANNELS:
            out[code] = (code, str(CHANNEL_LABELS[code]))
    for key in keys:
        out.setdefault(key, (str(key) if key is not None else None, str(key) if key is not None else "—"))
    return out


# ---------------------------------------------------------------- telephony

def call_figures(period: Period) -> dict[str, int] | None:
    """Inbound call figures from telephony, when that module offers them; else None (接通率 null)."""
    try:
        from hotline.telephony import figures as telephony
    except ImportError:
        return None
    figures = getattr(telephony, "call_figures", None)
    if figures is None:
        return None
    try:
        result = _call_figures(figures, period)
    except Exception as exc:  # noqa: BLE001  (telephony still being built: report null rather than fail the page)
        log.warning("telephony call_figures failed, answer rate left empty: %s", str(exc).splitlines()[0])
        return None
    return dict(result) if result else None


def _call_figures(figures, period: Period) -> dict[str, int]:
    """The days already rolled up from the daily call figures (hotline/reports/daily.py), the rest live."""
    from hotline.reports import daily as daily_figures

    def live(start: datetime, end: datetime) -> dict[str, int]:
        with db.session.begin_nested():  # a failure must not spoil the request's transaction
            return dict(figures(start, end))

    last = daily_figures.calls_usable_through(period.first)
    if last is None:
        return live(period.start_utc, period.end_utc)
    upto = min(last, period.last)
    result = daily_figures.call_counts(period.first, upto)
    rest = daily_figures.midnight_utc(upto + timedelta(days=1))
    if rest < period.end_utc:
        for key, n in live(rest, period.end_utc).items():
            result[key] = result.get(key, 0) + int(n or 0)
    return result


# ---------------------------------------------------------------- the report

def compute(period: Period, by: str | None = None, now: datetime | None = None,
            with_calls: bool = True, with_days: bool = False, org=None, with_overdue: bool = True) -> Report:
    """The figures of the cases owned by `org`'s subtree (an Organisation; None or the root: every case).
    with_overdue=False leaves 超期 at 0 (a figure of now: the dashboard's previous period does not show it)."""
    if by is not None and by not in GROUPINGS:
        raise ValueError(by)
    now = now or clock.now()
    org_ids = _org_ids(org)
    total_row, rows, days = _aggregate(period, now, by, with_days, org_ids)
    totals = Figures(label=_("All cases"))
    totals.add(total_row)
    overdue = overdue_now(now, by, org_ids) if with_overdue else {}
    totals.overdue_open = sum(overdue.values())
    if with_calls and org_ids is None:  # the calls are the centre's switchboard, not an organisation's
        totals.calls = call_figures(period)
    groups: list[Figures] = []
    if by == "org":
        groups = _rolled_up(org, rows, overdue)
    elif by:
        keys = [r.group_key for r in rows]
        # A group with overdue cases but none registered in the period still gets its row.
        keys += [k for k in overdue if k not in set(keys)]
        labels = group_labels(by, keys)
        by_key = {r.group_key: r for r in rows}
        for raw in keys:
            key, label = labels[raw]
            fig = Figures(key=key, label=label)
            if raw in by_key:
                fig.add(by_key[raw])
            fig.overdue_open = overdue.get(raw, 0)
            groups.append(fig)
        groups.sort(key=lambda g: (-g.registered, -g.overdue_open, g.label))
    report = Report(period, by, totals, groups)
    if with_days:
        report.days = daily(period, days, org=org)
    return report


def _org_ids(org) -> frozenset[int] | None:
    from hotline.orgs import service as orgs

    if org is None or org.parent_id is None:
        return None
    return orgs.subtree_ids(org.id)


def _rolled_up(org, rows: list[Any], overdue: dict[Any, int]) -> list[Figures]:
    """by=org: one row per organisation of the subtree, each counting its own cases and those of every
    organisation below it (逐级汇总), in tree order."""
    from hotline.orgs import service as orgs

    top = org or orgs.root()
    members = [o for o in orgs.all_orgs() if o.path.startswith(top.path)]
    by_key = {r.group_key: r for r in rows}
    out = []
    for member in members:
        fig = Figures(key=member.code, label=member.name)
        below = orgs.subtree_ids(member.id)
        for org_id in below:
            if org_id in by_key:
                fig.add(by_key[org_id])
        fig.overdue_open = sum(n for k, n in overdue.items() if k in below)
        out.append(fig)
    return out


def daily(period: Period, intake: dict[date, int] | None = None, org=None) -> list[dict[str, Any]]:
    """Cases registered, and cases closed, on each local day of the period."""
    from hotline.reports import daily as daily_figures

    org_where = _org_where(_org_ids(org))
    last = daily_figures.usable_through(period.first) if org_where is None else None
    if last is None or period.end_utc - daily_figures.midnight_utc(min(last, period.last) + timedelta(days=1)) \
            > SHORT_LIVE:
        _tune()  # a long range counted live (an organisation's, or before the first roll-up)
    if org_where is not None:  # the daily figures are the whole network's: an organisation's are counted live
        if intake is None:
            day = local_day(Case.created_at)
            intake = {_as_date(d): int(n) for d, n in db.session.execute(
                select(day, func.count()).where(_where(_in_period(period), org_where)).group_by(day))}
        closed_day = local_day(Case.closed_at)
        closures = {_as_date(d): int(n) for d, n in db.session.execute(
            select(closed_day, func.count())
            .where(_where(Case.closed_at >= period.start_utc, Case.closed_at < period.end_utc, org_where))
            .group_by(closed_day))}
    else:
        start = period.start_utc
        closures = {}
        if last is not None:  # the days already rolled up from the daily figures, the rest live
            upto = min(last, period.last)
            closures = daily_figures.closures(period.first, upto)
            start = daily_figures.midnight_utc(upto + timedelta(days=1))
            if intake is None:
                intake = daily_figures.intake(period.first, upto)
                if start < period.end_utc:
                    day = local_day(Case.created_at)
                    intake.update({_as_date(d): int(n) for d, n in db.session.execute(
                        select(day, func.count()).where(Case.created_at >= start, Case.created_at < period.end_utc)
                        .group_by(day))})
        elif intake is None:
            day = local_day(Case.created_at)
            intake = {_as_date(d): int(n) for d, n in db.session.execute(
                select(day, func.count()).where(_in_period(period)).group_by(day))}
        if start < period.end_utc:
            closed_day = local_day(Case.closed_at)
            closures.update({_as_date(d): int(n) for d, n in db.session.execute(
                select(closed_day, func.count())
                .where(Case.closed_at >= start, Case.closed_at < period.end_utc).group_by(closed_day))})
    return [{"day": d, "registered": intake.get(d, 0), "closed": closures.get(d, 0)} for d in period.dates()]


def overdue_now(now: datetime, by: str | None = None, org_ids: frozenset[int] | None = None) -> dict[Any, int]:
    """超期 as one definition: open cases past their running deadline now, whenever registered
    ({group key: count}; without a grouping {None: total})."""
    cond = _where(overdue_condition(now), _org_where(org_ids))
    if by is None:
        return {None: int(db.session.scalar(select(func.count()).select_from(Case).where(cond)) or 0)}
    col = GROUP_COLUMNS[by]
    return {k: int(n) for k, n in db.session.execute(select(col, func.count()).where(cond).group_by(col))}


def overdue_board(now: datetime | None = None, limit: int = 12, org=None) -> dict[str, Any]:
    """Every case overdue now, whenever registered: count per department and the longest overdue."""
    now = now or clock.now()
    org_ids = _org_ids(org)
    cond = _where(overdue_condition(now), _org_where(org_ids))
    per_dept = list(overdue_now(now, "department", org_ids).items())
    labels = group_labels("department", [d for d, _n in per_dept])
    departments = sorted(({"key": labels[d][0], "label": labels[d][1], "count": n} for d, n in per_dept),
                          key=lambda r: (-r["count"], r["label"]))  # type: ignore[operator]
    # The ids from the open cases' index alone, then those cases: the board names each one's department
    # only (the other joined relations are loaded if ever touched).
    ids = list(db.session.scalars(select(Case.id).where(cond).order_by(running_due(), Case.id).limit(limit)))
    loaded = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(ids)).options(
        lazyload(Case.case_type), lazyload(Case.category), lazyload(Case.handler)))} if ids else {}
    oldest = [loaded[i] for i in ids]
    return {"total": sum(r["count"] for r in departments), "departments": departments, "oldest": oldest}


def drill_args(period: Period, metric: str, by: str | None = None, key: Any = None) -> dict[str, str] | None:
    """Case-list query args listing exactly the cases counted by `metric` (in one group, if given)."""
    if metric not in METRIC_FILTERS or metric == "replied":
        return None
    args = {**({} if metric == "overdue_open" else period.as_args()), **METRIC_FILTERS[metric]}
    if by:
        args[by] = key if key is not None else NONE_VALUE
    return args


def report_org(actor: User, code: Any = None):
    """Whose figures a request asks for: `code` (an organisation in the actor's subtree), else the actor's own.
    Unknown → InvalidInput; another organisation's figures → Forbidden (403)."""
    from hotline.errors import Forbidden
    from hotline.orgs import service as orgs

    own = orgs.by_id(actor.org_id) or orgs.root()
    if code in (None, ""):
        return own
    org = orgs.lookup(code)
    if not orgs.covers(own.id, org.id):
        raise Forbidden(_("The figures of %(org)s are not yours to see.", org=org.name))
    return org


def change(current: float | int | None, previous: float | int | None) -> float | None:
    if current is None or previous is None:
        return None
    return current - previous
