"""Journey 2, the handler (承办人) in 法律援助中心: the new cases are in the queue with their deadlines; accept one,
reply to the caller; acting on a page someone else has changed meanwhile gives a clear conflict message,
saves nothing, and keeps what was typed.
"""
from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.templating import local_dt


def register(api, summary, handler=None, **extra):
    body = {"channel": "hotline", "type": "legal_aid", "category": "wages", "summary": summary,
            "caller": {"phone": "13912345678", "name": "赵大勇", "employer": "新程物流"},
            "detail": "在公司工作三年，近四个月工资未发，公司以经营困难为由拖延。", "department": "legal_aid", **extra}
    if handler:
        body["handler"] = handler
    resp = api("operator").post("/cases", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def load(app, case_no) -> Case:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.case_no == case_no))
        db.session.expunge(case)
        return case


def row_of(browser, case_no):
    return browser.find_element(By.XPATH, f"//table[contains(@class,'cases')]//tr[.//a[text()='{case_no}']]")


def test_handler_accepts_replies_and_meets_stale_pages(browser, live_server, users, api, login_as, wait, screenshot):
    app = live_server.app
    mine = register(api, "拖欠四个月工资，申请法律援助", handler="handler")
    other = register(api, "被迫离职后公司不出具离职证明", type="consult", category="contract")
    mine_case, other_case = load(app, mine["case_no"]), load(app, other["case_no"])

    # ---- the queue: my case with its deadlines, and the department's
    login_as(browser, live_server, users["handler"])
    wait.text("我的工单", css="h1")
    tab = browser.find_element(By.ID, "tab-mine")
    assert tab.get_attribute("aria-selected") == "true" and "1" in tab.text
    row = row_of(browser, mine["case_no"])
    cells = row.text
    assert "拖欠四个月工资，申请法律援助" in cells and "已派单" in cells
    # Dispatched: the acceptance clock runs, with the working time left (issue 17).
    accept_due = local_dt(mine_case.accept_due_at, "%m-%d %H:%M")
    assert f"签收 周二 {accept_due} · 剩1个工作日" in cells, (accept_due, cells)
    screenshot(browser, "handler-01-queue")

    # Alt+2: the department's cases, the colleague-less one among them.
    ActionChains(browser).key_down(Keys.ALT).send_keys("2").key_up(Keys.ALT).perform()
    wait.until(lambda d: d.find_element(By.ID, "tab-department").get_attribute("aria-selected") == "true",
               "Alt+2 did not open the department tab")
    dept_row = wait.text(other["case_no"], css="table.cases")
    assert "被迫离职后公司不出具离职证明" in dept_row.text
    screenshot(browser, "handler-02-department-queue")

    # ---- a stale queue: 孙伟 accepts that case while 李明 still has the queue open
    resp = api("handler_b").post(f"/cases/{other['case_no']}/accept", json={"version": other["version"]})
    assert resp.status_code == 200, resp.get_json()
    row_of(browser, other["case_no"]).find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    alert = wait.text("已被他人修改", css="[role=alert]")
    assert other["case_no"] in alert.text and "本页现已显示工单的最新内容" in alert.text
    assert "孙伟" in alert.text and "已签收" in alert.text, alert.text  # who changed it, and how
    # The page shows the case as it is now: taken by 孙伟, nothing left for 李明 to accept.
    assert "孙伟" in browser.find_element(By.CSS_SELECTOR, ".case-main").text
    assert not browser.find_elements(By.CSS_SELECTOR, "button[data-action=accept]")
    screenshot(browser, "handler-03-conflict-accept")
    with app.app_context():  # only 孙伟's acceptance is stored
        after = db.session.scalar(select(Case).where(Case.case_no == other["case_no"]))
        assert (after.status, after.handler.username, after.version) == ("accepted", "handler_b", other["version"] + 1)

    # ---- my case: open it from the queue, accept it
    browser.get(live_server.url("/cases/queue"))
    wait.text("我的工单", css="h1")
    row_of(browser, mine["case_no"]).find_element(By.LINK_TEXT, mine["case_no"]).click()
    wait.text(f"工单{mine['case_no']}", css="h1")
    page = browser.find_element(By.CSS_SELECTOR, ".case-main").text
    assert "新程物流" in page and "13912345678" in page and local_dt(mine_case.reply_due_at) in page
    screenshot(browser, "handler-04-case")
    browser.find_element(By.CSS_SELECTOR, "button[data-action=accept]").click()
    wait.text(f"工单{mine['case_no']}已签收。", css=".flash")
    assert "已签收" in browser.find_element(By.CSS_SELECTOR, ".badges").text

    # ---- reply: the form is open, the keyboard goes there; a supervisor escalates meanwhile
    reply = wait.css("#reply-content")
    reply.click()
    text = "已联系公司人事，公司承诺本月25日前补发全部欠薪；如未兑现，中心将代为申请劳动仲裁。"
    ActionChains(browser).send_keys(text).perform()
    screenshot(browser, "handler-05-reply-form")
    accepted = load(app, mine["case_no"])
    resp = api("supervisor").post(f"/cases/{mine['case_no']}/escalate",
                                  json={"version": accepted.version, "note": "请本周内答复来电人"})
    assert resp.status_code == 200, resp.get_json()
    ActionChains(browser).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()

    alert = wait.text("已被他人修改", css="[role=alert]")
    assert "赵国华" in alert.text and "已督办" in alert.text, alert.text
    assert "已督办" in browser.find_element(By.CSS_SELECTOR, ".badges").text
    # What was typed is still there, and nothing was saved.
    assert browser.find_element(By.ID, "reply-content").get_attribute("value") == text
    assert load(app, mine["case_no"]).status == "accepted"
    screenshot(browser, "handler-06-conflict-reply")

    # Checked the change; send again (the form now carries the current version).
    browser.find_element(By.ID, "reply-content").click()
    ActionChains(browser).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    wait.text(f"工单{mine['case_no']}的答复已登记。", css=".flash")
    assert "已答复" in browser.find_element(By.CSS_SELECTOR, ".badges").text
    assert text in browser.find_element(By.CSS_SELECTOR, ".timeline").text
    screenshot(browser, "handler-07-replied")
    done = load(app, mine["case_no"])
    assert (done.status, done.reply_method, done.escalated) == ("replied", "phone", True)

    # The queue no longer lists a replied case.
    browser.get(live_server.url("/cases/queue?tab=mine"))
    wait.text("我的工单", css="h1")
    assert mine["case_no"] not in browser.find_element(By.ID, "main").text
