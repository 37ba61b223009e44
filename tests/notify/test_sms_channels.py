"""Every SMS is a template: the catalogue, the gateways (Aliyun and Tencent Cloud through their official SDKs
against local stand-ins speaking their wire format, file:PATH), receipts, TD opt-out, quiet hours."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from conftest import csrf_from, get_user, local
from hotline.cases import service as cases
from hotline.cases.signals import Origin
from hotline.extensions import db
from hotline.notify import delivery, templates
from hotline.notify.models import Notice, SmsOptOut, SmsTemplate
from sms_gateways import AliyunStandIn, TencentStandIn
from telephony.test_telephony import CALLER, line  # noqa: F401  (the fixture)

BASE = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资",
        "caller": {"phone": "138 1234 5678", "name": "王建国"}}
TOKEN = "receipt-secret-0123456789"


def sms_rows(kind: str | None = None) -> list[Notice]:
    db.session.expire_all()
    stmt = select(Notice).where(Notice.channel == "sms").order_by(Notice.id)
    if kind:
        stmt = stmt.where(Notice.kind == kind)
    return list(db.session.scalars(stmt))


def register(**extra):
    operator = get_user("operator")
    assert operator is not None
    case = cases.register(operator, {**BASE, **extra}, origin=Origin(sms_consent=True))
    db.session.commit()
    return case


@pytest.fixture
def aliyun(app):
    stand_in = AliyunStandIn()
    app.config.update(HOTLINE_SMS_BACKEND="aliyun", ALIYUN_ACCESS_KEY_ID="LTAI-test", ALIYUN_ACCESS_KEY_SECRET="s3cret",
                      ALIYUN_SMS_ENDPOINT=stand_in.endpoint, ALIYUN_SMS_PROTOCOL="http",
                      HOTLINE_SMS_RECEIPT_TOKEN=TOKEN)
    yield stand_in
    stand_in.close()
    app.config.update(HOTLINE_SMS_BACKEND=None, ALIYUN_SMS_ENDPOINT=None, HOTLINE_SMS_RECEIPT_TOKEN=None)


@pytest.fixture
def tencent(app):
    stand_in = TencentStandIn()
    app.config.update(HOTLINE_SMS_BACKEND="tencent", TENCENT_SECRET_ID="AKID-test", TENCENT_SECRET_KEY="s3cret",
                      TENCENT_SMS_APP_ID="1400123456", TENCENT_SMS_ENDPOINT=stand_in.endpoint,
                      TENCENT_SMS_PROTOCOL="http", HOTLINE_SMS_RECEIPT_TOKEN=TOKEN)
    yield stand_in
    stand_in.close()
    app.config.update(HOTLINE_SMS_BACKEND=None, TENCENT_SMS_ENDPOINT=None, HOTLINE_SMS_RECEIPT_TOKEN=None)


def gateway_ids(**ids):
    for code, gateway_id in ids.items():
        text, _old = templates.entry(code)
        db.session.merge(SmsTemplate(code=code, text=text, gateway_id=gateway_id, updated_at=local(2026, 11, 30, 9)))
    db.session.commit()


# ---------------------------------------------------------------- the catalogue

def test_every_template_renders_signed_without_a_link_and_callers_can_opt_out(ctx):
    params = {"case_no": "20261201-0001", "due": "12月8日17:30", "category": "欠薪", "deadline": "答复",
              "count": 3, "first": "20261201-0001、20261201-0002"}
    for code, spec in templates.CATALOGUE.items():
        body = templates.render(code, params)
        assert body.startswith("【苏州市总工会】"), code
        assert not templates.URL_RE.search(body) and "{" not in body, code
        assert len(body) <= 70 * 2, code
    for code in ("case_receipt", "survey_request", "case_answered"):
        assert templates.render(code, params).endswith("回复TD退订")
    assert templates.render("case_receipt", params) == (
        "【苏州市总工会】您反映的问题已受理，工单号20261201-0001，我们将在12月8日17:30前答复您。回复TD退订")


def test_a_template_missing_a_variable_is_a_clear_outbox_state_and_is_never_sent(ctx, users, line):
    from hotline.notify.service import enqueue_phone_sms

    assert enqueue_phone_sms(CALLER, "caller_receipt", "k1", "case_receipt", {"case_no": "20261130-0001"}) == 1
    db.session.commit()
    [row] = sms_rows()
    assert row.status == "rejected" and "variable missing: due" in row.last_error
    assert delivery.deliver_pending() == {"sent": 0, "retry": 0, "failed": 0, "unknown": 0}
    assert line.http.requests == []


def test_a_message_over_the_length_limit_waits_in_the_outbox_until_fixed_then_goes_once(ctx, users, line, app):
    app.config["HOTLINE_SMS_MAX_LENGTH"] = 40
    try:
        case = register()
        [row] = sms_rows("caller_receipt")
        assert row.status == "rejected" and "over the limit of 40" in row.last_error
        assert delivery.deliver_pending()["sent"] == 0 and line.http.requests == []
    finally:
        app.config["HOTLINE_SMS_MAX_LENGTH"] = 300
    delivery.retry(row.id)
    db.session.commit()
    assert delivery.deliver_pending()["sent"] == 1
    assert delivery.deliver_pending()["sent"] == 0
    [req] = line.http.requests
    assert req["data"]["Body"].endswith("回复TD退订") and case.case_no in req["data"]["Body"]


def test_admin_edits_the_catalogue_and_what_gateways_refuse_is_refused_here(app, users, login):
    client = login(app.test_client(), "admin")
    page = client.get("/admin/sms-templates").get_data(as_text=True)
    assert "case_receipt" in page and "【苏州市总工会】您反映的问题已受理" in page
    form = {"csrf_token": csrf_from(page)}
    with app.app_context():
        for row in templates.catalogue_rows():
            form[f"text_{row['code']}"] = row["text"]
            form[f"gateway_{row['code']}"] = ""
    bad = dict(form, text_case_receipt="已受理，详情见 https://x.cn/c/{case_no}",
               text_survey_request="工单{case_no}已办结，请回复1、2、3评价。", text_staff_overdue="工单{case}超期",
               gateway_case_answered="SMS 1")
    resp = client.post("/admin/sms-templates", data=bad)
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    for message in ("No web addresses in an SMS", "must end with 回复TD退订", "Only these placeholders may be used",
                    "Letters, digits, - and _ only"):
        assert message in text, message
    no_digits = client.post("/admin/sms-templates",
                            data=dict(form, text_survey_request="您的工单{case_no}已办结，请回复评价。回复TD退订"))
    assert "must tell the caller to reply 1, 2 or 3" in no_digits.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(SmsTemplate)) is None  # nothing half-saved
    good = dict(form, text_case_receipt="来电已受理，工单号{case_no}，{due}前答复。回复TD退订",
                gateway_case_receipt="SMS_480001")
    assert client.post("/admin/sms-templates", data=good).status_code == 302
    with app.app_context():
        assert templates.entry("case_receipt") == ("来电已受理，工单号{case_no}，{due}前答复。回复TD退订", "SMS_480001")
        assert templates.render("case_receipt", {"case_no": "1", "due": "2"}) == "【苏州市总工会】来电已受理，工单号1，2前答复。回复TD退订"
    assert login(app.test_client(), "operator").get("/admin/sms-templates").status_code == 403


# ---------------------------------------------------------------- gateways

def test_aliyun_sends_template_code_signature_and_variables_and_takes_its_receipt(ctx, users, app, aliyun):
    gateway_ids(case_receipt="SMS_480001")
    case = register()
    assert delivery.deliver_pending()["sent"] == 1
    [req] = aliyun.requests
    assert (req["action"], req["version"]) == ("SendSms", "2017-05-25")
    assert req["authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI-test")
    assert req["params"]["PhoneNumbers"] == "13812345678" and req["params"]["SignName"] == "苏州市总工会"
    assert req["params"]["TemplateCode"] == "SMS_480001"
    assert json.loads(req["params"]["TemplateParam"]) == {"case_no": case.case_no, "due": "12月2日17:30"}
    [row] = sms_rows()
    assert (row.status, row.backend, row.provider_id) == ("sent", "aliyun", "9000000001^0")
    client = app.test_client()
    receipt = [{"phone_number": "13812345678", "success": True, "biz_id": "9000000001^0", "err_code": "DELIVERED",
                "err_msg": "用户接收成功", "report_time": "2026-11-30 10:00:05", "send_time": "2026-11-30 10:00:01"}]
    assert client.post(f"/sms/aliyun/receipts/wrong-token", json=receipt).status_code == 403
    assert sms_rows()[0].delivery is None
    resp = client.post(f"/sms/aliyun/receipts/{TOKEN}", json=receipt)
    assert resp.status_code == 200 and resp.get_json() == {"code": 0, "msg": "成功"}
    assert (sms_rows()[0].delivery, sms_rows()[0].delivered_at) == ("delivered", local(2026, 11, 30, 10))
    unknown = [dict(receipt[0], biz_id="nobody^0")]
    assert client.post(f"/sms/aliyun/receipts/{TOKEN}", json=unknown).status_code == 200


def test_aliyun_refusing_the_signature_is_a_clear_state_not_a_retry_loop(ctx, users, aliyun):
    gateway_ids(case_receipt="SMS_480001")
    register()
    aliyun.answers = [AliyunStandIn.refuse("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")]
    assert delivery.deliver_pending() == {"sent": 0, "retry": 0, "failed": 0, "unknown": 0, "rejected": 1}
    [row] = sms_rows()
    assert row.status == "rejected" and "isv.SMS_SIGNATURE_ILLEGAL" in row.last_error
    assert delivery.deliver_pending()["sent"] == 0 and len(aliyun.requests) == 1
    delivery.retry(row.id)  # the signature was registered meanwhile
    db.session.commit()
    assert delivery.deliver_pending()["sent"] == 1 and len(aliyun.requests) == 2


def test_no_gateway_template_id_is_refused_before_calling_the_gateway(ctx, users, aliyun):
    register()
    assert delivery.deliver_pending()["rejected"] == 1
    assert "no Aliyun template code for case_receipt" in sms_rows()[0].last_error
    assert aliyun.requests == []


def outbox_lines(stage: str) -> list[str]:
    return [f"{stage:<28} #{r.id} {r.to_phone} {r.template:<13} {r.status:<8} attempts={r.attempts} "
            f"next={r.next_attempt_at.astimezone(local(2026, 1, 1).tzinfo):%H:%M:%S} {(r.last_error or '')[:40]}"
            for r in sms_rows()]


def test_outage_queues_then_delivers_each_message_once(ctx, users, app, aliyun, clock, capsys):
    """The outbox under a gateway outage: messages stay queued with back-off, then go once each."""
    gateway_ids(case_receipt="SMS_480001")
    aliyun.down = True
    first, second = register(), register(caller={"phone": "13900000001"})
    figure = outbox_lines("10:00:00 queued")
    stats = delivery.deliver_pending()
    figure += outbox_lines("10:00:00 gateway down")
    assert stats == {"sent": 0, "retry": 2, "failed": 0, "unknown": 0}
    rows = sms_rows()
    assert [r.status for r in rows] == ["pending", "pending"] and all("ServiceUnavailable" in r.last_error for r in rows)
    assert rows[0].next_attempt_at == local(2026, 11, 30, 10, 0, 30)
    assert delivery.deliver_pending()["retry"] == 0  # not yet due: nothing hammers the gateway
    clock.set(local(2026, 11, 30, 10, 0, 30))
    assert delivery.deliver_pending()["retry"] == 2
    figure += outbox_lines("10:00:30 still down")
    aliyun.down = False
    clock.set(local(2026, 11, 30, 10, 2))
    assert delivery.deliver_pending()["sent"] == 2
    figure += outbox_lines("10:02:00 gateway back")
    clock.set(local(2026, 11, 30, 11, 0))
    assert delivery.deliver_pending()["sent"] == 0
    with capsys.disabled():
        print("\nOutbox under an Aliyun outage:\n  " + "\n  ".join(figure))
    sent = [r for r in aliyun.requests if r["params"].get("TemplateCode")]
    assert len(sent) == 6  # 2 refused, 2 refused, 2 delivered
    phones = [r["params"]["PhoneNumbers"] for r in sent[-2:]]
    assert sorted(phones) == ["13812345678", "13900000001"]
    assert [(r.status, r.attempts) for r in sms_rows()] == [("sent", 3), ("sent", 3)]
    assert {first.id, second.id} == {r.case_id for r in sms_rows()}


def test_tencent_sends_template_id_and_ordered_variables_and_takes_its_receipt(ctx, users, app, tencent):
    gateway_ids(case_receipt="1600001")
    case = register()
    assert delivery.deliver_pending()["sent"] == 1
    [req] = tencent.requests
    assert (req["action"], req["version"]) == ("SendSms", "2021-01-11")
    assert req["authorization"].startswith("TC3-HMAC-SHA256 Credential=AKID-test/")
    assert req["params"] == {"PhoneNumberSet": [CALLER], "SmsSdkAppId": "1400123456", "SignName": "苏州市总工会",
                             "TemplateId": "1600001", "TemplateParamSet": [case.case_no, "12月2日17:30"]}
    [row] = sms_rows()
    assert (row.status, row.backend, row.provider_id) == ("sent", "tencent", "2028:0000000001")
    resp = app.test_client().post(f"/sms/tencent/receipts/{TOKEN}", json=[
        {"user_receive_time": "2026-11-30 10:00:09", "nationcode": "86", "mobile": "13812345678",
         "report_status": "FAIL", "errmsg": "MN:0017", "description": "手机号停机", "sid": "2028:0000000001"}])
    assert resp.get_json() == {"result": 0, "errmsg": "OK"}
    row = sms_rows()[0]
    assert row.delivery == "undelivered" and "手机号停机" in row.last_error


def test_tencent_outage_and_template_refusal(ctx, users, tencent, clock):
    gateway_ids(case_receipt="1600001")
    register()
    tencent.down = True
    assert delivery.deliver_pending()["retry"] == 1
    tencent.down = False
    tencent.answers = [TencentStandIn.refuse("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或不存在")]
    clock.set(local(2026, 11, 30, 10, 1))
    assert delivery.deliver_pending()["rejected"] == 1
    assert "TemplateIncorrectOrUnapproved" in sms_rows()[0].last_error
    assert len(tencent.requests) == 2


def test_file_backend_appends_one_json_line_per_message(ctx, users, app, tmp_path):
    path = tmp_path / "sms.jsonl"
    app.config["HOTLINE_SMS_BACKEND"] = f"file:{path}"
    try:
        case = register()
        register(caller={"phone": "13900000001"})
        assert delivery.deliver_pending()["sent"] == 2
        assert delivery.deliver_pending()["sent"] == 0
    finally:
        app.config["HOTLINE_SMS_BACKEND"] = None
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2
    assert lines[0] == {"to": CALLER, "template": "case_receipt",
                        "params": {"case_no": case.case_no, "due": "12月2日17:30"},
                        "body": f"【苏州市总工会】您反映的问题已受理，工单号{case.case_no}，我们将在12月2日17:30前答复您。回复TD退订"}


def test_unknown_backend_is_refused_at_start_up():
    from hotline.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="HOTLINE_SMS_BACKEND"):
        load_config({"HOTLINE_ENV": "test", "HOTLINE_SMS_BACKEND": "carrier-pigeon"})
    with pytest.raises(ConfigError, match="needs a path"):
        load_config({"HOTLINE_ENV": "test", "HOTLINE_SMS_BACKEND": "file"})


# ---------------------------------------------------------------- opt-out, quiet hours, consent

def test_td_opts_the_caller_out_and_nothing_more_is_sent(app, line, users):
    with app.app_context():
        case = register()
        assert line.sms("TD退订", sid="SMtd").status_code == 200
        assert line.sms("td", sid="SMtd").status_code == 200  # Twilio's retry: nothing new
        assert db.session.get(SmsOptOut, CALLER) is not None
        [receipt] = sms_rows()
        assert receipt.status == "opted_out"
        assert case.id
        register()  # a new case from the same caller: its receipt is kept, marked, never sent
        rows = sms_rows()
        assert [r.status for r in rows] == ["opted_out", "opted_out"]
        assert delivery.deliver_pending()["sent"] == 0 and line.http.requests == []


def test_a_domestic_gateway_reply_td_opts_out_too(app, aliyun, users):
    with app.app_context():
        register()
        resp = app.test_client().post(f"/sms/aliyun/replies/{TOKEN}", json=[
            {"phone_number": "13812345678", "send_time": "2026-11-30 10:03:00", "content": "TD",
             "sign_name": "苏州市总工会", "dest_code": "1234", "sequence_id": 8812}])
        assert resp.status_code == 200
        db.session.expire_all()
        assert db.session.get(SmsOptOut, CALLER) is not None
        assert sms_rows()[0].status == "opted_out"


def test_callers_get_nothing_at_night_but_staff_notices_keep_their_urgency(ctx, users, line, clock):
    get_user("handler").phone = "+8613900000002"
    db.session.commit()
    clock.set(local(2026, 11, 30, 22, 30))
    register(department="legal_aid", handler="handler")
    receipt, = sms_rows("caller_receipt")
    staff, = sms_rows("dispatched")
    assert receipt.next_attempt_at == local(2026, 12, 1, 8, 0)
    assert delivery.deliver_pending()["sent"] == 1  # the handler's dispatch notice goes now
    assert [r["data"]["To"] for r in line.http.requests] == ["+8613900000002"]
    clock.set(local(2026, 12, 1, 8, 0))
    assert delivery.deliver_pending()["sent"] == 1
    assert line.http.requests[-1]["data"]["To"] == CALLER
    assert staff.id != receipt.id


def test_api_registration_takes_sms_consent(app, api, line):
    body = {"type": "consult", "category": "wages", "summary": "欠薪咨询", "caller": {"phone": "13812345678"},
            "sms_consent": True}
    resp = api("operator").post("/cases", json=body)
    assert resp.status_code == 201, resp.get_json()
    no = resp.get_json()["case_no"]
    with app.app_context():
        [row] = sms_rows("caller_receipt")
        assert row.template == "case_receipt" and row.params["case_no"] == no
    resp = api("operator").post("/cases", json={**body, "sms_consent": "yes"})
    assert resp.status_code == 422


def test_twilio_delivery_receipt_marks_the_outbox_row(app, line, users):
    with app.app_context():
        register()
        assert delivery.deliver_pending()["sent"] == 1
        [req] = line.http.requests
        assert req["data"]["StatusCallback"] == "https://hotline.example.org/twilio/sms/status"
        sid = sms_rows()[0].provider_id
    forged = line.post("/twilio/sms/status", {"MessageSid": sid, "MessageStatus": "delivered"}, signature="bad")
    assert forged.status_code == 403
    assert line.post("/twilio/sms/status", {"MessageSid": sid, "MessageStatus": "delivered"}).status_code == 204
    assert line.post("/twilio/sms/status", {"MessageSid": sid, "MessageStatus": "undelivered",
                                            "ErrorCode": "30003"}).status_code == 204  # late: delivered stays
    assert line.post("/twilio/sms/status", {"MessageSid": "SMunknown", "MessageStatus": "delivered"}).status_code == 204
    with app.app_context():
        row = sms_rows()[0]
        assert (row.delivery, row.delivered_at) == ("delivered", local(2026, 11, 30, 10))
