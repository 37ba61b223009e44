"""The main HTML forms fed hypothesis-generated input, with a valid CSRF token, as the people who use them.

Text with CJK, emoji, any surrogate-free Unicode, control characters, white space only or around the text,
XSS and formula payloads, lengths at and past each limit; numbers out of range and in other scripts ("²",
"٣", "１２"). For every submission:

- never a 5xx;
- either it is saved with exactly the text typed, trimmed of surrounding white space (what every service
  promises), or it is refused with a message on the page (role="alert", Chinese or English) and NOTHING
  was saved: every table's row count and every case version is what it was before;
- where the rules are simple enough to state here (lengths, required fields, the characters no field
  keeps, hotline/text.py), the input the rules allow is saved and the input they refuse is refused.

Forms: logging a call (operator), reply and note (handler), a radio call-in (producer), editing a digest
item and writing a content item (producer), a user, a department and a category (admin), planning an
episode. ~30 examples each, derandomized (HOTLINE_FUZZ_SCALE multiplies them).
"""
from __future__ import annotations

import os
import re
from collections import Counter
from datetime import date

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import select

from conftest import csrf_from, get_user
from hostile import (
    CONTROL,
    NUMBERS,
    WHITESPACE_ONLY,
    alerts,
    fingerprint,
    form_texts,
    friendly_text,
    mostly,
    fuzz_settings,
    hostile_text,
    storable,
)
from hotline.auth.models import User
from hotline.cases import service as cases
from hotline.cases.models import REPLY_METHODS, Case, CaseEvent
from hotline.digest import service as digests
from hotline.digest.models import ITEM_SECTIONS, ContentItem
from hotline.extensions import db
from hotline.redact import redact
from hotline.radio import schedule
from hotline.radio.models import CallIn
from hotline.reference.models import Category, Department

DAY = date(2026, 11, 30)
GOOD_PHONES = st.sampled_from(["13812345678", "138 1234 5678", "+86-138-1234-5678", "0512-65230000",
                               "(0512) 6523 0000", " 13912345670 "])
PHONES = st.one_of(GOOD_PHONES, st.sampled_from(["12345", "+1 202 555 0143", "１３８１２３４５６７８", "138123456789"]),
                   hostile_text(40))
DEBUG = bool(os.environ.get("HOTLINE_FUZZ_DEBUG"))


# ---------------------------------------------------------------- plumbing

class Form:
    """A logged-in browser: posts a form with the session's CSRF token and judges the outcome."""

    def __init__(self, app, client, name: str, backend: str):
        self.app, self.client, self.name, self.backend = app, client, name, backend
        self.token = None
        self.outcomes: Counter = Counter()

    def csrf(self, page_url: str) -> str:
        if self.token is None:
            resp = self.client.get(page_url)
            assert resp.status_code == 200, (page_url, resp.status_code)
            self.token = csrf_from(resp.get_data(as_text=True))
        return self.token

    def submit(self, url: str, data: dict, *, should_save: bool | None = None, saved=lambda: True) -> bool:
        """POST; returns True when saved. `should_save`: what the rules say (None: not stated here);
        `saved()` checks, after a success, that the rows hold exactly what was typed."""
        with self.app.app_context():
            before = fingerprint()
        resp = self.client.post(url, data={**data, "csrf_token": self.token})
        status = resp.status_code
        assert status < 500, f"{self.name}: {status} for {data!r}"
        if status in (302, 303):
            self.outcomes["saved"] += 1
            assert should_save is not False, f"{self.name}: accepted what the rules refuse: {data!r}"
            with self.app.app_context():
                assert saved(), f"{self.name}: saved, but not exactly what was typed: {data!r}"
                db.session.rollback()
            return True
        self.outcomes["refused"] += 1
        html = resp.get_data(as_text=True)
        assert 400 <= status < 500, f"{self.name}: {status}"
        messages = alerts(html)
        assert messages, f"{self.name}: refused ({status}) without a message on the page: {data!r}"
        with self.app.app_context():
            after = fingerprint()
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert not changed, f"{self.name}: refused ({messages[0]}) but saved {changed}: {data!r}"
        assert should_save is not True, f"{self.name}: refused valid input ({status}, {messages[0]}): {data!r}"
        if DEBUG:  # HOTLINE_FUZZ_DEBUG=1 pytest -s: why each submission was refused
            print("refused", self.name, status, messages[0][:80], {k: str(v)[:30] for k, v in data.items()})
        return False

    def report(self):
        print(f"\n[fuzz-forms] {self.backend}/{self.name}: {sum(self.outcomes.values())} submissions, "
              f"{self.outcomes['saved']} saved, {self.outcomes['refused']} refused")


