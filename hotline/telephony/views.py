"""Telephony doors: Twilio's webhooks (/twilio/...) and the operators' pages (/calls...).

Webhooks
--------
Each webhook checks X-Twilio-Signature with twilio's RequestValidator and the auth token before it
reads anything: a forged, unsigned or re-parametrised request gets 403 and nothing is stored. The
URL that is checked is HOTLINE_PUBLIC_URL + path (+ query) when that is set (recommended: the URL
configured at Twilio), else the URL of the request as this process sees it. Behind a reverse proxy
without HOTLINE_PUBLIC_URL, set HOTLINE_PROXY_FIX to the number of proxies so that werkzeug's ProxyFix
restores the scheme and host Twilio used (X-Forwarded-Proto / -Host / -Port). Without
TWILIO_AUTH_TOKEN, development and test sign with dev_signing_token(), a random secret kept in instance/
(the simulator uses it);
production refuses every webhook. CSRF does not apply to these views (csrf.exempt): the signature does.

Live calls
----------
The logging page polls GET /calls/live every 2 s (short polling, not server-sent events): the state is
only in the database, so any gunicorn worker answers any poll; an SSE stream would pin one sync
worker per open page for as long as it is open and need a cross-process notification channel.
A poll that finds nothing new is answered 304 (ETag). Two seconds is within "a second or two" of a
ring; the page stops polling while it is hidden.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.middleware.proxy_fix import ProxyFix

from hotline import clock, phones
from hotline.auth.access import ANY_USER, allow, current_actor
from hotline.cases import panels
from hotline.cases.models import SURVEY_RESULTS
from hotline.errors import InvalidInput, ServiceError
from hotline.extensions import db
from hotline.notify import receipts
from hotline.reference.models import CaseType, Category
from hotline.telephony import (
    callbacks as callback_list,
    calls as call_events,
    dialer,
    figures,
    numbers,
    parsing,
    recordings,
    settings as line,
    sms,
    twiml,
    voice_survey,
)
from hotline.telephony.forms import CallbackAttemptForm, SettingsForm, SmsHandleForm
from hotline.telephony.models import ANONYMOUS, ATTEMPT_OUTCOMES, CALL_STATUSES, Recording
from hotline.telephony.webhooks import public_url, webhook, webhook_params

log = logging.getLogger("hotline.telephony")
bp = Blueprint("telephony", __name__)


POLL_MS = 2000

CALL_STATUS_LABELS = {
    "ringing": _l("Waiting"), "in_progress": _l("Talking"), "answered": _l("Answered"),
    "abandoned": _l("Abandoned"), "voicemail": _l("Voicemail"), "missed": _l("Missed"),
}
OUTCOME_LABELS = {
    "reached": _l("Reached the caller"), "wrong_number": _l("Wrong number"), "no_action": _l("Nothing to do"),
    "no_answer": _l("No answer"), "case": _l("Logged as a case"), "unreachable": _l("Not reachable"),
    "called_again": _l("Caller got through later"), "voicemail": _l("Left a voicemail"),
}
SMS_RESULT_LABELS = {
    "recorded": _l("Survey recorded"), "duplicate": _l("Repeated answer"), "unreadable": _l("Not understood"),
    "no_survey": _l("No survey waiting"), "refused": _l("Could not be recorded"), "opted_out": _l("Opted out (TD)"),
}


@bp.record_once
def _behind_proxy(state) -> None:
    hops = int(state.app.config.get("HOTLINE_PROXY_FIX") or 0)
    if hops > 0:
        state.app.wsgi_app = ProxyFix(state.app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


@bp.app_template_global()
def case_recordings(case) -> list:
    """The recordings of a case's calls this person may hear (the case page's player)."""
    if not panels.may_have("recordings", case.id):
        return []
    return recordings.of_case(current_actor(), case)


@bp.context_processor
def labels() -> dict[str, Any]:
    return {"CALL_STATUS_LABELS": CALL_STATUS_LABELS, "OUTCOME_LABELS": OUTCOME_LABELS,
            "SMS_RESULT_LABELS": SMS_RESULT_LABELS, "duration": parsing.duration_text}


def _xml(response) -> Response:
    return Response(str(response), mimetype="text/xml")


# ---------------------------------------------------------------- webhooks

@bp.post("/twilio/voice")
@webhook
def voice():
    """An inbound call: greeting, then the queue (office hours) or a voicemail (after hours)."""
    cfg = line.get()
    call, _created = call_events.ensure_call(webhook_params(), voice=True)
    route = call_events.choose_route(call, line.is_open(settings=cfg), cfg.dial_to)
    if route == "queue":
        return _xml(twiml.queue(cfg, public_url))
    if route == "dial":
        return _xml(twiml.dial(cfg, public_url))
    return _xml(twiml.voicemail(cfg, public_url, cfg.say_greeting_closed))


@bp.post("/twilio/voice/status")
@webhook
def call_status():
    call_events.status_changed(webhook_params())
    return "", 204


@bp.post("/twilio/voice/wait")
@webhook
def queue_wait():
    return _xml(twiml.wait(line.get(), parsing.seconds(webhook_params().get("QueueTime")) or 0))


@bp.post("/twilio/voice/queue")
@webhook
def queue_left():
    """<Enqueue action>: the caller left the queue. Timed out or the queue failed: on to voicemail."""
    cfg = line.get()
    if call_events.left_queue(webhook_params()) == "voicemail":
        return _xml(twiml.voicemail(cfg, public_url, cfg.say_busy))
    return _xml(twiml.empty())


@bp.post("/twilio/voice/dial")
@webhook
def dial_done():
    cfg = line.get()
    if call_events.dial_finished(webhook_params()) == "voicemail":
        return _xml(twiml.voicemail(cfg, public_url, cfg.say_busy))
    return _xml(twiml.empty())


@bp.post("/twilio/voice/bridged")
@webhook
def bridged():
    """<Queue url>: an operator dequeued the caller. Played to the caller just before they are connected."""
    call_events.answered(webhook_params(), request.args.get("operator"))
    return _xml(twiml.empty())


@bp.post("/twilio/voice/agent")
@webhook
def agent():
    """An operator's phone (its own number) or softphone (client:<username>) calls in to take the next caller."""
    cfg = line.get()
    operator = call_events.operator_for_agent(webhook_params().get("From"))
    if operator is None:
        return _xml(twiml.refuse(cfg))
    call_events.record_agent_leg(webhook_params())
    return _xml(twiml.agent(cfg, public_url("telephony.bridged", operator=operator.id)))


