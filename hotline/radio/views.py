"""The radio doors: the live console of a 《工会之声》 episode, the schedule, the episode log, and Twilio's
webhooks for a station line routed through Twilio.

The console polls GET /radio/episodes/<id>/queue every 3 s for the queue fragment (304 when nothing
changed); every move is an ordinary POST form with CSRF that redirects back (or re-renders the console
with 409/422 and the message when it is refused).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from hotline import clock
from hotline.auth.access import allow, current_actor
from hotline.cases import queries, service as cases
from hotline.cases.forms import RadioCaseForm, page_fields
from hotline.dates import parse_date
from hotline.errors import InvalidInput, ServiceError
from hotline.extensions import db
from hotline.phones import display_phone, mask_phone
from hotline.radio import line, schedule, service
from hotline.radio.forms import CallInForm, CallInStepForm, PlanEpisodeForm, ProgrammeForm
from hotline.radio.models import PROGRAMME_KINDS, CallIn, Episode, Programme
from hotline.redact import person_label, redact
from hotline.telephony.models import ANONYMOUS
from hotline.telephony.parsing import parse_caller

# Twilio's signature check of every webhook (public, CSRF-exempt, 403 unless signed).
from hotline.telephony.webhooks import webhook, webhook_params

bp = Blueprint("radio", __name__)
POLL_MS = 3000
PRODUCERS = ("producer",)

CALLIN_LABELS = {
    "ringing": _l("Ringing"), "screening": _l("Screening"), "ready": _l("Ready"), "on_air": _l("On air"),
    "done": _l("Done"), "dropped": _l("Dropped"),
}
EPISODE_LABELS = {"planned": _l("Planned"), "live": _l("Live"), "ended": _l("Ended")}
KIND_LABELS = {"live": _l("Live call-in show"), "digest": _l("Daily digest")}
WEEKDAY_LABELS = {"1": _l("Mon"), "2": _l("Tue"), "3": _l("Wed"), "4": _l("Thu"), "5": _l("Fri"), "6": _l("Sat"),
                  "7": _l("Sun")}


@bp.context_processor
def labels() -> dict[str, Any]:
    return {"CALLIN_LABELS": CALLIN_LABELS, "EPISODE_LABELS": EPISODE_LABELS, "KIND_LABELS": KIND_LABELS,
            "WEEKDAY_LABELS": WEEKDAY_LABELS, "mmss": _mmss, "MOVES": service.MOVES}


def _mmss(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 60}:{seconds % 60:02d}"


def _fail(err: ServiceError, episode: Episode):
    db.session.rollback()
    episode = schedule.get_episode(episode.id)
    return _render_console(episode, status=err.status, message=err.message, errors=err.fields,
                           values=request.form)


# ---------------------------------------------------------------- console

@bp.get("/radio")
@allow(*PRODUCERS)
def index():
    """Today's (or the next) live episode."""
    programme = schedule.programme_of_kind("live")
    if programme is None:
        flash(_("There is no live programme on the schedule yet; add one first."), "warn")
        return redirect(url_for("radio.schedule_page"))
    day = schedule.next_air_date(programme)
    episode = schedule.episode_for(programme, day)
    return redirect(url_for("radio.console", episode_id=episode.id))


def _console_context(episode: Episode) -> dict[str, Any]:
    queue = service.queue(episode)
    everyone = [c for rows in queue.values() for c in rows]
    now = clock.now()
    on_air = queue["on_air"][0] if queue["on_air"] else None
    finished = queue["done"] + queue["dropped"]
    last_done = queue["done"][0] if queue["done"] else None
    return {"episode": episode, "queue": queue, "alerts": service.alerts_for(everyone, current_actor()), "on_air": on_air,
            "finished": sorted(finished, key=lambda c: c.ended_at or c.arrived_at, reverse=True),
            "case_target": on_air or (last_done if last_done and not last_done.case_id else None),
            "now_iso": now.isoformat(), "poll_ms": POLL_MS, "on_air_seconds": service.on_air_seconds,
            "remaining": int((episode.ends_at - now).total_seconds()),
            "in_slot": service.in_slot(episode, now),
            "first_ready_id": queue["ready"][0].id if queue["ready"] else None}