def fits(value: str, limit: int, required: bool = False) -> bool:
    """What every text field promises: trimmed, within its limit, required ones not blank."""
    trimmed = value.strip()
    return len(trimmed) <= limit and (bool(trimmed) or not required)


def phone_ok(app, raw: str) -> str | None | bool:
    """The normalised number, None for blank, False when the service refuses it."""
    if not raw.strip():
        return None
    with app.test_request_context():
        try:
            return cases.normalize_phone(raw)
        except Exception:  # noqa: BLE001  (InvalidInput: the rules refuse it)
            return False


def trimmed_or_none(value: str) -> str | None:
    return value.strip() or None


@pytest.fixture
def browser(app, users, login, backend_name, capsys):
    opened = []

    def open_as(username: str, name: str, lang: str = "en") -> Form:
        form = Form(app, login(app.test_client(), username, lang=lang), name, backend_name)
        opened.append(form)
        return form

    yield open_as
    with capsys.disabled():
        for form in opened:
            form.report()


# ---------------------------------------------------------------- logging a call (operator)

@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_logging_a_call(app, browser, lang):
    form = browser("operator", f"register[{lang}]", lang)
    form.csrf("/cases/new")

    @fuzz_settings(20)
    @given(texts=form_texts({"summary": (cases.SUMMARY_MAX, True), "detail": (cases.DETAIL_MAX, False),
                             "name": (64, False), "employer": (128, False), "district": (64, False),
                             "answer": (cases.TEXT_MAX, True)}),
           phone=mostly(GOOD_PHONES, PHONES), outcome=st.sampled_from(["register", "close", "dispatch"]),
           flags=st.sets(st.sampled_from(["urgent", "confidential", "broadcast_ok"]), max_size=2))
    def run(texts, phone, outcome, flags):
        summary, detail, name, employer, district, answer = (
            texts[k] for k in ("summary", "detail", "name", "employer", "district", "answer"))
        data = {"channel": "hotline", "type": "consult", "category": "wages", "phone": phone, "caller_name": name,
                "caller_employer": employer, "caller_district": district, "summary": summary, "detail": detail,
                "outcome": outcome, "answer": answer, "department": "legal_aid", **{f: "1" for f in flags}}
        number = phone_ok(app, phone)
        should = (storable(*data.values()) and number not in (None, False)
                  and fits(summary, cases.SUMMARY_MAX, True) and fits(detail, cases.DETAIL_MAX)
                  and fits(name, 64) and fits(employer, 128) and fits(district, 64)
                  and (outcome != "close" or fits(answer, cases.TEXT_MAX, True))
                  and not {"confidential", "broadcast_ok"} <= flags)

        def saved():
            case = db.session.scalar(select(Case).order_by(Case.id.desc()).limit(1))
            return (case.summary == summary.strip() and case.detail == detail.strip()
                    and case.caller_name == trimmed_or_none(name) and case.caller_employer == trimmed_or_none(employer)
                    and case.caller_district == trimmed_or_none(district) and case.caller_phone == number
                    and case.answer == (answer.strip() if outcome == "close" else None)
                    and case.status == {"register": "registered", "close": "closed", "dispatch": "assigned"}[outcome])

        form.submit("/cases/new", data, should_save=should, saved=saved)

    run()


