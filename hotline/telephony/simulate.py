"""A local stand-in for Twilio: posts correctly signed webhooks, so the line can be tried without an account.

    flask --app wsgi hotline simulate ring --from 13812345678        # a call rings (prints its CallSid)
    flask --app wsgi hotline simulate answer --sid CA… --operator operator
    flask --app wsgi hotline simulate hangup --sid CA…
    flask --app wsgi hotline simulate voicemail --from 13812345678 --seconds 40
    flask --app wsgi hotline simulate sms-reply --from 13812345678 --body 1
    flask --app wsgi hotline simulate day --date 2026-12-01 --calls 500   # a whole day, in-process

Requests go through the app's test client (same database, no server needed), or with --url to a
running server (whose auth token must be the same: TWILIO_AUTH_TOKEN, or the instance's development token).
They are signed with twilio's RequestValidator for the exact URL and parameters, as Twilio would.
A tool, not part of the running line: it imports what it drives inside its commands, so loading the CLI
does not load the whole telephony and case stack.
"""
from __future__ import annotations

import json
import random
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from hotline import clock
from hotline.extensions import db

simulate_cli = AppGroup("simulate", help="Post signed Twilio webhooks to try the telephony without Twilio.")

HOTLINE_NUMBER = "+8651212351"
GREETING_SECONDS = 8


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class Poster:
    """Signs and posts webhooks: in-process through the test client, or over HTTP to `base_url`."""

    def __init__(self, app, base_url: str | None = None):
        from hotline.telephony.webhooks import dev_signing_token

        self.app = app
        self.base_url = base_url.rstrip("/") if base_url else None
        token = app.config.get("TWILIO_AUTH_TOKEN")
        if not token and app.config.get("HOTLINE_ENV") in ("development", "test"):
            token = dev_signing_token()
        if not token:
            raise click.ClickException("TWILIO_AUTH_TOKEN is not set: the server would refuse every webhook.")
        self.validator = RequestValidator(token)
        self.client = None if self.base_url else app.test_client()

    def url(self, path: str) -> str:
        if self.base_url:
            return self.base_url + path
        public = self.app.config.get("HOTLINE_PUBLIC_URL")
        return (public.rstrip("/") if public else "http://localhost") + path

    def post(self, path: str, params: dict[str, Any]) -> tuple[int, str]:
        params = {k: str(v) for k, v in params.items() if v is not None}
        url = self.url(path)
        signature = self.validator.compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature}
        if self.client is not None:
            split = urllib.parse.urlsplit(url)
            response = self.client.post(path, data=params, headers=headers,
                                        base_url=f"{split.scheme}://{split.netloc}")
            return response.status_code, response.get_data(as_text=True)
        request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(), headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (a URL the user gave)
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", "replace")

    # -- the events, with the parameters Twilio sends
    def ring(self, sid: str, caller: str) -> tuple[int, str]:
        return self.post("/twilio/voice", {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": caller,
                                           "To": HOTLINE_NUMBER, "CallStatus": "ringing", "Direction": "inbound",
                                           "ApiVersion": "2010-04-01"})

    def answer(self, sid: str, queue_time: int, operator_id: int | None) -> tuple[int, str]:
        path = "/twilio/voice/bridged" + (f"?operator={operator_id}" if operator_id else "")
        return self.post(path, {"CallSid": sid, "QueueSid": "QU" + "0" * 32, "QueueTime": queue_time,
                                "DequeingCallSid": new_sid("CA"), "CallStatus": "in-progress"})

    def left_queue(self, sid: str, result: str, queue_time: int) -> tuple[int, str]:
        return self.post("/twilio/voice/queue", {"CallSid": sid, "QueueResult": result, "QueueTime": queue_time,
                                                 "QueueSid": "QU" + "0" * 32, "CallStatus": "in-progress"})

    def status(self, sid: str, status: str, duration: int, caller: str | None = None) -> tuple[int, str]:
        return self.post("/twilio/voice/status", {"CallSid": sid, "CallStatus": status, "CallDuration": duration,
                                                  "From": caller, "To": HOTLINE_NUMBER, "Direction": "inbound"})

    def recorded(self, sid: str, seconds: int) -> tuple[int, str]:
        rec = new_sid("RE")
        self.post("/twilio/voice/recorded", {"CallSid": sid, "RecordingSid": rec, "RecordingDuration": seconds,
                                             "RecordingUrl": self._recording_url(rec), "Digits": "#"})
        return self.post("/twilio/recording", {"CallSid": sid, "RecordingSid": rec, "RecordingStatus": "completed",
                                               "RecordingDuration": seconds, "RecordingUrl": self._recording_url(rec),
                                               "RecordingChannels": 1, "RecordingSource": "RecordVerb"})

    def sms(self, caller: str, body: str, sid: str | None = None) -> tuple[int, str]:
        return self.post("/twilio/sms", {"MessageSid": sid or new_sid("SM"), "SmsSid": sid, "From": caller,
                                         "To": HOTLINE_NUMBER, "Body": body, "NumMedia": 0, "NumSegments": 1})

    @staticmethod
    def _recording_url(rec: str) -> str:
        return f"https://api.twilio.com/2010-04-01/Accounts/{'AC' + '0' * 32}/Recordings/{rec}"


