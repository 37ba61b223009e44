"""Reference data and the holiday calendar, as administrators change them.

Every rule for departments, types, categories and calendar entry lives here;
the admin views only parse the form and call one of these functions. Nothing
is ever deleted: departments and categories are deactivated instead.
Services flush; the door commits.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from hotline import clock
from hotline.cases import deadlines
from hotline.dates import parse_date
from hotline.errors import InvalidInput, NotFound
from hotline.extensions import db
from hotline.limits import YEAR_MAX, YEAR_MIN
from hotline.orgs import service as orgs
from hotline.reference.fields import clean_code, clean_flag, clean_name
from hotline.reference.models import CaseType, Category, Department
from hotline.workdays import service as workdays
from hotline.workdays.models import CalendarDay, CalendarYear

log = logging.getLogger("hotline.admin")

NOTE_MAX = 64
REPLY_DAYS_MIN, REPLY_DAYS_MAX = 1, 60
SORT_MAX = 9999
DATE_LINES_MAX = 200
RANGE_DAYS_MAX = 31

# ---------------------------------------------------------------- field checks


def clean_int(raw: Any, field_name: str, label: str, low: int, high: int, required: bool = True) -> int | None:
    text = str(raw).strip() if raw is not None else ""
    if not text:
        if required:
            raise InvalidInput(_("Please enter %(label)s.", label=label), {field_name: _("Required.")})
        return None
    if not re.fullmatch(r"[+-]?\d{1,6}", text):
        raise InvalidInput(_("%(label)s must be a whole number from %(low)d to %(high)d.",
                             label=label, low=low, high=high),
                           {field_name: _("A whole number.")})
    value = int(text)
    if not low <= value <= high:
        raise InvalidInput(_("%(label)s must be a whole number from %(low)d to %(high)d.",
                             label=label, low=low, high=high),
                           {field_name: _("From %(low)d to %(high)d.", low=low, high=high)})
    return value


def clean_reply_days(raw: Any, field_name: str = "reply_days", required: bool = True) -> int | None:
    return clean_int(raw, field_name, _("the reply limit in working days"), REPLY_DAYS_MIN, REPLY_DAYS_MAX, required)


def clean_sort(raw: Any, default: int) -> int:
    value = clean_int(raw, "sort_order", _("the display order"), 0, SORT_MAX, required=False)
    return default if value is None else value


# ---------------------------------------------------------------- departments


def departments(actor=None) -> list[Department]:
    """Every department, or (given the administrator) those of her organisation's subtree."""
    stmt = select(Department).order_by(Department.org_id, Department.sort_order, Department.id)
    if actor is not None:
        stmt = stmt.where(Department.org_id.in_(sorted(orgs.subtree_ids(actor.org_id))))
    return list(db.session.scalars(stmt))


def department_users() -> dict[int, int]:
    """How many active users belong to each department."""
    from hotline.auth.models import User

    rows = db.session.execute(
        select(User.department_id, func.count()).where(User.active.is_(True), User.department_id.is_not(None))
        .group_by(User.department_id)
    ).all()
    return {dept_id: n for dept_id, n in rows}


def get_department(code: Any, actor=None) -> Department:
    row = db.session.scalar(select(Department).where(Department.code == code)) if isinstance(code, str) else None
    if row is None or (actor is not None and not orgs.covers(actor.org_id, row.org_id)):
        raise NotFound(_("Department %(code)s was not found.", code=str(code)[:40]))
    return row


def _next_sort(model) -> int:
    return (db.session.scalar(select(func.max(model.sort_order))) or 0) + 1


def create_department(code: Any, name: Any, sort_order: Any = None, org_code: Any = None, actor=None) -> Department:
    """A new department of an organisation (default: the root); an admin adds only within her subtree."""
    org = orgs.lookup(org_code) if org_code not in (None, "") else (orgs.by_id(actor.org_id) if actor else orgs.root())
    orgs.check_covers(actor, org)
    code, name = clean_code(code), clean_name(name)
    order = clean_sort(sort_order, _next_sort(Department))
    if db.session.scalar(select(Department.id).where(Department.code == code)) is not None:
        raise InvalidInput(_("A department with the code %(code)s already exists. Nothing was saved.", code=code),
                           {"code": _("Taken.")})
    dept = Department(code=code, name=name, active=True, sort_order=order, org_id=org.id)
    db.session.add(dept)
    db.session.flush()
    log.info("department %s created", code)
    return dept


