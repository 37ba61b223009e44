"""Case lists: filters, keyset pagination, caller history, queues."""
from __future__ import annotations

import base64
import json
import math
import time as time_module
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from weakref import WeakKeyDictionary

from flask import current_app, has_request_context
from flask_babel import gettext as _
from sqlalchemy import Integer, and_, any_, bindparam, case, func, inspect, literal, or_, select, text, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import defaultload, defer, joinedload, lazyload, load_only, raiseload
from sqlalchemy.orm.attributes import set_committed_value

from hotline import clock, search
from hotline.auth.access import current_actor
from hotline.auth.models import User, UserRole
from hotline.cases import access
from hotline.cases.deadlines import overdue_condition
from hotline.cases.models import CHANNELS, OPEN_STATUSES, REPLY_METHODS, STATUSES, SURVEY_RESULTS, Case, CaseEvent
from hotline.dates import parse_date
from hotline.db_types import MAX_ID
from hotline.errors import InvalidInput
from hotline.extensions import db
from hotline.phones import normalize_phone
from hotline.reference import lookup
from hotline.reference.models import CaseType, Category, Department
from hotline.workdays.service import calendar_for

MAX_LIMIT = 100
# department=- / handler=-: cases without one (the reports' "not dispatched" groups).
NONE_VALUE = "-"
# survey=…: one result, "reached" (the caller answered: a survey that counts), "positive"
# (satisfied or basically satisfied) or "none" (no result, or the caller was unreachable).
REACHED_RESULTS = ("satisfied", "basically_satisfied", "dissatisfied")
POSITIVE_RESULTS = ("satisfied", "basically_satisfied")
SURVEY_FILTERS = (*SURVEY_RESULTS, "reached", "positive", "none", "attempted")
FLAG_FILTERS = ("on_time", "on_call", "reopened", "escalated", "urgent", "resolved")
# What waits for the centre: review=pending, extension=pending, return=pending (the supervisors' tabs).
PENDING_FILTERS = ("review", "extension", "return")


SORTS = ("new", "due")


@dataclass
class CaseFilter:
    status: str | None = None
    overdue: bool | None = None
    type: str | None = None
    category: str | None = None
    department: str | None = None
    org: str | None = None  # the cases owned by this organisation's subtree
    handler: str | None = None
    channel: str | None = None
    phone: str | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    # The reports' drill-down filters (architecture §5): each is the figure's own condition.
    on_time: bool | None = None
    on_call: bool | None = None
    reopened: bool | None = None
    survey: str | None = None
    closed_from: date | None = None
    closed_to: date | None = None
    escalated: bool | None = None
    urgent: bool | None = None
    resolved: bool | None = None
    pending: tuple[str, ...] = ()
    sort: str = "new"  # 'new' (newest first) or 'due' (running deadline first)
    extras: dict[str, Any] = field(default_factory=dict)


def parse_filter(args) -> CaseFilter:
    """Read filters from query-string style args, refusing unknown codes with a clear message."""
    f = CaseFilter()
    get = lambda k: (args.get(k) or "").strip() or None  # noqa: E731
    f.status = get("status")
    if f.status and f.status not in STATUSES + ("open",):
        raise InvalidInput(_("Unknown status: %(v)s", v=f.status[:20]), {"status": _("Unknown status.")})
    overdue = get("overdue")
    if overdue is not None:
        if overdue not in ("1", "0", "true", "false"):
            raise InvalidInput(_("overdue must be 1 or 0."), {"overdue": _("Must be 1 or 0.")})
        f.overdue = overdue in ("1", "true")
    f.type = get("type")
    f.category = get("category")
    f.department = get("department")
    f.org = get("org")
    f.handler = get("handler")
    f.channel = get("channel")
    if f.channel and f.channel not in CHANNELS:
        raise InvalidInput(_("Unknown channel: %(code)s", code=f.channel[:20]), {"channel": _("Unknown channel.")})
    phone = get("phone")
    if phone:
        f.phone = normalize_phone(phone, "phone")
    q = get("q")
    if q and len(q) > 100:
        raise InvalidInput(_("The search text is too long (at most 100 characters)."), {"q": _("Too long.")})
    f.q = q
    if get("from"):
        f.date_from = parse_date(get("from"), "from")
    if get("to"):
        f.date_to = parse_date(get("to"), "to")
    for name in FLAG_FILTERS:
        raw = get(name)
        if raw is not None:
            if raw not in ("1", "0", "true", "false"):
                raise InvalidInput(_("%(name)s must be 1 or 0.", name=name), {name: _("Must be 1 or 0.")})
            setattr(f, name, raw in ("1", "true"))
    pending = []
    for name in PENDING_FILTERS:
        raw = get(name)
        if raw is not None:
            if raw != "pending":
                raise InvalidInput(_("%(name)s takes only the value pending.", name=name), {name: _("Use pending.")})
            pending.append(name)
    f.pending = tuple(pending)
    sort = get("sort")
    if sort is not None:
        if sort not in SORTS:
            raise InvalidInput(_("sort must be new or due."), {"sort": _("Unknown order.")})
        f.sort = sort
    f.survey = get("survey")
    if f.survey and f.survey not in SURVEY_FILTERS:
        raise InvalidInput(_("Unknown survey filter: %(v)s", v=f.survey[:24]), {"survey": _("Unknown survey filter.")})
    if get("closed_from"):
        f.closed_from = parse_date(get("closed_from"), "closed_from")
    if get("closed_to"):
        f.closed_to = parse_date(get("closed_to"), "closed_to")
    return f


