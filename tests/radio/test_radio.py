"""The 《工会之声》 live console: the schedule as data, the call-in queue with its alerts and ordering,
the on-air timer, one-step radio cases, the episode log, and call-ins from a station line on Twilio."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from conftest import csrf_from, get_user, local
from hotline.cases import service as cases
from hotline.cases.models import Case
from hotline.errors import IllegalMove, StaleVersion
from hotline.extensions import db
from hotline.radio import schedule, service
from hotline.radio.models import CallIn, Episode

SATURDAY = date(2026, 12, 5)


@pytest.fixture
def show(app, users, clock):
    """Saturday's 《工会之声》 episode, with the clock at 13:35 that day."""
    clock.set(local(2026, 12, 5, 13, 35))
    with app.app_context():
        schedule.ensure_defaults()
        episode = schedule.episode_for(schedule.programme_of_kind("live"), SATURDAY)
        db.session.commit()
        return episode.id


@pytest.fixture
def producer(app, login, show):
    return login(app.test_client(), "producer")


def episode(episode_id) -> Episode:
    return db.session.get(Episode, episode_id)


def callin(episode_id, phone="13812345678", name="王师傅", topic="加班费怎么算", status="screening", **kw):
    row = service.add_callin(get_user("producer"), episode(episode_id),
                             {"phone": phone, "name": name, "area": "盛泽", "topic": topic, **kw}, status=status)
    db.session.commit()
    return row


def step(row, action, reason=""):
    service.move(get_user("producer"), row, action, row.version, reason)
    db.session.commit()
    return row


# ---------------------------------------------------------------- the schedule is data

def test_the_schedule_holds_both_programmes_and_plans_episodes(ctx, users, clock):
    assert schedule.ensure_defaults() == 2
    assert schedule.ensure_defaults() == 0
    live = schedule.programme_of_kind("live")
    digest = schedule.programme_of_kind("digest")
    assert (live.name, live.weekdays, live.start_time, live.end_time) == ("《工会之声》", "6", "13:30", "14:30")
    assert (digest.weekdays, digest.start_time, digest.end_time) == ("1234567", "17:45", "18:00")
    assert schedule.slot_seconds(digest) == 900
    assert schedule.next_air_date(live) == SATURDAY  # Monday 30 November: the next Saturday
    clock.set(local(2026, 12, 5, 14, 31))
    assert schedule.next_air_date(live) == date(2026, 12, 12)
    ep = schedule.episode_for(live, SATURDAY)
    assert ep.starts_at == local(2026, 12, 5, 13, 30) and ep.ends_at == local(2026, 12, 5, 14, 30)
    assert schedule.episode_for(live, SATURDAY).id == ep.id
    live.weekdays = "7"
    assert schedule.next_air_date(live, local(2026, 12, 5, 9, 0)) == date(2026, 12, 6)


def test_schedule_page_edits_programmes_and_plans_episodes(app, producer):
    page = producer.get("/radio/schedule")
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    with app.app_context():
        prog = schedule.programme_of_kind("live")
        prog_id, version = prog.id, prog.version
    data = {"csrf_token": token, "version": version, "name": "《工会之声》", "kind": "live", "weekdays": ["6", "7"],
            "start_time": "14:30", "end_time": "13:30", "active": "1"}
    assert producer.post(f"/radio/programmes/{prog_id}", data=data).status_code == 422
    assert producer.post(f"/radio/programmes/{prog_id}", data={**data, "start_time": "13:00", "end_time": "14:00"}
                         ).status_code == 302
    with app.app_context():
        assert schedule.programme_of_kind("live").weekdays == "67"
    resp = producer.post("/radio/episodes/plan", data={"csrf_token": token, "programme_id": prog_id,
                                                       "air_date": "2026-12-12", "topic": "劳动合同法专题",
                                                       "guests": "法律援助中心律师", "open": "1"})
    assert resp.status_code == 302 and "/radio/episodes/" in resp.headers["Location"]
    assert "劳动合同法专题" in producer.get(resp.headers["Location"]).get_data(as_text=True)