def _show(status: int, body: str) -> None:
    click.echo(f"HTTP {status}")
    if body.strip():
        click.echo(body.strip())
    if status >= 400:
        sys.exit(1)


def _poster(url: str | None) -> Poster:
    return Poster(current_app._get_current_object(), url)  # type: ignore[attr-defined]


def _local_call(sid: str):
    from hotline.telephony.models import Call

    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.call_sid == sid))


# ---------------------------------------------------------------- one event at a time

URL_OPTION = click.option("--url", default=None, help="Base URL of a running server (default: in-process).")


@simulate_cli.command("ring")
@click.option("--from", "caller", default="+8613812345678", show_default=True, help='or "anonymous"')
@click.option("--sid", default=None, help="CallSid (default: a new one)")
@URL_OPTION
def ring_cmd(caller, sid, url):
    """A call to the hotline rings: prints the CallSid and the TwiML the line answers with."""
    sid = sid or new_sid("CA")
    click.echo(f"CallSid {sid}")
    _show(*_poster(url).ring(sid, caller))


@simulate_cli.command("answer")
@click.option("--sid", required=True)
@click.option("--operator", default=None, help="user name of the operator who picks up")
@click.option("--wait", "queue_time", type=int, default=None, help="seconds in the queue (default: from the call)")
@URL_OPTION
def answer_cmd(sid, operator, queue_time, url):
    """An operator picks the call up from the queue."""
    from hotline.auth.models import User

    operator_id = None
    if operator:
        operator_id = db.session.scalar(select(User.id).where(User.username == operator))
        if operator_id is None:
            raise click.ClickException(f"no user {operator}")
    if queue_time is None:
        call = _local_call(sid)
        queue_time = (max(0, int((clock.now() - call.started_at).total_seconds()) - GREETING_SECONDS)
                      if call is not None else 10)
    _show(*_poster(url).answer(sid, queue_time, operator_id))


@simulate_cli.command("hangup")
@click.option("--sid", required=True)
@click.option("--result", type=click.Choice(["auto", "bridged", "hangup"]), default="auto",
              help="QueueResult: bridged after a talk, hangup when the caller gave up (auto: ask the database)")
@URL_OPTION
def hangup_cmd(sid, result, url):
    """The call ends: the queue reports why the caller left, then the final status callback."""
    call = _local_call(sid)
    duration = int((clock.now() - call.started_at).total_seconds()) if call is not None else 60
    if result == "auto":
        result = "bridged" if call is not None and call.answered_at is not None else "hangup"
    poster = _poster(url)
    if call is None or call.route in (None, "queue"):
        wait = call.wait_seconds if call is not None and call.wait_seconds is not None else max(0, duration - 8)
        _show(*poster.left_queue(sid, result, wait))
    _show(*poster.status(sid, "completed", duration))


