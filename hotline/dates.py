"""Dates and times as text, in one place: what each ISO form means, and one parser for typed dates.

- utc_iso: stored in event payloads and import records (UTC, with +00:00).
- local_iso: shown to people and API clients (local time with its offset).
- key_iso: part of an outbox dedupe key; its form is what the stored keys use, so it must not change.
"""
from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from typing import Any

from flask_babel import gettext as _

from hotline import clock
from hotline.errors import InvalidInput


def utc_iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def local_iso(value: datetime | None, zone: tzinfo | None = None) -> str | None:
    """zone: the local zone when the caller has it already (a list converts hundreds of moments)."""
    if not value:
        return None
    return (value.astimezone(zone) if zone is not None else clock.to_local(value)).isoformat()


def key_iso(value: datetime | None) -> str:
    return value.isoformat() if value else "-"


def parse_aware(value: Any) -> datetime | None:
    """An ISO timestamp with an offset (as utc_iso writes), or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def parse_date(raw: Any, field: str, first: date | None = None, last: date | None = None,
               wrong: str | None = None, out_of_range: str | None = None) -> date:
    """A typed date, YYYY-MM-DD, as InvalidInput on `field` when it is not one or not within first..last.

    Without bounds, the first and last days Python can hold are refused too: their local midnight (or the
    next one) would not fit in UTC."""
    text = str(raw).strip()
    try:
        value = date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput(wrong or _("%(value)s is not a date (use YYYY-MM-DD).", value=str(raw)[:20]),
                           {field: _("Wrong date format.")}) from None
    low, high = first or date.min.replace(day=2), last or date.max.replace(day=30)
    if not low <= value <= high:
        raise InvalidInput(out_of_range or _("%(value)s is out of range.", value=str(raw)[:20]),
                           {field: _("Out of range.")})
    return value
