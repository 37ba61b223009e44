"""Issue 17 journeys: every error of the registration form in one submit (and the keystrokes it takes), the
deadline as people say it in the handler's queue, the queue on a phone, and the dashboard's one overdue
figure. They also take the guide's screenshots of the queue, the dashboard and a case page at 1366×768 and
390×844."""
from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import local

CALLER = "13812345678"


class Keyboard:
    """Presses keys as a keyboard user does and counts them: a chord (Alt+S) or a special key is one; typed
    text is counted separately (it is the same in every version of the form)."""

    def __init__(self, browser):
        self.browser, self.keys, self.typed, self.submits = browser, 0, 0, 0

    def chord(self, modifier, key):
        ActionChains(self.browser).key_down(modifier).send_keys(key).key_up(modifier).perform()
        self.keys += 1

    def press(self, key, times=1):
        for _ in range(times):
            ActionChains(self.browser).send_keys(key).perform()
        self.keys += times

    def type(self, text):
        ActionChains(self.browser).send_keys(text).perform()
        self.typed += len(text)

    def submit(self):
        self.chord(Keys.CONTROL, Keys.ENTER)
        self.submits += 1


def focused(browser) -> str:
    return browser.switch_to.active_element.get_attribute("id")


def invalid_fields(browser) -> set[str]:
    out = set()
    for el in browser.find_elements(By.CSS_SELECTOR, "[aria-invalid=true]"):
        out.add(el.get_attribute("name") or ("type" if el.get_attribute("role") == "radiogroup" else el.get_attribute("id")))
    return out


def choose(kb, browser, select_id, label, limit=20):
    select = browser.find_element(By.ID, select_id)
    for _ in range(limit):
        if select.find_element(By.CSS_SELECTOR, "option:checked").text.strip() == label:
            return
        kb.press(Keys.ARROW_DOWN)
    raise AssertionError(f"{label!r} never chosen in #{select_id}")


def test_new_caller_with_two_forgotten_fields_takes_two_submits(browser, live_server, users, login_as, wait,
                                                                 screenshot, capsys):
    login_as(browser, live_server, users["operator"])
    wait.text("来电登记", css="h1")

    # An empty form: one submit names every missing field, each marked and explained beside it.
    kb = Keyboard(browser)
    kb.submit()
    wait.text("有4项需要更正", css="#error-summary")
    assert invalid_fields(browser) == {"phone", "type", "category", "summary"}
    for name in ("phone", "category", "summary"):
        assert browser.find_element(By.ID, f"err-{name}").is_displayed()
    assert focused(browser) == "phone"  # the first field in error
    assert browser.find_element(By.ID, "summary").get_attribute("required") == "true"
    screenshot(browser, "operator-10-all-errors-at-once")

    # A new caller, the category and the summary forgotten: the second submit saves.
    browser.get(live_server.url("/cases/new"))
    wait.text("来电登记", css="h1")
    kb = Keyboard(browser)
    kb.type("13955556666")
    kb.chord(Keys.ALT, "1")  # 问题咨询
    kb.submit()
    wait.text("有2项需要更正", css="#error-summary")
    assert invalid_fields(browser) == {"category", "summary"}
    assert focused(browser) == "category"
    choose(kb, browser, "category", "工资报酬/欠薪")
    kb.chord(Keys.ALT, "s")
    kb.type("公司拖欠两个月工资")
    kb.submit()
    wait.text("已登记", css=".flashes")
    new_caller = (kb.keys, kb.typed, kb.submits)

    # The same caller again, about the same matter: Alt+N adds what was typed to the open case.
    browser.get(live_server.url(f"/cases/new?phone=13955556666"))
    wait.text("改为在", css="#caller-history")
    kb = Keyboard(browser)
    assert focused(browser) == "caller_name"  # not the pre-filled phone
    kb.chord(Keys.ALT, "s")
    kb.type("再次来电，仍未发工资")
    kb.chord(Keys.ALT, "n")
    wait.text("已为工单", css=".flashes")
    assert "再次来电，仍未发工资" in browser.find_element(By.CSS_SELECTOR, ".timeline").text
    repeat_note = (kb.keys, kb.typed, 1)
    with capsys.disabled():
        print(f"\nkeystrokes (keys, typed characters, submits): new caller with two forgotten fields "
              f"{new_caller}; repeat caller, note on the open case {repeat_note}")
    assert new_caller[2] == 2 and repeat_note[0] == 2


def test_save_is_in_reach_on_a_768_pixel_screen(browser, live_server, users, login_as, wait):
    login_as(browser, live_server, users["operator"])
    wait.text("来电登记", css="h1")
    button = browser.find_element(By.CSS_SELECTOR, ".sticky-actions button[type=submit]")
    bottom = browser.execute_script("return arguments[0].getBoundingClientRect().bottom", button)
    assert bottom <= browser.execute_script("return window.innerHeight"), "保存工单 below the fold"