def _render_console(episode: Episode, status: int = 200, message: str | None = None, errors=None, values=None):
    return render_template("radio/console.html", message=message, errors=errors or {}, values=values or {},
                           **_console_context(episode)), status


def _etag(episode: Episode) -> str:
    rows = db.session.execute(select(CallIn.id, CallIn.version, CallIn.case_id, CallIn.line_action, CallIn.line_error)
                              .where(CallIn.episode_id == episode.id).order_by(CallIn.id)).all()
    raw = f"{episode.id}:{episode.version}:{episode.status}:" + ";".join(
        f"{a}.{b}.{c}.{d}.{e}" for a, b, c, d, e in rows)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@bp.get("/radio/episodes/<int:episode_id>")
@allow(*PRODUCERS)
def console(episode_id: int):
    episode = schedule.get_episode(episode_id)
    return _render_console(episode)


@bp.get("/radio/episodes/<int:episode_id>/queue")
@allow(*PRODUCERS)
def queue_fragment(episode_id: int):
    """The queue part of the console, for the page's polling (304 when nothing changed)."""
    episode = schedule.get_episode(episode_id)
    etag = _etag(episode)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(render_template("radio/_queue.html", **_console_context(episode)),
                            mimetype="text/html")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache, private"
    return response


@bp.post("/radio/episodes/<int:episode_id>/callins")
@allow(*PRODUCERS)
def add_callin(episode_id: int):
    episode = schedule.get_episode(episode_id)
    try:
        form = CallInForm()
        callin = service.add_callin(current_actor(), episode, form.submitted(),
                                    status="screening" if form.screen_now.data else "ringing")
    except ServiceError as err:
        return _fail(err, episode)
    flash(_("Call-in from %(who)s added to the queue.", who=callin.name or display_phone(callin.phone) or _("a caller")),
          "ok")
    return redirect(url_for("radio.console", episode_id=episode.id) + f"#c{callin.id}")


@bp.post("/radio/callins/<int:callin_id>/edit")
@allow(*PRODUCERS)
def edit_callin(callin_id: int):
    callin = service.get_callin(callin_id)
    episode = callin.episode
    try:
        form = CallInForm()
        service.update_callin(current_actor(), callin, form.version.data, form.submitted())
    except ServiceError as err:
        return _fail(err, episode)
    return redirect(url_for("radio.console", episode_id=episode.id) + f"#c{callin.id}")


@bp.post("/radio/callins/<int:callin_id>/<action>")
@allow(*PRODUCERS)
def move_callin(callin_id: int, action: str):
    callin = service.get_callin(callin_id)
    episode = callin.episode
    if action not in service.MOVES:
        return render_template("error.html", code=404, message=_("Page not found.")), 404
    try:
        form = CallInStepForm()
        service.move(current_actor(), callin, action, form.version.data, form.reason.data)
    except ServiceError as err:
        return _fail(err, episode)
    _push_line()
    return redirect(url_for("radio.console", episode_id=episode.id) + f"#c{callin.id}")


def _push_line() -> None:
    """After the move's commit: the callers' phone calls follow it (Twilio REST). What fails stays on the console
    with its error and is retried by the `channels` job."""
    db.session.commit()
    line.push()


@bp.post("/radio/callins/<int:callin_id>/line")
@allow(*PRODUCERS)
def retry_line(callin_id: int):
    """The console's "retry now" for a phone-line move Twilio did not take."""
    callin = service.get_callin(callin_id)
    line.push([callin.id])
    return redirect(url_for("radio.console", episode_id=callin.episode_id) + f"#c{callin.id}")


@bp.post("/radio/episodes/<int:episode_id>/next-on-air")
@allow(*PRODUCERS)
def next_on_air(episode_id: int):
    episode = schedule.get_episode(episode_id)
    try:
        callin = service.put_next_on_air(current_actor(), episode)
    except ServiceError as err:
        return _fail(err, episode)
    _push_line()
    return redirect(url_for("radio.console", episode_id=episode.id) + f"#c{callin.id}")


