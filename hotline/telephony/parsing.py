"""Small parsers of what Twilio sends and what the call pages ask for: caller numbers, seconds, days.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from hotline import clock
from hotline.dates import parse_date
from hotline.errors import InvalidInput
from hotline.phones import normalize_phone
from hotline.telephony.models import ANONYMOUS

# Twilio's stand-ins for a withheld caller ID, besides the words.
ANONYMOUS_NUMBERS = {"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"}
ANONYMOUS_WORDS = {"anonymous", "restricted", "unknown", "private", "unavailable", "blocked", "withheld"}


def parse_caller(raw: str | None) -> str:
    """Twilio's From as E.164, or "anonymous" when the number is withheld or unusable."""
    text = (raw or "").strip()
    if not text or text.lower() in ANONYMOUS_WORDS or text in ANONYMOUS_NUMBERS:
        return ANONYMOUS
    if ":" in text:  # client:…, sip:…
        return ANONYMOUS
    try:
        return normalize_phone(text[:40])
    except InvalidInput:
        return ANONYMOUS


def seconds(raw: Any) -> int | None:
    """A non-negative whole number of seconds from a webhook field, or None."""
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if 0 <= value < 10 * 24 * 3600 else None


def parse_day(raw: str | None) -> date:
    """YYYY-MM-DD (default: today, local) for the call log and the API."""
    if raw is None or not raw.strip():
        return clock.local_now().date()
    return parse_date(raw, "date")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=clock.local_tz()).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.local_tz()).astimezone(timezone.utc)
    return start, end


def elapsed(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds()))


def web_address(url: str | None) -> bool:
    """An http(s) address with a host: the only kind a page may turn into a link."""
    if not url or any(ord(ch) < 0x21 for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("https", "http") and bool(parts.netloc)


def duration_text(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value // 60}:{value % 60:02d}"