@bp.post("/twilio/voice/recorded")
@webhook
def recorded():
    """<Record action>: the message is recorded; the recording callback makes the case."""
    return _xml(twiml.thanks(line.get()))


@bp.post("/twilio/recording")
@webhook
def recording():
    call_events.recording_done(webhook_params())
    return "", 204


@bp.post("/twilio/sms")
@webhook
def inbound_sms():
    """A caller's SMS: a survey answer is recorded; anything else goes on the operators' list. No inline reply:
    any answer goes through the outbox."""
    sms.receive(webhook_params())
    return _xml(MessagingResponse())


@bp.post("/twilio/sms/status")
@webhook
def sms_status():
    """Twilio's status callback of an SMS we sent: the delivery receipt goes on the outbox row."""
    receipts.twilio_status(webhook_params())
    return "", 204


# ---------------------------------------------------------------- live calls (JSON, polled)

@bp.get("/calls/live")
@allow("operator", "supervisor", "producer")
def live():
    actor = current_actor()
    calls = figures.live_calls(actor)
    for item in calls:
        item["status_label"] = str(CALL_STATUS_LABELS[item["status"]])
        if actor.has_role("operator") and (item["operator"] is None or item["mine"]):
            item["take_url"] = url_for("telephony.take", sid=item["sid"])
    body = {"calls": calls, "open": line.is_open(), "poll_ms": POLL_MS}
    etag = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]
    body["now"] = clock.now().isoformat()  # not in the ETag: the page counts the seconds itself
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = jsonify(body)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache, private"
    return response


@bp.post("/calls/<sid>/take")
@allow("operator")
def take(sid: str):
    """Take a ringing call: the case form opens pre-filled and linked to the call."""
    try:
        call = call_events.take(current_actor(), sid)
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("cases.new_case"))
    phone = "" if call.from_phone == ANONYMOUS else phones.display_phone(call.from_phone)  # as the operator types it
    return redirect(url_for("cases.new_case", phone=phone, channel="hotline", call=call.call_sid))