# ---------------------------------------------------------------- the queue

def test_a_call_goes_ringing_screening_ready_on_air_done(ctx, show, clock):
    row = callin(show, status="ringing")
    assert row.status == "ringing"
    step(row, "screen")
    step(row, "ready")
    assert row.ready_at is not None
    clock.set(local(2026, 12, 5, 13, 40))
    step(row, "on_air")
    assert episode(show).status == "live"
    clock.set(local(2026, 12, 5, 13, 43, 20))
    assert service.on_air_seconds(row) == 200
    step(row, "done")
    clock.set(local(2026, 12, 5, 13, 50))
    assert (row.status, service.on_air_seconds(row)) == ("done", 200)
    with pytest.raises(IllegalMove):
        step(row, "on_air")


def test_set_next_orders_the_ready_list_and_alt_a_takes_the_head(ctx, show):
    a, b, c = (step(callin(show, phone=f"1380000000{i}", name=n), "ready") for i, n in enumerate("甲乙丙"))
    assert [r.name for r in service.queue(episode(show))["ready"]] == ["甲", "乙", "丙"]
    step(c, "next")
    assert [r.name for r in service.queue(episode(show))["ready"]] == ["丙", "甲", "乙"]
    on = service.put_next_on_air(get_user("producer"), episode(show))
    db.session.commit()
    assert on.name == "丙"
    service.put_next_on_air(get_user("producer"), episode(show))
    db.session.commit()
    q = service.queue(episode(show))
    assert [r.name for r in q["on_air"]] == ["甲"] and [r.name for r in q["done"]] == ["丙"]  # one on air at a time


def test_a_stale_version_is_refused(ctx, show):
    row = callin(show)
    old = row.version
    step(row, "ready")
    with pytest.raises(StaleVersion):
        service.move(get_user("producer"), row, "drop", old)


def test_alerts_for_repeat_callers_open_cases_and_complaints(ctx, show):
    operator = get_user("operator")
    cases.register(operator, {"type": "complaint", "category": "wages", "summary": "投诉欠薪",
                              "caller": {"phone": "13812345678"}})
    cases.register(operator, {"type": "consult", "category": "wages", "summary": "问加班费",
                              "caller": {"phone": "13812345678"}, "resolved_on_call": True, "answer": "已答复"})
    db.session.commit()
    earlier = callin(show)
    step(earlier, "drop", "断线")
    again = callin(show, phone="138 1234 5678")
    stranger = callin(show, phone="13999999999")
    alerts = service.alerts_for([again, stranger])
    assert (alerts[again.id].repeat_calls, alerts[again.id].open_cases, alerts[again.id].complaints) == (1, 1, 1)
    assert not alerts[stranger.id].any


def test_end_of_show_drops_the_waiting_and_finishes_the_one_on_air(ctx, show):
    on = step(step(callin(show), "ready"), "on_air")
    waiting = callin(show, phone="13900000001")
    service.end_episode(get_user("producer"), episode(show))
    db.session.commit()
    assert (on.status, waiting.status, episode(show).status) == ("done", "dropped", "ended")
    with pytest.raises(IllegalMove):
        callin(show)


# ---------------------------------------------------------------- the console page

def test_console_shows_the_queue_with_alerts_and_the_timer(app, producer, show):
    with app.app_context():
        # An earlier radio call-in's complaint: the producers' own callers (hotline callers are not theirs).
        cases.register(get_user("producer"), {"channel": "radio", "type": "complaint", "category": "wages",
                                              "summary": "投诉", "caller": {"phone": "13812345678"}})
        row = callin(show)
        step(step(row, "ready"), "on_air")
        callin(show, phone="13900000002", name="李女士", topic="产假工资", status="ringing")
    page = producer.get("/radio")
    assert page.status_code == 302
    html = producer.get(page.headers["Location"]).get_data(as_text=True)
    assert "王师傅" in html and "李女士" in html and "产假工资" in html
    assert 'data-on-air-since="2026-12-05T05:35:00+00:00"' in html
    assert "Earlier complaints: 1" in html and "Open cases: 1" in html
    assert 'data-hotkey="Alt+A"' not in html or "Next on air" in html
    assert 'data-hotkey="Alt+E"' in html and 'data-hotkey="Alt+K"' in html and 'data-hotkey="Alt+I"' in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline scripts or styles


