"""Journey 1, the operator (接线员): log in, type the caller's number and see their history, register a case
closed on the call, then another one dispatched to a department. The case form is filled with the keyboard
only (Tab, arrows and the page's Alt shortcuts, Ctrl+Enter to save), as operators work with a headset on.
"""
from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select

from conftest import DEFAULT_NOW, local
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.templating import local_dt

CALLER = "13812345678"


def keys(browser, *sequence):
    """Type into whatever has the focus, as a keyboard would."""
    ActionChains(browser).send_keys(*sequence).perform()


def chord(browser, modifier, key):
    ActionChains(browser).key_down(modifier).send_keys(key).key_up(modifier).perform()


def focused(browser) -> str:
    return browser.switch_to.active_element.get_attribute("id")


def tab_to(browser, element_id: str, limit: int = 12):
    """Press Tab until `element_id` has the focus (bounded: a field never reached is a failure)."""
    for _ in range(limit):
        if focused(browser) == element_id:
            return
        keys(browser, Keys.TAB)
    assert focused(browser) == element_id, f"Tab never reached #{element_id}; focus is on #{focused(browser)}"


def choose_option(browser, select_id: str, label: str, limit: int = 20):
    """With the focus on a closed <select>, press ↓ until `label` is chosen (as a keyboard user does)."""
    select = browser.find_element(By.ID, select_id)
    for _ in range(limit):
        current = select.find_element(By.CSS_SELECTOR, "option:checked").text.strip()
        if current == label:
            return
        keys(browser, Keys.ARROW_DOWN)
    raise AssertionError(f"{label!r} never chosen in #{select_id} with the arrow keys")


def earlier_case(app, api):
    """The caller rang last Friday about unpaid wages; that case is still open in 法律援助中心."""
    from hotline.clock import set_now

    set_now(app, local(2026, 11, 27, 15, 20))
    resp = api("operator2").post("/cases", json={
        "channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资三个月，询问如何维权",
        "caller": {"phone": CALLER, "name": "王建国", "employer": "宏达电子厂", "district": "吴中区"},
        "department": "legal_aid"})
    set_now(app, DEFAULT_NOW)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["case_no"]


