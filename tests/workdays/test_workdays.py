"""Working-day deadlines the Chinese way (DESIGN.md §2)."""
from __future__ import annotations

from datetime import date

from conftest import local

from hotline.workdays import service as wd


def due(start, days, urgent=False):
    result = wd.reply_due(start, days, urgent)
    return result.at.astimezone(local(2026, 1, 1).tzinfo), result.uncertain


def test_consult_before_national_day_skips_the_holiday_week(ctx):
    # Wed 2026-09-30: Oct 1–7 are holidays, so 2 working days run to Fri Oct 9.
    assert due(local(2026, 9, 30, 10, 0), 2) == (local(2026, 10, 9, 17, 30), False)


def test_complaint_over_spring_festival_counts_make_up_saturdays(ctx):
    # Fri 2026-02-13: Sat Feb 14 is a make-up working day, Feb 15–23 are off, Sat Feb 28 works.
    assert due(local(2026, 2, 13, 16, 0), 15) == (local(2026, 3, 12, 17, 30), False)


def test_deadline_into_uncovered_year_counts_weekdays_and_is_flagged(ctx):
    # Thu 2026-12-31 with 2027 not entered: Jan 1 (Fri), 4, 5, 6, 7.
    assert due(local(2026, 12, 31, 9, 0), 5) == (local(2027, 1, 7, 17, 30), True)


def test_counting_starts_after_a_weekend_registration(ctx):
    # Sat 2026-11-28: first working day counted is Mon Nov 30.
    assert due(local(2026, 11, 28, 11, 0), 2) == (local(2026, 12, 1, 17, 30), False)


def test_urgent_same_day_in_hours_next_working_day_after_hours(ctx):
    assert due(local(2026, 11, 30, 10, 0), 2, urgent=True) == (local(2026, 11, 30, 17, 30), False)
    assert due(local(2026, 11, 30, 18, 0), 2, urgent=True) == (local(2026, 12, 1, 17, 30), False)
    # Friday evening before National Day week: next working day is Oct 8.
    assert due(local(2026, 9, 30, 19, 0), 2, urgent=True) == (local(2026, 10, 8, 17, 30), False)


def test_accept_due_is_end_of_next_working_day(ctx):
    assert wd.accept_due(local(2026, 9, 30, 10, 0)).at == local(2026, 10, 8, 17, 30)


def test_admin_entered_year_replaces_weekday_guess(ctx):
    wd.enter_year(2027, holidays=[date(2027, 1, 1)], makeup_days=[date(2027, 1, 9)])
    # Jan 1 off, Sat Jan 9 a make-up day: 4, 5, 6, 7, 8 -> Jan 8; no longer uncertain.
    assert due(local(2026, 12, 31, 9, 0), 5) == (local(2027, 1, 8, 17, 30), False)


def test_uncovered_year_warning_lists_missing_years(ctx, clock):
    clock.set(local(2026, 12, 1, 9, 0))
    assert wd.uncovered_years_ahead() == [2027]
    wd.enter_year(2027, holidays=[date(2027, 1, 1)], makeup_days=[])
    assert wd.uncovered_years_ahead() == []


def test_seed_covers_2004_to_2026(ctx):
    assert wd.covered_years() == list(range(2004, 2027))
    assert wd.is_workday(date(2026, 2, 14))  # make-up Saturday
    assert not wd.is_workday(date(2026, 10, 6))  # National Day holiday, a Tuesday


def test_working_days_between_two_dates_follow_the_calendar_over_long_spans(ctx):
    # The queue shows how many working days a case is overdue, also for cases a year and more overdue:
    # every pair of days across 2025-2026 (holiday weeks, make-up Saturdays) agrees with a day-by-day count.
    cal = wd.WorkCalendar.load(date(2024, 12, 1), date(2027, 1, 31))
    start = date(2024, 12, 20)
    days = [date.fromordinal(start.toordinal() + i) for i in range(0, 760, 3)]
    for a in days[::7]:
        for b in days:
            walked = sum(cal.is_workday(date.fromordinal(o)) for o in range(a.toordinal() + 1, b.toordinal() + 1))
            assert wd.workdays_between(cal, a, b) == walked, (a, b)
    # Spring Festival 2026: Feb 15-23 off, Sat Feb 14 and Sat Feb 28 worked.
    assert wd.workdays_between(cal, date(2026, 2, 13), date(2026, 2, 28)) == 6  # 14; 24-27; 28
    assert wd.workdays_between(cal, date(2026, 3, 2), date(2026, 3, 1)) == 0