def test_console_forms_move_calls_and_refuse_stale_ones(app, producer, show):
    page = producer.get(f"/radio/episodes/{show}")
    token = csrf_from(page.get_data(as_text=True))
    resp = producer.post(f"/radio/episodes/{show}/callins", data={
        "csrf_token": token, "phone": "0512-6523 0000", "name": "赵师傅", "area": "松陵", "topic": "社保断缴",
        "screen_now": "1"})
    assert resp.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(CallIn))
        assert (row.phone, row.status) == ("+8651265230000", "screening")
        row_id, version = row.id, row.version
    assert producer.post(f"/radio/callins/{row_id}/ready", data={"csrf_token": token, "version": version}
                         ).status_code == 302
    stale = producer.post(f"/radio/callins/{row_id}/drop", data={"csrf_token": token, "version": version})
    assert stale.status_code == 409 and "moved this call meanwhile" in stale.get_data(as_text=True)
    assert producer.post(f"/radio/episodes/{show}/next-on-air", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(CallIn, row_id).status == "on_air"
    bad = producer.post(f"/radio/episodes/{show}/callins", data={"csrf_token": token, "phone": "12"})
    assert bad.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CallIn)) == 1
    assert producer.post(f"/radio/callins/{row_id}/done", data={"version": 3}).status_code == 400  # no CSRF