# ---------------------------------------------------------------- the figures' conditions (architecture §5)
# One definition each, used by the case list's filters and by the reports, so a drill-down
# list always counts what the figure counts.

def running_due():
    """The deadline whose clock is running, for sorting: acceptance while dispatched (the reply deadline if
    that comes first), the reply deadline otherwise. Python twin: hotline.workdays.service.running_deadline."""
    return case((and_(Case.status == "assigned", Case.accept_due_at.is_not(None),
                      Case.accept_due_at < Case.reply_due_at), Case.accept_due_at), else_=Case.reply_due_at)


def settled_at():
    """When the case was answered: the reply (or the call that closed it), else the merge that closed it."""
    return func.coalesce(Case.replied_at, Case.closed_at)


def on_time_condition():
    """Replied (or closed on the call, or merged) by the reply deadline."""
    return settled_at() <= Case.reply_due_at


def late_condition():
    return settled_at() > Case.reply_due_at


def survey_condition(kind: str):
    if kind == "reached":
        return Case.survey_result.in_(REACHED_RESULTS)
    if kind == "positive":
        return Case.survey_result.in_(POSITIVE_RESULTS)
    if kind == "none":
        return or_(Case.survey_result.is_(None), Case.survey_result == "unreachable")
    if kind == "attempted":
        return Case.survey_result.is_not(None)
    return Case.survey_result == kind


def pending_condition(name: str):
    """Waiting for the centre: a review after the 回访, an extension request, a return (退单审核)."""
    if name == "review":
        return Case.review_pending.is_(True)
    if name == "extension":
        return and_(Case.extension_due_at.is_not(None), Case.status.in_(OPEN_STATUSES))
    return and_(Case.return_requested_at.is_not(None), Case.status.in_(OPEN_STATUSES))


def reopened_condition():
    return Case.reopen_count > 0


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.local_tz()).astimezone(timezone.utc)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"id": last_id}).encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> int:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["id"]
        if not isinstance(value, int) or not 0 <= value <= MAX_ID:  # beyond the column's range: a crash
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(_("The page cursor is not valid; start from the first page."),
                           {"cursor": _("Invalid cursor.")}) from None


# Lists show the handler's name only: neither their roles nor their department (a join less) nor their other
# columns are loaded with them; anything else asked of such a handler later in the request is read then.
NAMES_ONLY = defaultload(Case.handler).options(
    load_only(User.id, User.username, User.display_name, User.department_id),
    lazyload(User.department), lazyload(User.role_rows))


# What a case table (templates/cases/_table.html, views._table_rows, the audit of caller views) does not read of
# a case: its long texts, and its type, category, department and handler, which the page names from the held
# reference copies (handler_names). The other columns are loaded as they are (leaving one out costs the ORM
# about what loading it does).
TABLE_SKIPS = (Case.detail, Case.answer, Case.up_reason, Case.return_reason, Case.extension_reason)
SNIPPET_COLUMNS = (Case.detail, Case.answer)  # where a search's match is shown


def _table_rows(skipped, strict: bool, handler_joined: bool):
    # Under tests an attribute the table does not load raises, so a template that starts reading one fails
    # its tests; in production it is read (a statement per case) rather than break the page.
    unloaded = raiseload if strict else lazyload
    return (*(defer(column, raiseload=strict) for column in skipped), unloaded(Case.case_type),
            unloaded(Case.category), unloaded(Case.department),
            NAMES_ONLY if handler_joined else unloaded(Case.handler))


_TABLE_ROWS = {(search_row, strict): _table_rows(
    tuple(c for c in TABLE_SKIPS if not (search_row and c in SNIPPET_COLUMNS)), strict, False)
    for search_row in (False, True) for strict in (False, True)}


def table_rows(search_row: bool = False) -> tuple:
    """The loader options of a case table's cases (with search_row, also the fields a search's snippet shows)."""
    return _TABLE_ROWS[search_row, current_app.testing]


# Every column, and the handler's username and name joined (an answer gives both).
_ANSWER_ROWS = {strict: _table_rows((), strict, True) for strict in (False, True)}


def answer_rows() -> tuple:
    """The loader options of the cases an API list answers with (present.cases_to_dicts): every column and the
    handler's name; not the type, category or department, which the answer codes from the held copies."""
    return _ANSWER_ROWS[current_app.testing]


# A search's planner settings for its transaction, in one statement (hotline/replica.py sends it where the
# search's reads go), with the newest case's id: the pairs' index is asked by era, up to the newest.
SEARCH_SETTINGS = text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                       "set_config('jit', 'off', true), (SELECT max(id) FROM hotline_case)")


def _plan_searches_with_their_patterns() -> int:
    """SEARCH_SETTINGS, once per transaction (the settings last to its end): a search with a two-character word
    builds its query three times, and each setting was a round trip. Returns the newest case's id then."""
    session = db.session()
    # The innermost: a savepoint rolled back takes its settings with it.
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None or session.info.get("search_settings_for") is not transaction:
        session.info["search_newest_id"] = session.execute(SEARCH_SETTINGS).one()[2] or 0
        session.info["search_settings_for"] = session.get_nested_transaction() or session.get_transaction()
    return session.info["search_newest_id"]


