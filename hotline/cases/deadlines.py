"""Deadline rules, in one place: how long a case may take, when it is due, when it is overdue, when the
watch warns and when it looks next. The working-day arithmetic itself is the calendar's
(hotline/workdays/service.py); "overdue" is the hybrid `Case.overdue_at`, one rule for Python and SQL.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from hotline import clock
from hotline.cases.models import OPEN_STATUSES, Case
from hotline.reference.models import CaseType, Category
from hotline.workdays import service as workdays
from hotline.workdays.service import Due

# 临期: one working half-day before the deadline. Deadlines fall at the end of a working
# day, so this is the afternoon of the due day.
WARNING_LEAD = timedelta(hours=4)


def reply_days_for(case_type: CaseType, category: Category | None) -> int:
    """Working days to reply: the case type's limit, unless the category sets its own."""
    if category is not None and category.reply_days is not None:
        return category.reply_days
    return case_type.reply_days


def reply_due_for(case_type: CaseType, category: Category | None, registered_at: datetime,
                  urgent: bool = False) -> Due:
    """The reply deadline (答复时限) of a case registered at `registered_at`."""
    return workdays.reply_due(registered_at, reply_days_for(case_type, category), urgent)


def accept_due_for(dispatched_at: datetime) -> Due:
    """The acceptance deadline (签收时限) of a case dispatched at `dispatched_at`."""
    return workdays.accept_due(dispatched_at)


def escalation_due(case: Case, days: int) -> datetime:
    """督办 by the clock: when a case still open `days` working days after its reply deadline is escalated."""
    return workdays.reply_due(case.reply_due_at, days).at


def passed(due: datetime, now: datetime) -> bool:
    """A deadline has passed once the clock is beyond it (Case.overdue_at's SQL reads `due < now`)."""
    return now > due


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    return case.overdue_at(now or clock.now())


def overdue_condition(now: datetime):
    """超期 as SQL, for lists, reports and reminders (the same rule as is_overdue)."""
    return Case.overdue_at(now)


def deadline_state(due: datetime | None, now: datetime | None = None) -> str | None:
    """One deadline: 'overdue', 'due_soon' (within the watch's warning lead, one working half-day) or 'ok'."""
    if due is None:
        return None
    now = now or clock.now()
    if passed(due, now):
        return "overdue"
    if due - now <= WARNING_LEAD:
        return "due_soon"
    return "ok"


def due_state(case: Case, now: datetime | None = None) -> str | None:
    """The case as a whole: its most pressing open deadline."""
    now = now or clock.now()
    if case.status not in OPEN_STATUSES:
        return "ok"
    if case.overdue_at(now):
        return "overdue"
    nearest = case.reply_due_at
    if case.status == "assigned" and case.accept_due_at is not None:
        nearest = min(nearest, case.accept_due_at)
    return deadline_state(nearest, now)


def watched_deadlines(case) -> list[tuple[str, datetime | None, str, str]]:
    """The deadlines the watch follows for a case (or a row of its columns): which, due time, and the
    columns recording the warning and the overdue flag raised for that due time."""
    checks = [("reply", case.reply_due_at, "reply_warned_for", "reply_flagged_for")]
    if case.status == "assigned" and case.accept_due_at is not None:
        checks.append(("accept", case.accept_due_at, "accept_warned_for", "accept_flagged_for"))
    return checks


def next_watch(case) -> datetime | None:
    """When the watch must next look at this case (or a row of its columns): a warning or a deadline not
    yet flagged."""
    if case.status not in OPEN_STATUSES:
        return None
    moments = []
    for _which, due, warned_attr, flagged_attr in watched_deadlines(case):
        if due is None:
            continue
        warned, flagged = getattr(case, warned_attr), getattr(case, flagged_attr)
        if warned != due and flagged != due:
            moments.append(due - WARNING_LEAD)
        elif flagged != due:
            moments.append(due)
    return min(moments) if moments else None
