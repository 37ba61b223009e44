"""Accessibility basics on every main page of every role, measured in Chromium on the rendered page:

- `<html lang="zh-CN">` (the UI's default language);
- every visible form field has a label (label[for] or a wrapping label with text, aria-label or
  aria-labelledby) — fields inside closed <details> panels are opened and checked too;
- the keyboard focus is visible: Tab through the skip link and into the page, and every focused element's
  computed outline or box-shadow is on and differs from its unfocused look;
- text contrast ≥ 4.5:1, computed from the computed colours of the visible text elements (opacity and
  translucent backgrounds composited);
- no horizontal scrolling at 1366×768, and for the supervisor's pages (dashboard, case list, case page)
  at phone width 390×844 too.
"""
from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from conftest import get_user
from hotline.cases import service as cases
from hotline.digest import service as digests
from hotline.extensions import db
from hotline.notify.models import Notice
from hotline.radio import schedule, service as radio

MIN_CONTRAST = 4.5
FOCUS_STOPS = 8  # Tab presses into the page's main content, after the skip link

# Measured in the page: labels, contrast, language, horizontal overflow.
AUDIT_JS = r"""
function visible(el) {
  if (!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)) return false;
  const s = getComputedStyle(el);
  if (s.visibility === 'hidden' || s.display === 'none') return false;
  const r = el.getBoundingClientRect();
  return r.width > 1 || r.height > 1;  // 1px boxes are the screen-reader-only helpers
}
function describe(el) {
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '') +
    (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '');
}
function labelText(el) {
  const parts = [];
  for (const l of (el.labels || [])) parts.push(l.textContent.trim());
  if (el.getAttribute('aria-label')) parts.push(el.getAttribute('aria-label').trim());
  for (const id of (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean)) {
    const t = document.getElementById(id); if (t) parts.push(t.textContent.trim());
  }
  return parts.filter(Boolean).join(' ');
}
function rgba(c) {
  const m = /rgba?\(([^)]+)\)/.exec(c || ''); if (!m) return null;
  const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function over(top, bottom) {
  return [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
}
function background(el) {  // the colour behind el: translucent layers composited; null under an image
  const layers = [];
  for (let n = el; n; n = n.parentElement) {
    const s = getComputedStyle(n);
    if (s.backgroundImage && s.backgroundImage !== 'none') return null;
    const c = rgba(s.backgroundColor);
    if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  let bg = [255, 255, 255, 1];
  for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
  return bg;
}
function luminance(c) {
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
}
function ratio(a, b) {
  const x = luminance(a), y = luminance(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}
const fields = Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type) && visible(el));
const unlabelled = fields.filter(el => !labelText(el)).map(describe);
const texts = Array.from(document.querySelectorAll('body *')).filter(el =>
  !['SCRIPT', 'STYLE', 'NOSCRIPT', 'OPTION', 'CANVAS', 'svg', 'TITLE'].includes(el.tagName) && !el.disabled &&
  Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()) && visible(el));
const lowContrast = [];
let sampled = 0;
for (const el of texts.slice(0, 600)) {
  const s = getComputedStyle(el);
  const bg = background(el), fg0 = rgba(s.color);
  if (!bg || !fg0) continue;
  let opacity = 1;
  for (let n = el; n; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
  const fg = over([fg0[0], fg0[1], fg0[2], fg0[3] * opacity], bg);
  sampled++;
  const r = ratio(fg, bg);
  if (r < arguments[0]) lowContrast.push(describe(el) + ' "' + el.textContent.trim().slice(0, 24) + '" ' +
    r.toFixed(2) + ':1 (' + s.color + ' on rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + '))');
}
const root = document.documentElement;
return {lang: root.getAttribute('lang'), fields: fields.length, unlabelled: unlabelled, sampled: sampled,
        lowContrast: lowContrast, scrollWidth: root.scrollWidth, clientWidth: root.clientWidth};
"""

# Before tabbing: remember every focusable element's unfocused look. After each Tab: the focused one's.
LOOK_JS = r"""
const look = el => { const s = getComputedStyle(el);
  return {outline: s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor, style: s.outlineStyle,
          width: parseFloat(s.outlineWidth) || 0, shadow: s.boxShadow}; };
if (arguments[0] === 'snapshot') {
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();  // autofocus
  document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]').forEach(el => {
    el.setAttribute('data-unfocused', JSON.stringify(look(el))); });
  return null;
}
const el = document.activeElement;
if (!el || el === document.body || el === document.documentElement) return null;
const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' +
  (el.textContent || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 16) + '"';
return {name: name, now: look(el), before: JSON.parse(el.getAttribute('data-unfocused') || 'null')};
"""


def open_all_details(browser) -> None:
    browser.execute_script("document.querySelectorAll('details').forEach(d => { d.open = true; });")


def focus_problems(browser) -> list[str]:
    """Tab to the skip link, follow it, Tab on into the page: each stop must show where the focus is."""
    browser.execute_script(LOOK_JS, "snapshot")
    problems, seen = [], 0
    ActionChains(browser).send_keys(Keys.TAB).perform()
    first = browser.execute_script(LOOK_JS, "look")
    stops = [first]
    if first and "skip" in (browser.switch_to.active_element.get_attribute("class") or ""):
        ActionChains(browser).send_keys(Keys.ENTER).perform()
    for _ in range(FOCUS_STOPS):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        stops.append(browser.execute_script(LOOK_JS, "look"))
    for stop in stops:
        if not stop:
            continue
        seen += 1
        now, before = stop["now"], stop["before"]
        shows = (now["style"] != "none" and now["width"] >= 2) or now["shadow"] != "none"
        changed = before is None or now["outline"] != before["outline"] or now["shadow"] != before["shadow"]
        if not (shows and changed):
            problems.append(f"no visible focus on {stop['name']}: {now} (unfocused {before})")
    if not seen:
        problems.append("Tab never reached an element")
    return problems