def build_query(actor: User, f: CaseFilter, *, pairs: bool = True, pairs_only: bool = False,
                eras: range | None = None):
    stmt = access.scope(actor, select(Case))
    now = clock.now()
    if f.status == "open":
        stmt = stmt.where(Case.status.in_(OPEN_STATUSES))
    elif f.status:
        stmt = stmt.where(Case.status == f.status)
    if f.overdue is not None:
        overdue_cond = overdue_condition(now)
        stmt = stmt.where(overdue_cond if f.overdue else ~overdue_cond)
    if f.type:
        if db.session.get(CaseType, f.type) is None:
            raise InvalidInput(_("Unknown case type: %(code)s", code=f.type[:32]), {"type": _("Unknown type.")})
        stmt = stmt.where(Case.type_code == f.type)
    if f.category:
        # From the held copies: a two-character search builds this query up to three times.
        cat_id = lookup.mapping(Category, "code", "id").get(f.category)
        if cat_id is None:
            raise InvalidInput(_("Unknown category: %(code)s", code=f.category[:32]), {"category": _("Unknown category.")})
        stmt = stmt.where(Case.category_id == cat_id)
    if f.department == NONE_VALUE:
        stmt = stmt.where(Case.department_id.is_(None))
    elif f.department:
        dept_id = lookup.mapping(Department, "code", "id").get(f.department)
        if dept_id is None:
            raise InvalidInput(_("Unknown department: %(code)s", code=f.department[:32]),
                               {"department": _("Unknown department.")})
        stmt = stmt.where(Case.department_id == dept_id)
    if f.org:
        from hotline.orgs import service as orgs

        stmt = stmt.where(Case.org_id.in_(sorted(orgs.subtree_ids(orgs.lookup(f.org).id))))
    if f.handler == NONE_VALUE:
        stmt = stmt.where(Case.handler_id.is_(None))
    elif f.handler:
        # A name that is no user's matches nothing, like a handler with no cases: the answer (and its
        # time) must not tell whether an account of that name exists. One query either way.
        stmt = stmt.where(Case.handler_id.in_(select(User.id).where(User.username == f.handler)))
    if f.channel:
        stmt = stmt.where(Case.channel == f.channel)
    private_ok = access.private_filter_allowed(actor)
    if f.phone:
        stmt = stmt.where(Case.caller_phone == f.phone)
        if private_ok is not None:
            stmt = stmt.where(private_ok)  # no phone oracle over confidential cases
    if f.q:
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            # psycopg prepares a statement after a few runs and PostgreSQL may then pick a generic
            # plan, which cannot use the trigram index for LIKE with a bound pattern (0.5–7 s for a
            # search with no match). Plan searches with their real pattern, for this transaction.
            # JIT compiling (PostgreSQL's default for costly plans) adds 40–70 ms to a long search and saves less.
            newest = _plan_searches_with_their_patterns()
            if eras is None:
                # Every era up to the newest case's, and the next: a case registered later in this transaction
                # (its id past the newest then) is still asked for.
                eras = range(search.era_of(newest) + 2)
        stmt = stmt.where(search.text_condition(f.q, dialect, search_names(actor), private_ok, pairs=pairs,
                                                pairs_only=pairs_only, eras=eras or range(0)))
    if f.date_from:
        stmt = stmt.where(Case.created_at >= _local_midnight_utc(f.date_from))
    if f.date_to:
        stmt = stmt.where(Case.created_at < _local_midnight_utc(f.date_to + timedelta(days=1)))
    if f.on_time is not None:
        stmt = stmt.where(on_time_condition() if f.on_time else late_condition())
    if f.on_call is not None:
        stmt = stmt.where(Case.resolved_on_call.is_(f.on_call))
    if f.reopened is not None:
        stmt = stmt.where(reopened_condition() if f.reopened else Case.reopen_count == 0)
    if f.survey:
        stmt = stmt.where(survey_condition(f.survey))
    if f.escalated is not None:
        stmt = stmt.where(Case.escalated.is_(f.escalated))
    if f.urgent is not None:
        stmt = stmt.where(Case.urgent.is_(f.urgent))
    if f.resolved is not None:
        stmt = stmt.where(Case.survey_resolved.is_(f.resolved))
    for name in f.pending:
        stmt = stmt.where(pending_condition(name))
    if f.closed_from:
        stmt = stmt.where(Case.closed_at >= _local_midnight_utc(f.closed_from))
    if f.closed_to:
        stmt = stmt.where(Case.closed_at < _local_midnight_utc(f.closed_to + timedelta(days=1)))
    return stmt


def search_names(actor: User) -> bool:
    """Whether the actor's searches look in callers' names (those who talk to or work with callers)."""
    return actor.has_role("operator", "supervisor", "handler")


def search_fields(actor: User, case_private: bool) -> tuple[str, ...]:
    fields = search.FIELDS if search_names(actor) else search.PUBLIC_FIELDS
    return fields if case_private else ("summary", "answer")