@bp.post("/radio/episodes/<int:episode_id>/<any(start, end):step>")
@allow(*PRODUCERS)
def episode_step(episode_id: int, step: str):
    episode = schedule.get_episode(episode_id)
    try:
        if step == "start":
            service.start_episode(current_actor(), episode, outside_ok=CallInStepForm().outside_ok.data == "1")
        else:
            service.end_episode(current_actor(), episode)
            _push_line()
            flash(_("The show has ended. The episode log is ready."), "ok")
            return redirect(url_for("radio.episode_log", episode_id=episode.id))
    except ServiceError as err:
        return _fail(err, episode)
    return redirect(url_for("radio.console", episode_id=episode.id))


# ---------------------------------------------------------------- the radio case

@bp.route("/radio/callins/<int:callin_id>/case", methods=["GET", "POST"])
@allow(*PRODUCERS)
def make_case(callin_id: int):
    """One step: the call-in becomes a `radio` case with the answer given on air (or registered / dispatched)."""
    actor = current_actor()
    callin = service.get_callin(callin_id)
    may_dispatch = cases.may_dispatch(actor)
    if callin.case_id:
        flash(_("This call-in is already case %(no)s.", no=callin.case.case_no), "warn")
        return redirect(url_for("cases.show", case_no=callin.case.case_no))
    if request.method == "POST":
        form = RadioCaseForm()
        data = form.case_data(may_dispatch)
        try:
            form.check(may_dispatch, data)
            case = service.make_case(actor, callin, form.version.data, data)
        except ServiceError as err:
            db.session.rollback()
            callin = service.get_callin(callin_id)
            return render_template("radio/case.html", callin=callin, values=form.posted,
                                   errors=page_fields(err.fields), message=err.message, may_dispatch=may_dispatch,
                                   **queries.form_reference()), err.status
        flash(_("Radio case %(no)s saved from the call-in.", no=case.case_no), "ok")
        return redirect(url_for("radio.console", episode_id=callin.episode_id) + f"#c{callin.id}")
    return render_template("radio/case.html", callin=callin, values=service.case_defaults(callin), errors={},
                           message=None, may_dispatch=may_dispatch, **queries.form_reference())


# ---------------------------------------------------------------- episode log

@bp.get("/radio/episodes/<int:episode_id>/log")
@allow(*PRODUCERS, "supervisor")
def episode_log(episode_id: int):
    episode = schedule.get_episode(episode_id)
    # The page prints for the station's files: topics redacted like the CSV's.
    return render_template("radio/log.html", redact=redact, person_label=person_label, **service.episode_log(episode))


@bp.get("/radio/episodes/<int:episode_id>/log.csv")
@allow(*PRODUCERS, "supervisor")
def episode_log_csv(episode_id: int):
    """The log for the station's files: numbers masked and topics redacted, like everything that leaves."""
    from hotline.reports.export import neutralise  # a name or topic typed as =… must not run as a formula

    episode = schedule.get_episode(episode_id)
    log = service.episode_log(episode)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号", "接入", "上线", "结束", "通话秒数", "状态", "来电人", "地区", "电话", "话题", "工单号"])
    for index, c in enumerate(log["rows"], 1):
        writer.writerow([neutralise(value) for value in (
            index, clock.to_local(c.arrived_at).strftime("%H:%M:%S"),
            clock.to_local(c.on_air_at).strftime("%H:%M:%S") if c.on_air_at else "",
            clock.to_local(c.ended_at).strftime("%H:%M:%S") if c.ended_at else "",
            service.on_air_seconds(c) or "", str(CALLIN_LABELS[c.status]),
            person_label(c.name) if c.name else "", c.area, mask_phone(c.phone) or "",
            redact(c.topic, names=[c.name]), c.case.case_no if c.case else "",
        )])
    body = "\ufeff" + out.getvalue()  # BOM: Excel opens UTF-8 Chinese correctly
    name = f"episode-{episode.air_date.isoformat()}-{episode.programme.code}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---------------------------------------------------------------- schedule

@bp.get("/radio/schedule")
@allow(*PRODUCERS, "admin")
def schedule_page():
    return render_template("radio/schedule.html", programmes=schedule.programmes(active_only=False),
                           upcoming=schedule.upcoming_episodes(), errors={}, message=None, values={},
                           kinds=PROGRAMME_KINDS)


@bp.post("/radio/schedule/defaults")
@allow(*PRODUCERS, "admin")
def schedule_defaults():
    added = schedule.ensure_defaults()
    flash(_("%(n)d programmes added to the schedule.", n=added), "ok")
    return redirect(url_for("radio.schedule_page"))