@simulate_cli.command("voicemail")
@click.option("--from", "caller", default="+8613812345678", show_default=True)
@click.option("--seconds", type=int, default=35, show_default=True, help="length of the message")
@click.option("--sid", default=None)
@URL_OPTION
def voicemail_cmd(caller, seconds, sid, url):
    """A caller leaves a voicemail (after hours; in office hours the queue times out first)."""
    poster = _poster(url)
    sid = sid or new_sid("CA")
    click.echo(f"CallSid {sid}")
    status, body = poster.ring(sid, caller)
    _show(status, body)
    if "<Enqueue" in body:
        _show(*poster.left_queue(sid, "leave", 120))
    _show(*poster.recorded(sid, seconds))
    _show(*poster.status(sid, "completed", seconds + 20))
    call = _local_call(sid) if url is None else None
    if call is not None and call.case is not None:
        click.echo(f"voicemail case {call.case.case_no}")


@simulate_cli.command("sms-reply")
@click.option("--from", "caller", default="+8613812345678", show_default=True)
@click.option("--body", default="1", show_default=True)
@click.option("--sid", default=None, help="MessageSid (repeat one to see a retry change nothing)")
@URL_OPTION
def sms_reply_cmd(caller, body, sid, url):
    """A caller answers the 回访 survey by SMS."""
    _show(*_poster(url).sms(caller, body, sid))


# ---------------------------------------------------------------- a whole day

@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    action: str = field(compare=False)
    data: dict = field(compare=False, default_factory=dict)


def _intraday_weight(minute: int) -> float:
    """Calls per minute over a local day: busy mornings and afternoons in office hours, a thin evening."""
    hour = minute / 60
    if 8.5 <= hour < 17.5:
        return 3.0 + 1.6 * (1 if 9 <= hour < 11.5 else 0) + 1.2 * (1 if 14 <= hour < 16.5 else 0) \
            - 1.2 * (1 if 12 <= hour < 13.5 else 0)
    if 17.5 <= hour < 22:
        return 0.55
    if 7 <= hour < 8.5:
        return 0.45
    return 0.05


