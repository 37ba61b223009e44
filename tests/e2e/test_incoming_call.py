"""Journey 5, a call comes in: Twilio's webhook (signed with the auth token, posted over HTTP to the running
server) makes the call pop up on the operator's logging page within a poll (2 s), without a reload and without
losing what the operator is typing; a caller who hangs up leaves the list; the operator takes the call with
the keyboard (Alt+A), logs the case linked to it, and the call's times land on the case when Twilio reports the end.
"""
from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from conftest import local
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.telephony.models import Call
from twilio_http import RecordingHttpClient

TOKEN = "e2e-auth-token"
PUBLIC = "https://hotline.example.org"  # the URL configured at Twilio: what the signature covers
ACCOUNT = "AC" + "1" * 32
CALLER = "+8613812345678"
HOTLINE = "+8651212351"
POLL = 8  # seconds to wait for the page: a few 2-second polls


@pytest.fixture
def twilio(live_server):
    """Posts webhooks to the live server as Twilio does: form-encoded, signed for the public URL."""
    app = live_server.app
    http = RecordingHttpClient()  # the real twilio Client's SMS requests are recorded, never sent
    app.config.update(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_FROM="+15005550006",
                      TWILIO_MESSAGING_SERVICE_SID=None, HOTLINE_PUBLIC_URL=PUBLIC)
    app.extensions["twilio_http_client"] = http

    def post(path: str, params: dict) -> str:
        params = {k: str(v) for k, v in params.items()}
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
        request = urllib.request.Request(live_server.url(path), data=urllib.parse.urlencode(params).encode(),
                                         headers={"X-Twilio-Signature": signature}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:  # 127.0.0.1 only
            assert response.status in (200, 204)
            return response.read().decode()

    yield post
    app.extensions.pop("twilio_http_client", None)
    app.config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None, TWILIO_FROM=None, HOTLINE_PUBLIC_URL=None)


def ring(twilio, sid, caller):
    return twilio("/twilio/voice", {"CallSid": sid, "AccountSid": ACCOUNT, "From": caller, "To": HOTLINE,
                                    "CallStatus": "ringing", "Direction": "inbound"})


def test_an_incoming_call_pops_up_without_a_reload(browser, live_server, users, api, twilio, login_as, wait,
                                                   screenshot):
    app = live_server.app
    earlier = api("operator2").post("/cases", json={
        "channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资三个月，询问如何维权",
        "caller": {"phone": CALLER, "name": "王建国"}, "department": "legal_aid"})
    assert earlier.status_code == 201
    earlier_no = earlier.get_json()["case_no"]

    login_as(browser, live_server, users["operator"])
    wait.text("来电登记", css="h1")
    wait.text("实时更新中", css="[data-live-state]")  # the panel is polling
    assert browser.find_element(By.CSS_SELECTOR, "[data-live-empty]").text == "没有等待中的来电。"
    # The operator is in the middle of something: a reload would lose it.
    browser.execute_script("window.e2eSamePage = 'yes';")
    browser.find_element(By.ID, "detail").send_keys("上一通电话的笔记")

    # ---- two calls come in; one caller hangs up while waiting
    assert "<Enqueue" in ring(twilio, "CA1", CALLER)
    ring(twilio, "CA2", "+8613600001111")
    first = wait.text("13812345678", css="[data-live-list] [data-sid=CA1]", timeout=POLL)
    wait.css("[data-live-list] [data-sid=CA2]", timeout=POLL)
    assert "等待" in first.text and "接听" in first.text
    assert "历史工单: 1" in first.text and "1 件在办" in first.text, first.text  # what the pop-up knows
    assert earlier_no in first.find_element(By.CSS_SELECTOR, "a").text
    assert not browser.find_element(By.CSS_SELECTOR, "[data-live-empty]").is_displayed()
    assert browser.execute_script("return window.e2eSamePage") == "yes", "the page was reloaded"
    assert browser.find_element(By.ID, "detail").get_attribute("value") == "上一通电话的笔记"
    screenshot(browser, "call-01-incoming")

    # Twilio reports a hang-up twice: the queue's action, then the call's final status.
    twilio("/twilio/voice/queue", {"CallSid": "CA2", "QueueResult": "hangup", "QueueTime": "20", "QueueSid": "QU1"})
    twilio("/twilio/voice/status", {"CallSid": "CA2", "CallStatus": "completed", "CallDuration": "25"})
    wait.gone("[data-live-list] [data-sid=CA2]", timeout=POLL)
    assert browser.find_elements(By.CSS_SELECTOR, "[data-live-list] [data-sid=CA1]")
    assert browser.execute_script("return window.e2eSamePage") == "yes", "the page was reloaded"

    # ---- take the call with the keyboard: the case form opens linked to it, the number filled in
    live_server.set_now(local(2026, 11, 30, 10, 0, 9))
    # Alt+A answers the call that has waited longest, wherever the cursor is in the form.
    assert "接听等待最久的来电" in browser.find_element(By.CSS_SELECTOR, ".keys").text
    ActionChains(browser).key_down(Keys.ALT).send_keys("a").key_up(Keys.ALT).perform()
    wait.url("call=CA1")
    wait.text("本工单将关联您接听的来电", css="#case-form")
    assert browser.find_element(By.ID, "phone").get_attribute("value") == "13812345678"  # as operators type it
    wait.text("1件历史工单", css="#caller-history")
    wait.text("本表单已关联此来电。", css="[data-sid=CA1]", timeout=POLL)
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.call_sid == "CA1"))
        assert (call.status, call.operator.username, call.wait_seconds) == ("in_progress", "operator", 9)

    ActionChains(browser).key_down(Keys.ALT).send_keys("1").key_up(Keys.ALT).perform()
    ActionChains(browser).key_down(Keys.ALT).send_keys("c").key_up(Keys.ALT).perform()
    ActionChains(browser).send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN).perform()  # 工资报酬/欠薪
    ActionChains(browser).key_down(Keys.ALT).send_keys("s").key_up(Keys.ALT).perform()
    ActionChains(browser).send_keys("再次来电询问欠薪进展").perform()
    screenshot(browser, "call-02-taken")
    ActionChains(browser).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    wait.text("已登记", css=".flash")
    case_no = browser.find_element(By.CSS_SELECTOR, "h1").text.removeprefix("工单").strip()
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.case_no == case_no))
        call = db.session.scalar(select(Call).where(Call.call_sid == "CA1"))
        assert call.case_id == case.id and case.category.code == "wages" and case.caller_phone == CALLER

    # ---- the caller hangs up: Twilio reports the end, the waiting and talk time go on the case
    live_server.set_now(local(2026, 11, 30, 10, 3, 9))
    twilio("/twilio/voice/queue", {"CallSid": "CA1", "QueueResult": "bridged", "QueueTime": "9", "QueueSid": "QU1"})
    twilio("/twilio/voice/status", {"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "189"})
    browser.refresh()
    timeline = wait.text("电话来电", css=".timeline")
    assert "等待时长（秒）： 9" in timeline.text and "通话时长（秒）： 180" in timeline.text, timeline.text
    assert "CA1" not in timeline.text  # no raw call id (issue 17)
    screenshot(browser, "call-03-case-with-call")