def count_cases(actor: User, f: CaseFilter, cap: int | None = None) -> int:
    """How many cases the filters match (the list's total; equals the report figure it was opened from).
    With cap, counting stops after cap + 1 matches: the list page says "10,000+" rather than read every
    match of a broad filter (a million closed cases take a second to count, the first page 2 ms)."""
    if f.q:
        # A search ranks the newest search.CANDIDATES matches: count up to that many (a common word matches a
        # fifth of a million cases, and counting them all would cost more than the search itself).
        capped = build_query(actor, f).with_only_columns(Case.id).order_by(None).limit(search.CANDIDATES)
        return db.session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    if cap is not None:
        capped = build_query(actor, f).with_only_columns(Case.id).order_by(None).limit(cap + 1)
        return db.session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    stmt = build_query(actor, f).with_only_columns(func.count(Case.id)).order_by(None)
    return db.session.scalar(stmt) or 0


# Filters lately found past the cap, per database: {(user id, reference stamp, filter, cap): when, on the
# monotonic clock}; the stamp changes with people's roles and departments, and so with what they may see. A
# list past its cap says "10,000+" on every page, and its count (reading cap + 1 index entries) was a quarter
# of the time of each next page; for a while it is not repeated. Below the cap a total is always counted
# afresh (a handler's new case shows in it at once). Per process; read and written under the GIL.
_past_cap: WeakKeyDictionary[Any, dict[tuple[int, int | None, str, int], float]] = WeakKeyDictionary()
_PAST_CAP_KEPT = 1024
_monotonic = time_module.monotonic


def _known_past_cap(key: tuple[int, int | None, str, int]) -> bool:
    seconds = current_app.config["HOTLINE_LIST_PAST_CAP_SECONDS"]
    seen = _past_cap.get(db.engine, {}).get(key)
    return seconds > 0 and seen is not None and _monotonic() - seen < seconds


def _note_past_cap(key: tuple[int, int | None, str, int]) -> None:
    kept = _past_cap.setdefault(db.engine, {})
    if len(kept) >= _PAST_CAP_KEPT:
        kept.clear()  # a bound, not a policy: at worst every list counts once more
    kept[key] = _monotonic()


def list_page(actor: User, f: CaseFilter, cursor: str | None, limit: int,
              cap: int) -> tuple[list[Case], str | None, int, bool]:
    """The list page: its rows, the next cursor, the total and whether the total is only a lower bound
    (more than cap matches). A search counts its candidates (up to search.CANDIDATES), which the ranking
    has just read, so the search runs once. A filter this user's list found past the cap within
    HOTLINE_LIST_PAST_CAP_SECONDS is not counted again."""
    if f.q:
        limit = max(1, min(int(limit), MAX_LIMIT))
        rows, next_cursor, total = _ranked_with_total(actor, f, build_query(actor, f), cursor, limit,
                                                      table_rows(search_row=True))
        return rows, next_cursor, total, False
    rows, next_cursor = list_cases(actor, f, cursor=cursor, limit=limit, options=table_rows())
    key = (actor.id, lookup.request_stamp(), repr(f), cap)
    if _known_past_cap(key):
        return rows, next_cursor, cap, True
    total = count_cases(actor, f, cap=cap)
    if total > cap:
        _note_past_cap(key)
    return rows, next_cursor, min(total, cap), total > cap