def simulate_day(app, day: date, calls: int = 500, agents: int = 6, seed: int = 12351,
                 echo=print) -> dict[str, Any]:
    """Simulate one day of `calls` calls through the signed webhooks, moving the app's clock.

    Operators take queued calls first come first served; callers give up after their patience;
    after the longest wait, or after hours, some leave a voicemail. Operators log a case for every
    answered call (some closed on the call, with the caller's SMS consent), work the call-back list a
    few times a day, and some callers answer the survey by SMS (a few twice, a few unreadably).
    Returns the counts.
    """
    from hotline.auth.models import User, UserRole
    from hotline.cases import service as cases
    from hotline.cases.signals import Origin
    from hotline.notify.delivery import deliver_pending
    from hotline.telephony import callbacks, settings as line
    from hotline.telephony.models import Call, Callback
    from hotline.workdays import service as workdays

    rng = random.Random(seed)
    poster = Poster(app)
    tz = clock.local_tz()
    operators = list(db.session.scalars(select(User).join(UserRole).where(
        UserRole.role == "operator", User.active.is_(True)).order_by(User.id)))
    if not operators:
        raise click.ClickException("no active operator: create one first (hotline demo, or hotline user add)")
    cfg = line.get()
    max_wait = cfg.max_wait_seconds
    operator_ids = [u.id for u in operators]

    # Callers: most call once, some several times; a few withhold their number.
    pool = [f"+86{rng.choice(['138', '139', '150', '151', '186', '137', '135', '158'])}{rng.randrange(10**8):08d}"
            for _ in range(calls)]
    repeaters = pool[: max(1, calls // 12)]

    def caller() -> str:
        r = rng.random()
        if r < 0.03:
            return "anonymous"
        if r < 0.20:
            return rng.choice(repeaters)
        return pool[rng.randrange(len(pool))]

    minutes = list(range(24 * 60))
    weights = [_intraday_weight(m) for m in minutes]
    starts = sorted(datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=m, seconds=rng.randrange(60))
                    for m in rng.choices(minutes, weights=weights, k=calls))

    events: list[Event] = []
    seq = 0

    def add(at: datetime, action: str, **data) -> None:
        nonlocal seq
        seq += 1
        events.append(Event(at, seq, action, data))

    agent_free = [datetime.combine(day, time(0), tzinfo=tz)] * agents
    clock_was = app.extensions.get("hotline_clock")
    open_day = cfg.open_days == "every_day" or workdays.is_workday(day)
    opens, closes = time.fromisoformat(cfg.open_time), time.fromisoformat(cfg.close_time)
    db.session.commit()  # the settings row, if it was just created
    unknown_index = rng.randrange(calls)  # its voice webhook never reached us: only the status callback does
    for index, t0 in enumerate(starts):
        who = caller()
        sid = new_sid("CA")
        if index == unknown_index:
            add(t0 + timedelta(seconds=30), "end", sid=sid, duration=30, caller=who)
            continue
        add(t0, "ring", sid=sid, caller=who)
        if rng.random() < 0.02:
            add(t0 + timedelta(seconds=1), "ring", sid=sid, caller=who)  # Twilio retried the webhook
        if not (open_day and opens <= t0.time() < closes):
            if rng.random() < 0.6:
                length = rng.randint(8, 90)
                add(t0 + timedelta(seconds=GREETING_SECONDS + 14 + length), "message", sid=sid, seconds=length)
                add(t0 + timedelta(seconds=GREETING_SECONDS + 16 + length), "end", sid=sid,
                    duration=GREETING_SECONDS + 16 + length, caller=who)
            else:
                add(t0 + timedelta(seconds=rng.randint(3, 15)), "end", sid=sid, duration=10, caller=who)
            continue
        queued = t0 + timedelta(seconds=GREETING_SECONDS)
        patience = rng.expovariate(1 / 75)
        i = min(range(agents), key=lambda k: agent_free[k])
        start = max(queued, agent_free[i])
        wait = int((start - queued).total_seconds())
        if wait <= min(patience, max_wait):
            talk = max(30, int(rng.lognormvariate(5.3, 0.55)))
            agent_free[i] = start + timedelta(seconds=talk + rng.randint(10, 40))  # wrap-up time
            op = operator_ids[i % len(operator_ids)]
            add(start, "answer", sid=sid, wait=wait, operator=op)
            add(start + timedelta(seconds=int(talk * 0.8)), "log_case", sid=sid, caller=who, operator=op)
            end = start + timedelta(seconds=talk)
            add(end, "left", sid=sid, result="bridged", wait=wait)
            add(end, "end", sid=sid, duration=int((end - t0).total_seconds()), caller=who)
        elif patience < max_wait:
            gave_up = queued + timedelta(seconds=int(patience))
            add(gave_up, "left", sid=sid, result="hangup", wait=int(patience))
            add(gave_up, "end", sid=sid, duration=int((gave_up - t0).total_seconds()), caller=who)
        else:
            left = queued + timedelta(seconds=max_wait)
            add(left, "left", sid=sid, result="leave", wait=max_wait)
            if rng.random() < 0.5:
                length = rng.randint(8, 90)
                add(left + timedelta(seconds=12 + length), "message", sid=sid, seconds=length)
                end = left + timedelta(seconds=14 + length)
            else:
                end = left + timedelta(seconds=rng.randint(2, 10))
            add(end, "end", sid=sid, duration=int((end - t0).total_seconds()), caller=who)
        if rng.random() < 0.02:
            add(events[-1].at + timedelta(seconds=5), "end", sid=sid, duration=0, caller=who)  # a retried callback
    for hh, mm in ((10, 0), (11, 30), (14, 0), (15, 30), (17, 0)):
        add(datetime.combine(day, time(hh, mm), tzinfo=tz), "callbacks")
    events.sort()

    counts = {"http_errors": 0, "cases_logged": 0, "callback_attempts": 0, "callback_cases": 0,
              "survey_replies_sent": 0}
    replies: list[Event] = []

    def post(fn, *args):
        status, _body = fn(*args)
        if status >= 400:
            counts["http_errors"] += 1
            echo(f"HTTP {status} for {fn.__name__}{args[:1]}")

    def log_case(data):
        with app.test_request_context():
            call = db.session.scalar(select(Call).where(Call.call_sid == data["sid"]))
            operator = db.session.get(User, data["operator"])
            phone = call.from_phone if call.from_phone != "anonymous" else "051265230000"
            on_call = rng.random() < 0.45
            payload: dict[str, Any] = {"channel": "hotline", "type": rng.choice(["consult"] * 5 + ["help", "legal_aid", "complaint"]),
                       "category": rng.choice(["wages", "contract", "insurance", "injury", "dispute", "union",
                                               "employment", "other"]),
                       "caller": {"phone": phone}, "summary": "模拟来电：咨询劳动权益问题",
                       }
            origin = Origin(call_sid=call.call_sid, sms_consent=call.from_phone != "anonymous" and rng.random() < 0.7)
            if on_call:
                payload.update(resolved_on_call=True, answer="已在电话中解答。")
            case = cases.register(operator, payload, via="web", origin=origin)
            db.session.commit()
            counts["cases_logged"] += 1
            if on_call and origin.sms_consent and rng.random() < 0.55:
                reply_at = clock.now() + timedelta(minutes=rng.randint(3, 120))
                body = rng.choices(["1", "2", "3", "满意", "谢谢你们", "👍", "１", "3 不满意，没解决" * 3],
                                   weights=[50, 18, 7, 5, 5, 3, 4, 3])[0]
                replies.append(Event(reply_at, 0, "reply", {"caller": phone, "body": body}))
                if rng.random() < 0.05:
                    replies.append(Event(reply_at + timedelta(minutes=2), 0, "reply", {"caller": phone, "body": body}))
            return case

    def work_callbacks():
        with app.test_request_context():
            entries = list(db.session.scalars(select(Callback).where(Callback.status == "open",
                                                                     Callback.phone != "anonymous")))
            for entry in entries:
                operator = db.session.get(User, rng.choice(operator_ids))
                r = rng.random()
                if r < 0.15:
                    case = cases.register(operator, {"channel": "hotline", "type": "consult", "category": "other",
                                                     "caller": {"phone": entry.phone},
                                                     "summary": "回拨未接来电后登记"}, via="web",
                                          origin=Origin(callback_id=entry.id))
                    counts["callback_cases"] += 1
                    counts["callback_attempts"] += 1
                    assert case.case_no
                else:
                    outcome = "reached" if r < 0.65 else ("no_answer" if r < 0.95 else "wrong_number")
                    callbacks.log_attempt(operator, entry.id, outcome, "")
                    counts["callback_attempts"] += 1
                db.session.commit()

    queue = events
    handled = 0
    while queue or replies:
        replies.sort(key=lambda e: e.at)
        if replies and (not queue or replies[0].at <= queue[0].at):
            event = replies.pop(0)
        else:
            event = queue.pop(0)
        clock.set_now(app, event.at)
        d = event.data
        if event.action == "ring":
            post(poster.ring, d["sid"], d["caller"])
        elif event.action == "answer":
            post(poster.answer, d["sid"], d["wait"], d["operator"])
        elif event.action == "left":
            post(poster.left_queue, d["sid"], d["result"], d["wait"])
        elif event.action == "message":
            post(poster.recorded, d["sid"], d["seconds"])
        elif event.action == "end":
            post(poster.status, d["sid"], "completed", d["duration"], d["caller"])
        elif event.action == "log_case":
            log_case(d)
        elif event.action == "callbacks":
            work_callbacks()
        elif event.action == "reply":
            post(poster.sms, d["caller"], d["body"])
            counts["survey_replies_sent"] += 1
        handled += 1
    end_of_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) - timedelta(seconds=1)
    clock.set_now(app, end_of_day)
    with app.test_request_context():
        sent = {"sent": 0}
        while True:
            stats = deliver_pending(limit=500)
            sent["sent"] += stats["sent"]
            if not any(stats.values()):
                break
        result = day_counts(day)
        result["simulation"] = counts
        result["sms_delivered"] = sent["sent"]
        db.session.commit()
    clock.set_now(app, clock_was)
    return result


