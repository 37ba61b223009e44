"""The live call-in queue of a 《工会之声》 episode and turning a call-in into a `radio` case.

ringing → screening → ready → on_air → done, and dropped from any waiting state (or from the air).
"Set next" puts a ready call at the head of the ready list. One call is on air at a time: putting the
next one on air ends the current one. Each move checks the call-in's `version`, so two producers at
two screens cannot undo each other's moves. Services flush; the door commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from hotline import clock
from hotline.auth.models import User
from hotline.cases import access, service as cases
from hotline.cases.models import OPEN_STATUSES, Case
from hotline.db_helpers import check_version, flush_or_stale, get_or_404
from hotline.errors import IllegalMove, InvalidInput, NotFound
from hotline.extensions import db
from hotline.phones import optional_phone
from hotline.radio import line
from hotline.radio.models import CALLIN_STATUSES, WAITING_STATUSES, CallIn, Episode
from hotline.templating import local_day_time

# action → (statuses it may start from, status it leads to)
MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "screen": (("ringing",), "screening"),
    "ready": (("ringing", "screening"), "ready"),
    "next": (("ready",), "ready"),  # set next: head of the ready list
    "on_air": (("ready", "screening", "ringing"), "on_air"),
    "done": (("on_air",), "done"),
    "drop": (("ringing", "screening", "ready", "on_air"), "dropped"),
    "back": (("ready",), "screening"),
}
FIELD_MAX = {"name": 64, "area": 64, "topic": 200, "notes": 2000}


@dataclass
class Alerts:
    repeat_calls: int = 0  # earlier call-ins from the same number
    open_cases: int = 0
    complaints: int = 0  # earlier 信访投诉 cases
    cases_total: int = 0

    @property
    def any(self) -> bool:
        return bool(self.repeat_calls or self.open_cases or self.complaints)


def _clean(form: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, limit in FIELD_MAX.items():
        value = form.get(name)
        value = value.strip() if isinstance(value, str) else ""
        if len(value) > limit:
            errors[name] = _("At most %(max)d characters.", max=limit)
        out[name] = value
    if errors:
        raise InvalidInput(_("Some fields are too long."), errors)
    return out


def get_callin(callin_id: Any) -> CallIn:
    return get_or_404(CallIn, callin_id, _("This call-in was not found."))


def add_callin(actor: User | None, episode: Episode, form: dict[str, Any], *, call_sid: str | None = None,
               status: str = "ringing") -> CallIn:
    """A call-in joins the queue: typed in by a producer, or from Twilio (`actor` None, `call_sid` set)."""
    if episode.status == "ended":
        raise IllegalMove(_("This episode has ended; call-ins are no longer taken."))
    phone = optional_phone(form.get("phone"))
    fields = _clean(form)
    if status not in ("ringing", "screening"):
        status = "ringing"
    now = clock.now()
    callin = CallIn(episode_id=episode.id, status=status, phone=phone, call_sid=call_sid, arrived_at=now,
                    screened_at=now if status == "screening" else None, updated_at=now, queue_pos=0,
                    created_by_id=actor.id if actor else None, version=1, drop_reason="", **fields)
    db.session.add(callin)
    db.session.flush()
    return callin


def _check_version(callin: CallIn, version: Any) -> None:
    check_version(callin, version, _("Someone else moved this call meanwhile; the console now shows where it is."),
                  missing=_("The call-in version is missing; reload the console."))


def _flush() -> None:
    flush_or_stale(_("Someone else moved this call meanwhile; the console now shows where it is."))


def update_callin(actor: User, callin: CallIn, version: Any, form: dict[str, Any]) -> CallIn:
    """Screening notes: name, area, phone, topic, notes."""
    _check_version(callin, version)
    fields = _clean(form)
    if "phone" in form:
        callin.phone = optional_phone(form.get("phone"))
    for key, value in fields.items():
        if key in form:
            setattr(callin, key, value)
    callin.updated_at = clock.now()
    _flush()
    return callin


def move(actor: User, callin: CallIn, action: str, version: Any, reason: str = "") -> CallIn:
    if action not in MOVES:
        raise NotFound(_("Unknown action: %(name)s", name=str(action)[:32]))
    from_statuses, to_status = MOVES[action]
    _check_version(callin, version)
    if callin.status not in from_statuses:
        raise IllegalMove(_("This call is %(status)s; it cannot be moved that way.",
                            status=status_label(callin.status)))
    episode = callin.episode
    now = clock.now()
    if action in ("on_air",) and episode.status == "ended":
        raise IllegalMove(_("This episode has ended."))
    if action == "screen":
        callin.screened_at = now
    elif action == "ready":
        callin.ready_at = now
        callin.screened_at = callin.screened_at or now
        callin.queue_pos = _last_pos(episode) + 1
    elif action == "next":
        callin.queue_pos = _first_pos(episode) - 1
    elif action == "back":
        callin.ready_at = None
    elif action == "on_air":
        for other in list(db.session.scalars(select(CallIn).where(CallIn.episode_id == episode.id,
                                                                  CallIn.status == "on_air", CallIn.id != callin.id))):
            other.status = "done"
            other.ended_at = now
            other.updated_at = now
            line.wants(other, "done")
        callin.on_air_at = now
        callin.screened_at = callin.screened_at or now
        if episode.status == "planned":
            episode.status = "live"
            episode.started_at = now
    elif action == "done":
        callin.ended_at = now
    elif action == "drop":
        callin.ended_at = now
        callin.drop_reason = (reason or "").strip()[:200]
    callin.status = to_status
    callin.updated_at = now
    if action in line.ACTION_OF_MOVE:  # the caller's phone call follows the move (Twilio, after the commit)
        line.wants(callin, line.ACTION_OF_MOVE[action], actor if action in ("screen", "back") else None)
    _flush()
    return callin


def caller_hung_up(call_sid: str, twilio_status: str) -> CallIn | None:
    """Twilio says the call ended: a caller still waiting is dropped, one on air is done."""
    callin = db.session.scalar(select(CallIn).where(CallIn.call_sid == call_sid)) if call_sid else None
    if callin is None or twilio_status not in ("completed", "busy", "failed", "no-answer", "canceled"):
        return callin
    now = clock.now()
    callin.line_action = None  # nothing left to move
    if callin.status in WAITING_STATUSES:
        callin.status = "dropped"
        callin.drop_reason = "来电人已挂断"
        callin.ended_at = callin.updated_at = now
    elif callin.status == "on_air":
        callin.status = "done"
        callin.ended_at = callin.updated_at = now
    db.session.flush()
    return callin


def _first_pos(episode: Episode) -> int:
    return db.session.scalar(select(func.min(CallIn.queue_pos)).where(
        CallIn.episode_id == episode.id, CallIn.status == "ready")) or 0


def _last_pos(episode: Episode) -> int:
    return db.session.scalar(select(func.max(CallIn.queue_pos)).where(
        CallIn.episode_id == episode.id, CallIn.status == "ready")) or 0


def put_next_on_air(actor: User, episode: Episode) -> CallIn:
    """The head of the ready list goes on air (the keyboard's Alt+A)."""
    head = db.session.scalar(select(CallIn).where(CallIn.episode_id == episode.id, CallIn.status == "ready")
                             .order_by(CallIn.queue_pos, CallIn.ready_at, CallIn.id).limit(1))
    if head is None:
        raise IllegalMove(_("Nobody is ready: screen a call and mark it ready first."))
    return move(actor, head, "on_air", head.version)


START_LEAD = timedelta(minutes=30)  # a show may be started this long before its slot without a question


def in_slot(episode: Episode, now: datetime | None = None) -> bool:
    """Whether now is the episode's slot (from half an hour before it starts until it ends)."""
    now = now or clock.now()
    return episode.starts_at - START_LEAD <= now <= episode.ends_at


def start_episode(actor: User, episode: Episode, outside_ok: bool = False) -> Episode:
    """Start the show. Outside its slot (next Saturday's show on Friday) only when the producer confirms."""
    if episode.status != "planned":
        raise IllegalMove(_("This episode has already started."))
    if not outside_ok and not in_slot(episode):
        raise IllegalMove(_("This episode is scheduled for %(when)s, not now. Start it anyway only if it is "
                            "really on air now.", when=local_day_time(episode.starts_at)),
                          {"outside_ok": _("Confirm to start outside the slot.")}, code="outside_slot")
    episode.status = "live"
    episode.started_at = clock.now()
    db.session.flush()
    return episode


def end_episode(actor: User, episode: Episode) -> Episode:
    """The show is over: the call on air is done, those still waiting are dropped."""
    if episode.status == "ended":
        raise IllegalMove(_("This episode has already ended."))
    now = clock.now()
    for callin in list(db.session.scalars(select(CallIn).where(CallIn.episode_id == episode.id,
                                                               CallIn.status.in_((*WAITING_STATUSES, "on_air"))))):
        if callin.status == "on_air":
            callin.status = "done"
        else:
            callin.status = "dropped"
            callin.drop_reason = callin.drop_reason or _("The show ended.")
        callin.ended_at = now
        callin.updated_at = now
        line.wants(callin, "end")
    episode.status = "ended"
    episode.started_at = episode.started_at or now
    episode.ended_at = now
    db.session.flush()
    return episode


def queue(episode: Episode) -> dict[str, list[CallIn]]:
    rows = list(db.session.scalars(select(CallIn).where(CallIn.episode_id == episode.id)
                                   .order_by(CallIn.arrived_at, CallIn.id)))
    by: dict[str, list[CallIn]] = {s: [] for s in CALLIN_STATUSES}
    for row in rows:
        by[row.status].append(row)
    by["ready"].sort(key=lambda c: (c.queue_pos, c.ready_at or c.arrived_at, c.id))
    by["done"].sort(key=lambda c: (c.ended_at or c.arrived_at), reverse=True)
    by["dropped"].sort(key=lambda c: (c.ended_at or c.arrived_at), reverse=True)
    return by


def alerts_for(callins: list[CallIn], actor: User | None = None) -> dict[int, Alerts]:
    """Repeat caller, open cases and earlier complaints for each call-in's number, in three queries.

    The cases counted are those whose caller `actor` may look up by number (hotline/cases/access.py: a
    producer, the radio call-ins'); a hotline caller's cases are no business of the studio."""
    phones = sorted({c.phone for c in callins if c.phone})
    result = {c.id: Alerts() for c in callins}
    if not phones:
        return result
    earlier = {}
    for phone, _first_id, count in db.session.execute(
            select(CallIn.phone, func.min(CallIn.id), func.count()).where(CallIn.phone.in_(phones))
            .group_by(CallIn.phone)):
        earlier[phone] = count
    case_stmt = select(Case.caller_phone, Case.status, Case.type_code, func.count()).where(
        Case.caller_phone.in_(phones))
    if actor is not None:
        case_stmt = access.scope(actor, case_stmt)
        allowed = access.private_filter_allowed(actor)
        if allowed is not None:
            case_stmt = case_stmt.where(allowed)
    case_rows = db.session.execute(case_stmt.group_by(Case.caller_phone, Case.status, Case.type_code)).all()
    per_phone: dict[str, Alerts] = {}
    for phone, status, type_code, count in case_rows:
        a = per_phone.setdefault(phone, Alerts())
        a.cases_total += count
        if status in OPEN_STATUSES:
            a.open_cases += count
        if type_code == "complaint":
            a.complaints += count
    for callin in callins:
        if not callin.phone:
            continue
        base = per_phone.get(callin.phone, Alerts())
        own_case = 1 if callin.case_id else 0
        result[callin.id] = Alerts(repeat_calls=max(earlier.get(callin.phone, 1) - 1, 0),
                                   open_cases=base.open_cases, complaints=base.complaints,
                                   cases_total=base.cases_total - own_case)
    return result


def status_label(status: str) -> str:
    return {"ringing": _("ringing"), "screening": _("being screened"), "ready": _("ready"), "on_air": _("on air"),
            "done": _("done"), "dropped": _("dropped")}.get(status, status)


# ---------------------------------------------------------------- the radio case

def case_defaults(callin: CallIn) -> dict[str, str]:
    """What the case form starts with: the screening notes become the caller and the question."""
    return {"phone": callin.phone[3:] if callin.phone and callin.phone.startswith("+86") else (callin.phone or ""),
            "caller_name": callin.name, "caller_district": callin.area, "summary": callin.topic[:200],
            "detail": callin.notes, "outcome": "close"}


def make_case(actor: User, callin: CallIn, version: Any, data: dict[str, Any]) -> Case:
    """One step: the call-in becomes a `radio` case (closed with the answer given on air, registered, or
    dispatched), linked to the call-in."""
    _check_version(callin, version)
    if callin.case_id is not None:
        raise IllegalMove(_("This call-in is already case %(no)s.", no=callin.case.case_no))
    if callin.status not in ("on_air", "done", "screening", "ready"):
        raise IllegalMove(_("Only a call that was screened or aired becomes a case."))
    case = cases.register(actor, {**data, "channel": "radio"}, via="web")
    callin.case_id = case.id
    callin.updated_at = clock.now()
    _flush()
    return case


# ---------------------------------------------------------------- the episode log

def episode_log(episode: Episode) -> dict[str, Any]:
    rows = list(db.session.scalars(select(CallIn).where(CallIn.episode_id == episode.id)
                                   .order_by(CallIn.on_air_at.is_(None), CallIn.on_air_at, CallIn.arrived_at)))
    aired = [c for c in rows if c.on_air_at is not None]
    talk = sum(int(((c.ended_at or clock.now()) - c.on_air_at).total_seconds()) for c in aired)
    return {"episode": episode, "rows": rows, "aired": len(aired), "dropped": sum(c.status == "dropped" for c in rows),
            "cases": sum(1 for c in rows if c.case_id), "talk_seconds": talk}


def on_air_seconds(callin: CallIn, now: datetime | None = None) -> int | None:
    if callin.on_air_at is None:
        return None
    end = callin.ended_at or now or clock.now()
    return max(int((end - callin.on_air_at).total_seconds()), 0)
