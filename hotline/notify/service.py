"""Notices and the deadline watch: who is told what, once.

Every notice goes to the outbox in the transaction of the change that causes it.
Uniqueness (case, kind, due time, recipient, channel) makes repeats no-ops, so two
schedulers, an overrunning job or a restart cannot send anything twice.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from types import SimpleNamespace
from typing import Any

from flask import current_app, g, has_request_context
from flask_babel import force_locale, gettext as _
from sqlalchemy import and_, bindparam, case as sql_case, event, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, lazyload

from hotline import clock
from hotline.auth import service as auth_service
from hotline.auth.models import User, UserRole
from hotline.cases import access, events as case_events, panels
from hotline.cases.deadlines import WARNING_LEAD, next_watch, overdue_condition, passed, watched_deadlines
from hotline.cases.models import Case
from hotline.dates import key_iso
from hotline.db_helpers import insert_ignore
from hotline.extensions import db
from hotline.notify.models import CaseFlag, Notice
from hotline.workdays import service as workdays

SCAN_BATCH = 2000


def short_time(value: datetime) -> str:
    return clock.to_local(value).strftime("%m-%d %H:%M")


def case_link(case_no: str) -> str:
    base = (current_app.config.get("HOTLINE_PUBLIC_URL") or "").rstrip("/")
    return f"{base}/c/{case_no}" if base else ""


# ---------------------------------------------------------------- recipients

def case_workers(case, handler_by_id=None, handlers_of_department=None) -> list[User]:
    """Who works a case: the handler it is assigned to, else every active handler of its department.

    The two look-ups default to queries; the scan passes preloaded ones (_RecipientCache).
    """
    if case.handler_id is not None:
        handler = handler_by_id(case.handler_id) if handler_by_id else db.session.get(User, case.handler_id)
        return [handler] if handler is not None and handler.active else []
    if case.department_id is None:
        return []
    if handlers_of_department:
        return handlers_of_department(case.department_id)
    # The handlers themselves only: their roles and department are not what a notice needs (read if asked).
    return list(db.session.scalars(
        select(User).join(UserRole).where(User.department_id == case.department_id, User.active.is_(True),
                                          UserRole.role == "handler").order_by(User.id)
        .options(lazyload(User.role_rows), lazyload(User.department))))


def department_head(department_id: int | None) -> list[User]:
    if department_id is None:
        return []
    from hotline.reference.models import Department

    dept = db.session.get(Department, department_id)
    head = db.session.get(User, dept.head_id) if dept is not None and dept.head_id else None
    return [head] if head is not None and head.active else []


def supervisors() -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == "supervisor", User.active.is_(True)).order_by(User.id)))


# ---------------------------------------------------------------- outbox

def enqueue(recipient: User, kind: str, key: str, body: str, case: Case | None = None, sms: bool = True,
            template: str | None = None, params: dict | None = None) -> int:
    """An in-app notice and, when the recipient has a phone, an SMS (from `template`). Returns how many rows were new."""
    return enqueue_all([recipient], kind, key, body, case, sms, template, params)


def enqueue_all(recipients: Iterable[User], kind: str, key: str, body: str, case: Case | None = None,
                sms: bool = True, template: str | None = None, params: dict | None = None) -> int:
    """enqueue for several people, in one statement (a department of thirty handlers wrote thirty, one by one)."""
    now, case_id = clock.now(), case.id if case else None
    return insert_ignore(Notice, [row for recipient in recipients
                                  for row in notice_rows(recipient, kind, key, body, case_id, now, sms, template, params)])


def sms_fields(template: str | None, params: dict | None, cat=None) -> dict:
    """The SMS columns of a notice: the template, its variables and the rendered text, or `rejected` and why."""
    from hotline.notify import templates

    fields = dict(template=template, params=params or {}, status="pending", last_error=None)
    try:
        fields["body"] = templates.render(template, params, cat)
    except templates.TemplateProblem as problem:
        fields.update(body="", status="rejected", last_error=str(problem)[:500])
    return fields


def notice_rows(recipient: User, kind: str, key: str, body: str, case_id: int | None, now: datetime,
                sms: bool = True, template: str | None = None, params: dict | None = None, cat=None) -> list[dict]:
    common = dict(recipient_id=recipient.id, kind=kind, case_id=case_id, body=body, attempts=0, created_at=now,
                  template=None, params=None, last_error=None)
    rows = [dict(common, dedupe_key=f"{key}:{recipient.id}:in_app", channel="in_app", status="sent",
                 to_phone=None, next_attempt_at=None, sent_at=now)]
    if sms and recipient.phone and template:
        rows.append(dict(common, dedupe_key=f"{key}:{recipient.id}:sms", channel="sms", to_phone=recipient.phone,
                         next_attempt_at=now, sent_at=None, **sms_fields(template, params, cat)))
    return rows


def default_locale():
    """Notices are written in the system's language, not in the language of whoever caused them."""
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