def list_cases(actor: User, f: CaseFilter, cursor: str | None = None, limit: int = 50,
               options: tuple = (NAMES_ONLY,)) -> tuple[list[Case], str | None]:
    """Newest first, keyset on id: page 500 costs what page 1 costs. sort='due': the running deadline
    first (open cases), then the rest newest first; keyset on (deadline, id). `options`: how the cases
    are loaded (table_rows() for a case table)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    stmt = build_query(actor, f)
    if f.q:
        return _ranked(actor, f, stmt, cursor, limit, options)
    if f.sort == "due":
        return _list_by_due(stmt, cursor, limit, options)
    if cursor:
        stmt = stmt.where(Case.id < decode_cursor(cursor))
    rows = list(db.session.scalars(stmt.order_by(Case.id.desc()).limit(limit + 1).options(*options)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _list_by_due(stmt, cursor: str | None, limit: int, options: tuple) -> tuple[list[Case], str | None]:
    # Open cases by their running deadline, earliest (longest overdue) first; then the others, newest first.
    is_open = Case.status.in_(OPEN_STATUSES)
    due = running_due()
    if cursor:
        last_id, last_due = decode_cursor(cursor), _cursor_due(cursor)
        if last_due is not None:
            stmt = stmt.where(or_(~is_open, and_(is_open, or_(due > last_due, and_(due == last_due, Case.id > last_id)))))
        else:
            stmt = stmt.where(~is_open, Case.id < last_id)
    # Open cases: deadline, then id; the others: newest first (descending id).
    stmt = stmt.order_by(case((is_open, 0), else_=1), case((is_open, due), else_=None),
                         case((is_open, Case.id), else_=-Case.id))
    rows = list(db.session.scalars(stmt.limit(limit + 1).options(*options)))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        if last.status in OPEN_STATUSES:
            last_due = last.accept_due_at if (last.status == "assigned" and last.accept_due_at is not None
                                              and last.accept_due_at < last.reply_due_at) else last.reply_due_at
            next_cursor = _encode_due_cursor(last.id, last_due)
        else:
            next_cursor = _encode_due_cursor(last.id, None)
    return rows[:limit], next_cursor


def _encode_due_cursor(last_id: int, due: datetime | None) -> str:
    payload = {"id": last_id, "due": due.astimezone(timezone.utc).isoformat() if due else None}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _cursor_due(raw: str) -> datetime | None:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode())).get("due")
        return datetime.fromisoformat(value).astimezone(timezone.utc) if value else None
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise InvalidInput(_("The page cursor is not valid; start from the first page."),
                           {"cursor": _("Invalid cursor.")}) from None


# How many of the newest cases a search with a two-character word walks before it decides how to search the rest:
# enough to tell a frequent word from a rare one. A rare word (尘肺, 0.15 % of cases) finds little there, and the walk
# of 20,000 it was cost more at ten million cases (~50 ms) than its 15,000 older matches through the pairs' index.
RECENT_WALK = 4_000
# What fetching one match found through the pairs' index costs, in rows walked in id order: at ten million cases
# 15,170 ids of 尘肺 in 23 ms with their pages in memory and 115-245 ms without (the walk: 270,000 rows in 310-500 ms);
# the older matches' pages are the ones less likely in memory.
PAIRS_ROW_COST = 6


def _pair_word_candidates(actor: User, f: CaseFilter, columns, wanted) -> list[Any]:
    """The newest search.CANDIDATES matches of a query with a two-character word (PostgreSQL).

    The newest RECENT_WALK cases are walked first, without the pairs' index: a common word has its candidates
    there, and computing a row's pairs costs more than testing it. If they hold too few, how often the word
    occurred in them decides the rest: a word still frequent enough is found sooner by walking on, a rare one
    through the pairs' index, which finds all its matches at once (materialised, so that the planner, whose
    estimate of a word's frequency is coarse, does not walk instead). The same newest matches either way."""
    # The window is the newest RECENT_WALK cases, not the ids within RECENT_WALK of the newest: ids have gaps
    # (registrations rolled back, cases removed), and a window of few cases made a common word look rare, so
    # its older matches were all read through the pairs' index (工伤 at ten million: 79 s).
    floor = db.session.scalar(select(Case.id).order_by(Case.id.desc()).offset(RECENT_WALK).limit(1)) or 0
    walk = build_query(actor, f, pairs=False).with_only_columns(*wanted).order_by(None)
    rows = list(db.session.execute(walk.where(Case.id > floor).order_by(Case.id.desc())
                                   .limit(search.CANDIDATES)).all())
    missing = search.CANDIDATES - len(rows)
    if missing <= 0 or floor <= 0:
        return rows
    seen = max(len(rows), 0.5)  # none seen: rarer than one in RECENT_WALK
    matches_older = floor * seen / RECENT_WALK
    rows_to_walk = missing * RECENT_WALK / seen
    if PAIRS_ROW_COST * matches_older < rows_to_walk:
        return rows + _older_through_pairs(actor, f, columns, walk, floor, missing, seen / RECENT_WALK)
    older = walk.where(Case.id <= floor).order_by(Case.id.desc()).limit(missing)
    return rows + list(db.session.execute(older).all())


# How many more matches than wanted the first eras asked of the pairs' index should hold, by the word's
# frequency among the newest cases: too few, and the older eras are asked in a second statement.
ERA_MARGIN = 1.25


def _older_through_pairs(actor: User, f: CaseFilter, columns, walk, floor: int, missing: int,
                         frequency: float) -> list[Any]:
    """The newest `missing` matches at or below `floor`, found through the pairs' index.

    First the ids alone, era by era of ids, newest first: the eras that should hold enough matches at the
    word's `frequency` (matches per case among the newest), then, if they did not, all the older ones. Every
    match of the index costs a read of its case's page: at ten million cases 尘肺 has some 15,000 matches, in
    all eras at once 15,000 pages for the 1,580 newest ids. The texts, which cost more to carry and sort than
    to find, come next, and the full test for the newest ids; a margin covers index matches the full test
    refuses (another word, a confidential case's private part). When more than the margin were refused, the
    full query over every index match decides."""
    wanted_ids = 2 * missing
    top = search.era_of(floor)
    per_era = frequency * (1 << search.ERA_BITS)
    first = math.ceil(ERA_MARGIN * wanted_ids / per_era) if per_era > 0 else top + 1
    windows = [range(max(0, top + 1 - first), top + 1)]
    if windows[0].start > 0:
        windows.append(range(windows[0].start))
    ids: list[int] = []
    for eras in windows:
        # id + 0: the bound is a filter, not a second bitmap of every older id beside the pairs' index.
        # Materialised, so that the planner, whose estimate of a word's frequency is coarse, does not walk the
        # ids instead.
        probe = build_query(actor, f, pairs_only=True, eras=eras).with_only_columns(Case.id).order_by(None)
        found_ids = probe.where(Case.id + 0 <= floor).cte("pair_ids").prefix_with("MATERIALIZED")
        ids += db.session.scalars(select(found_ids.c.id).order_by(found_ids.c.id.desc())
                                  .limit(wanted_ids - len(ids)))
        if len(ids) >= wanted_ids:
            break
    if not ids:
        return []
    # One array parameter, not hundreds of bound values (each rendered, then parsed again by the driver).
    in_ids = Case.id == any_(bindparam("pair_ids", ids, type_=postgresql.ARRAY(Integer)))
    rows = list(db.session.execute(walk.where(in_ids).order_by(Case.id.desc()).limit(missing)).all())
    if len(rows) >= missing or len(ids) < wanted_ids:
        return rows  # enough, or every match of the index was tested
    found = columns.where(Case.id + 0 <= floor).cte("pair_matches").prefix_with("MATERIALIZED")
    return list(db.session.execute(select(found).order_by(found.c.id.desc()).limit(missing)).all())


