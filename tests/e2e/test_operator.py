"""Journey 1, the operator: log in, look up the caller, register a case closed on the call and one dispatched."""
from __future__ import annotations


def test_login_page_is_chinese_and_logs_in(browser, live_server, users, login_as, wait, screenshot):
    browser.get(live_server.url("/login"))
    wait.text("登录")
    assert browser.find_element("css selector", "html").get_attribute("lang") == "zh-CN"
    screenshot(browser, "operator-01-login")
    login_as(browser, live_server, users["operator"])
    wait.text("Operator")