# ---------------------------------------------------------------- reply and note (handler)

def _accepted_case(app) -> tuple[str, int]:
    with app.app_context():
        case = cases.register(get_user("operator"), {
            "type": "consult", "category": "wages", "summary": "拖欠工资", "caller": {"phone": "13812345678"},
            "department": "legal_aid", "handler": "handler"})
        cases.perform(get_user("handler"), case, "accept", case.version, {})
        db.session.commit()
        return case.case_no, case.version


def test_reply_and_note(app, browser):
    form = browser("handler", "reply+note", "zh_Hans_CN")
    state = {"case": _accepted_case(app)}
    form.csrf(f"/cases/{state['case'][0]}")

    @fuzz_settings(30)
    @given(action=st.sampled_from(["reply", "note"]),
           content=st.one_of(form_texts({"c": (cases.TEXT_MAX, True)}).map(lambda t: t["c"]), hostile_text(cases.TEXT_MAX)),
           method=st.one_of(st.sampled_from(REPLY_METHODS), st.just(""), hostile_text(16)))
    def run(action, content, method):
        case_no, version = state["case"]
        data = {"version": str(version), "content" if action == "reply" else "text": content}
        if action == "reply":
            data["method"] = method
        should = storable(*data.values()) and fits(content, cases.TEXT_MAX, True) and (
            action == "note" or method in ("", *REPLY_METHODS))

        def saved():
            case = db.session.scalar(select(Case).where(Case.case_no == case_no))
            last = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                     .order_by(CaseEvent.id.desc()).limit(1))
            if action == "note":
                return last.kind == "note" and last.data["text"] == content.strip()
            return (case.status == "replied" and case.answer == content.strip()
                    and case.reply_method == (method or "phone") and last.data["content"] == content.strip())

        if form.submit(f"/cases/{case_no}/{action}", data, should_save=should, saved=saved) and action == "reply":
            state["case"] = _accepted_case(app)  # replied: the next reply needs an accepted case again

    run()


# ---------------------------------------------------------------- a radio call-in (producer)

def test_radio_call_in(app, browser):
    with app.app_context():
        schedule.ensure_defaults()
        programme = schedule.programme_of_kind("live")
        episode_id = schedule.episode_for(programme, schedule.next_air_date(programme)).id
        db.session.commit()
    form = browser("producer", "call-in")
    form.csrf(f"/radio/episodes/{episode_id}")

    @fuzz_settings(30)
    @given(phone=mostly(st.one_of(st.just(""), GOOD_PHONES), PHONES),
           texts=form_texts({"name": (64, False), "area": (64, False), "topic": (200, False), "notes": (2000, False)}))
    def run(phone, texts):
        name, area, topic, notes = texts["name"], texts["area"], texts["topic"], texts["notes"]
        data = {"phone": phone, "name": name, "area": area, "topic": topic, "notes": notes, "screen_now": "1"}
        number = phone_ok(app, phone)
        should = (storable(*data.values()) and number is not False and fits(name, 64) and fits(area, 64)
                  and fits(topic, 200) and fits(notes, 2000))

        def saved():
            row = db.session.scalar(select(CallIn).order_by(CallIn.id.desc()).limit(1))
            return (row.phone, row.name, row.area, row.topic, row.notes, row.status) == (
                number, name.strip(), area.strip(), topic.strip(), notes.strip(), "screening")

        form.submit(f"/radio/episodes/{episode_id}/callins", data, should_save=should, saved=saved)

    run()


# ---------------------------------------------------------------- the digest (producer)

