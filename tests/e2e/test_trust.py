"""Browser journey for issue 14: an administrator issues a digest token for the station, sees it once,
sees its last use, revokes it; and lifts a login lock a stranger caused."""
from __future__ import annotations

import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select


def _digest_feed(live_server, token: str) -> int:
    request = urllib.request.Request(live_server.url("/api/v1/digests/feed.atom"),
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as resp:  # noqa: S310  (the local test server)
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_admin_issues_and_revokes_a_digest_token(browser, live_server, users, login_as, wait, tmp_path):
    login_as(browser, live_server, users["admin"])
    browser.get(live_server.url("/admin/tokens"))
    wait.text("接口令牌与登录锁定", "h1")
    Select(browser.find_element(By.ID, "token-user")).select_by_value("producer")
    Select(browser.find_element(By.ID, "token-scope")).select_by_value("digest")
    days = browser.find_element(By.ID, "token-days")
    days.clear()
    days.send_keys("30")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/admin/tokens'] button[type=submit]").click()
    token = wait.css("#new-token").text
    assert token.startswith("hl_")
    assert _digest_feed(live_server, token) == 200
    browser.get(live_server.url("/admin/tokens"))
    wait.text("仅限节目稿", "main")
    assert token not in browser.page_source  # shown once only
    assert "从未" not in browser.find_element(By.CSS_SELECTOR, "main table tbody tr").text  # last use shown
    browser.find_element(By.XPATH, "//button[text()='吊销']").click()
    wait.text("已吊销", "main")
    assert _digest_feed(live_server, token) == 401
