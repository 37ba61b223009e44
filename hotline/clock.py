"""The one clock. Code asks here for the time; tests and HOTLINE_NOW move it."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def now() -> datetime:
    """Current time, aware, in UTC."""
    if has_app_context():
        pinned = current_app.extensions.get("hotline_clock")
        if pinned is not None:
            return pinned
        fixed = current_app.config.get("HOTLINE_NOW")
        if fixed:
            moment = _FIXED.get(fixed)
            if moment is None:  # parsed once per value, not once per call (a page asks the time often)
                moment = _FIXED[fixed] = datetime.fromisoformat(fixed).astimezone(timezone.utc)
            return moment
    return datetime.now(timezone.utc)


_FIXED: dict[str, datetime] = {}


def set_now(app, moment: datetime | None) -> None:
    """Pin (or, with None, release) the clock of one app. For tests and jobs' dry runs."""
    if moment is not None and moment.tzinfo is None:
        raise ValueError("clock needs an aware datetime")
    app.extensions["hotline_clock"] = moment.astimezone(timezone.utc) if moment else None


_DEFAULT_TZ = "Asia/Shanghai"
_ZONES: dict[str, ZoneInfo] = {_DEFAULT_TZ: ZoneInfo(_DEFAULT_TZ)}


def local_tz() -> ZoneInfo:
    # A page converts a few hundred moments: the zone object is built once per name, not once per call.
    name = current_app.config.get("HOTLINE_TIMEZONE", _DEFAULT_TZ) if has_app_context() else _DEFAULT_TZ
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = ZoneInfo(name)
    return zone


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(local_tz())


def local_now() -> datetime:
    return to_local(now())


def wall() -> datetime:
    """Real time, never pinned: for infrastructure (job leases), not for anything a user sees."""
    return datetime.now(timezone.utc)