# ---------------------------------------------------------------- call log

@bp.get("/calls")
@allow("operator", "supervisor", "admin")
def calls():
    actor = current_actor()
    errors: dict[str, str] = {}
    message = None
    status = request.args.get("status") or None
    try:
        day = parsing.parse_day(request.args.get("date"))
        rows = figures.calls_on(day, status)
    except InvalidInput as err:
        day, rows, errors, message = clock.local_now().date(), [], err.fields, err.message
    numbers.record_number_views(actor, [row.case for row in rows], "web")
    start, end = parsing.day_bounds(day)
    return render_template(
        "telephony/calls.html", rows=rows, day=day, status=status, statuses=CALL_STATUSES, errors=errors,
        message=message, counts=figures.status_counts(day), figures=figures.call_figures(start, end),
        number=lambda phone, case=None: numbers.shown_number(actor, phone, case), cfg=line.get(),
        is_open=line.is_open(),
        recording_link=call_events.recording_link,
    ), 422 if errors else 200


# ---------------------------------------------------------------- call-back list

@bp.get("/calls/callbacks")
@allow("operator", "supervisor")
def callbacks():
    actor = current_actor()
    show = request.args.get("show") if request.args.get("show") in ("open", "done") else "open"
    day = None
    message = None
    try:
        if request.args.get("date"):
            day = parsing.parse_day(request.args.get("date"))
    except InvalidInput as err:
        message = err.message
    entries = callback_list.callback_entries(show, day)
    numbers.record_number_views(actor, [entry.case for entry in entries], "web")
    return render_template(
        "telephony/callbacks.html", entries=entries, show=show, day=day, message=message,
        calls_of=callback_list.calls_of, counts=figures.callback_counts(), outcomes=ATTEMPT_OUTCOMES,
        number=lambda phone, case=None: numbers.shown_number(actor, phone, case), anonymous=ANONYMOUS,
        recording_link=call_events.recording_link, max_attempts=callback_list.MAX_CALLBACK_ATTEMPTS,
        sms_waiting=sms.attention_count(), unreached=_unreached_surveys(actor),
    ), 422 if message else 200


def _unreached_surveys(actor):
    """The voice 回访 nobody answered: the operators' 回访 worklist (they call and record it on the case)."""
    rows = voice_survey.worklist()
    numbers.record_number_views(actor, [row.case for row in rows], "web")
    return rows


@bp.post("/calls/callbacks/<int:entry_id>/attempt")
@allow("operator", "supervisor")
def callback_attempt(entry_id: int):
    try:
        form = CallbackAttemptForm()
        entry = callback_list.log_attempt(current_actor(), entry_id, form.outcome.data or "", form.note.data or "")
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("telephony.callbacks"))
    if entry.status == "done":
        flash(_("Call-back done: %(outcome)s.", outcome=OUTCOME_LABELS[entry.outcome]), "ok")
    else:
        flash(_("Attempt %(n)d logged; the call-back stays on the list.", n=entry.attempts), "ok")
    return redirect(url_for("telephony.callbacks"))


@bp.post("/calls/callbacks/<int:entry_id>/dial")
@allow("operator")
def callback_dial(entry_id: int):
    """回拨: Twilio rings the operator's phone, then the caller; the outcome is logged from Twilio's answer."""
    try:
        entry = dialer.start(current_actor(), entry_id, public_url)
    except dialer.DialFailed as err:
        db.session.commit()  # the reason stays on the entry
        flash(err.message, "error")
        return redirect(url_for("telephony.callbacks") + f"#cb-{entry_id}")
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("telephony.callbacks") + f"#cb-{entry_id}")
    flash(_("Twilio is ringing your phone (%(phone)s); answer it to be connected to the caller.",
            phone=phones.display_phone(current_actor().phone)), "ok")
    return redirect(url_for("telephony.callbacks") + f"#cb-{entry.id}")


@bp.post("/twilio/callback/bridge")
@webhook
def callback_bridge():
    return _xml(dialer.bridge(request.args.get("entry"), webhook_params(), public_url))