def day_counts(day: date) -> dict[str, Any]:
    """What a simulated (or real) day looks like: calls, call-backs, cases, SMS and surveys."""
    from hotline.cases.models import Case
    from hotline.notify.models import Notice
    from hotline.telephony import figures as call_figures, parsing
    from hotline.telephony.models import Call, Callback, InboundSms, SurveyRequest

    start, end = parsing.day_bounds(day)
    figures = call_figures.call_figures(start, end)
    by_status = call_figures.status_counts(day)
    entries = db.session.execute(select(Callback.status, Callback.outcome, func.count(), func.sum(Callback.calls))
                                 .where(Callback.day == day).group_by(Callback.status, Callback.outcome)).all()
    multi = db.session.scalar(select(func.count()).select_from(Callback).where(Callback.day == day,
                                                                                Callback.calls > 1)) or 0
    cases_by_channel = dict(db.session.execute(select(Case.channel, func.count()).where(
        Case.created_at >= start, Case.created_at < end).group_by(Case.channel)).tuples().all())
    linked = db.session.scalar(select(func.count()).select_from(Call).where(
        Call.started_at >= start, Call.started_at < end, Call.case_id.is_not(None))) or 0
    sms_out = dict(db.session.execute(select(Notice.kind, func.count()).where(
        Notice.channel == "sms", Notice.recipient_id.is_(None)).group_by(Notice.kind)).tuples().all())
    sms_in = dict(db.session.execute(select(InboundSms.result, func.count()).group_by(InboundSms.result)).tuples().all())
    surveys = dict(db.session.execute(select(SurveyRequest.status, func.count())
                                      .group_by(SurveyRequest.status)).tuples().all())
    satisfaction = dict(db.session.execute(select(Case.survey_result, func.count()).where(
        Case.survey_result.is_not(None)).group_by(Case.survey_result)).tuples().all())
    waits = [w for (w,) in db.session.execute(select(Call.wait_seconds).where(
        Call.started_at >= start, Call.started_at < end, Call.answered_at.is_not(None))).all() if w is not None]
    return {
        "date": day.isoformat(),
        "figures": figures,
        "calls_by_status": by_status,
        "answer_rate": round(figures["answered"] / figures["inbound"], 3) if figures["inbound"] else None,
        "median_wait_answered": sorted(waits)[len(waits) // 2] if waits else None,
        "callback_entries": {f"{s}/{o or '-'}": {"entries": n, "calls": int(c or 0)} for s, o, n, c in entries},
        "callback_entries_with_several_calls": multi,
        "cases_by_channel": cases_by_channel,
        "calls_linked_to_cases": linked,
        "caller_sms_queued": sms_out,
        "sms_replies": sms_in,
        "surveys": surveys,
        "survey_results": satisfaction,
    }


@simulate_cli.command("day")
@click.option("--date", "day", default=None, help="YYYY-MM-DD (default: today)")
@click.option("--calls", type=int, default=500, show_default=True)
@click.option("--agents", type=int, default=6, show_default=True, help="operators answering at the same time")
@click.option("--seed", type=int, default=12351, show_default=True)
def day_cmd(day, calls, agents, seed):
    """Simulate a whole day of calls in-process (moves the clock of this process only) and print the counts."""
    from hotline.telephony.parsing import parse_day

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the app behind the proxy
    if app.config.get("HOTLINE_ENV") == "production":
        raise click.ClickException("the day simulation writes hundreds of calls and cases: not in production")
    result = simulate_day(app, parse_day(day), calls, agents, seed, echo=click.echo)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
