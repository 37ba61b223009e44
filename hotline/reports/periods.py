"""Report periods in local dates (Asia/Shanghai by default): a case registered at 00:30 on the 1st
of March, local time, belongs to March whatever its UTC time says."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext as _

from hotline import clock
from hotline.dates import parse_date
from hotline.errors import InvalidInput

PRESETS = ("today", "week", "month", "year", "custom")
DEFAULT_PRESET = "month"
MAX_DAYS = 3700  # about ten years: anything longer is a typo


def local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.local_tz()).astimezone(timezone.utc)


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    preset: str = "custom"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start_utc(self) -> datetime:
        return local_midnight_utc(self.first)

    @property
    def end_utc(self) -> datetime:
        """Exclusive: local midnight after the last day."""
        return local_midnight_utc(self.last + timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def previous(self) -> "Period":
        """The period to compare with: the same stretch of the previous day, week, month or year
        (to the same day, so a month to date compares with the same days of last month), or for a
        custom range the same number of days just before it."""
        if self.preset == "today":
            day = self.first - timedelta(days=1)
            return Period(day, day, "custom")
        if self.preset == "week":
            return Period(self.first - timedelta(days=7), self.last - timedelta(days=7), "custom")
        if self.preset == "month":
            year, month = (self.first.year, self.first.month - 1) if self.first.month > 1 else (self.first.year - 1, 12)
            first = date(year, month, 1)
            month_end = calendar.monthrange(year, month)[1]
            return Period(first, date(year, month, min(self.last.day, month_end)), "custom")
        if self.preset == "year":
            first = date(self.first.year - 1, 1, 1)
            last_day = min(self.last.day, calendar.monthrange(self.first.year - 1, self.last.month)[1])
            return Period(first, date(self.first.year - 1, self.last.month, last_day), "custom")
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1), "custom")

    def as_args(self) -> dict[str, str]:
        """The case list's registration-date filters for this period."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def preset_period(preset: str, today: date | None = None) -> Period:
    today = today or clock.local_now().date()
    if preset == "today":
        return Period(today, today, preset)
    if preset == "week":
        return Period(today - timedelta(days=today.weekday()), today, preset)
    if preset == "year":
        return Period(date(today.year, 1, 1), today, preset)
    return Period(today.replace(day=1), today, "month")


def _date(raw: str, name: str) -> date:
    return parse_date(raw, name, date(1900, 1, 2), date(9998, 12, 30))


def parse_period(args) -> Period:
    """From query-string args: period=today|week|month|year, or from/to (local dates, inclusive)."""
    preset = (args.get("period") or "").strip()
    raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if preset and preset not in PRESETS:
        raise InvalidInput(_("Unknown period: %(v)s", v=preset[:20]), {"period": _("Unknown period.")})
    if preset in ("", "custom") and (raw_from or raw_to):
        if not (raw_from and raw_to):
            name = "to" if raw_from else "from"
            raise InvalidInput(_("Give both the first and the last day of the period."), {name: _("Required.")})
        first, last = _date(raw_from, "from"), _date(raw_to, "to")
        if last < first:
            raise InvalidInput(_("The last day comes before the first day."), {"to": _("Before the first day.")})
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidInput(_("The period is too long (at most %(n)d days).", n=MAX_DAYS),
                               {"to": _("Too long.")})
        return Period(first, last, "custom")
    if preset == "custom":
        raise InvalidInput(_("Give the first and the last day of the period."), {"from": _("Required.")})
    return preset_period(preset or DEFAULT_PRESET)