def case_notice(case: Case, kind: str, recipients: Iterable[User], body: str, sms: bool = False) -> int:
    """One notice per person about one move of a case (the key carries the case's version: one move)."""
    link = case_link(case.case_no)
    text = f"{body} {link}".strip()
    told: dict[int, User] = {}
    for user in recipients:
        if user is None or user.id in told or not user.active:
            continue
        if not access.in_org(user, case.org_id, case.registered_org_id):
            continue  # another organisation's supervisors are not told about cases they cannot open
        told[user.id] = user
    return enqueue_all(told.values(), kind, f"{kind}:{case.id}:v{case.version}", text, case, sms=sms)


def on_dispatch(case: Case) -> None:
    """Called by the case service when a case is dispatched (or reassigned)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):  # not the dispatcher's UI language
        if case.handler_id is not None:
            body = _("12351 case %(no)s (%(cat)s) was dispatched to you. Please accept it by %(due)s.",
                     no=case.case_no, cat=case.category.name, due=short_time(case.accept_due_at))
        else:  # to the department as a whole: each of its handlers is told, none was named
            body = _("12351 case %(no)s (%(cat)s) was dispatched to your department (%(dept)s). "
                     "Please accept it by %(due)s.", no=case.case_no, cat=case.category.name,
                     dept=case.department.name if case.department else "", due=short_time(case.accept_due_at))
    body += " " + case_link(case.case_no)
    params = {"case_no": case.case_no, "category": case.category.name, "due": short_time(case.accept_due_at)}
    enqueue_all(case_workers(case), "dispatched", f"dispatched:{case.id}:{key_iso(case.assigned_at)}", body.strip(),
                case, template="staff_dispatched", params=params)


# ---------------------------------------------------------------- the watch

def refresh_watch(case: Case) -> None:
    case.next_watch_at = next_watch(case)


WATCH_COLUMNS = (Case.id, Case.case_no, Case.status, Case.version, Case.handler_id, Case.department_id,
                 Case.org_id, Case.registered_org_id,
                 Case.reply_due_at, Case.accept_due_at, Case.reply_warned_for, Case.reply_flagged_for,
                 Case.accept_warned_for, Case.accept_flagged_for, Case.next_watch_at)


def scan(now: datetime | None = None) -> dict[str, int]:
    """Raise every warning and overdue flag that has come due. Idempotent.

    Reads plain rows (no ORM objects) in batches along the partial index on next_watch_at;
    flags are inserted together (ON CONFLICT DO NOTHING RETURNING tells which are new), then
    events and notices for the new ones only. The watch columns are written with the version
    the scan read in the WHERE clause: a case a user changed meanwhile is left for the next
    scan, and the watch never bumps `version` (it makes nobody's page stale).
    """
    from hotline.reference.models import Category

    now = now or clock.now()
    stats = {"cases": 0, "warnings": 0, "overdue": 0, "notices": 0}
    recipients = _RecipientCache()
    after = None  # keyset: (next_watch_at, id) of the last row seen
    while True:
        stmt = (select(*WATCH_COLUMNS, Category.name.label("category_name"))
                .join(Category, Category.id == Case.category_id)
                .where(Case.next_watch_at.is_not(None), Case.next_watch_at <= now))
        if after is not None:
            stmt = stmt.where(or_(Case.next_watch_at > after[0],
                                  and_(Case.next_watch_at == after[0], Case.id > after[1])))
        rows = db.session.execute(stmt.order_by(Case.next_watch_at, Case.id).limit(SCAN_BATCH)).all()
        if not rows:
            break
        after = (rows[-1].next_watch_at, rows[-1].id)
        _scan_batch([SimpleNamespace(**row._mapping) for row in rows], now, recipients, stats)
        if len(rows) < SCAN_BATCH:
            break
    return stats


class _RecipientCache:
    """Every active user loaded once per scan: workers per handler/department, heads, supervisors."""

    def __init__(self):
        self._loaded = False
        self._catalogue = None

    def catalogue(self):
        """The SMS catalogue, read once per scan."""
        if self._catalogue is None:
            from hotline.notify.templates import Catalogue

            self._catalogue = Catalogue()
        return self._catalogue

    def _load(self) -> None:
        from hotline.reference.models import Department

        users = list(db.session.scalars(select(User).where(User.active.is_(True))))
        self.by_id = {u.id: u for u in users}
        self.handlers_by_dept: dict[int, list[User]] = {}
        for u in sorted(users, key=lambda u: u.id):
            if u.department_id is not None and u.has_role("handler"):
                self.handlers_by_dept.setdefault(u.department_id, []).append(u)
        self.sups = [u for u in sorted(users, key=lambda u: u.id) if u.has_role("supervisor")]
        self.heads = dict(db.session.execute(select(Department.id, Department.head_id)).tuples().all())
        self._loaded = True

    def workers(self, case) -> list[User]:
        if not self._loaded:
            self._load()
        return case_workers(case, self.by_id.get, lambda dept_id: self.handlers_by_dept.get(dept_id, []))

    def supervisors(self) -> list[User]:
        if not self._loaded:
            self._load()
        return self.sups

    def head(self, department_id: int | None) -> list[User]:
        if not self._loaded:
            self._load()
        head = self.by_id.get(self.heads.get(department_id)) if department_id is not None else None
        return [head] if head is not None else []


def _scan_batch(batch: list[SimpleNamespace], now: datetime, recipients: "_RecipientCache",
                stats: dict[str, int]) -> None:
    wanted: list[dict] = []  # flags this batch would raise
    changes: list[dict] = []
    by_id = {case.id: case for case in batch}
    for case in batch:
        stats["cases"] += 1
        for which, due, warned_attr, flagged_attr in watched_deadlines(case):
            if due is None or getattr(case, flagged_attr) == due:
                continue
            if passed(due, now):
                # Past due: the warning is moot; raise the overdue flag once for this due time.
                setattr(case, warned_attr, due)
                setattr(case, flagged_attr, due)
                wanted.append(dict(case_id=case.id, kind=f"{which}_overdue", due_at=due, created_at=now))
            elif now >= due - WARNING_LEAD and getattr(case, warned_attr) != due:
                setattr(case, warned_attr, due)
                wanted.append(dict(case_id=case.id, kind=f"{which}_warning", due_at=due, created_at=now))
        changes.append(dict(b_id=case.id, b_version=case.version, b_rw=case.reply_warned_for,
                            b_rf=case.reply_flagged_for, b_aw=case.accept_warned_for, b_af=case.accept_flagged_for,
                            b_next=next_watch(case)))
    table = Case.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
        .values(reply_warned_for=bindparam("b_rw"), reply_flagged_for=bindparam("b_rf"),
                accept_warned_for=bindparam("b_aw"), accept_flagged_for=bindparam("b_af"),
                next_watch_at=bindparam("b_next")),
        changes)
    if not wanted:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    flags = CaseFlag.__table__
    new = db.session.execute(
        insert(flags).on_conflict_do_nothing().returning(flags.c.case_id, flags.c.kind, flags.c.due_at),
        wanted).all()
    watch_events: list[tuple[int, str, int | None, datetime, dict[str, Any]]] = []
    notices: list[dict[str, Any]] = []
    for case_id, kind, due in new:
        case = by_id[case_id]
        which, _sep, level = kind.partition("_")
        stats["overdue" if level == "overdue" else "warnings"] += 1
        watch_events.append((case_id, "overdue" if level == "overdue" else "due_soon", None, now,
                             {"deadline": which, "due_at": key_iso(due)}))
        workers = recipients.workers(case)
        if level == "overdue":
            sups = [u for u in recipients.supervisors() if access.in_org(u, case.org_id, case.registered_org_id)]
            people = list({u.id: u for u in workers + recipients.head(case.department_id) + sups}.values())
            body = _("12351 case %(no)s (%(cat)s) is overdue: the %(what)s deadline was %(due)s.",
                     no=case.case_no, cat=case.category_name, what=_deadline_name(which), due=short_time(due))
        else:
            people = workers
            body = _("12351 case %(no)s (%(cat)s): the %(what)s deadline %(due)s is near.",
                     no=case.case_no, cat=case.category_name, what=_deadline_name(which), due=short_time(due))
        body = (body + " " + case_link(case.case_no)).strip()
        params = {"case_no": case.case_no, "category": case.category_name, "deadline": _deadline_name(which),
                  "due": short_time(due)}
        worker_ids = {u.id for u in workers}
        for user in people:
            # Heads and supervisors see each overdue case in-app; their phones get the one morning
            # reminder instead of an SMS per case (a bad afternoon would otherwise be hundreds of texts).
            notices.extend(notice_rows(user, level if level == "overdue" else "warning",
                                       f"{kind}:{case_id}:{key_iso(due)}", body, case_id, now,
                                       sms=user.id in worker_ids, cat=recipients.catalogue(),
                                       template="staff_overdue" if level == "overdue" else "staff_warning",
                                       params=params))
    case_events.add_many(watch_events)  # through the case events' one writer (hotline/cases/events.py)
    stats["notices"] += insert_ignore(Notice, notices)


def _deadline_name(which: str) -> str:
    return _("acceptance") if which == "accept" else _("reply")


# ---------------------------------------------------------------- morning reminders

def reminder_window(now: datetime) -> date | None:
    """The local working day whose reminders may go out now, or None at night, on weekends and holidays."""
    local = clock.to_local(now)
    start = time.fromisoformat(current_app.config["HOTLINE_WORKDAY_START"])
    if local.time() < start or local.time() >= workdays.workday_end():
        return None
    if not workdays.is_workday(local.date()):
        return None
    return local.date()


def send_reminders(now: datetime | None = None) -> dict[str, int]:
    """One reminder per person per working day listing their still-overdue cases."""
    now = now or clock.now()
    day = reminder_window(now)
    stats = {"recipients": 0, "notices": 0}
    if day is None:
        return stats
    overdue = overdue_condition(now)
    # Handlers: their own cases, or their department's unassigned ones.
    per_handler: dict[int, list[str]] = {}
    rows = db.session.execute(
        select(Case.case_no, Case.handler_id, Case.department_id).where(overdue, Case.department_id.is_not(None))
        .order_by(Case.reply_due_at)).all()
    dept_handlers: dict[int, list[int]] = {}
    heads: dict[int, list[User]] = {}
    for case_no, handler_id, dept_id in rows:
        if handler_id is not None:
            targets = [handler_id]
        else:
            if dept_id not in dept_handlers:
                dept_handlers[dept_id] = list(db.session.scalars(
                    select(User.id).join(UserRole).where(User.department_id == dept_id, User.active.is_(True),
                                                         UserRole.role == "handler")))
            targets = dept_handlers[dept_id]
        head = department_head(dept_id) if dept_id not in heads else heads[dept_id]
        heads[dept_id] = head
        for uid in set(targets) | {h.id for h in head}:
            per_handler.setdefault(uid, []).append(case_no)
    for uid, numbers in per_handler.items():
        user = db.session.get(User, uid)
        if user is None or not user.active:
            continue
        stats["recipients"] += 1
        stats["notices"] += enqueue(user, "reminder", f"reminder:{day.isoformat()}", _reminder_text(numbers),
                                    template="staff_reminder", params=_reminder_params(numbers))
    by_scope: dict[object, tuple[int, list[str]]] = {}
    for user in supervisors():
        # Each supervisor hears of the overdue cases her organisation sees (the root's: all of them).
        scope_key = access.org_ids(user)
        if scope_key not in by_scope:
            cond = overdue if scope_key is None else and_(overdue, access.org_condition(user))
            count = db.session.scalar(select(func.count()).select_from(Case).where(cond)) or 0
            first = list(db.session.scalars(select(Case.case_no).where(cond).order_by(Case.reply_due_at).limit(3))) \
                if count else []
            by_scope[scope_key] = (count, first)
        total, first = by_scope[scope_key]
        if total:
            stats["recipients"] += 1
            stats["notices"] += enqueue(user, "reminder", f"reminder:{day.isoformat()}",
                                        _reminder_text(first, total), template="staff_reminder",
                                        params=_reminder_params(first, total))
    return stats


def _reminder_params(numbers: list[str], total: int | None = None) -> dict:
    return {"count": total if total is not None else len(numbers), "first": "、".join(numbers[:2])}


def _reminder_text(numbers: list[str], total: int | None = None) -> str:
    total = total if total is not None else len(numbers)
    shown = "、".join(numbers[:3])
    return _("12351 reminder: %(n)d cases are still overdue (%(first)s).", n=total, first=shown)


# ---------------------------------------------------------------- in-app

_COUNTED = "_hotline_unread_counted"


def _unread_of(user_id) -> Any:
    return select(func.count()).select_from(Notice).where(
        Notice.recipient_id == user_id, Notice.channel == "in_app", Notice.read_at.is_(None))


# Every page's bell: counted in the session's statement (one statement less per page).
auth_service.add_to_session_statement("unread_notices", lambda user_id: _unread_of(user_id).scalar_subquery())


def _forget_counts() -> None:
    auth_service.forget_session_extra("unread_notices")
    g.pop(_COUNTED, None)


@event.listens_for(Session, "after_flush")
def _notices_flushed(session, flush_context) -> None:
    if has_request_context() and any(isinstance(o, Notice) for o in (*session.new, *session.dirty, *session.deleted)):
        _forget_counts()


@event.listens_for(Session, "do_orm_execute")
def _notices_written(state) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and has_request_context() \
            and getattr(getattr(state.statement, "table", None), "name", None) == Notice.__tablename__:
        _forget_counts()


# The case page asks, with its panels, whether its reader has unread notices about the case (mostly not:
# then nothing is marked and the bell's count is the session statement's).
panels.register("unread_notices", lambda case_id, reader_id: exists().where(
    Notice.case_id == case_id, Notice.recipient_id == reader_id, Notice.channel == "in_app",
    Notice.read_at.is_(None)))


def unread_count(user: User) -> int:
    if has_request_context():
        counted = g.pop(_COUNTED, None)  # mark_case_read counted them a moment ago (once: later calls ask again)
        if counted is not None and counted[0] == user.id:
            return counted[1]
        read_with_session = auth_service.session_extra("unread_notices", user.id)
        if read_with_session is not None:
            return read_with_session
    return db.session.scalar(_unread_of(user.id)) or 0


def my_notices(user: User, limit: int = 100) -> list[Notice]:
    return list(db.session.scalars(select(Notice).where(
        Notice.recipient_id == user.id, Notice.channel == "in_app").order_by(Notice.id.desc()).limit(limit)))


def mark_case_read(user: User, case_id: int) -> int:
    """Opening a case reads the notices about it."""
    # One statement for the usual page: nothing unread about this case, and the bell's count comes with it.
    total, about = db.session.execute(select(func.count(), func.count(sql_case((Notice.case_id == case_id, 1)))).where(
        Notice.recipient_id == user.id, Notice.channel == "in_app", Notice.read_at.is_(None))).one()
    if not about:
        if has_request_context():
            setattr(g, _COUNTED, (user.id, total))
        return 0
    ids = list(db.session.scalars(select(Notice.id).where(
        Notice.recipient_id == user.id, Notice.channel == "in_app", Notice.read_at.is_(None),
        Notice.case_id == case_id)))
    return mark_read(user, ids) if ids else 0


def mark_read(user: User, notice_ids: Iterable[int] | None = None) -> int:
    stmt = select(Notice).where(Notice.recipient_id == user.id, Notice.channel == "in_app", Notice.read_at.is_(None))
    if notice_ids is not None:
        stmt = stmt.where(Notice.id.in_(list(notice_ids)))
    count = 0
    for notice in db.session.scalars(stmt):
        notice.read_at = clock.now()
        count += 1
    db.session.flush()
    return count


# ---------------------------------------------------------------- SMS to callers

def enqueue_phone_sms(phone: str, kind: str, key: str, template: str, params: dict, case: Case | None = None,
                      send_at: datetime | None = None) -> int:
    """An SMS to a phone number that is no user's (a caller), through the outbox like every other SMS.

    Rendered from the catalogue `template`. The dedupe key (key, phone) makes a repeat a no-op. Never sent in
    the quiet hours (held until they end, not dropped); `send_at` holds it back further. A number that opted
    out (TD) gets the row as `opted_out`, never sent. Returns 1 when the message is new, else 0.
    """
    from hotline.notify import templates
    from hotline.notify.models import SmsOptOut

    now = clock.now()
    due = max(send_at, now) if send_at else now
    due = templates.quiet_until(due) or due
    row = dict(dedupe_key=f"{key}:{phone}:sms", recipient_id=None, channel="sms", kind=kind,
               case_id=case.id if case else None, to_phone=phone, attempts=0,
               next_attempt_at=due, sent_at=None, created_at=now, **sms_fields(template, params))
    if db.session.get(SmsOptOut, phone) is not None:
        row.update(status="opted_out", last_error="the caller opted out (TD)")
    return insert_ignore(Notice, [row])