def test_queue_fragment_answers_304_when_nothing_changed(app, producer, show):
    first = producer.get(f"/radio/episodes/{show}/queue")
    assert first.status_code == 200 and first.headers["ETag"]
    again = producer.get(f"/radio/episodes/{show}/queue", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    with app.app_context():
        callin(show)
    changed = producer.get(f"/radio/episodes/{show}/queue", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "王师傅" in changed.get_data(as_text=True)


def test_only_producers_use_the_console(app, users, login, show):
    operator = login(app.test_client(), "operator")
    assert operator.get(f"/radio/episodes/{show}").status_code == 403
    assert app.test_client().get(f"/radio/episodes/{show}").status_code == 302


# ---------------------------------------------------------------- one step to a radio case

def test_a_call_in_becomes_a_radio_case_closed_with_the_answer_given_on_air(app, producer, show):
    with app.app_context():
        row = step(step(callin(show, notes="在恒力纺织上班"), "ready"), "on_air")
        row_id = row.id
    page = producer.get(f"/radio/callins/{row_id}/case")
    html = page.get_data(as_text=True)
    assert 'value="13812345678"' in html and "加班费怎么算" in html and "在恒力纺织上班" in html
    token = csrf_from(html)
    with app.app_context():
        version = db.session.get(CallIn, row_id).version
    form = {"csrf_token": token, "version": version, "phone": "13812345678", "caller_name": "王师傅",
            "caller_district": "盛泽", "summary": "加班费怎么算", "detail": "", "type": "consult",
            "category": "wages", "outcome": "close", "broadcast_ok": "1", "answer": ""}
    refused = producer.post(f"/radio/callins/{row_id}/case", data=form)
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    done = producer.post(f"/radio/callins/{row_id}/case", data={**form, "answer": "工作日加班按150%支付。"})
    assert done.status_code == 302
    with app.app_context():
        case = db.session.scalar(select(Case))
        assert (case.channel, case.status, case.answer, case.broadcast_ok) == ("radio", "closed",
                                                                               "工作日加班按150%支付。", True)
        assert db.session.get(CallIn, row_id).case_id == case.id
    again = producer.get(f"/radio/callins/{row_id}/case")
    assert again.status_code == 302 and "/cases/" in again.headers["Location"]


def test_a_producer_registers_for_dispatch_but_does_not_dispatch(app, producer, show):
    with app.app_context():
        row = step(callin(show), "ready")
        row_id, version = row.id, row.version
    html = producer.get(f"/radio/callins/{row_id}/case").get_data(as_text=True)
    assert 'value="dispatch"' not in html
    token = csrf_from(html)
    resp = producer.post(f"/radio/callins/{row_id}/case", data={
        "csrf_token": token, "version": version, "phone": "13812345678", "summary": "被无故辞退",
        "type": "legal_aid", "category": "dispute", "outcome": "dispatch", "department": "legal_aid"})
    assert resp.status_code == 302
    with app.app_context():
        case = db.session.scalar(select(Case))
        assert (case.channel, case.status, case.department_id) == ("radio", "registered", None)


# ---------------------------------------------------------------- the episode log

def test_episode_log_prints_and_exports_without_identifying_callers(app, producer, show, clock):
    with app.app_context():
        row = step(step(callin(show, name="王建国", topic="王建国问恒力纺织欠薪，电话13812345678"), "ready"),
                   "on_air")
        clock.set(local(2026, 12, 5, 13, 39))
        step(row, "done")
        step(callin(show, phone="13900000003", name="李四"), "drop", "断线")
    html = producer.get(f"/radio/episodes/{show}/log").get_data(as_text=True)
    assert "4:00" in html and "2 calls, 1 on air (4:00), 1 dropped, 0 cases" in html
    export = producer.get(f"/radio/episodes/{show}/log.csv")
    assert export.mimetype == "text/csv"
    body = export.get_data(as_text=True)
    assert "138****5678" in body and "王姓听众" in body  # the phone column stays masked for the station's files
    assert ",一位王姓职工问恒力纺织欠薪," in body  # the topic as it may be read: no name, no number, no mask
    assert "13812345678" not in body and "王建国" not in body and "王*" not in body


# ---------------------------------------------------------------- a station line routed through Twilio

TOKEN = "radio-secret"
PUBLIC = "https://hotline.example.org"


def _twilio(app, path, params, sign=True):
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    return app.test_client().post(path, data=params, headers=headers)


@pytest.fixture
def twilio_on(app):
    app.config.update(TWILIO_AUTH_TOKEN=TOKEN, HOTLINE_PUBLIC_URL=PUBLIC)
    yield
    app.config.update(TWILIO_AUTH_TOKEN=None, HOTLINE_PUBLIC_URL=None)


def test_a_call_to_the_station_line_joins_the_queue(app, show, twilio_on):
    params = {"CallSid": "CAradio1", "From": "+8613812345678", "To": "+8651263000000", "CallStatus": "ringing",
              "FromCity": "WUJIANG"}
    resp = _twilio(app, "/radio/twilio/voice", params)
    assert resp.status_code == 200 and "<Enqueue>radio-gonghui_zhisheng</Enqueue>" in resp.get_data(as_text=True)
    assert _twilio(app, "/radio/twilio/voice", params).status_code == 200  # Twilio's retry: a no-op
    with app.app_context():
        rows = list(db.session.scalars(select(CallIn)))
        assert [(r.status, r.phone, r.call_sid) for r in rows] == [("ringing", "+8613812345678", "CAradio1")]
    assert _twilio(app, "/radio/twilio/status", {"CallSid": "CAradio1", "CallStatus": "completed"}).status_code == 204
    with app.app_context():
        assert db.session.scalar(select(CallIn)).status == "dropped"
    forged = _twilio(app, "/radio/twilio/voice", {**params, "CallSid": "CAforged"}, sign=False)
    assert forged.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CallIn)) == 1


def test_outside_the_show_the_station_line_says_so(app, users, clock, twilio_on):
    clock.set(local(2026, 12, 2, 10, 0))
    with app.app_context():
        schedule.ensure_defaults()
        db.session.commit()
    resp = _twilio(app, "/radio/twilio/voice", {"CallSid": "CAx", "From": "+8613812345678"})
    assert "<Hangup />" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CallIn)) == 0