def test_operator_logs_two_calls_with_the_keyboard(browser, live_server, users, api, login_as, wait, screenshot):
    app = live_server.app
    earlier_no = earlier_case(app, api)

    browser.get(live_server.url("/login"))
    wait.text("登录", css="form")
    screenshot(browser, "operator-01-login")
    login_as(browser, live_server, users["operator"])

    # The operator lands on the logging page, the cursor already in the phone field.
    wait.text("来电登记", css="h1")
    assert focused(browser) == "phone"
    screenshot(browser, "operator-02-new-case")

    # ---- first call: the caller's history pops up as the number is typed
    keys(browser, CALLER)
    history = wait.text(f"{CALLER}有1件历史工单", css="#caller-history")
    assert earlier_no in history.text and "公司拖欠工资三个月" in history.text
    assert "1件在办" in history.text, history.text  # the earlier case is still open: maybe the same matter
    screenshot(browser, "operator-03-caller-history")

    # Alt+U takes name, employer and district from the earlier case; the cursor moves on to the type.
    chord(browser, Keys.ALT, "u")
    assert [browser.find_element(By.ID, f).get_attribute("value") for f in (
        "caller_name", "caller_employer", "caller_district")] == ["王建国", "宏达电子厂", "吴中区"]
    assert focused(browser) == "type-consult"
    chord(browser, Keys.ALT, "1")  # type 1: 问题咨询
    assert focused(browser) == "type-consult"
    assert browser.find_element(By.ID, "type-consult").is_selected()
    chord(browser, Keys.ALT, "c")
    assert focused(browser) == "category"
    choose_option(browser, "category", "劳动合同")
    chord(browser, Keys.ALT, "s")
    assert focused(browser) == "summary"
    keys(browser, "试用期被辞退，询问能否要求经济补偿", Keys.TAB, "入职两个月，试用期内被口头辞退，未签书面合同。")
    chord(browser, Keys.ALT, "8")  # closed on the call: the answer field appears
    assert browser.find_element(By.ID, "outcome-close").is_selected()
    answer = wait.css("#answer")
    tab_to(browser, "answer", limit=3)
    keys(browser, "已告知：未签书面劳动合同可主张二倍工资，建议先与公司协商，协商不成可申请劳动仲裁。")
    assert answer.get_attribute("value").startswith("已告知")
    screenshot(browser, "operator-04-closed-on-call-form")
    chord(browser, Keys.CONTROL, Keys.ENTER)

    flash = wait.text("已登记并即时办结", css=".flash")
    closed_no = browser.find_element(By.CSS_SELECTOR, "h1").text.removeprefix("工单").strip()
    assert closed_no in flash.text
    badges = browser.find_element(By.CSS_SELECTOR, ".badges").text
    assert "即时办结" in badges and "已办结" in badges, badges
    page = browser.find_element(By.ID, "main").text
    assert "王建国" in page and "宏达电子厂" in page and CALLER in page and "可申请劳动仲裁" in page
    screenshot(browser, "operator-05-closed-case")
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.case_no == closed_no))
        assert (case.status, case.resolved_on_call, case.type_code, case.caller_phone) == (
            "closed", True, "consult", "+86" + CALLER)
        assert case.registered_by.username == "operator" and case.category.code == "contract"

    # ---- second call: a help request dispatched to 法律援助中心 (no category first: refused, nothing saved)
    browser.get(live_server.url("/cases/new"))
    wait.text("来电登记", css="h1")
    assert focused(browser) == "phone"
    keys(browser, "0512-6552 0000")
    # A landline is shown as it is dialled, with its trunk 0 (not as an unknown 11-digit number).
    wait.text("051265520000没有历史工单：首次来电。", css="#caller-history")
    tab_to(browser, "caller_name")
    keys(browser, "刘芳")
    chord(browser, Keys.ALT, "2")  # type 2: 服务帮扶
    assert browser.find_element(By.ID, "type-help").is_selected()
    chord(browser, Keys.ALT, "s")
    keys(browser, "工伤认定后单位拒不支付停工留薪期工资")
    chord(browser, Keys.ALT, "9")  # dispatch: the department and handler fields appear
    assert browser.find_element(By.ID, "outcome-dispatch").is_selected()
    wait.css("#department")
    tab_to(browser, "department", limit=3)
    choose_option(browser, "department", "法律援助中心")
    keys(browser, Keys.TAB)
    assert focused(browser) == "handler"
    # Only the department's own handlers can be chosen (the others are hidden and disabled).
    handlers = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#handler option") if o.is_enabled()]
    assert any("李明" in h for h in handlers) and not any("陈静" in h for h in handlers), handlers
    chord(browser, Keys.CONTROL, Keys.ENTER)

    # Refused: the message says what is missing, the cursor is on it, what was typed is still there.
    wait.text("请选择类别。", css="[role=alert]")
    assert focused(browser) == "category"
    assert browser.find_element(By.ID, "summary").get_attribute("value") == "工伤认定后单位拒不支付停工留薪期工资"
    assert browser.find_element(By.ID, "outcome-dispatch").is_selected()
    assert browser.find_element(By.ID, "department").get_attribute("value") == "legal_aid"
    screenshot(browser, "operator-06-missing-category")
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Case)) == 2  # nothing half-saved

    choose_option(browser, "category", "工伤与职业病")
    chord(browser, Keys.CONTROL, Keys.ENTER)
    flash = wait.text("已登记并派至法律援助中心", css=".flash")
    dispatched_no = browser.find_element(By.CSS_SELECTOR, "h1").text.removeprefix("工单").strip()
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.case_no == dispatched_no))
        assert (case.status, case.department.code, case.handler, case.type_code) == (
            "assigned", "legal_aid", None, "help")
        assert case.category.code == "injury" and case.caller_phone == "+8651265520000"
        due = local_dt(case.reply_due_at)
    # The reply deadline the department must meet, shown in the message and on the case.
    assert f"答复时限为{due}" in flash.text
    facts = browser.find_element(By.CSS_SELECTOR, ".case-main").text
    assert due in facts and "051265520000" in facts
    assert due > "2026-12-04", due  # 5 working days for 服务帮扶, never earlier than 7 calendar days
    screenshot(browser, "operator-07-dispatched-case")
