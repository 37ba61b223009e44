"""Journey 3, the supervisor (督办): the dashboard's figures move when the hotline works, every number
drills down to the cases behind it, an overdue case gets 督办, and the 台账 export opens as a workbook.

The operator's and handler's work between the two looks at the dashboard is done through the services
(their own journeys drive those pages); what is checked here is what the supervisor sees.
"""
from __future__ import annotations

from openpyxl import load_workbook
from selenium.webdriver.common.by import By

from conftest import DEFAULT_NOW, get_user, local
from hotline.cases import service as cases
from hotline.cases.models import Case
from hotline.extensions import db

PHONE_A, PHONE_B, PHONE_C = "13812345678", "13900001111", "13700002222"


def card(browser, key: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f'.card[data-figure="{key}"] [data-value]').text.strip()


def the_hotline_works(live_server) -> dict[str, str]:
    """A week ago one case was dispatched and never accepted; today one closed on the call, one answered."""
    app = live_server.app
    with app.app_context():
        operator, handler = get_user("operator"), get_user("handler")
        live_server.set_now(local(2026, 11, 23, 10, 0))
        late = cases.register(operator, {
            "type": "consult", "category": "wages", "summary": "公司拖欠三个月工资",
            "caller": {"phone": PHONE_A, "name": "王建国"}, "department": "legal_aid", "handler": "handler"})
        db.session.commit()
        live_server.set_now(DEFAULT_NOW)
        on_call = cases.register(operator, {
            "type": "consult", "category": "insurance", "summary": "社保断缴怎么补",
            "caller": {"phone": PHONE_B}, "resolved_on_call": True, "answer": "可到社保中心窗口补缴。"})
        answered = cases.register(operator, {
            "type": "legal_aid", "category": "contract", "summary": "未签劳动合同要求二倍工资",
            "caller": {"phone": PHONE_C}, "department": "legal_aid", "handler": "handler"})
        db.session.flush()
        cases.perform(handler, answered, "accept", answered.version, {})
        cases.perform(handler, answered, "reply", answered.version,
                      {"content": "可申请劳动仲裁，主张二倍工资差额。", "method": "phone"})
        cases.perform(operator, answered, "close", answered.version, {})
        db.session.commit()
        return {"late": late.case_no, "on_call": on_call.case_no, "answered": answered.case_no}


def test_dashboard_moves_drills_down_escalates_and_exports_the_ledger(
        browser, browser_at, live_server, users, login_as, wait, screenshot):
    login_as(browser, live_server, users["supervisor"])
    browser.get(live_server.url("/reports"))
    wait.text("统计报表", "h1")
    assert "2026-11-01至2026-11-30" in browser.find_element(By.CSS_SELECTOR, ".page-head .hint").text
    assert card(browser, "registered") == "0"
    assert card(browser, "closure_rate") == "—"
    assert "没有超期工单" in browser.find_element(By.CSS_SELECTOR, ".overdue-board").text

    numbers = the_hotline_works(live_server)
    browser.refresh()
    wait.text("统计报表", "h1")
    assert card(browser, "registered") == "3"
    assert card(browser, "closure_rate") == "66.7%"   # 2 closed of 3
    assert card(browser, "first_contact_rate") == "33.3%"  # 1 closed on the call
    assert card(browser, "overdue_open") == "1"
    assert card(browser, "on_time_rate") == "100.0%"
    board = browser.find_element(By.CSS_SELECTOR, ".overdue-board")
    assert "1件工单超期" in board.text and numbers["late"] in board.text and "法律援助中心" in board.text
    screenshot(browser, "supervisor-01-dashboard")
    screenshot(browser, "supervisor-02-overdue-board", element=board)

    # Drill down: the headline number opens the three cases it counts.
    browser.find_element(By.CSS_SELECTOR, '.card[data-figure="registered"] a[data-value]').click()
    wait.url("/cases?")
    total = wait.css("strong.total")
    assert total.get_attribute("data-total") == "3"
    rows = browser.find_element(By.CSS_SELECTOR, "table.cases tbody").text
    assert all(no in rows for no in numbers.values())
    browser.back()
    wait.text("统计报表", "h1")

    # The overdue board's total opens the overdue list; the case page says it is overdue.
    browser.find_element(By.CSS_SELECTOR, "[data-board-total]").click()
    wait.url("overdue=1")
    assert wait.css("strong.total").get_attribute("data-total") == "1"
    screenshot(browser, "supervisor-03-overdue-list")
    browser.find_element(By.LINK_TEXT, numbers["late"]).click()
    wait.text(f"工单{numbers['late']}", "h1")
    assert "超期" in browser.find_element(By.CSS_SELECTOR, ".case-head .badges").text

    # 督办: open the action, type the instruction, send it with the keyboard.
    browser.find_element(By.CSS_SELECTOR, "#act-escalate summary").click()
    note = wait.css("#escalate-note")
    assert browser.switch_to.active_element == note  # the cursor is put in the opened action's first field
    note.send_keys("请今天下班前签收并联系来电人。")
    browser.find_element(By.CSS_SELECTOR, "#act-escalate button[type=submit]").click()
    wait.text(f"工单{numbers['late']}已督办", ".flashes")
    assert "已督办" in browser.find_element(By.CSS_SELECTOR, ".case-head .badges").text
    timeline = browser.find_element(By.CSS_SELECTOR, ".timeline").text
    assert "督办" in timeline and "请今天下班前签收并联系来电人。" in timeline
    screenshot(browser, "supervisor-04-escalated")
    with live_server.app.app_context():
        case = db.session.scalar(db.select(Case).where(Case.case_no == numbers["late"]))
        assert case.escalated and case.status == "assigned"

    # The 台账 of the month: Excel, opened as the supervisor would open it.
    browser.get(live_server.url("/reports"))
    exports = wait.css("section.exports")
    screenshot(browser, "supervisor-05-exports", element=exports)
    exports.find_element(By.LINK_TEXT, "Excel (.xlsx)").click()
    path = wait.download(".xlsx")
    assert path.name == "12351台账_2026-11-01_2026-11-30.xlsx"
    sheet = load_workbook(path, read_only=True)["台账"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:5] == ["工单编号", "登记时间", "渠道", "来电人", "电话"]  # the pages' words
    by_no = {r[0]: r for r in rows[1:]}
    assert set(by_no) == set(numbers.values())
    late = dict(zip(rows[0], by_no[numbers["late"]]))
    assert late["诉求摘要"] == "公司拖欠三个月工资" and late["承办部门"] == "法律援助中心"
    # The ledger leaves the building: callers are masked in it, whoever exports it.
    assert (late["来电人"], late["电话"]) == ("王*", "138****5678")
    blob = repr(rows)
    assert not any(secret in blob for secret in ("王建国", PHONE_A, PHONE_B, PHONE_C))
    assert dict(zip(rows[0], by_no[numbers["on_call"]]))["即时办结"] == "是"

    # On a phone: the same figures, one column, nothing to scroll sideways.
    browser_at(390, 844)
    browser.get(live_server.url("/reports"))
    wait.text("统计报表", "h1")
    assert card(browser, "registered") == "3"
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot(browser, "supervisor-06-phone")
