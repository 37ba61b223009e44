"""Deadline watch and outbox: flags once, notices once, SMS through the real twilio Client."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import get_user, local
from hotline.cases import service as cases
from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db
from hotline.jobs import run_job
from hotline import db_helpers
from hotline.notify import delivery, service as watch
from hotline.notify.models import CaseFlag, Notice
from twilio_http import RecordingHttpClient, twilio_error

BASE = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资",
        "caller": {"phone": "13812345678", "name": "王建国"}, "detail": "举报老板张三偷逃社保"}


@pytest.fixture
def phones(app, users):
    """Give the handler and the supervisor phone numbers (SMS-able); the other handlers have none."""
    with app.app_context():
        get_user("handler").phone = "+8613900000002"
        get_user("supervisor").phone = "+8613900000003"
        db.session.commit()


@pytest.fixture
def twilio(app):
    client = RecordingHttpClient()
    app.config.update(TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="secret-token",
                      TWILIO_FROM="+15005550006", HOTLINE_PUBLIC_URL="https://hotline.example.org")
    app.extensions["twilio_http_client"] = client
    yield client
    app.extensions.pop("twilio_http_client", None)
    app.config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None, TWILIO_FROM=None, HOTLINE_PUBLIC_URL=None)


def register(**extra):
    case = cases.register(get_user("operator"), {**BASE, **extra})
    db.session.commit()
    return case


def notices(**filters):
    stmt = select(Notice).order_by(Notice.id)
    for key, value in filters.items():
        stmt = stmt.where(getattr(Notice, key) == value)
    return list(db.session.scalars(stmt))


def test_dispatch_tells_the_handler_in_app_and_by_sms(ctx, phones):
    case = register(department="legal_aid", handler="handler")
    rows = notices(kind="dispatched")
    assert [(n.recipient.username, n.channel, n.status) for n in rows] == [
        ("handler", "in_app", "sent"), ("handler", "sms", "pending")]
    assert case.case_no in rows[1].body and "工资报酬/欠薪" in rows[1].body
    assert "12-01 17:30" in rows[1].body  # accept by the end of the next working day


def test_dispatch_to_a_department_tells_each_handler_and_phoneless_ones_only_in_app(ctx, phones):
    register(department="legal_aid")
    rows = notices(kind="dispatched")
    assert sorted((n.recipient.username, n.channel) for n in rows) == [
        ("handler", "in_app"), ("handler", "sms"), ("handler_b", "in_app")]


def test_crossing_a_deadline_flags_once_however_many_scans(ctx, phones, clock):
    case = register(department="legal_aid", handler="handler")
    clock.set(local(2026, 12, 1, 13, 0))  # before the accept warning (13:30)
    assert watch.scan()["warnings"] == 0
    clock.set(local(2026, 12, 1, 14, 0))  # within half a working day of accept due 17:30
    assert watch.scan()["warnings"] == 1
    assert watch.scan()["warnings"] == 0
    clock.set(local(2026, 12, 1, 17, 31))
    first = watch.scan()
    for _ in range(3):
        assert watch.scan() == {"cases": 0, "warnings": 0, "overdue": 0, "notices": 0}
    db.session.commit()
    assert first["overdue"] == 1
    flags = [f.kind for f in db.session.scalars(select(CaseFlag).where(CaseFlag.case_id == case.id).order_by(CaseFlag.id))]
    assert flags == ["accept_warning", "accept_overdue"]
    events = [e.kind for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert events.count("overdue") == 1 and events.count("due_soon") == 1
    overdue = sorted((n.recipient.username, n.channel) for n in notices(kind="overdue"))
    # The supervisor sees it in-app; their phone gets the morning reminder, not one SMS per case.
    assert overdue == [("handler", "in_app"), ("handler", "sms"), ("supervisor", "in_app")]


def test_an_approved_extension_is_a_new_due_time_watched_again(ctx, phones, clock):
    case = register(department="legal_aid", handler="handler")
    cases.perform(get_user("handler"), case, "accept", case.version, {})
    cases.perform(get_user("handler"), case, "extend", case.version,
                  {"reply_due_at": "2026-12-04T17:30:00+08:00", "reason": "等材料"})
    cases.perform(get_user("supervisor"), case, "approve_extension", case.version, {})
    db.session.commit()
    clock.set(local(2026, 12, 2, 18, 0))  # past the original reply due, not the new one
    assert watch.scan()["overdue"] == 0
    clock.set(local(2026, 12, 4, 17, 31))
    assert watch.scan()["overdue"] == 1


def test_replied_case_is_no_longer_watched(ctx, phones, clock):
    case = register(department="legal_aid", handler="handler")
    cases.perform(get_user("handler"), case, "accept", case.version, {})
    cases.perform(get_user("handler"), case, "reply", case.version, {"content": "已答复"})
    db.session.commit()
    assert case.next_watch_at is None
    clock.set(local(2026, 12, 10, 9, 0))
    assert watch.scan()["cases"] == 0


def test_sms_goes_to_twilio_as_the_exact_rest_request(ctx, phones, twilio):
    register(department="legal_aid", handler="handler", confidential=True)
    assert delivery.deliver_pending() == {"sent": 1, "retry": 0, "failed": 0, "unknown": 0}
    [req] = twilio.requests
    assert req["method"] == "POST"
    assert req["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    assert req["auth"] == ("AC" + "1" * 32, "secret-token")
    body = req["data"]["Body"]
    assert req["data"]["To"] == "+8613900000002" and req["data"]["From"] == "+15005550006"
    assert body == "【苏州市总工会】工单20261130-0001（工资报酬/欠薪）已派给您，请于12-01 17:30前在12351系统受理。"
    assert "http" not in body and "/c/" not in body  # no link: gateways refuse URLs
    # Never the detail or the caller's data.
    for secret in ("13812345678", "王建国", "张三", "社保"):
        assert secret not in body
    sms = notices(channel="sms")[0]
    assert sms.status == "sent" and sms.provider_id == "SM" + "0" * 31 + "1"


def test_messaging_service_sid_replaces_from(ctx, phones, twilio, app):
    app.config.update(TWILIO_FROM=None, TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32)
    register(department="legal_aid", handler="handler")
    delivery.deliver_pending()
    data = twilio.requests[0]["data"]
    assert data["MessagingServiceSid"] == "MG" + "2" * 32 and "From" not in data


def test_rate_limits_and_outages_are_retried_with_backoff(ctx, phones, twilio, clock):
    twilio.answers = [twilio_error(429, 20429, "Too Many Requests"), twilio_error(500, 20500, "Internal")]
    register(department="legal_aid", handler="handler")
    assert delivery.deliver_pending()["retry"] == 1
    sms = notices(channel="sms")[0]
    assert (sms.status, sms.attempts) == ("pending", 1) and "429" in sms.last_error
    assert sms.next_attempt_at == local(2026, 11, 30, 10, 0, 30)
    assert delivery.deliver_pending() == {"sent": 0, "retry": 0, "failed": 0, "unknown": 0}  # not yet
    clock.set(local(2026, 11, 30, 10, 0, 31))
    assert delivery.deliver_pending()["retry"] == 1
    assert notices(channel="sms")[0].next_attempt_at == local(2026, 11, 30, 10, 1, 31)  # 60 s later
    clock.set(local(2026, 11, 30, 10, 2))
    assert delivery.deliver_pending()["sent"] == 1
    assert len(twilio.requests) == 3


def test_invalid_number_fails_at_once_and_stays_visible(ctx, phones, twilio):
    twilio.answers = [twilio_error(400, 21211, "The 'To' number is not a valid phone number.")]
    register(department="legal_aid", handler="handler")
    assert delivery.deliver_pending()["failed"] == 1
    sms = notices(channel="sms")[0]
    assert sms.status == "failed" and "21211" in sms.last_error
    delivery.retry(sms.id)
    db.session.commit()
    assert delivery.deliver_pending()["sent"] == 1


def test_after_max_attempts_a_notice_fails(ctx, phones, twilio, clock):
    twilio.answers = [twilio_error(503, 20503, "Unavailable")] * delivery.MAX_ATTEMPTS
    register(department="legal_aid", handler="handler")
    moment = local(2026, 11, 30, 10, 0)
    for _ in range(delivery.MAX_ATTEMPTS):
        delivery.deliver_pending()
        moment += timedelta(hours=2)
        clock.set(moment)
    sms = notices(channel="sms")[0]
    assert (sms.status, sms.attempts) == ("failed", delivery.MAX_ATTEMPTS)


def test_a_delivery_killed_after_sending_is_never_sent_twice(ctx, phones, twilio, clock, monkeypatch):
    """At-most-once: a notice left `sending` becomes `unknown` for an admin, not resent on its own."""
    from hotline.notify import sms as sms_module

    real_send = sms_module.TwilioSender.send

    def send_then_die(self, message):
        real_send(self, message)
        raise KeyboardInterrupt  # the process is killed before it records the result

    monkeypatch.setattr(sms_module.TwilioSender, "send", send_then_die)
    register(department="legal_aid", handler="handler")
    with pytest.raises(KeyboardInterrupt):
        delivery.deliver_pending()
    db.session.rollback()
    monkeypatch.setattr(sms_module.TwilioSender, "send", real_send)
    assert notices(channel="sms")[0].status == "sending"
    assert delivery.deliver_pending()["sent"] == 0
    clock.set(local(2026, 11, 30, 10, 6))
    assert delivery.deliver_pending()["unknown"] == 1
    assert notices(channel="sms")[0].status == "unknown"
    assert len(twilio.requests) == 1


def test_without_credentials_sms_go_to_the_log_and_are_recorded(ctx, phones, caplog):
    register(department="legal_aid", handler="handler")
    with caplog.at_level("INFO", logger="hotline.sms"):
        assert delivery.deliver_pending()["sent"] == 1
    assert "+8613900000002" in caplog.text
    assert notices(channel="sms")[0].provider_id == "log"


@pytest.mark.parametrize("moment", [local(2026, 12, 2, 2, 0), local(2026, 10, 3, 9, 0), local(2026, 12, 5, 9, 0)])
def test_reminders_never_at_night_or_on_days_off(ctx, phones, clock, moment):
    register(department="legal_aid", handler="handler")
    clock.set(local(2026, 12, 1, 18, 0))
    watch.scan()
    clock.set(moment)  # 02:00, National Day holiday, a Saturday
    assert watch.send_reminders() == {"recipients": 0, "notices": 0}


def test_one_reminder_each_working_morning(ctx, phones, clock):
    case = register(department="legal_aid", handler="handler")
    clock.set(local(2026, 12, 2, 8, 45))
    first = watch.send_reminders()
    assert first["recipients"] == 2  # the handler and the supervisor
    assert watch.send_reminders()["notices"] == 0  # the same morning: nothing new
    clock.set(local(2026, 12, 3, 9, 0))
    assert watch.send_reminders()["notices"] == 4  # next working day: in-app + SMS for both
    db.session.commit()
    texts = [n.body for n in notices(kind="reminder", channel="sms")]
    assert all(case.case_no in t for t in texts)


def test_make_up_saturday_gets_reminders(ctx, phones, clock):
    # 2026-02-28 is a make-up working Saturday.
    clock.set(local(2026, 2, 24, 10, 0))
    register(department="legal_aid", handler="handler")
    clock.set(local(2026, 2, 28, 9, 0))
    assert watch.send_reminders()["recipients"] == 2


def test_run_job_holds_a_lease_and_second_holder_skips(app, phones):
    from hotline.jobs import run_lock

    with app.app_context():
        with run_lock("overdue") as got:
            assert got
            with app.app_context():
                assert run_job("overdue") is None  # another holder: skipped
        assert run_job("overdue") == {"cases": 0, "warnings": 0, "overdue": 0, "notices": 0}


def test_cli_run_job(app, phones, clock):
    with app.app_context():
        cases.register(get_user("operator"), {**BASE, "department": "legal_aid", "handler": "handler"})
        db.session.commit()
    clock.set(local(2026, 12, 1, 17, 31))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hotline", "run-job", "overdue"])
    assert result.exit_code == 0 and "overdue 1" in result.output
    result = runner.invoke(args=["hotline", "run-job", "notify"])
    assert "sent 2" in result.output  # the dispatch SMS and the handler's overdue SMS


def test_bell_and_notice_page(app, phones, login):
    with app.app_context():
        cases.register(get_user("operator"), {**BASE, "department": "legal_aid", "handler": "handler"})
        db.session.commit()
    client = login(app.test_client(), "handler")
    assert 'class="count">1<' in client.get("/cases/queue").get_data(as_text=True)  # the bell
    page = client.get("/notices").get_data(as_text=True)
    assert "20261130-0001" in page and '<tr class="unread">' in page
    # Read: the bell's count clears (issue 17), the notice stays in the list.
    page = client.get("/notices").get_data(as_text=True)
    assert 'class="bell"' in page and 'class="count">' not in page.split('class="bell"')[1].split("</a>")[0]
    assert "20261130-0001" in page and '<tr class="unread">' not in page


def test_opening_the_case_reads_its_notices(app, phones, login):
    with app.app_context():
        no = cases.register(get_user("operator"), {**BASE, "department": "legal_aid"}).case_no
        db.session.commit()
    client = login(app.test_client(), "handler")
    client.get(f"/cases/{no}")
    page = client.get("/cases/queue").get_data(as_text=True)
    assert 'class="count">' not in page.split('class="bell"')[1].split("</a>")[0]


def test_department_head_gets_overdue_notices_and_the_reminder(ctx, phones, clock):
    from hotline.admin import service as admin

    admin.update_department("legal_aid", "法律援助中心", "1", None, head="handler_b")
    register(department="legal_aid", handler="handler")
    clock.set(local(2026, 12, 1, 17, 31))
    watch.scan()
    assert "handler_b" in {n.recipient.username for n in notices(kind="overdue")}
    clock.set(local(2026, 12, 2, 9, 0))
    watch.send_reminders()
    assert "handler_b" in {n.recipient.username for n in notices(kind="reminder")}


def test_department_head_must_belong_to_the_department(ctx, users):
    from hotline.admin import service as admin
    from hotline.errors import InvalidInput

    with pytest.raises(InvalidInput):
        admin.update_department("legal_aid", "法律援助中心", "1", None, head="other_handler")


def test_sms_text_is_chinese_even_when_the_dispatcher_uses_english(app, users, login):
    with app.app_context():
        get_user("handler").phone = "+8613900000002"
        db.session.commit()
    client = login(app.test_client(), "operator", lang="en")
    from conftest import csrf_from

    page = client.get("/cases/new").get_data(as_text=True)
    resp = client.post("/cases/new", data={
        "csrf_token": csrf_from(page), "phone": "13812345678", "channel": "hotline", "type": "consult",
        "category": "wages", "summary": "拖欠工资", "outcome": "dispatch", "department": "legal_aid",
        "handler": "handler"})
    assert resp.status_code == 302
    with app.app_context():
        [sms] = notices(channel="sms")
        assert sms.body.startswith("【苏州市总工会】工单20261130-0001") and "受理" in sms.body and "http" not in sms.body


def test_a_big_scan_writes_each_notice_once_on_either_path(ctx, phones, clock, backend_name):
    """Enough notices for PostgreSQL's COPY path; a second scan over the same moment adds nothing."""
    from hotline.notify import service as notify_service

    for i in range(db_helpers.COPY_THRESHOLD // 2):
        register(department="legal_aid", summary=f"欠薪 {i}")
    clock.set(local(2026, 12, 1, 17, 31))
    first = watch.scan()
    db.session.commit()
    # Department-level cases: both legal_aid handlers + the supervisor in-app, the handler with a phone by SMS.
    assert first["overdue"] == db_helpers.COPY_THRESHOLD // 2
    assert first["notices"] == (db_helpers.COPY_THRESHOLD // 2) * 4
    case_ids = {n.case_id for n in notices(kind="overdue")}
    assert len(case_ids) == db_helpers.COPY_THRESHOLD // 2
    assert watch.scan()["notices"] == 0