def _ranked(actor: User, f: CaseFilter, stmt, cursor: str | None, limit: int,
            options: tuple = (NAMES_ONLY,)) -> tuple[list[Case], str | None]:
    """A search: the newest matches (up to search.CANDIDATES) ranked by relevance, best first; the cursor
    is the position in that ranking."""
    rows, next_cursor, _total = _ranked_with_total(actor, f, stmt, cursor, limit, options)
    return rows, next_cursor


def _ranked_with_total(actor: User, f: CaseFilter, stmt, cursor: str | None, limit: int,
                       options: tuple = (NAMES_ONLY,)) -> tuple[list[Case], str | None, int]:
    offset = decode_rank_cursor(cursor) if cursor else 0
    private_ok = access.private_filter_allowed(actor)  # the one rule on whose private parts count
    private = (private_ok if private_ok is not None else true()).label("private")
    wanted = (Case.id, Case.case_no, Case.summary, Case.detail, Case.answer, Case.caller_employer,
              Case.caller_name, private)
    columns = stmt.with_only_columns(*wanted).order_by(None)
    if db.session.get_bind().dialect.name == "postgresql" and search.has_pair_words(f.q):
        rows = _pair_word_candidates(actor, f, columns, wanted)
    else:
        rows = list(db.session.execute(columns.order_by(Case.id.desc()).limit(search.CANDIDATES)).all())
    fields = {True: search_fields(actor, True), False: search_fields(actor, False)}  # not once per row
    ranked = sorted(rows, key=lambda r: (-search.relevance(r, f.q, fields[bool(r.private)]), -r.id))
    page_ids = [r.id for r in ranked[offset:offset + limit]]
    by_id = {c.id: c for c in db.session.scalars(
        select(Case).where(Case.id.in_(page_ids)).options(*options))} if page_ids else {}
    more = offset + limit < len(ranked)
    return [by_id[i] for i in page_ids], encode_rank_cursor(offset + limit) if more else None, len(ranked)


def encode_rank_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"rank": offset}).encode()).decode().rstrip("=")


def decode_rank_cursor(raw: str) -> int:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["rank"]
        if not isinstance(value, int) or not 0 <= value <= MAX_ID:
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(_("The page cursor is not valid; start from the first page."),
                           {"cursor": _("Invalid cursor.")}) from None


def parse_limit(raw: Any) -> int:
    if raw in (None, ""):
        return 50
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise InvalidInput(_("limit must be a number between 1 and 100."), {"limit": _("Not a number.")}) from None
    if not 1 <= value <= MAX_LIMIT:
        raise InvalidInput(_("limit must be a number between 1 and 100."), {"limit": _("Out of range.")})
    return value


HISTORY_LIMIT = 20  # the newest cases the screen-pop lists (the count and the open cases are complete)
HISTORY_OPEN_LIMIT = 100  # open cases listed in full up to this; the count is always exact


@dataclass
class CallerHistory:
    """The screen-pop: how many cases the caller has (all of them), every open one, and the newest few."""

    total: int
    open_count: int
    open_cases: list[Case]  # newest first, every one (up to HISTORY_OPEN_LIMIT)
    recent: list[Case]  # the newest HISTORY_LIMIT, open or not

    @property
    def cases(self) -> list[Case]:
        """Open cases first (the operator may be about to log a duplicate), then the rest, newest first."""
        seen = {c.id for c in self.open_cases}
        return self.open_cases + [c for c in self.recent if c.id not in seen]


def _caller_scope(actor: User, phone: str, stmt):
    stmt = access.scope(actor, stmt).where(Case.caller_phone == phone)
    private_ok = access.private_filter_allowed(actor)
    return stmt if private_ok is None else stmt.where(private_ok)


def caller_history(actor: User, phone: str, limit: int = HISTORY_LIMIT) -> CallerHistory:
    """The caller's cases (screen-pop). Confidential ones only for those who work them.

    The count and the open cases cover the whole history, however long: a caller with hundreds of
    cases is warned of an open one registered years ago. All three read the (caller_phone, id) index.
    """
    total = db.session.scalar(_caller_scope(actor, phone, select(func.count()).select_from(Case))) or 0
    if not total:
        return CallerHistory(0, 0, [], [])
    recent = list(db.session.scalars(_caller_scope(actor, phone, select(Case)).order_by(Case.id.desc()).limit(limit)))
    if total <= len(recent):  # the whole history is loaded: no second look needed
        open_cases = [c for c in recent if c.status in OPEN_STATUSES]
        return CallerHistory(total, len(open_cases), open_cases, recent)
    open_stmt = _caller_scope(actor, phone, select(Case)).where(Case.status.in_(OPEN_STATUSES))
    open_count = db.session.scalar(_caller_scope(actor, phone, select(func.count()).select_from(Case))
                                   .where(Case.status.in_(OPEN_STATUSES))) or 0
    open_cases = list(db.session.scalars(open_stmt.order_by(Case.id.desc()).limit(HISTORY_OPEN_LIMIT)))
    return CallerHistory(total, open_count, open_cases, recent)