def department_members(dept: Department) -> list:
    from hotline.auth.models import User

    return list(db.session.scalars(select(User).where(User.department_id == dept.id, User.active.is_(True))
                                   .order_by(User.display_name)))


def update_department(code: Any, name: Any, active: Any, sort_order: Any = None, head: Any = None,
                      actor=None) -> Department:
    dept = get_department(code, actor)
    dept.name = clean_name(name)
    dept.sort_order = clean_sort(sort_order, dept.sort_order)
    dept.active = clean_flag(active)
    if head in (None, ""):
        dept.head_id = None
    else:
        member = next((u for u in department_members(dept) if u.username == head), None)
        if member is None:
            raise InvalidInput(_("The department head must be an active member of the department."),
                               {"head": _("Not a member.")})
        dept.head_id = member.id
    db.session.flush()
    log.info("department %s updated (active=%s)", dept.code, dept.active)
    return dept


# ---------------------------------------------------------------- types


def case_types() -> list[CaseType]:
    return list(db.session.scalars(select(CaseType).order_by(CaseType.sort_order, CaseType.code)))


def update_type_limits(limits: dict[str, Any], escalate_after: dict[str, Any] | None = None) -> list[CaseType]:
    """Set the reply limit (working days) of the types given as {code: days}, and optionally after how many
    working days overdue the scheduler escalates their cases ({code: days}); returns the types changed."""
    changed = []
    for row in case_types():
        if escalate_after and row.code in escalate_after:
            try:
                after = clean_int(escalate_after[row.code], f"escalate_after-{row.code}",
                                  _("Escalate after (working days)"), 1, 60)
            except InvalidInput as err:
                raise InvalidInput(_("%(type)s: %(message)s", type=row.name, message=err.message),
                                   err.fields) from None
            if after != row.escalate_after_days:
                row.escalate_after_days = after
                if row not in changed:
                    changed.append(row)
        if row.code not in limits:
            continue
        try:
            days = clean_reply_days(limits[row.code], f"reply_days-{row.code}")
        except InvalidInput as err:
            raise InvalidInput(_("%(type)s: %(message)s", type=row.name, message=err.message), err.fields) from None
        if days != row.reply_days:
            log.info("type %s reply limit %s -> %s", row.code, row.reply_days, days)
            row.reply_days = days
            if row not in changed:
                changed.append(row)
    unknown = (set(limits) | set(escalate_after or {})) - {row.code for row in case_types()}
    if unknown:
        raise InvalidInput(_("Unknown case type: %(code)s", code=sorted(unknown)[0][:40]))
    db.session.flush()
    return changed


# ---------------------------------------------------------------- categories


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)))


def get_category(code: Any) -> Category:
    row = db.session.scalar(select(Category).where(Category.code == code)) if isinstance(code, str) else None
    if row is None:
        raise NotFound(_("Category %(code)s was not found.", code=str(code)[:40]))
    return row


def create_category(code: Any, name: Any, reply_days: Any = None, sort_order: Any = None) -> Category:
    """A new category; an empty reply limit means the case type's limit applies."""
    code, name = clean_code(code), clean_name(name)
    days = clean_reply_days(reply_days, required=False)
    order = clean_sort(sort_order, _next_sort(Category))
    if db.session.scalar(select(Category.id).where(Category.code == code)) is not None:
        raise InvalidInput(_("A category with the code %(code)s already exists. Nothing was saved.", code=code),
                           {"code": _("Taken.")})
    row = Category(code=code, name=name, reply_days=days, active=True, sort_order=order)
    db.session.add(row)
    db.session.flush()
    log.info("category %s created (reply_days=%s)", code, days)
    return row


def update_category(code: Any, name: Any, reply_days: Any, active: Any, sort_order: Any = None) -> Category:
    row = get_category(code)
    row.name = clean_name(name)
    row.reply_days = clean_reply_days(reply_days, required=False)
    row.sort_order = clean_sort(sort_order, row.sort_order)
    row.active = clean_flag(active)
    db.session.flush()
    log.info("category %s updated (reply_days=%s, active=%s)", row.code, row.reply_days, row.active)
    return row