def audit(browser, path: str, check_focus: bool = True) -> list[str]:
    problems = []
    if check_focus:
        problems += focus_problems(browser)
    open_all_details(browser)
    result = browser.execute_script(AUDIT_JS, MIN_CONTRAST)
    if result["lang"] != "zh-CN":
        problems.append(f'<html lang="{result["lang"]}">, expected zh-CN')
    problems += [f"form field without a label: {f}" for f in result["unlabelled"]]
    problems += [f"contrast below {MIN_CONTRAST}:1: {t}" for t in result["lowContrast"]]
    if result["scrollWidth"] > result["clientWidth"]:
        problems.append(f"scrolls sideways: {result['scrollWidth']}px wide in a {result['clientWidth']}px window")
    assert result["sampled"] > 3, f"{path}: only {result['sampled']} text elements measured"
    return [f"{path}: {p}" for p in problems]


@pytest.fixture
def world(live_server, users):
    """Something on every page: a case per state the roles act on, a call-in, a digest, a notice."""
    app = live_server.app
    with app.app_context():
        operator, handler = get_user("operator"), get_user("handler")
        assigned = cases.register(operator, {
            "type": "consult", "category": "wages", "summary": "公司拖欠三个月工资", "detail": "已找过老板两次",
            "caller": {"phone": "13812345678", "name": "王建国"}, "department": "legal_aid", "handler": "handler"})
        closed = cases.register(operator, {
            "type": "consult", "category": "insurance", "summary": "社保断缴怎么补", "broadcast_ok": True,
            "caller": {"phone": "13900001111"}, "resolved_on_call": True, "answer": "可到社保中心窗口补缴。"})
        accepted = cases.register(operator, {
            "type": "legal_aid", "category": "contract", "summary": "未签劳动合同", "urgent": True,
            "caller": {"phone": "13700002222"}, "department": "legal_aid", "handler": "handler"})
        db.session.flush()
        cases.perform(handler, accepted, "accept", accepted.version, {})
        schedule.ensure_defaults()
        episode = schedule.episode_for(schedule.programme_of_kind("live"), date(2026, 12, 5))
        callin = radio.add_callin(get_user("producer"), episode, {
            "phone": "13812345678", "name": "王师傅", "area": "盛泽", "topic": "加班费怎么算"}, status="screening")
        digests.build(date(2026, 11, 30), None)
        db.session.commit()
        notices = db.session.scalar(db.select(db.func.count()).select_from(Notice))
        assert notices, "dispatching should have told the handler"
        return {"assigned": assigned.case_no, "closed": closed.case_no, "accepted": accepted.case_no,
                "episode": episode.id, "callin": callin.id, "admin_id": get_user("admin").id}


def pages_of(role: str, w: dict) -> list[str]:
    return {
        "operator": ["/cases/new", "/cases", f"/cases/{w['assigned']}", f"/cases/{w['closed']}", "/calls",
                     "/calls/callbacks", "/calls/sms", "/notices", "/account/password"],
        "handler": ["/cases/queue", "/cases/queue?tab=department", f"/cases/{w['assigned']}",
                    f"/cases/{w['accepted']}", "/notices"],
        "producer": ["/cases/new", f"/radio/episodes/{w['episode']}", f"/radio/callins/{w['callin']}/case",
                     "/radio/schedule", f"/radio/episodes/{w['episode']}/log", "/digest", "/digest/2026-11-30",
                     "/digest/2026-11-30/versions", "/digest/items", "/digest/items/new", "/digest/settings"],
        "supervisor": ["/reports", "/reports?by=department", "/reports/hot", "/reports/import", "/cases",
                       f"/cases/{w['assigned']}", f"/cases/{w['closed']}", "/calls", "/calls/callbacks",
                       "/notices"],
        "admin": ["/admin", "/admin/orgs", "/admin/users", f"/admin/users/{w['admin_id']}", "/admin/departments",
                  "/admin/departments/legal_aid", "/admin/types", "/admin/categories", "/admin/categories/wages",
                  "/admin/calendar", "/admin/calendar/2026", "/admin/audit", "/admin/outbox", "/calls/settings",
                  "/radio/schedule"],
    }[role]


def test_the_login_page(browser, live_server, wait):
    browser.get(live_server.url("/login"))
    wait.css("#username")
    problems = audit(browser, "/login")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["operator", "handler", "producer", "supervisor", "admin"])
def test_every_main_page_of_the_role(role, browser, live_server, users, world, login_as, wait):
    login_as(browser, live_server, users[role])
    problems = []
    for path in pages_of(role, world):
        browser.get(live_server.url(path))
        wait.css("main")
        title = browser.title
        assert not title.startswith(("404", "403", "500")), f"{role} {path}: {title}"
        problems += audit(browser, path)
    assert not problems, f"{role}:\n" + "\n".join(problems)


def test_the_supervisors_pages_fit_a_phone(browser, browser_at, live_server, users, world, login_as, wait):
    login_as(browser, live_server, users["supervisor"])
    browser_at(390, 844)
    problems = []
    for path in ["/reports", "/cases", f"/cases/{world['assigned']}", "/cases?overdue=1"]:
        browser.get(live_server.url(path))
        wait.css("main")
        problems += audit(browser, f"{path} at 390×844", check_focus=False)
    assert not problems, "\n".join(problems)