QUEUE_LIMIT = 50  # the earliest deadlines; the rest are one click away in the list


def _queue_condition(actor: User, mine: bool):
    cond = Case.status.in_(OPEN_STATUSES[1:])
    if mine:
        return and_(cond, Case.handler_id == actor.id)
    if actor.department_id is not None:
        return and_(cond, Case.department_id == actor.department_id)
    return None


def handler_queue_count(actor: User, mine: bool) -> int:
    """How many cases the tab holds (an index-only count over the queue's partial index)."""
    cond = _queue_condition(actor, mine)
    return 0 if cond is None else db.session.scalar(select(func.count()).select_from(Case).where(cond))


# The queue's statements, built once with the handler or department as a parameter (every handler's page
# runs them; building them and their cache keys per request cost more than running them). The conditions
# are _queue_condition's.
def _queue_param(mine: bool):
    return and_(Case.status.in_(OPEN_STATUSES[1:]),
                (Case.handler_id if mine else Case.department_id) == bindparam("mine" if mine else "dept"))


def _count(cond):
    # Never correlated: inside the queue's own SELECT of hotline_case it is a count of its own, not of the outer row.
    return select(func.count()).select_from(Case).where(cond).correlate(None).scalar_subquery()


_QUEUE_COUNTS = {True: select(_count(_queue_param(True)), _count(_queue_param(False))),
                 False: select(_count(_queue_param(True)))}  # no department: the second tab is empty
# A case table's columns only (table_rows), strict under tests.
_QUEUE_ROWS = {(mine, strict): select(Case).where(_queue_param(mine)).options(*_TABLE_ROWS[False, strict])
               .order_by(running_due(), Case.id).limit(bindparam("limit")) for mine in (True, False)
               for strict in (False, True)}


def handler_queue_counts(actor: User) -> tuple[int, int]:
    """Both tabs' counts (mine, department's) in one round trip: each its own index-only count, as
    handler_queue_count gives them."""
    with_dept = actor.department_id is not None
    got = db.session.execute(_QUEUE_COUNTS[with_dept], {"mine": actor.id, "dept": actor.department_id}).one()
    return int(got[0]), int(got[1]) if with_dept else 0


# The queue's rows with both tabs' counts as two more columns (one round trip for the page when its tab has rows).
_QUEUE_COUNTED = {(mine, with_dept, strict): _QUEUE_ROWS[mine, strict].add_columns(
    _count(_queue_param(True)), _count(_queue_param(False)) if with_dept else literal(0, Integer))
    for mine in (True, False) for with_dept in (True, False) for strict in (False, True)}


def handler_queue(actor: User, tab: str | None, limit: int = QUEUE_LIMIT) -> tuple[str, list[Case], int, int]:
    """The queue page: its open tab (`tab`, else "mine" unless only the department has cases), that tab's rows
    and both tabs' counts. The counts come with the rows when the tab has any: one statement for a handler
    with cases of her own, where the counts and the rows were two."""
    with_dept = actor.department_id is not None
    params = {"mine": actor.id, "dept": actor.department_id, "limit": limit}

    def counted(mine: bool) -> tuple[list[Case], tuple[int, int] | None]:
        got = db.session.execute(_QUEUE_COUNTED[mine, with_dept, current_app.testing], params).all()
        return [row[0] for row in got], ((int(got[0][1]), int(got[0][2])) if got else None)

    if tab is None:
        rows, counts = counted(True)
        if counts is not None:
            return "mine", rows, *counts
        if not with_dept:
            return "mine", [], 0, 0
        rows, counts = counted(False)
        if counts is None:
            return "mine", [], 0, 0
        if counts[0]:  # a case of her own arrived between the two statements: her tab, as ever
            return "mine", handler_queue_rows(actor, True, limit), *counts
        return "department", rows, *counts
    if tab == "department" and not with_dept:
        return tab, [], *handler_queue_counts(actor)
    rows, counts = counted(tab == "mine")
    return tab, rows, *(counts if counts is not None else handler_queue_counts(actor))


def handler_queue_rows(actor: User, mine: bool, limit: int = QUEUE_LIMIT) -> list[Case]:
    """Dispatched and accepted cases of the handler (or of their department), earliest deadline first."""
    if not mine and actor.department_id is None:
        return []
    params = {"mine": actor.id, "dept": actor.department_id, "limit": limit}
    return list(db.session.scalars(_QUEUE_ROWS[mine, current_app.testing], params))


# ---------------------------------------------------------------- 回访 worklist and the supervisors' tabs

FOLLOWUP_LIMIT = 200


def followup_since(now: datetime, days: int) -> datetime:
    """Local midnight of the day `days` working days before today: the start of the 回访 window."""
    today = clock.to_local(now).date()
    calendar = calendar_for(today - timedelta(days=3 * days + 20), span_days=3 * days + 21)
    day, counted = today, 0
    while counted < days:
        day -= timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    return _local_midnight_utc(day)