def test_digest_item_edit_and_add(app, browser):
    with app.app_context():
        schedule.ensure_defaults()
        digests.build(DAY, get_user("producer"))
        db.session.commit()
    form = browser("producer", "digest edit/add", "zh_Hans_CN")
    form.csrf(f"/digest/{DAY.isoformat()}")

    def current():
        digest = digests.get_digest(DAY)
        return digest, digests.revision(digest)

    @fuzz_settings(30)
    @given(action=st.sampled_from(["edit", "add"]),
           texts=form_texts({"title": (digests.TITLE_MAX, True), "text": (digests.BODY_MAX, True),
                             "source": (digests.SOURCE_MAX, False)}),
           section=st.one_of(st.sampled_from([*ITEM_SECTIONS, "qa"]), hostile_text(10)))
    def run(action, texts, section):
        title, text, source = texts["title"], texts["text"], texts["source"]
        with app.app_context():
            digest, rev = current()
            version, intro = digest.version, next(i for i in rev.items if i["key"] == "intro")
            keys_before = {i["key"] for i in rev.items}
            db.session.rollback()
        # Air text goes through the redaction on save (issue 13): what is stored is the redacted text.
        aired_text = redact(text.strip()) if storable(text) else ""
        if action == "edit":
            data = {"version": str(version), "key": "intro", "title": title, "text": text}
            new_title = (redact(title.strip() or intro["title"]) if storable(title) else "") or intro["title"]
            should = (storable(*data.values()) and fits(title, digests.TITLE_MAX) and fits(text, digests.BODY_MAX, True)
                      and bool(aired_text) and (aired_text, new_title) != (intro["text"], intro["title"]))
        else:
            data = {"version": str(version), "section": section, "title": title, "text": text, "source": source}
            new_title = redact(title.strip()) if storable(title) else ""
            should = (storable(*data.values()) and section in (*ITEM_SECTIONS, "qa", "figures")
                      and fits(title, digests.TITLE_MAX, True) and fits(text, digests.BODY_MAX, True)
                      and fits(source, digests.SOURCE_MAX) and bool(aired_text) and bool(new_title))

        def saved():
            digest, rev = current()
            if digest.version != version + 1:
                return False
            if action == "edit":
                item = next(i for i in rev.items if i["key"] == "intro")
            else:
                [item] = [i for i in rev.items if i["key"] not in keys_before]  # the one just added
                if item["source"] != source.strip() or item["section"] != section:
                    return False
            return item["text"] == aired_text and item["title"] == new_title

        form.submit(f"/digest/{DAY.isoformat()}/items/{action}", data, should_save=should, saved=saved)

    run()


def test_content_item(app, browser):
    form = browser("producer", "content item")
    form.csrf("/digest/items/new")
    dates = st.one_of(st.just("2026-11-30"), st.just(" 2026-12-31 "), st.just(""),
                      st.sampled_from(["2026-02-30", "9999-12-31", "0001-01-01", "20261130", "30/11/2026"]), hostile_text(12))

    @fuzz_settings(30)
    @given(section=mostly(st.sampled_from(ITEM_SECTIONS), hostile_text(12)),
           texts=form_texts({"title": (digests.TITLE_MAX, True), "body": (digests.BODY_MAX, True),
                             "source": (digests.SOURCE_MAX, False)}),
           valid_from=mostly(st.just("2026-11-30"), dates), valid_to=mostly(st.just(""), dates),
           priority=mostly(st.sampled_from("12345"), NUMBERS))
    def run(section, texts, valid_from, valid_to, priority):
        title, body, source = texts["title"], texts["body"], texts["source"]
        data = {"section": section, "title": title, "body": body, "source": source, "valid_from": valid_from,
                "valid_to": valid_to, "priority": priority, "active": "1"}

        def saved():
            item = db.session.scalar(select(ContentItem).order_by(ContentItem.id.desc()).limit(1))
            return ((item.section, item.title, item.body, item.source) == (section.strip(), redact(title.strip()),
                                                                          redact(body.strip()), source.strip())
                    and 1 <= item.priority <= 5 and (item.valid_to is None or item.valid_to >= item.valid_from))

        form.submit("/digest/items/new", data, saved=saved,
                    should_save=None if storable(*data.values()) else False)

    run()