# ---------------------------------------------------------------- calendar

def weekday_name(day: date) -> str:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"),
            _("Sunday")][day.weekday()]


@dataclass
class DateEntry:
    day: date
    note: str
    line: int


@dataclass
class YearSummary:
    year: int
    source: str
    entered_at: datetime
    holidays: int
    makeup_days: int


@dataclass
class EnterResult:
    year: int
    holidays: int = 0
    makeup_days: int = 0
    skipped_weekends: list[date] = field(default_factory=list)
    replaced: bool = False


LINE_RE = re.compile(
    r"^(?P<start>\S+?)\s*(?:(?:\.\.|~|～|至|—|–)\s*(?P<end>\S+?))?(?:\s+(?P<note>.*))?$"
)


def parse_day(raw: Any, field_name: str = "day") -> date:
    text = (raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        raise InvalidInput(_("Please enter a date (YYYY-MM-DD)."), {field_name: _("Required.")})
    wrong = _("%(value)s is not a date in the form YYYY-MM-DD.", value=text[:40])
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # the long form only: the calendar lists are read by people
        raise InvalidInput(wrong, {field_name: _("Use YYYY-MM-DD.")})
    return parse_date(text, field_name, wrong=wrong)


def parse_date_lines(text: Any, year: int, field_name: str, label: str) -> list[DateEntry]:
    """Lines like "2027-01-01", "2027-02-10..2027-02-16 春节" (a note after the date is optional).

    Empty lines and lines starting with # are skipped. Errors name the list and the line number.
    """
    text = text if isinstance(text, str) else ""
    lines = text.splitlines()
    if len([ln for ln in lines if ln.strip()]) > DATE_LINES_MAX:
        raise InvalidInput(_("%(label)s: at most %(max)d lines.", label=label, max=DATE_LINES_MAX),
                           {field_name: _("Too many lines.")})
    entries: list[DateEntry] = []
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue

        def fail(message: str) -> InvalidInput:
            return InvalidInput(_("%(label)s, line %(line)d: %(message)s", label=label, line=number, message=message),
                                {field_name: _("Line %(line)d.", line=number)})

        match = LINE_RE.match(line)
        if match is None:
            raise fail(_("write one date or range per line, e.g. 2027-02-10..2027-02-16 Spring Festival."))
        days = []
        for part in (match["start"], match["end"]):
            if part is None:
                continue
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", part):
                    raise ValueError
                days.append(date.fromisoformat(part))
            except ValueError:
                raise fail(_("%(value)s is not a date in the form YYYY-MM-DD.", value=part[:40])) from None
        start, end = days[0], days[-1]
        if end < start:
            raise fail(_("the range ends before it starts."))
        if (end - start).days + 1 > RANGE_DAYS_MAX:
            raise fail(_("a range may cover at most %(max)d days.", max=RANGE_DAYS_MAX))
        if start.year != year or end.year != year:
            bad = start if start.year != year else end
            raise fail(_("%(day)s is not in %(year)d.", day=bad.isoformat(), year=year))
        note = (match["note"] or "").strip()
        if len(note) > NOTE_MAX:
            raise fail(_("the note is too long: at most %(max)d characters.", max=NOTE_MAX))
        day = start
        while day <= end:
            entries.append(DateEntry(day, note, number))
            day += timedelta(days=1)
    return entries


def clean_year(raw: Any) -> int:
    return clean_int(raw, "year", _("the year"), YEAR_MIN, YEAR_MAX)  # type: ignore[return-value]


def year_summaries() -> list[YearSummary]:
    counts: dict[tuple[int, bool], int] = {}
    for day, is_workday in db.session.execute(select(CalendarDay.day, CalendarDay.is_workday)):
        key = (day.year, is_workday)
        counts[key] = counts.get(key, 0) + 1
    rows = db.session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc()))
    return [YearSummary(r.year, r.source, r.entered_at, counts.get((r.year, False), 0), counts.get((r.year, True), 0))
            for r in rows]