def followup_worklist(actor: User, now: datetime, days: int, limit: int = FOLLOWUP_LIMIT) -> list[Case]:
    """Cases to call back for 回访: replied or closed within the window, no answer from the caller yet
    (never surveyed, or not reached last time), not merged away; oldest first."""
    settled = func.coalesce(Case.closed_at, Case.replied_at)
    stmt = (access.scope(actor, select(Case))
            .where(Case.status.in_(("replied", "closed")), Case.merged_into_id.is_(None),
                   or_(Case.survey_result.is_(None), Case.survey_result == "unreachable"),
                   settled >= followup_since(now, days))
            .order_by(settled, Case.id).limit(limit))
    return list(db.session.scalars(stmt))


# The supervisors' tabs: what waits for the centre, and what needs watching.
SUPERVISE_TABS = ("review", "extension", "return", "escalated", "urgent")
SUPERVISE_LIMIT = 100


def supervise_condition(tab: str):
    if tab in PENDING_FILTERS:
        return pending_condition(tab)
    if tab == "escalated":
        return and_(Case.escalated.is_(True), Case.status.in_(OPEN_STATUSES))
    return and_(Case.urgent.is_(True), Case.status.in_(OPEN_STATUSES))


def supervise_counts(actor: User) -> dict[str, int]:
    return {tab: db.session.scalar(access.scope(actor, select(func.count(Case.id))).where(supervise_condition(tab)))
            or 0 for tab in SUPERVISE_TABS}


def supervise_rows(actor: User, tab: str, limit: int = SUPERVISE_LIMIT) -> list[Case]:
    stmt = access.scope(actor, select(Case)).where(supervise_condition(tab)).options(*table_rows())
    return list(db.session.scalars(stmt.order_by(Case.reply_due_at, Case.id).limit(limit)))


# ---------------------------------------------------------------- the case forms

def _handler_options(org_id: int | None) -> list[SimpleNamespace]:
    """The handlers for a select: name, username and department, as plain rows (held between requests with
    the reference tables, hotline/reference/lookup.py). Loading them as users (200 in a city network) cost
    twice the CPU of the columns the select shows."""
    def load() -> tuple[int | None, tuple[SimpleNamespace, ...]]:
        departments = {d.id: d for d in lookup.all_rows(Department)}
        stmt = (select(User.id, User.username, User.display_name, User.department_id, lookup.stamp_column())
                .join(UserRole).where(UserRole.role == "handler", User.active.is_(True))
                .order_by(User.department_id, User.display_name))
        if org_id is not None:
            stmt = stmt.where(User.org_id == org_id)
        rows = db.session.execute(stmt).all()
        stamp = rows[0][4] if rows else None
        return stamp, tuple(SimpleNamespace(id=r.id, username=r.username, display_name=r.display_name,
                                            department=departments.get(r.department_id)) for r in rows)

    return list(lookup.held(f"handlers:{org_id}", load))


# Built once (the options cost more to build than the statement to run).
_EVENTS = (select(CaseEvent).where(CaseEvent.case_id == bindparam("case_id")).order_by(CaseEvent.id)
           .options(joinedload(CaseEvent.actor).options(
               load_only(User.id, User.username, User.display_name, User.department_id),
               lazyload(User.role_rows), lazyload(User.department))))


def load_events(case: Case) -> None:
    """The case's events with their actors' names only: not their roles (one statement less than the
    relationship's own load) nor their departments. Before anything reads case.events (service.levels,
    the timeline, the API's case answer)."""
    if "events" in inspect(case).unloaded:
        set_committed_value(case, "events", list(db.session.scalars(_EVENTS, {"case_id": case.id})))


def display_names(usernames: set[str]) -> dict[str, str]:
    """Users' names by username (a timeline's handlers): see _names."""
    return _names("username", User.username, usernames)


def handler_names(ids: set[int]) -> dict[int, str]:
    """Users' names by id (a case table's handler column): see _names. Joining each case's handler cost a 50-row
    table more than the names it gave."""
    return _names("id", User.id, ids)


def _names(attr: str, column: Any, wanted: set) -> dict:
    """Names of the users whose `attr` is in `wanted`: the active handlers' from the held list (kept as a mapping
    beside it), the others (one no longer a handler) read."""
    held = lookup.kept(f"handlers:names-by-{attr}", None,
                       lambda: {getattr(h, attr): h.display_name for h in _handler_options(None)})
    names = {key: held[key] for key in wanted if key in held}
    missing = wanted - names.keys()
    if missing:
        names.update(db.session.execute(select(column, User.display_name).where(column.in_(missing))).tuples().all())
    return names


def form_reference(with_handlers: bool = True, org_id: int | None = None) -> dict[str, Any]:
    """What the case forms offer (the hotline's, the radio's, the list filters): types, categories,
    departments, handlers and the fixed vocabularies (reference rows read once per request). Departments and
    handlers are one organisation's (each level dispatches to its own): `org_id`, else the signed-in person's."""
    if org_id is None and has_request_context() and current_actor() is not None:
        org_id = current_actor().org_id
    departments = [d for d in lookup.active_departments() if org_id is None or d.org_id == org_id]
    return {"types": lookup.case_types(), "categories": lookup.active_categories(), "departments": departments,
            "handlers": _handler_options(org_id) if with_handlers else [],
            "channels": CHANNELS, "statuses": STATUSES, "reply_methods": REPLY_METHODS,
            "survey_results": SURVEY_RESULTS}