# ---------------------------------------------------------------- administration (admin)

VALID_CODES = st.from_regex(r"\A[a-z0-9_]{1,32}\Z")
CODES = mostly(VALID_CODES, st.one_of(st.sampled_from(["legal_aid", "wages", "a" * 33, "Abc", "a-b", "代码", " x "]),
                                     hostile_text(40)))


def test_admin_department_and_category(app, browser):
    form = browser("admin", "department+category")
    form.csrf("/admin/departments")

    @fuzz_settings(30)
    @given(kind=st.sampled_from(["departments", "categories"]), code=CODES,
           name=mostly(friendly_text(64, True), hostile_text(64)),
           sort_order=mostly(st.one_of(st.just(""), st.integers(0, 9999).map(str)), NUMBERS),
           reply_days=mostly(st.one_of(st.just(""), st.integers(1, 60).map(str)), NUMBERS))
    def run(kind, code, name, sort_order, reply_days):
        model = Department if kind == "departments" else Category
        data = {"code": code, "name": name, "sort_order": sort_order}
        if kind == "categories":
            data["reply_days"] = reply_days
        with app.app_context():
            taken = db.session.scalar(select(model.id).where(model.code == code.strip())) is not None
            db.session.rollback()

        def number_ok(raw: str, low: int, high: int) -> bool:
            raw = raw.strip()
            return not raw or (raw.lstrip("+-").isascii() and raw.lstrip("+-").isdigit() and len(raw.lstrip("+-")) <= 6
                               and low <= int(raw) <= high)

        should = (storable(*data.values()) and bool(re.fullmatch(r"[a-z0-9_]{1,32}", code.strip())) and not taken
                  and fits(name, 64, True) and number_ok(sort_order, 0, 9999)
                  and (kind == "departments" or number_ok(reply_days, 1, 60)))
        if should is False and storable(*data.values()) and any(c.isdigit() and not c.isascii()
                                                                for c in sort_order + reply_days):
            should = None  # digits of other scripts ("٣"): int() reads them; not stated here

        def saved():
            row = db.session.scalar(select(model).where(model.code == code.strip()))
            return row is not None and row.name == name.strip() and 0 <= row.sort_order <= 9999 and (
                kind == "departments" or row.reply_days is None or 1 <= row.reply_days <= 60)

        form.submit(f"/admin/{kind}", data, should_save=should, saved=saved)

    run()


def test_admin_user(app, browser):
    form = browser("admin", "user", "zh_Hans_CN")
    form.csrf("/admin/users")
    usernames = mostly(st.from_regex(r"\A[a-z][a-z0-9_.-]{3,20}\Z"), st.one_of(hostile_text(64), st.just("operator")))

    @fuzz_settings(30)
    @given(username=usernames, display_name=mostly(friendly_text(64), hostile_text(64)),
           phone=mostly(st.one_of(st.just(""), GOOD_PHONES), PHONES),
           roles=mostly(st.lists(st.sampled_from(["operator", "producer", "supervisor"]), min_size=1, max_size=3),
                        st.lists(st.sampled_from(["handler", "boss", "", "admin"]), max_size=2)),
           department=mostly(st.just(""), st.sampled_from(["legal_aid", "nowhere", " "])),
           password=mostly(st.sampled_from(["correct-horse-battery", "正确的马电池订书钉与回形针"]), hostile_text(30)))
    def run(username, display_name, phone, roles, department, password):
        data = {"username": username, "display_name": display_name, "phone": phone, "roles": roles,
                "department": department, "password": password}

        def saved():
            user = db.session.scalar(select(User).where(User.username == username.strip()))
            return (user is not None and user.display_name == (display_name.strip() or username.strip())
                    and user.phone == phone_ok(app, phone) and sorted(user.roles) == sorted(set(roles)))

        form.submit("/admin/users", data, saved=saved,
                    should_save=None if storable(username, display_name, phone, department, password, *roles)
                    else False)

    run()


