"""The administrator (管理员): a new handler account (refused without a department, then created), the
next year's holiday calendar entered so the warning on every page goes away and a deadline skips the
holidays and counts the make-up Sunday, and a failed SMS in the outbox sent again."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import get_user
from hotline.auth.models import User
from hotline.cases import service as cases
from hotline.extensions import db
from hotline.notify import delivery
from hotline.notify.models import Notice
from twilio_http import RecordingHttpClient, twilio_error

GAP_WARNING = "节假日日历缺少以下年份：2027"


@pytest.fixture
def twilio(app):
    """Twilio's REST API answered by a recording client: the first SMS is refused (bad number)."""
    client = RecordingHttpClient([twilio_error(400, 21211, "The 'To' number is not a valid phone number.")])
    app.config.update(TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="secret-token",
                      TWILIO_FROM="+15005550006", HOTLINE_PUBLIC_URL="https://hotline.example.org")
    app.extensions["twilio_http_client"] = client
    yield client
    app.extensions.pop("twilio_http_client", None)
    app.config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None, TWILIO_FROM=None, HOTLINE_PUBLIC_URL=None)


def test_users_then_next_years_calendar(browser, live_server, users, login_as, wait, screenshot):
    login_as(browser, live_server, users["admin"])
    browser.find_element(By.LINK_TEXT, "系统管理").click()
    wait.text("系统管理", "h1")
    # 2026-11-30: deadlines from today can reach 2027, which is not entered yet; every page says so.
    assert GAP_WARNING in browser.find_element(By.CSS_SELECTOR, ".flashes").text
    screenshot(browser, "admin-01-overview")

    # A new handler: refused without a department (nothing saved), created with one.
    browser.find_element(By.CSS_SELECTOR, "nav.subnav").find_element(By.LINK_TEXT, "用户").click()
    wait.css("#username").send_keys("zhaomin")
    browser.find_element(By.ID, "display_name").send_keys("赵敏")
    browser.find_element(By.ID, "phone").send_keys("139 0000 0009")
    browser.find_element(By.ID, "password").send_keys("女工部-2026-起步")
    browser.find_element(By.ID, "role-handler").click()
    browser.find_element(By.XPATH, "//button[normalize-space()='创建用户']").click()
    wait.text("承办人必须属于某个承办部门。", "main")
    assert browser.find_element(By.ID, "department").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "username").get_attribute("value") == "zhaomin"  # kept for the retry
    with live_server.app.app_context():
        assert db.session.scalar(db.select(User).where(User.username == "zhaomin")) is None
    Select(browser.find_element(By.ID, "department")).select_by_visible_text("女工部")
    browser.find_element(By.ID, "password").send_keys("女工部-2026-起步")  # a refused form never echoes it
    screenshot(browser, "admin-02-new-user")
    browser.find_element(By.XPATH, "//button[normalize-space()='创建用户']").click()
    wait.text("用户zhaomin已创建，现在即可登录。", ".flashes")
    row = browser.find_element(By.XPATH, "//table//tr[td/a[normalize-space()='zhaomin']]").text
    assert "赵敏" in row and "承办人" in row and "女工部" in row
    with live_server.app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "zhaomin"))
        assert user.department.code == "women" and set(user.roles) == {"handler"}

    # 2027's holidays as published: a holiday week and a make-up Sunday.
    browser.find_element(By.CSS_SELECTOR, "nav.subnav").find_element(By.LINK_TEXT, "节假日日历").click()
    year = wait.css("#year")
    assert year.get_attribute("value") == "2027"  # the page suggests the missing year
    browser.find_element(By.ID, "holidays").send_keys("2027-01-01 元旦\n2027-02-05..2027-02-11 春节")
    browser.find_element(By.ID, "makeup_days").send_keys("2027-02-14 春节调休")
    screenshot(browser, "admin-03-calendar")
    browser.find_element(By.XPATH, "//button[normalize-space()='录入该年']").click()
    wait.text("2027年已录入：工作日放假6天，调休上班1天。", ".flashes")
    assert "2027年日历" in browser.find_element(By.TAG_NAME, "h1").text
    assert GAP_WARNING not in browser.find_element(By.TAG_NAME, "body").text
    screenshot(browser, "admin-04-calendar-2027")

    # What a consultation registered on the eve of the holiday is given: 12 Feb, then the make-up Sunday.
    browser.find_element(By.CSS_SELECTOR, "nav.subnav").find_element(By.LINK_TEXT, "节假日日历").click()
    day = wait.css("#check_day")
    browser.execute_script("arguments[0].value = '2027-02-04'", day)  # date inputs type by locale
    Select(browser.find_element(By.ID, "check_type")).select_by_value("consult")
    browser.find_element(By.XPATH, "//button[normalize-space()='试算']").click()
    result = wait.css("p.result").text
    assert "2027-02-04 09:00登记的“问题咨询”工单（2个工作日），答复时限为2027-02-14 17:30" in result


def test_a_failed_sms_is_sent_again_from_the_outbox(browser, live_server, users, login_as, wait, screenshot,
                                                     twilio):
    with live_server.app.app_context():
        get_user("handler").phone = "+8613900000002"
        cases.register(get_user("operator"), {
            "type": "consult", "category": "wages", "summary": "公司拖欠工资",
            "caller": {"phone": "13812345678"}, "department": "legal_aid", "handler": "handler"})
        db.session.commit()
        assert delivery.deliver_pending()["failed"] == 1  # the delivery job met Twilio's refusal
        db.session.commit()

    login_as(browser, live_server, users["admin"])
    browser.find_element(By.LINK_TEXT, "短信发件箱").click()
    wait.text("短信发件箱", "h1")
    row = browser.find_element(By.CSS_SELECTOR, "table tbody tr.overdue")
    assert "发送失败" in row.text and "21211" in row.text and "139****0002" in row.text
    assert "发送失败 (1)" in browser.find_element(By.CSS_SELECTOR, "nav.row").text
    screenshot(browser, "admin-05-outbox-failed")
    row.find_element(By.XPATH, ".//button[normalize-space()='重发']").click()
    wait.text("短信将在几秒钟内重新发送。", ".flashes")
    assert "待发送" in browser.find_element(By.CSS_SELECTOR, "table tbody tr").text

    with live_server.app.app_context():
        assert delivery.deliver_pending()["sent"] == 1  # the next delivery run
        db.session.commit()
        sms = db.session.scalar(db.select(Notice).where(Notice.channel == "sms"))
        assert sms.status == "sent"
    browser.refresh()
    wait.text("已发送", "table tbody tr")
    assert len(twilio.requests) == 2 and twilio.requests[1]["data"]["To"] == "+8613900000002"
    screenshot(browser, "admin-06-outbox-sent")