def suggested_year() -> int:
    """The year an admin most likely wants to enter next: the first uncovered one from this year on."""
    gaps = workdays.uncovered_years_ahead()
    if gaps:
        return gaps[0]
    covered = set(workdays.covered_years())
    year = clock.local_now().year
    while year in covered:
        year += 1
    return year


def enter_year(year: Any, holidays_text: Any, makeup_text: Any, replace: Any = False) -> EnterResult:
    """Enter (or, with replace, re-enter) a year from two lists of date lines.

    Holidays on a Saturday or Sunday are days off anyway: they are skipped and
    reported. A make-up day (调休上班) must be a Saturday or Sunday; a weekday
    is refused, as is a date listed both as holiday and make-up day.
    """
    year = clean_year(year)
    covered = db.session.get(CalendarYear, year) is not None
    if covered and not clean_flag(replace):
        raise InvalidInput(
            _("%(year)d is already entered. Tick \"Replace the year\" to enter it again, or mark single days on "
              "its page.", year=year),
            {"year": _("Already entered.")},
        )
    holidays = parse_date_lines(holidays_text, year, "holidays", _("Holidays"))
    makeups = parse_date_lines(makeup_text, year, "makeup_days", _("Make-up working days"))
    if not holidays and not makeups:
        raise InvalidInput(_("Enter at least one holiday or make-up day for %(year)d.", year=year),
                           {"holidays": _("Required.")})
    for entry in makeups:
        if entry.day.weekday() < 5:
            raise InvalidInput(
                _("Make-up working days, line %(line)d: %(day)s is a %(weekday)s and a working day anyway; "
                  "a make-up day must be a Saturday or Sunday.",
                  line=entry.line, day=entry.day.isoformat(), weekday=weekday_name(entry.day)),
                {"makeup_days": _("Line %(line)d.", line=entry.line)},
            )
    holiday_lines: dict = {}
    for entry in holidays:
        holiday_lines.setdefault(entry.day, entry)
    for entry in makeups:
        if entry.day in holiday_lines:
            raise InvalidInput(
                _("%(day)s cannot be both a holiday (holidays, line %(h)d) and a make-up day "
                  "(make-up working days, line %(m)d).",
                  day=entry.day.isoformat(), h=holiday_lines[entry.day].line, m=entry.line),
                {"makeup_days": _("Line %(line)d.", line=entry.line)},
            )
    result = EnterResult(year=year, replaced=covered)
    weekday_holidays: dict = {}
    for entry in holidays:
        if entry.day.weekday() >= 5:
            if entry.day not in result.skipped_weekends:
                result.skipped_weekends.append(entry.day)
        else:
            weekday_holidays.setdefault(entry.day, entry.note)
    makeup_days: dict = {}
    for entry in makeups:
        makeup_days.setdefault(entry.day, entry.note)
    try:
        workdays.enter_year(year, sorted(weekday_holidays), sorted(makeup_days))
    except workdays.CalendarError as err:  # the checks above should have caught it
        raise InvalidInput(str(err)) from None
    for day, note in list(weekday_holidays.items()) + list(makeup_days.items()):
        if note:
            workdays.set_day(day, day in makeup_days, note)
    result.holidays, result.makeup_days = len(weekday_holidays), len(makeup_days)
    log.info("calendar year %s entered: %s holidays, %s make-up days", year, result.holidays, result.makeup_days)
    return result


DAY_KINDS = ("holiday", "makeup", "normal")


def mark_day(raw_day: Any, kind: Any, note: Any = "") -> tuple[date, str]:
    """Mark one day of an entered year as a holiday, a make-up working day, or back to the Mon–Fri rule."""
    day = parse_day(raw_day)
    if kind not in DAY_KINDS:
        raise InvalidInput(_("Choose holiday, make-up day or normal day."), {"kind": _("Required.")})
    if db.session.get(CalendarYear, day.year) is None:
        raise InvalidInput(_("%(year)d is not entered yet. Enter the whole year first.", year=day.year),
                           {"day": _("Year not entered.")})
    note = (note or "").strip() if isinstance(note, str) else ""
    if len(note) > NOTE_MAX:
        raise InvalidInput(_("The note is too long: at most %(max)d characters.", max=NOTE_MAX),
                           {"note": _("At most %(max)d characters.", max=NOTE_MAX)})
    weekend = day.weekday() >= 5
    if kind == "holiday" and weekend:
        raise InvalidInput(_("%(day)s is a %(weekday)s and a day off anyway; only a weekday can be marked "
                             "as a holiday.", day=day.isoformat(), weekday=weekday_name(day)), {"day": _("Weekend.")})
    if kind == "makeup" and not weekend:
        raise InvalidInput(_("%(day)s is a %(weekday)s and a working day anyway; only a Saturday or Sunday "
                             "can be a make-up working day.", day=day.isoformat(), weekday=weekday_name(day)),
                           {"day": _("Weekday.")})
    if kind == "normal":
        workdays.set_day(day, not weekend)
    else:
        workdays.set_day(day, kind == "makeup", note)
    log.info("calendar day %s marked %s", day, kind)
    return day, kind