@bp.post("/twilio/callback/done")
@webhook
def callback_done():
    dialer.done(request.args.get("entry"), webhook_params())
    return _xml(twiml.empty())


@bp.post("/twilio/callback/status")
@webhook
def callback_leg():
    dialer.leg_ended(request.args.get("entry"), webhook_params())
    return "", 204


@bp.post("/twilio/survey/voice")
@webhook
def survey_voice():
    """The automated 回访 call was answered: the first question (<Gather input="dtmf">)."""
    return _xml(voice_survey.greet(request.args.get("survey"), webhook_params()))


@bp.post("/twilio/survey/answer")
@webhook
def survey_answer():
    return _xml(voice_survey.answer(request.args.get("survey"), request.args.get("step"), webhook_params(),
                                    again=request.args.get("again") == "1"))


@bp.post("/twilio/survey/status")
@webhook
def survey_status():
    voice_survey.call_ended(request.args.get("survey"), webhook_params())
    return "", 204


@bp.get("/calls/recordings/<int:rec_id>/audio")
@allow(ANY_USER)
def recording_audio(rec_id: int):
    """A kept recording, for those who may see its case (HTML5 <audio>; range requests for seeking)."""
    from flask import abort, send_file

    rec = db.session.get(Recording, rec_id)
    if rec is None or not recordings.may_hear(current_actor(), rec):
        abort(404)
    if rec.status != "stored" or not rec.path:
        abort(404)
    try:
        data = recordings.store().get(rec.path)
    except recordings.store_errors() as exc:
        log.error("recording %s could not be read: %s", rec.recording_sid, exc)
        abort(503)
    if data is None:
        abort(404)
    response = send_file(io.BytesIO(data), mimetype=rec.content_type or "audio/mpeg", conditional=True, max_age=0,
                         download_name=rec.path.rsplit("/", 1)[-1])
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- SMS replies for operators

@bp.get("/calls/sms")
@allow("operator", "supervisor")
def sms_list():
    actor = current_actor()
    show_all = request.args.get("all") == "1"
    rows = sms.attention_list(include_handled=show_all)
    numbers.record_number_views(actor, [row.case for row in rows], "web")
    return render_template("telephony/sms.html", rows=rows,
                           show_all=show_all, results=SURVEY_RESULTS,
                           number=lambda phone, case=None: numbers.shown_number(actor, phone, case))


@bp.post("/calls/sms/<int:sms_id>")
@allow("operator")
def sms_handle(sms_id: int):
    result = SmsHandleForm().result.data or None
    if result is not None and result not in SURVEY_RESULTS:
        result = None
    try:
        row = sms.handle(current_actor(), sms_id, result)
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("telephony.sms_list"))
    if result:
        flash(_("Survey result recorded on case %(no)s.", no=row.case.case_no if row.case else ""), "ok")
    else:
        flash(_("Message marked as dealt with."), "ok")
    return redirect(url_for("telephony.sms_list"))


# ---------------------------------------------------------------- settings (admins)

@bp.route("/calls/settings", methods=["GET", "POST"])
@allow("admin")
def settings_page():
    from sqlalchemy import select

    cfg = line.get()
    errors: dict[str, str] = {}
    message = None
    values: Any = cfg
    status = 200
    if request.method == "POST":
        try:
            form = SettingsForm()
            line.update(current_actor(), form.submitted())
        except ServiceError as err:
            db.session.rollback()
            errors, message, values, status = err.fields, err.message, form.posted, err.status
        else:
            flash(_("Telephony settings saved."), "ok")
            return redirect(url_for("telephony.settings_page"))

    def value(name: str) -> Any:
        if hasattr(values, "getlist"):
            return values.get(name, "")
        got = getattr(values, name)
        return "" if got is None else got

    types = list(db.session.scalars(select(CaseType).order_by(CaseType.sort_order)))
    categories = list(db.session.scalars(select(Category).where(Category.active.is_(True))
                                         .order_by(Category.sort_order)))
    return render_template("telephony/settings.html", value=value, errors=errors, message=message,
                           types=types, categories=categories, texts=line.TEXT_FIELDS,
                           placeholders=line.PLACEHOLDERS, is_open=line.is_open(),
                           posted=request.method == "POST"), status
