"""The programme schedule as data: programmes (weekdays and times) and their episodes on given dates."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hotline import clock
from hotline.db_helpers import check_version, get_or_404, insert_ignore
from hotline.errors import InvalidInput
from hotline.extensions import db
from hotline.radio.models import PROGRAMME_KINDS, Episode, Programme

# The two programmes of the 2008 agreement between the union and the county station (89.1 FM).
DEFAULT_PROGRAMMES = [
    dict(code="gonghui_zhisheng", name="《工会之声》", kind="live", station="吴江人民广播电台 89.1 FM",
         weekdays="6", start_time="13:30", end_time="14:30", sort_order=0, active=True, version=1,
         description="每周六下午直播：宣传政策法规、开办知识讲座，以电话连线直接倾听职工心声、回答职工提问。"),
    dict(code="zhigong_zhisheng", name="《职工之声》", kind="digest", station="吴江人民广播电台 89.1 FM",
         weekdays="1234567", start_time="17:45", end_time="18:00", sort_order=1, active=True, version=1,
         description="每天播出：向职工快递工会动态、政策讯息、求职求学等服务信息。"),
]
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def ensure_defaults() -> int:
    """Put the default programmes on the schedule when it has none of their codes (idempotent)."""
    existing = set(db.session.scalars(select(Programme.code)))
    return insert_ignore(Programme, [dict(p) for p in DEFAULT_PROGRAMMES if p["code"] not in existing])


def programmes(active_only: bool = True) -> list[Programme]:
    stmt = select(Programme).order_by(Programme.sort_order, Programme.id)
    if active_only:
        stmt = stmt.where(Programme.active.is_(True))
    return list(db.session.scalars(stmt))


def programme_of_kind(kind: str) -> Programme | None:
    return db.session.scalar(select(Programme).where(Programme.kind == kind, Programme.active.is_(True))
                             .order_by(Programme.sort_order, Programme.id).limit(1))


def _hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def airs_on(programme: Programme, day: date) -> bool:
    return str(day.isoweekday()) in programme.weekdays


def slot_of(programme: Programme, day: date) -> tuple[datetime, datetime]:
    """Start and end of the programme on `day`, in UTC."""
    tz = clock.local_tz()
    start = datetime.combine(day, _hhmm(programme.start_time), tzinfo=tz)
    end = datetime.combine(day, _hhmm(programme.end_time), tzinfo=tz)
    if end <= start:
        end += timedelta(days=1)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def slot_seconds(programme: Programme) -> int:
    start, end = slot_of(programme, date(2026, 1, 5))
    return int((end - start).total_seconds())


def next_air_date(programme: Programme, moment: datetime | None = None) -> date:
    """Today when the programme airs today and has not ended yet, else its next air date."""
    now = moment or clock.now()
    day = clock.to_local(now).date()
    for offset in range(0, 8):
        candidate = day + timedelta(days=offset)
        if airs_on(programme, candidate) and slot_of(programme, candidate)[1] > now:
            return candidate
    return day


def episode_for(programme: Programme, day: date, create: bool = True) -> Episode | None:
    """The programme's episode on `day`, planned from the schedule when it is not there yet."""
    episode = db.session.scalar(select(Episode).where(Episode.programme_id == programme.id,
                                                      Episode.air_date == day))
    if episode is None and create:
        start, end = slot_of(programme, day)
        insert_ignore(Episode, [dict(programme_id=programme.id, air_date=day, starts_at=start, ends_at=end,
                                      topic="", guests="", status="planned", created_at=clock.now(), version=1)])
        episode = db.session.scalar(select(Episode).where(Episode.programme_id == programme.id,
                                                          Episode.air_date == day))
    return episode


def get_episode(episode_id: Any) -> Episode:
    return get_or_404(Episode, episode_id, _("This episode was not found."))


def upcoming_episodes(days: int = 14) -> list[tuple[Programme, date, Episode | None]]:
    """Each active programme's air dates in the next `days` days, with the episode where one is planned."""
    today = clock.local_now().date()
    rows = []
    progs = programmes()
    planned = {(e.programme_id, e.air_date): e for e in db.session.scalars(
        select(Episode).where(Episode.air_date >= today, Episode.air_date < today + timedelta(days=days)))}
    for offset in range(days):
        day = today + timedelta(days=offset)
        for prog in progs:
            if airs_on(prog, day):
                rows.append((prog, day, planned.get((prog.id, day))))
    return rows


def save_programme(actor, form: dict[str, Any], programme: Programme | None = None) -> Programme:
    """Create or change a programme from a form; the whole form is refused with field messages."""
    errors: dict[str, str] = {}
    code = (form.get("code") or "").strip()
    name = (form.get("name") or "").strip()
    kind = (form.get("kind") or "").strip()
    weekdays = "".join(sorted({d for d in form.getlist("weekdays")} if hasattr(form, "getlist")
                              else set(form.get("weekdays") or "")))
    start, end = (form.get("start_time") or "").strip(), (form.get("end_time") or "").strip()
    if programme is None:
        if not re.fullmatch(r"[a-z0-9_]{2,32}", code):
            errors["code"] = _("Lower-case letters, digits and underscores, 2 to 32 of them.")
        elif db.session.scalar(select(Programme.id).where(Programme.code == code)) is not None:
            errors["code"] = _("This code is taken.")
    else:
        check_version(programme, form.get("version"),
                      _("The programme was changed by someone else meanwhile. Reload and try again."))
    if not name or len(name) > 64:
        errors["name"] = _("Give a name of at most 64 characters.")
    if kind not in PROGRAMME_KINDS:
        errors["kind"] = _("Choose the kind of programme.")
    if not weekdays or not re.fullmatch(r"[1-7]{1,7}", weekdays):
        errors["weekdays"] = _("Choose the days it airs on.")
    for field, value in (("start_time", start), ("end_time", end)):
        if not _HHMM.fullmatch(value):
            errors[field] = _("Use HH:MM, e.g. 13:30.")
    if not errors and start >= end:
        errors["end_time"] = _("The end must be after the start.")
    if errors:
        raise InvalidInput(_("The programme was not saved; see the marked fields."), errors)
    if programme is None:
        # A new programme belongs to its producer's organisation (吴江区总工会's 《工会之声》 and 《职工之声》).
        programme = Programme(code=code, sort_order=len(programmes(False)), version=1,
                              org_id=getattr(actor, "org_id", None) or 1)
        db.session.add(programme)
    programme.name = name
    programme.kind = kind
    programme.weekdays = weekdays
    programme.start_time = start
    programme.end_time = end
    programme.station = (form.get("station") or "").strip()[:64]
    programme.description = (form.get("description") or "").strip()[:1000]
    programme.active = form.get("active") in ("1", "on", "true", True)
    db.session.flush()
    return programme


def plan_episode(actor, programme: Programme, day: date, topic: str, guests: str) -> Episode:
    """Plan (or re-plan) one episode: its topic and guests; the times come from the schedule."""
    if len(topic) > 200 or len(guests) > 200:
        raise InvalidInput(_("Topic and guests take at most 200 characters each."),
                           {"topic": _("At most 200 characters.")})
    episode = episode_for(programme, day)
    episode.topic = topic.strip()
    episode.guests = guests.strip()
    db.session.flush()
    return episode