def test_deadlines_in_working_days_on_the_queue_the_case_and_the_dashboard(
        browser, browser_at, live_server, users, api, login_as, wait, screenshot):
    app = live_server.app
    # Monday 09:00: one case dispatched to 李明, one to the department, one accepted by 李明.
    live_server.set_now(local(2026, 11, 30, 9, 0))
    made = []
    for summary, handler, type_ in (("拖欠四个月工资，申请法律援助", "handler", "legal_aid"),
                                    ("被迫离职后公司不出具离职证明", None, "consult"),
                                    ("加班费计算方式咨询", "handler", "consult")):
        body = {"channel": "hotline", "type": type_, "category": "wages", "summary": summary,
                "caller": {"phone": CALLER, "name": "赵大勇"}, "department": "legal_aid"}
        if handler:
            body["handler"] = handler
        resp = api("operator").post("/cases", json=body)
        assert resp.status_code == 201, resp.get_json()
        made.append(resp.get_json())
    resp = api("handler").post(f"/cases/{made[2]['case_no']}/accept", json={"version": made[2]["version"]})
    assert resp.status_code == 200
    # Wednesday 10:00: the dispatched ones are a working day late on acceptance; the accepted one is due today.
    live_server.set_now(local(2026, 12, 2, 10, 0))
    login_as(browser, live_server, users["handler"])
    wait.text("我的工单", css="h1")
    table = browser.find_element(By.CSS_SELECTOR, "table.cases").text
    assert "签收 周二 12-01 17:30 · 已超期1个工作日" in table, table
    assert "答复 周三 12-02 17:30 · 剩7小时" in table, table
    rows = browser.find_elements(By.CSS_SELECTOR, "table.cases tbody tr")
    assert made[0]["case_no"] in rows[0].text  # the longest overdue first
    screenshot(browser, "handler-10-queue-working-days")
    browser.get(live_server.url(f"/cases/{made[0]['case_no']}"))
    wait.text("签收时限", css=".facts")
    assert "已超期1个工作日" in browser.find_element(By.CSS_SELECTOR, ".case-main").text
    screenshot(browser, "handler-11-case-deadlines")

    # The same at phone width: the queue fits without sideways scrolling, the menu collapses.
    browser_at(390, 844)
    browser.get(live_server.url("/cases/queue"))
    wait.text("我的工单", css="h1")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    menu = browser.find_element(By.CSS_SELECTOR, "details.menu")
    assert menu.get_attribute("open") is None
    assert browser.find_element(By.CSS_SELECTOR, ".topbar").size["height"] < 70
    screenshot(browser, "handler-12-queue-phone")
    browser.find_element(By.CSS_SELECTOR, "details.menu > summary").click()
    for link in browser.find_elements(By.CSS_SELECTOR, ".topbar nav a, .who a"):
        lines = browser.execute_script("return arguments[0].getClientRects().length", link)
        assert lines == 1 and link.size["height"] < 30, link.text  # no "通/知"
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    screenshot(browser, "handler-13-menu-phone")
    browser.get(live_server.url(f"/cases/{made[0]['case_no']}"))
    wait.text("签收时限", css=".facts")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    screenshot(browser, "handler-14-case-phone", full_page=True)


def test_dashboard_one_overdue_figure_with_its_scope(browser, browser_at, live_server, users, api, login_as, wait,
                                                      screenshot):
    live_server.set_now(local(2026, 10, 20, 9, 0))
    for summary in ("十月的欠薪投诉", "十月的劳动合同咨询"):
        resp = api("operator").post("/cases", json={"channel": "hotline", "type": "consult", "category": "wages",
                                                    "summary": summary, "caller": {"phone": CALLER},
                                                    "department": "legal_aid"})
        assert resp.status_code == 201
    live_server.set_now(local(2026, 12, 2, 10, 0))
    login_as(browser, live_server, users["supervisor"])
    wait.text("统计报表", css="h1")  # supervisors land on the dashboard
    card = browser.find_element(By.CSS_SELECTOR, ".card[data-figure=overdue_open]")
    assert card.find_element(By.CSS_SELECTOR, "[data-value]").text == "2"
    assert "不限登记日期" in card.text
    assert browser.find_element(By.CSS_SELECTOR, "[data-board-total]").text.startswith("2")
    screenshot(browser, "supervisor-10-dashboard-overdue")
    browser_at(390, 844)
    browser.get(live_server.url("/reports"))
    wait.text("统计报表", css="h1")
    screenshot(browser, "supervisor-11-dashboard-phone")
