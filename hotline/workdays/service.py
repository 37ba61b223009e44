"""Working days the Chinese way, and the deadlines counted on them.

A working day is Monday–Friday, minus public holidays, plus weekend make-up
days (调休上班). Covered years store their exceptions in calendar_day; an
uncovered year falls back to Monday–Friday and the result is marked uncertain.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import BigInteger, cast, delete, null, select, union_all

from hotline import clock
from hotline.extensions import db
from hotline.limits import YEAR_MAX, YEAR_MIN
from hotline.reference import lookup
from hotline.workdays.models import CalendarDay, CalendarYear

SEED_FIRST_YEAR = 2004
SEED_LAST_YEAR = 2026


# chinese-calendar names its holidays in English; the calendar shows them as people say them.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class Due:
    at: datetime  # aware UTC
    uncertain: bool  # counted through a year the calendar does not cover


class WorkCalendar:
    """A snapshot of the calendar for fast day-by-day counting within one request or job."""

    def __init__(self, exceptions: dict[date, bool], covered: set[int]):
        self.exceptions = exceptions
        self.covered = covered
        self._shifts: tuple[list[date], list[int]] | None = None

    def shifts_through(self, day: date) -> int:
        """Exception days up to `day`, net: +1 for each worked weekend day, -1 for each weekday off."""
        if self._shifts is None:
            days = sorted(self.exceptions)
            running, totals = 0, []
            for d in days:
                running += int(self.exceptions[d]) - int(d.weekday() < 5)
                totals.append(running)
            self._shifts = (days, totals)
        days, totals = self._shifts
        i = bisect_right(days, day)
        return totals[i - 1] if i else 0

    @classmethod
    def load(cls, first: date, last: date) -> "WorkCalendar":
        """The calendar for days first..last (at least). In a request, the whole calendar held between
        requests (a few hundred rows; hotline/reference/lookup.py); elsewhere, the window's days."""
        if lookup.holding():
            return lookup.held("calendar", cls._read)
        return cls._read(first, last)[1]

    @classmethod
    def _read(cls, first: date | None = None, last: date | None = None) -> tuple[int | None, "WorkCalendar"]:
        # One round trip: the exception days, the covered years (rows with a NULL day) and the stamp.
        days = select(CalendarDay.day, CalendarDay.is_workday, null().label("year"),
                      cast(null(), BigInteger).label("stamp"))  # typed: two NULLs first would make it text
        if first is not None and last is not None:
            days = days.where(CalendarDay.day.between(first, last))
        years = select(null(), null(), CalendarYear.year, null())
        stamp_row = select(null(), null(), null(), lookup.stamp_column())
        exceptions, covered, stamp = {}, set(), None
        for day, is_workday, year, row_stamp in db.session.execute(union_all(days, years, stamp_row)):
            if row_stamp is not None:
                stamp = row_stamp
            elif day is None:
                if year is not None:  # (the stamp's row, with no stamp)
                    covered.add(year)
            else:
                exceptions[day] = bool(is_workday)
        return stamp, cls(exceptions, covered)

    def is_workday(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def is_covered(self, day: date) -> bool:
        return day.year in self.covered

    def nth_workday_after(self, start: date, n: int) -> tuple[date, bool]:
        """The n-th working day strictly after `start`; second value: an uncovered year was crossed."""
        day, counted, uncertain = start, 0, False
        while counted < n:
            day += timedelta(days=1)
            if not self.is_covered(day):
                uncertain = True
            if self.is_workday(day):
                counted += 1
        return day, uncertain


def calendar_for(start: date, span_days: int = 120) -> WorkCalendar:
    return WorkCalendar.load(start - timedelta(days=1), start + timedelta(days=span_days))


def workday_end() -> time:
    hh, mm = current_app.config["HOTLINE_WORKDAY_END"].split(":")
    return time(int(hh), int(mm))


def _end_of(day: date) -> datetime:
    return datetime.combine(day, workday_end(), tzinfo=clock.local_tz()).astimezone(timezone.utc)


def reply_due(registered_at: datetime, reply_days: int, urgent: bool = False) -> Due:
    """When the reply is due for a case registered at `registered_at`.

    Normal cases: end of the N-th working day after the local registration
    date. Urgent cases: end of the same working day, or of the next one when
    registered after hours or on a day off.
    """
    local = clock.to_local(registered_at)
    cal = calendar_for(local.date(), span_days=max(60, reply_days * 3 + 40))
    if urgent:
        if cal.is_workday(local.date()) and local.time() < workday_end():
            return Due(_end_of(local.date()), not cal.is_covered(local.date()))
        day, uncertain = cal.nth_workday_after(local.date(), 1)
        return Due(_end_of(day), uncertain)
    day, uncertain = cal.nth_workday_after(local.date(), reply_days)
    return Due(_end_of(day), uncertain)


def accept_due(dispatched_at: datetime) -> Due:
    """Acceptance (签收) is due by the end of the first working day after dispatch."""
    local = clock.to_local(dispatched_at)
    day, uncertain = calendar_for(local.date()).nth_workday_after(local.date(), 1)
    return Due(_end_of(day), uncertain)


def is_workday(day: date) -> bool:
    return WorkCalendar.load(day, day).is_workday(day)


def covered_years() -> list[int]:
    return sorted(db.session.scalars(select(CalendarYear.year)).all())


def uncovered_years_ahead(horizon_days: int = 60) -> list[int]:
    """Years that deadlines counted from today could reach but the calendar lacks (for the admin warning)."""
    today = clock.local_now().date()
    years = {today.year, (today + timedelta(days=horizon_days)).year}
    return sorted(years - set(covered_years()))


def seed_from_package(first: int = SEED_FIRST_YEAR, last: int = SEED_LAST_YEAR) -> int:
    """Enter the years the chinese-calendar package covers. Idempotent: entered years are left alone."""
    import chinese_calendar

    entered = set(covered_years())
    added = 0
    for year in range(first, last + 1):
        if year in entered:
            continue
        day = date(year, 1, 1)
        rows = []
        while day.year == year:
            weekday = day.weekday() < 5
            try:
                work = chinese_calendar.is_workday(day)
            except NotImplementedError:
                work = weekday
            if work != weekday:
                name = ""
                if not work:
                    _, holiday = chinese_calendar.get_holiday_detail(day)
                    name = HOLIDAY_NAMES.get(getattr(holiday, "value", None) or "", str(holiday or ""))
                rows.append({"day": day, "is_workday": work, "note": name})
            day += timedelta(days=1)
        if rows:
            db.session.execute(CalendarDay.__table__.insert(), rows)
        db.session.add(CalendarYear(year=year, source="chinese-calendar", entered_at=clock.now()))
        added += 1
    db.session.flush()
    return added


def enter_year(year: int, holidays: list[date], makeup_days: list[date], note: str = "") -> None:
    """An admin enters a year as published by the State Council: weekday holidays and weekend make-up days."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise CalendarError("year out of range")
    for d in holidays + makeup_days:
        if d.year != year:
            raise CalendarError(f"{d.isoformat()} is not in {year}")
    overlap = set(holidays) & set(makeup_days)
    if overlap:
        raise CalendarError(f"{min(overlap).isoformat()} cannot be both a holiday and a make-up day")
    db.session.execute(
        delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
    )
    for d in sorted(set(holidays)):
        if d.weekday() < 5:
            db.session.add(CalendarDay(day=d, is_workday=False, note=note))
    for d in sorted(set(makeup_days)):
        if d.weekday() >= 5:
            db.session.add(CalendarDay(day=d, is_workday=True, note=note))
    year_row = db.session.get(CalendarYear, year)
    if year_row is None:
        db.session.add(CalendarYear(year=year, source="admin", entered_at=clock.now()))
    else:
        year_row.source, year_row.entered_at = "admin", clock.now()
    db.session.flush()


def set_day(day: date, is_workday: bool, note: str = "") -> None:
    """Mark one day as a working day or a day off; a day that matches Mon–Fri again loses its exception."""
    row = db.session.get(CalendarDay, day)
    if is_workday == (day.weekday() < 5):
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(CalendarDay(day=day, is_workday=is_workday, note=note))
    else:
        row.is_workday, row.note = is_workday, note
    db.session.flush()


def year_exceptions(year: int) -> list[CalendarDay]:
    return list(
        db.session.scalars(
            select(CalendarDay)
            .where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
            .order_by(CalendarDay.day)
        )
    )


# ---------------------------------------------------------------- deadlines as people say them

@dataclass(frozen=True)
class Deadline:
    """The deadline whose clock is running, and how much working time is left (or has passed)."""

    clock: str  # 'accept' (签收, while dispatched) or 'reply' (答复)
    at: datetime  # aware UTC
    overdue: bool
    workdays: int  # whole working days left after today (or passed since the due day); 0 = due today
    minutes: int  # minutes left (or passed) when workdays is 0

    @property
    def state(self) -> str:
        """'overdue', 'due_soon' (due today, or within half a working day) or 'ok'."""
        if self.overdue:
            return "overdue"
        return "due_soon" if self.workdays == 0 else "ok"


RUNNING_STATUSES = ("registered", "assigned", "accepted")


def _request_calendar(first: date, last: date) -> WorkCalendar:
    """One calendar per request (or app context) for all the deadlines a page shows."""
    from flask import g, has_app_context

    if not has_app_context():
        return WorkCalendar.load(first, last)
    held = g.get("_hotline_workcal")
    if held is not None and held[0] <= first and last <= held[1]:
        return held[2]
    if held is not None:
        first, last = min(first, held[0]), max(last, held[1])
    # A generous window, so the next rows of the same page hit the same snapshot.
    first, last = first - timedelta(days=31), last + timedelta(days=62)
    cal = WorkCalendar.load(first, last)
    g._hotline_workcal = (first, last, cal)
    return cal


def workdays_between(cal: WorkCalendar, start: date, end: date) -> int:
    """Working days in (start, end]: Monday to Friday, corrected by the calendar's exception days. Counted,
    not walked: a queue of cases overdue for a year would otherwise loop a year of days per row."""
    if end <= start:
        return 0
    return _weekdays_through(end) - _weekdays_through(start) + cal.shifts_through(end) - cal.shifts_through(start)


def _weekdays_through(day: date) -> int:
    """Mondays to Fridays from day 1 (a Monday) of the proleptic calendar up to `day` inclusive."""
    weeks, rest = divmod(day.toordinal() - 1, 7)  # ordinal 1 (0001-01-01) is a Monday
    return weeks * 5 + min(rest + 1, 5)


def time_left(due_at: datetime, clock_name: str = "reply", now: datetime | None = None) -> Deadline:
    """Working time left until `due_at` (or passed since), counted on the calendar the deadlines use."""
    now = now or clock.now()
    today, due_day = clock.to_local(now).date(), clock.to_local(due_at).date()
    cal = _request_calendar(min(today, due_day), max(today, due_day))
    if now <= due_at:
        days = workdays_between(cal, today, due_day)
        minutes = int((due_at - now).total_seconds() // 60) if days == 0 else 0
        return Deadline(clock_name, due_at, False, days, minutes)
    days = workdays_between(cal, due_day, today)
    minutes = int((now - due_at).total_seconds() // 60) if days == 0 else 0
    return Deadline(clock_name, due_at, True, days, minutes)


def running_deadline(case, now: datetime | None = None) -> Deadline | None:
    """The deadline of the clock that is running for a case: acceptance (签收) while it is dispatched,
    the reply (答复) while it is registered or accepted; none once replied or closed. (A dispatched case
    whose reply deadline comes first, an urgent one, runs on that.) The SQL twin for sorting is
    hotline.cases.queries.running_due()."""
    if case.status not in RUNNING_STATUSES:
        return None
    if case.status == "assigned" and case.accept_due_at is not None and (
            case.reply_due_at is None or case.accept_due_at < case.reply_due_at):
        return time_left(case.accept_due_at, "accept", now)
    if case.reply_due_at is None:
        return None
    return time_left(case.reply_due_at, "reply", now)
