"""Browser journeys: the real app served on 127.0.0.1, driven by Debian's Chromium through Selenium.

Fixtures
  live_server   the test `app` (both backends, DB reset, clock pinned) served by werkzeug in a thread;
                .url(path), .app, .set_now(dt), .errors (exceptions raised while serving)
  browser       one headless Chromium per session, cookies cleared and window reset for every test
  browser_at    browser_at(390, 844): resize the window (phone width); reset after the test
  users         the root fixture's users (same usernames, PASSWORD) with Chinese display names (DISPLAY_NAMES)
  login_as      login_as(browser, live_server, "operator", lang="zh"): the real login form
  screenshot    screenshot(browser, "operator-01-login"): docs/guide/img/<name>.png (SQLite run only)
  wait          wait.css(sel), wait.text("…"), wait.gone(sel), wait.url("/cases"), wait.until(fn)

The binaries are the system ones (/usr/bin/chromium, /usr/bin/chromedriver; HOTLINE_CHROMIUM and
HOTLINE_CHROMEDRIVER override): Selenium Manager is never asked to download a browser or a driver.
If they are missing the tests FAIL with the command that installs them (`make browser`): a CI run
without a browser must not look green.

On any failure the page is kept: test-output/e2e-failures/<test>.png and .html (CI artefacts).
"""
from __future__ import annotations

import base64
import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from conftest import PASSWORD
from hotline.clock import set_now

# Belt and braces: even if a driver path were missing, Selenium Manager must not go online.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GUIDE_IMG = ROOT / "docs" / "guide" / "img"
FAILURES = ROOT / "test-output" / "e2e-failures"
CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HOTLINE_CHROMEDRIVER", "/usr/bin/chromedriver")
DESKTOP = (1366, 768)
PHONE = (390, 844)
TIMEOUT = float(os.environ.get("HOTLINE_E2E_TIMEOUT", "10"))
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--lang=zh-CN"]


# ---------------------------------------------------------------- the server

class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request would drown the failure output
        pass


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.errors: list[str] = []
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="e2e-live-server", daemon=True)
        self._thread.start()

    def _wsgi(self, environ, start_response):
        # TESTING propagates exceptions; keep them so the test fails with the server's traceback.
        try:
            return self.app.wsgi_app(environ, start_response)
        except Exception:
            import traceback

            self.errors.append(f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}\n"
                               + traceback.format_exc())
            raise

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path if path.startswith('/') else '/' + path}"

    def set_now(self, moment) -> None:
        set_now(self.app, moment)

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()
    if server.errors:
        pytest.fail("the live server raised while serving:\n" + "\n".join(server.errors), pytrace=False)


# ---------------------------------------------------------------- the browser

def _missing_browser_message() -> str | None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (os.path.isfile(p) and os.access(p, os.X_OK))]
    if not missing:
        return None
    return ("e2e tests need Debian's Chromium and its driver, not found: " + ", ".join(missing)
            + ". Install them with `make browser` (apt-get install chromium chromium-driver fonts-wqy-zenhei),"
            " or point HOTLINE_CHROMIUM / HOTLINE_CHROMEDRIVER at them.")


@pytest.fixture(scope="session")
def _chromium():
    problem = _missing_browser_message()
    if problem:
        pytest.fail(problem, pytrace=False)
    # The failure pages of this run only: an old one left over would send the reader after a fixed bug.
    if FAILURES.is_dir():
        for old in FAILURES.iterdir():
            old.unlink()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    # Downloads (exports, digests) land in a folder the test can open.
    downloads = ROOT / "test-output" / "e2e-downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False,
                                              "intl.accept_languages": "zh-CN,zh"})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    except WebDriverException as exc:
        pytest.fail(f"Chromium did not start ({CHROMIUM} with {CHROMEDRIVER}): {exc.msg}", pytrace=False)
    driver.downloads_dir = downloads
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def size_viewport(driver, width: int, height: int) -> None:
    """Make the page's viewport (what the user sees) width×height; headless new keeps room for window chrome."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    if inner != [width, height]:
        driver.set_window_size(width + width - inner[0], height + height - inner[1])


@pytest.fixture
def browser(_chromium, live_server):
    """The session's Chromium, blank: no cookies (they are per host, not per port), desktop size."""
    driver = _chromium
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    size_viewport(driver, *DESKTOP)
    for old in driver.downloads_dir.iterdir():
        old.unlink()
    yield driver
    # Stop the last page's polling before the next test resets the database.
    try:
        driver.get("about:blank")
    except WebDriverException:
        pass


@pytest.fixture
def browser_at(browser):
    """browser_at(390, 844) -> the browser resized (the viewport, not the outer window)."""

    def resize(width: int, height: int):
        size_viewport(browser, width, height)
        return browser

    yield resize
    size_viewport(browser, *DESKTOP)


# ---------------------------------------------------------------- waiting

