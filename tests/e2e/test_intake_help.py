"""Journey: while the operator types the summary, the suggestion panel shows the knowledge base's answer,
a suggested type, category and department, the caller's employer's other recent callers (群体性预警); nothing
is filled in until the operator presses 使用此答复, which fills the answer and links the article to the case."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.knowledge.models import Article, ArticleUse


def test_operator_uses_a_suggested_answer(live_server, browser, users, login_as, wait, screenshot, api):
    for i, name in enumerate(("恒力纺织有限公司", "吴江恒力纺织公司")):
        assert api("operator2").post("/cases", json={
            "channel": "hotline", "type": "complaint", "category": "wages", "summary": "恒力纺织拖欠工资两个月",
            "caller": {"phone": f"1390000000{i}", "employer": name}}).status_code == 201
    login_as(browser, live_server, users["operator"])
    browser.get(live_server.url("/cases/new"))
    browser.find_element(By.ID, "phone").send_keys("13812345678")
    browser.find_element(By.ID, "caller_employer").send_keys("恒力纺织")
    browser.find_element(By.ID, "summary").send_keys("老板拖欠工资三个月不发，怎么办")
    article = wait.text("单位拖欠工资怎么办", css="#suggest-panel .suggest-article h4")
    wait.text("群体性预警", css="#suggest-panel")
    wait.text("工资报酬/欠薪", css="#suggest-panel .suggest-choices")
    # Suggested, not filled in: the operator decides.
    assert browser.find_element(By.ID, "answer").get_attribute("value") == ""
    assert browser.find_element(By.ID, "category").get_attribute("value") == ""
    screenshot(browser, "operator-suggestions", full_page=True)
    box = article.find_element(By.XPATH, "./..")
    box.find_element(By.CSS_SELECTOR, "button").click()
    answer = browser.find_element(By.ID, "answer")
    assert answer.get_attribute("value").startswith("工资应当以货币形式按月支付")
    assert browser.find_element(By.ID, "outcome-close").is_selected()
    browser.find_element(By.CSS_SELECTOR, "#suggest-panel .suggest-choices button[data-field='category']").click()
    assert browser.find_element(By.ID, "category").get_attribute("value") == "wages"
    browser.find_element(By.ID, "type-consult").click()
    browser.find_element(By.CSS_SELECTOR, "#case-form button[type=submit]").click()
    wait.until(lambda d: "/cases/new" not in d.current_url, "the case was not saved")
    with live_server.app.app_context():
        [use] = db.session.scalars(select(ArticleUse))
        assert db.session.get(Article, use.article_id).title == "单位拖欠工资怎么办"
        case = db.session.get(Case, use.case_id)
        assert case.status == "closed" and case.answer.startswith("工资应当以货币形式按月支付")