@bp.post("/radio/programmes")
@bp.post("/radio/programmes/<int:programme_id>")
@allow(*PRODUCERS, "admin")
def save_programme(programme_id: int | None = None):
    programme = db.session.get(Programme, programme_id) if programme_id else None
    if programme_id and programme is None:
        return render_template("error.html", code=404, message=_("Page not found.")), 404
    try:
        form = ProgrammeForm()
        programme = schedule.save_programme(current_actor(), form.submitted(), programme)
    except ServiceError as err:
        db.session.rollback()
        return render_template("radio/schedule.html", programmes=schedule.programmes(active_only=False),
                               upcoming=schedule.upcoming_episodes(), errors=err.fields, message=err.message,
                               values=form.posted, kinds=PROGRAMME_KINDS,
                               failed=programme_id or "new"), err.status
    flash(_("Programme %(name)s saved.", name=programme.name), "ok")
    return redirect(url_for("radio.schedule_page"))


@bp.post("/radio/episodes/plan")
@allow(*PRODUCERS)
def plan_episode():
    form = PlanEpisodeForm()
    raw_id = (form.programme_id.data or "").strip()
    # ASCII digits of an id in range: str.isdigit() also takes "²", and a longer number fails the query.
    programme = db.session.get(Programme, int(raw_id)) if re.fullmatch(r"[0-9]{1,9}", raw_id) else None
    try:
        if programme is None:
            raise InvalidInput(_("Choose the programme."), {"programme_id": _("Required.")})
        day = parse_date(form.air_date.data or "", "air_date", wrong=_("Use YYYY-MM-DD."))
        episode = schedule.plan_episode(current_actor(), programme, day, form.topic.data or "",
                                        form.guests.data or "")
    except ServiceError as err:
        db.session.rollback()
        return render_template("radio/schedule.html", programmes=schedule.programmes(active_only=False),
                               upcoming=schedule.upcoming_episodes(), errors=err.fields, message=err.message,
                               values=form.posted, kinds=PROGRAMME_KINDS, failed="plan"), err.status
    flash(_("Episode of %(day)s planned.", day=episode.air_date.isoformat()), "ok")
    if form.open.data and programme.kind == "live":
        return redirect(url_for("radio.console", episode_id=episode.id))
    return redirect(url_for("radio.schedule_page"))


# ---------------------------------------------------------------- Twilio (station line routed through it)

@bp.post("/radio/twilio/voice")
@webhook
def twilio_voice():
    """A listener dials the station's call-in number: the call joins today's live episode as ringing, and
    the caller waits in the studio's queue. Outside a live episode's hour the caller hears it is closed."""
    form = webhook_params()  # the character rule of every other webhook (hotline/telephony/views.py)
    programme = schedule.programme_of_kind("live")
    episode = None
    if programme is not None:
        day = clock.local_now().date()
        if schedule.airs_on(programme, day):
            start, end = schedule.slot_of(programme, day)
            now = clock.now()
            if (start - _early()) <= now < end:
                episode = schedule.episode_for(programme, day)
    if episode is None or episode.status == "ended":
        return Response(str(line.arrival_twiml(None)), mimetype="text/xml")
    sid = (form.get("CallSid") or "").strip()[:64] or None
    existing = db.session.scalar(select(CallIn).where(CallIn.call_sid == sid)) if sid else None
    if existing is None:
        caller = parse_caller(form.get("From"))
        service.add_callin(None, episode, {"phone": "" if caller == ANONYMOUS else caller,
                                           "area": (form.get("FromCity") or "")[:64]}, call_sid=sid)
    return Response(str(line.arrival_twiml(programme.code)), mimetype="text/xml")


@bp.post("/radio/twilio/status")
@webhook
def twilio_status():
    """The caller hung up (or Twilio gave up): a call still waiting is dropped from the queue."""
    form = webhook_params()
    sid = (form.get("CallSid") or "").strip()[:64]
    status = form.get("CallStatus") or ""
    service.caller_hung_up(sid, status)
    return Response("", 204)


def _early():
    return timedelta(minutes=15)  # callers may queue a quarter of an hour before the show