def year_lines(year: int) -> tuple[str, str]:
    """The entered exceptions of a year as the two text lists the entry form takes (runs of days as ranges)."""
    holidays: list[str] = []
    makeups: list[str] = []
    runs: list[list[CalendarDay]] = []
    for row in workdays.year_exceptions(year):
        last = runs[-1][-1] if runs else None
        if (last is not None and last.is_workday == row.is_workday and last.note == row.note
                and _only_weekend_between(last.day, row.day)):
            runs[-1].append(row)
        else:
            runs.append([row])
    for run in runs:
        start, end = run[0].day, run[-1].day
        text = start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"
        if run[0].note:
            text += " " + run[0].note
        (makeups if run[0].is_workday else holidays).append(text)
    return "\n".join(holidays), "\n".join(makeups)


def _only_weekend_between(a: date, b: date) -> bool:
    day = a + timedelta(days=1)
    while day < b:
        if day.weekday() < 5:
            return False
        day += timedelta(days=1)
    return (b - a).days <= 3


@dataclass
class MonthCell:
    day: date | None
    kind: str = ""  # holiday | makeup | weekend | workday
    note: str = ""


def month_grid(year: int) -> list[tuple[int, list[list[MonthCell]]]]:
    """Twelve months of weeks (Monday first) with each day's kind, for the year page."""
    exceptions = {row.day: row for row in workdays.year_exceptions(year)}
    months = []
    for month in range(1, 13):
        first = date(year, month, 1)
        weeks: list[list[MonthCell]] = []
        week = [MonthCell(None) for _ in range(first.weekday())]
        day = first
        while day.month == month:
            row = exceptions.get(day)
            if row is not None:
                cell = MonthCell(day, "makeup" if row.is_workday else "holiday", row.note)
            else:
                cell = MonthCell(day, "weekend" if day.weekday() >= 5 else "workday")
            week.append(cell)
            if len(week) == 7:
                weeks.append(week)
                week = []
            day += timedelta(days=1)
        if week:
            week += [MonthCell(None) for _ in range(7 - len(week))]
            weeks.append(week)
        months.append((month, weeks))
    return months


def deadline_check(raw_day: Any, raw_time: Any, type_code: Any, category_code: Any = None) -> dict:
    """What a case of this type registered at this local date and time would be given (read-only)."""
    day = parse_day(raw_day)
    text = (raw_time or "09:00").strip() if isinstance(raw_time, str) else "09:00"
    if not re.fullmatch(r"\d{1,2}:\d{2}", text):
        raise InvalidInput(_("%(value)s is not a time in the form HH:MM.", value=text[:20]), {"time": _("Use HH:MM.")})
    hh, mm = (int(x) for x in text.split(":"))
    if hh > 23 or mm > 59:
        raise InvalidInput(_("%(value)s is not a time in the form HH:MM.", value=text[:20]), {"time": _("Use HH:MM.")})
    case_type = db.session.get(CaseType, type_code) if isinstance(type_code, str) else None
    if case_type is None:
        raise InvalidInput(_("Unknown case type: %(code)s", code=str(type_code)[:40]), {"type": _("Unknown type.")})
    category = get_category(category_code) if category_code else None
    days = deadlines.reply_days_for(case_type, category)
    start = datetime(day.year, day.month, day.day, hh, mm, tzinfo=clock.local_tz())
    due = deadlines.reply_due_for(case_type, category, start)
    return {"start": start, "type": case_type, "category": category, "days": days, "due": due}