class Wait:
    """Explicit waits on what the user would see; never time.sleep."""

    def __init__(self, driver, timeout: float = TIMEOUT):
        self.driver = driver
        self.timeout = timeout

    def until(self, condition, message: str = "", timeout: float | None = None):
        return WebDriverWait(self.driver, timeout or self.timeout, poll_frequency=0.1).until(condition, message)

    def css(self, selector: str, timeout: float | None = None, visible: bool = True):
        cond = (EC.visibility_of_element_located if visible else EC.presence_of_element_located)(
            (By.CSS_SELECTOR, selector))
        return self.until(cond, f"no {'visible ' if visible else ''}element {selector!r}", timeout)

    def text(self, text: str, css: str = "body", timeout: float | None = None):
        """Wait until `text` is shown inside the first element matching `css`; returns that element."""
        def shown(d):
            for el in d.find_elements(By.CSS_SELECTOR, css):
                try:
                    if text in el.text:
                        return el
                except WebDriverException:  # replaced while reading (polling pages)
                    return False
            return False
        try:
            return self.until(shown, timeout=timeout)
        except TimeoutException:
            seen = " | ".join(e.text[:300] for e in self.driver.find_elements(By.CSS_SELECTOR, css)[:3])
            raise TimeoutException(f"{text!r} not shown in {css!r} within {timeout or self.timeout}s; "
                                   f"it shows: {seen!r}") from None

    def gone(self, selector: str, timeout: float | None = None):
        return self.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, selector)),
                          f"{selector!r} still visible", timeout)

    def url(self, part: str, timeout: float | None = None):
        self.until(EC.url_contains(part), f"URL never contained {part!r}", timeout)
        return self.driver.current_url

    def download(self, suffix: str, timeout: float = 15.0):
        """The finished download ending in `suffix` (Chromium writes a .crdownload file first)."""
        folder = self.driver.downloads_dir

        def finished(_driver):
            names = list(folder.iterdir())
            done = [p for p in names if p.name.endswith(suffix)]
            return done[0] if done and not any(p.name.endswith(".crdownload") for p in names) else False
        return self.until(finished, f"no *{suffix} download in {folder}", timeout)


@pytest.fixture
def wait(browser):
    return Wait(browser)


# ---------------------------------------------------------------- users with Chinese names

# The guide's screenshots show the names staff really have; the usernames stay those of the root fixture.
DISPLAY_NAMES = {"operator": "张丽", "operator2": "王芳", "handler": "李明", "handler_b": "孙伟",
                 "other_handler": "陈静", "producer": "周晓", "supervisor": "赵国华", "admin": "管理员"}


@pytest.fixture
def users(users, app):
    """The root `users` (one per role, password PASSWORD), renamed to Chinese display names."""
    from conftest import get_user
    from hotline.extensions import db

    with app.app_context():
        for username, name in DISPLAY_NAMES.items():
            get_user(username).display_name = name
        db.session.commit()
    return users


# ---------------------------------------------------------------- logging in

LANG_PARAM = {"zh": "zh_Hans_CN", "en": "en"}


def do_login(browser, live_server, username: str, lang: str = "zh", password: str = PASSWORD):
    browser.get(live_server.url(f"/login?lang={LANG_PARAM.get(lang, lang)}"))
    wait = Wait(browser)
    field = wait.css("#username")
    field.clear()
    field.send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(lambda d: "/login" not in d.current_url, f"still on the login page after logging in {username}")
    return browser


@pytest.fixture
def login_as():
    """login_as(browser, live_server, "handler", lang="zh"); the users come from the root `users` fixture."""
    return do_login


# ---------------------------------------------------------------- screenshots

@pytest.fixture
def screenshot(backend_name):
    """screenshot(browser, "operator-01-login"[, element][, full_page=True]) -> docs/guide/img/<name>.png.

    Written by the SQLite run only, so each image is written once per suite run; HOTLINE_E2E_SCREENSHOTS=0
    turns writing off (the call still checks the name)."""
    enabled = backend_name == "sqlite" and os.environ.get("HOTLINE_E2E_SCREENSHOTS", "1") != "0"

    def take(driver, name: str, element=None, full_page: bool = False):
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", name), f"screenshot name {name!r}: lower-case, digits, dashes"
        if not enabled:
            return None
        GUIDE_IMG.mkdir(parents=True, exist_ok=True)
        path = GUIDE_IMG / f"{name}.png"
        if element is not None:
            element.screenshot(str(path))
        elif full_page:
            # The whole page, not only the window: CDP renders beyond the viewport.
            size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
            path.write_bytes(base64.b64decode(shot["data"]))
        else:
            driver.save_screenshot(str(path))
        return path

    return take


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed or report.when == "teardown":
        return
    driver = item.funcargs.get("browser") if hasattr(item, "funcargs") else None
    if driver is None:
        return
    FAILURES.mkdir(parents=True, exist_ok=True)
    # tests/e2e/test_operator.py::test_x[sqlite] -> test_operator.test_x_sqlite
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.rsplit("/", 1)[-1].replace(".py::", "."))
    stem = stem.strip("_")[:150]
    try:
        png, html = FAILURES / f"{stem}.png", FAILURES / f"{stem}.html"
        driver.save_screenshot(str(png))
        html.write_text(f"<!-- {driver.current_url} -->\n" + driver.page_source, encoding="utf-8")
        where = f"{png.relative_to(ROOT)} and {html.relative_to(ROOT)} (page {driver.current_url})"
    except Exception as exc:  # the browser itself may be what failed
        where = f"could not save the page: {exc!r}"
    report.sections.append(("e2e failure page", where))
    print(f"\ne2e failure page saved: {where}")