# ---------------------------------------------------------------- what the fuzzing found (regressions)

def test_planning_an_episode_with_odd_programme_ids(app, browser):
    """"²".isdigit() is True but int("²") raises, and an id past the integer range failed the query: both
    were 500s. Now the form says to choose the programme."""
    with app.app_context():
        schedule.ensure_defaults()
        db.session.commit()
    form = browser("producer", "plan episode")
    form.csrf("/radio/schedule")
    for programme_id in ("²", "٣", "9" * 25, "2147483648", "-1", "", " 1x"):
        form.submit("/radio/episodes/plan", {"programme_id": programme_id, "air_date": "2026-12-05"},
                    should_save=False)


def test_ids_beyond_the_integer_range_are_404_not_500(app, users, login):
    """<int:…> in a URL took any length of digits; the query then failed on both databases (500)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    huge = "9" * 25
    for username, paths in {
        "producer": [f"/digest/items/{huge}", f"/radio/episodes/{huge}", f"/radio/episodes/{2**31}/queue",
                     f"/radio/episodes/{huge}/log.csv"],
        "admin": [f"/admin/users/{huge}", f"/admin/calendar/{huge}"],
    }.items():
        client = login(app.test_client(), username)
        for path in paths:
            assert client.get(path).status_code == 404, path
        assert client.get(paths[0].replace(huge, str(2**31 - 1))).status_code == 404  # in range, no such row


def test_control_characters_are_refused_by_every_form(app, browser):
    """A C0 control character (a BEL, a vertical tab pasted from Word) in any field is refused with a
    message, nothing saved: stored, it broke the digest's .docx (500) and the Atom feed (not XML)."""
    form = browser("producer", "control characters")
    form.csrf("/digest/items/new")
    for char in CONTROL:
        form.submit("/digest/items/new", {"section": "union_news", "title": "标题", "body": f"正文{char}结束",
                                          "valid_from": "2026-11-30", "priority": "3"}, should_save=False)
    form.submit("/digest/items/new", {"section": "union_news", "title": "标题", "body": "正文\t制表\r\n换行",
                                      "valid_from": "2026-11-30", "priority": "3"}, should_save=True)


def test_white_space_only_is_blank(app, browser):
    """Ideographic spaces, no-break spaces and the like around or instead of the text are trimmed."""
    form = browser("operator", "white space")
    form.csrf("/cases/new")

    @fuzz_settings(10)
    @given(blank=WHITESPACE_ONLY.filter(storable))
    def run(blank):
        form.submit("/cases/new", {"channel": "hotline", "type": "consult", "category": "wages",
                                   "phone": "13812345678", "summary": blank, "outcome": "register"},
                    should_save=False)

    run()


@pytest.mark.parametrize("user, url", [
    ("admin", "/admin/audit?user=%00"),
    ("admin", "/admin/audit?tab=views&case_no=a%00"),
    ("admin", "/admin/audit?tab=logins&user=%00"),
    ("operator", "/cases?q=%00abc"),
    ("operator", "/cases?phone=138%07"),
    ("supervisor", "/reports?from=2026-11-01%00"),
])
def test_a_page_address_with_an_unstorable_character_is_refused_not_a_crash(app, users, login, user, url):
    # PostgreSQL fails a query that compares with NUL; every page's filters would otherwise answer 500.
    resp = login(app.test_client(), user).get(url)
    assert resp.status_code == 400
    assert "The form contains a character that cannot be stored." in resp.get_data(as_text=True)


def test_the_api_refuses_control_characters_in_its_query_too(app, users, api):
    resp = api("supervisor").get("/cases?q=%07abc")
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {"q": "含有无法保存的字符。"}
