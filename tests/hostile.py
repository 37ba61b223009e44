"""Shared pieces of the hostile-input tests (api/test_fuzz_api.py, test_fuzz_forms.py, test_xss.py).

- hypothesis strategies for text nobody should type but somebody will;
- XSS and spreadsheet-formula payloads;
- a fingerprint of every table, to prove that a refused request stored nothing;
- the rules every stored case must still satisfy after a fuzzing run ("no stored garbage").
"""
from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from typing import Any

import phonenumbers
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from hotline.cases import service as case_service
from hotline.cases.models import CHANNELS, REPLY_METHODS, STATUSES, SURVEY_RESULTS, Case, CaseEvent
from hotline.extensions import db
from hotline.reference.models import CaseType, Category

# Budgets are per operation (API) or per form; HOTLINE_FUZZ_SCALE=10 runs ten times as many examples
# (a nightly or a local hunt); CI keeps the default so each file stays well under a minute per backend.
SCALE = float(os.environ.get("HOTLINE_FUZZ_SCALE", "1") or 1)


def budget(n: int) -> int:
    return max(1, int(n * SCALE))


def fuzz_settings(max_examples: int) -> settings:
    """Bounded, reproducible (derandomized, no example database on disk), no wall-clock deadline."""
    return settings(max_examples=budget(max_examples), deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


# ---------------------------------------------------------------- payloads

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "javascript:alert(1)",
    "{{7*7}}${7*7}#{7*7}{{config}}",
    "</textarea><script>alert(2)</script>",
    "</title><iframe src=javascript:alert(3)>",
    "<a href=\"javascript:alert(4)\">点我</a>",
    "&lt;script&gt;already-escaped&lt;/script&gt;",
]
# Starts a spreadsheet reads as a formula (the tab and carriage return variants are trimmed by every form,
# so they reach an export only through other doors; the export must neutralise them all the same).
FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"点击\")", "+1+1", "-2+3", "@SUM(1,2)", "=cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1"]

# Characters no text field keeps (hotline/text.py): C0 controls other than tab, LF and CR; U+FFFE, U+FFFF.
CONTROL = "".join(chr(c) for c in range(0x20) if c not in (9, 10, 13)) + "\ufffe\uffff"
WHITESPACE = " \t\n\r\u3000\u00a0\u2003\x1c\x1d\x1e\x1f\x85"
# The same set as hotline/text.py, spelled out here so a change there is a change the tests see.
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ---------------------------------------------------------------- strategies

def _chars(**kw) -> st.SearchStrategy[str]:
    return st.characters(codec="utf-8", **kw)  # surrogate-free: what a browser can send


CJK = st.text(_chars(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=40)
EMOJI = st.lists(st.sampled_from(["😀", "👍🏽", "🇨🇳", "👨‍👩‍👧", "🀄", "\u200d", "\ufe0f", "𠮷"]), min_size=1,
                 max_size=12).map("".join)
ANY_UNICODE = st.text(_chars(exclude_categories=("Cs",)), max_size=60)
WHITESPACE_ONLY = st.text(st.sampled_from(WHITESPACE), min_size=1, max_size=8)
WITH_CONTROL = st.builds(lambda a, c, b: a + c + b, st.text("甲乙ab", max_size=3), st.sampled_from(CONTROL),
                         st.text("丙丁cd", max_size=3))
PAYLOAD = st.sampled_from(XSS + FORMULAS)
PADDED = st.builds(lambda pad, core, tail: pad + core + tail, WHITESPACE_ONLY, CJK, WHITESPACE_ONLY)


def sized(limit: int) -> st.SearchStrategy[str]:
    """Text right around a length limit (limit - 1 … limit + 1), Chinese and ASCII."""
    return st.builds(lambda n, ch: ch * n, st.integers(max(limit - 1, 1), limit + 1), st.sampled_from(["字", "a", "𠮷"]))


def hostile_text(limit: int | None = None) -> st.SearchStrategy[str]:
    parts = [CJK, EMOJI, ANY_UNICODE, WHITESPACE_ONLY, WITH_CONTROL, PAYLOAD, PADDED, st.just("")]
    if limit:
        parts.append(sized(limit))
        parts.append(st.just("长" * (limit * 3)))  # far too long
    return st.one_of(*parts)


def storable(*values: str) -> bool:
    return not any(UNSTORABLE.search(v) for v in values)


FRIENDLY = st.one_of(CJK, EMOJI, PAYLOAD, PADDED, st.text(
    _chars(exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff"), min_size=1, max_size=40)
).filter(lambda v: v.strip() != "" and storable(v))


def friendly_text(limit: int, required: bool = False) -> st.SearchStrategy[str]:
    """Text the rules accept: odd but storable, within the limit once trimmed (or exactly at it)."""
    parts = [FRIENDLY.filter(lambda v: len(v.strip()) <= limit), st.just("字" * limit)]
    if not required:
        parts.append(st.just(""))
    return st.one_of(*parts)


@st.composite
def mostly(draw, good: st.SearchStrategy, bad: st.SearchStrategy, odds: int = 3):
    """`good` in about `odds` examples out of `odds` + 1, else `bad` (with one_of, hypothesis' preference for
    simple draws would pick the first branch most of the time; here the simple draw is `good`)."""
    return draw(bad if draw(st.integers(0, odds)) == odds else good)


@st.composite
def form_texts(draw, spec: dict[str, tuple[int, bool]]) -> dict[str, str]:
    """Values for the text fields of a form ({name: (limit, required)}): in half the examples all of them
    ones the rules accept, in the other half one field hostile (too long, blank, control characters …)."""
    victim = draw(st.sampled_from(list(spec))) if draw(st.booleans()) else None
    return {name: draw(hostile_text(limit) if name == victim else friendly_text(limit, required))
            for name, (limit, required) in spec.items()}


NUMBERS = st.one_of(
    st.integers(-10**6, 10**6).map(str), st.sampled_from(["", " ", "0", "-1", "1e9", "NaN", "１２", "²", "٣", "9" * 25,
                                                          "2147483648", "1.5", "+3", " 7 "]))


# ---------------------------------------------------------------- what "saved" and "nothing saved" mean

# Tables a read or a refused request may still write: login bookkeeping, the scheduler's leases, and the
# audit trail (hotline/audit records who was shown what, on reads too, by design).
VOLATILE_TABLES = {"login_attempt", "job_lease"}


def volatile_tables() -> set[str]:
    audit = {mapper.local_table.name for mapper in db.Model.registry.mappers
             if mapper.class_.__module__.startswith("hotline.audit")}
    return VOLATILE_TABLES | audit


def fingerprint() -> dict[str, Any]:
    """Row counts of every table (one round trip) and the sum of the optimistic-locking versions."""
    skip = volatile_tables()
    names = [t.name for t in db.metadata.sorted_tables if t.name not in skip]
    parts = ", ".join(f'(SELECT count(*) FROM "{name}") AS "{name}"' for name in names)
    row = db.session.execute(text(f"SELECT {parts}")).one()
    counts = dict(zip(names, row))
    counts["case versions"] = db.session.scalar(select(func.coalesce(func.sum(Case.version), 0)))
    db.session.rollback()  # leave no transaction open between requests
    return counts


E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# The lifecycle moves (hotline/cases/service.py): each is one UPDATE of the case row, one step of its version.
# A registration is the INSERT (version 1); notes and "merged from" marks change no field of the case.
MOVE_EVENTS = {"assign", "reassign", "accept", "return", "reply", "close", "extend_request", "extend_approve",
               "extend_reject", "escalate", "merge", "reopen", "survey", "edit", "review", "return_accept", "return_refuse"}
QUIET_EVENTS = {"register", "note", "merged_from"}


def clean_strings(value: Any, where: str, problems: list[str]) -> None:
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            problems.append(f"{where}: unstorable character in {value[:40]!r}")
    elif isinstance(value, dict):
        for k, v in value.items():
            clean_strings(k, f"{where}.<key>", problems)
            clean_strings(v, f"{where}.{k}", problems)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            clean_strings(v, f"{where}[{i}]", problems)


def case_problems() -> list[str]:
    """Every rule a stored case must satisfy, whoever wrote it: a refused or half-done request leaves none
    broken. Returns the broken ones (empty when all is well)."""
    problems: list[str] = []
    types = set(db.session.scalars(select(CaseType.code)))
    categories = set(db.session.scalars(select(Category.id)))
    events: dict[int, list[CaseEvent]] = {}
    for event in db.session.scalars(select(CaseEvent).order_by(CaseEvent.id)):
        events.setdefault(event.case_id, []).append(event)
    limits = {"summary": case_service.SUMMARY_MAX, "detail": case_service.DETAIL_MAX,
              "answer": case_service.TEXT_MAX, "caller_name": 64, "caller_employer": 128, "caller_district": 64,
              "extension_reason": 500}
    for case in db.session.scalars(select(Case).order_by(Case.id)):
        bad = problems.append
        no = case.case_no
        if not re.fullmatch(r"[0-9]{8}-[0-9]{4,}", no or ""):
            bad(f"{no}: case number")
        if case.status not in STATUSES:
            bad(f"{no}: status {case.status!r}")
        if case.channel not in CHANNELS:
            bad(f"{no}: channel {case.channel!r}")
        if case.type_code not in types or case.category_id not in categories:
            bad(f"{no}: type or category")
        if case.caller_phone is not None:
            if not E164.match(case.caller_phone) or not phonenumbers.is_valid_number(
                    phonenumbers.parse(case.caller_phone)):
                bad(f"{no}: phone not normalised: {case.caller_phone!r}")
        elif case.channel in case_service.PHONE_CHANNELS:
            bad(f"{no}: {case.channel} case without a phone")
        for name, limit in limits.items():
            value = getattr(case, name)
            if value is None:
                continue
            if value != value.strip():
                bad(f"{no}: {name} not trimmed: {value[:30]!r}")
            if len(value) > limit:
                bad(f"{no}: {name} longer than {limit}")
            if UNSTORABLE.search(value):
                bad(f"{no}: {name} holds an unstorable character: {value[:30]!r}")
        if not (case.summary or "").strip():
            bad(f"{no}: empty summary")
        if case.confidential and case.broadcast_ok:
            bad(f"{no}: confidential and cleared for broadcast")
        if case.status == "registered" and (case.department_id or case.handler_id):
            bad(f"{no}: registered but dispatched")
        if case.status in ("assigned", "accepted") and (case.department_id is None or case.accept_due_at is None):
            bad(f"{no}: {case.status} without department or acceptance deadline")
        if case.status == "replied" and (not case.answer or case.replied_at is None):
            bad(f"{no}: replied without answer")
        if case.status == "closed" and case.closed_at is None:
            bad(f"{no}: closed without closing time")
        if case.status != "closed" and case.closed_at is not None:
            bad(f"{no}: closing time on a {case.status} case")
        if case.merged_into_id is not None and case.status != "closed":
            bad(f"{no}: merged but not closed")
        if case.merged_into_id == case.id:
            bad(f"{no}: merged into itself")
        if case.resolved_on_call and case.status != "closed":
            bad(f"{no}: closed on the call but {case.status}")
        if case.reply_method is not None and case.reply_method not in REPLY_METHODS:
            bad(f"{no}: reply method {case.reply_method!r}")
        if case.survey_result is not None and (case.survey_result not in SURVEY_RESULTS
                                               or case.status not in ("replied", "closed")):
            bad(f"{no}: survey result {case.survey_result!r} on a {case.status} case")
        if case.extension_due_at is not None and case.status not in ("assigned", "accepted"):
            bad(f"{no}: extension request on a {case.status} case")
        if case.version is None or case.version < 1:
            bad(f"{no}: version {case.version}")
        # The timeline: starts with the registration, in time order, and replays to the stored status.
        timeline = events.get(case.id, [])
        if not timeline or timeline[0].kind != "register":
            bad(f"{no}: timeline does not start with the registration")
            continue
        status = timeline[0].data.get("status")
        for earlier, event in zip(timeline, timeline[1:]):
            if event.at < earlier.at:
                bad(f"{no}: event {event.kind} dated before the one it follows")
        for event in timeline:
            clean_strings(event.data, f"{no}: event {event.kind}", problems)
            after = (event.data or {}).get("after")
            if isinstance(after, dict) and "status" in after:
                status = after["status"]
        if status != case.status:
            bad(f"{no}: events say {status}, the case says {case.status}")
        kinds = {e.kind for e in timeline}
        if kinds <= MOVE_EVENTS | QUIET_EVENTS:  # other doors (telephony, the deadline watch) have their own
            # Each move is at most one UPDATE (none when it changes no field: a second escalation under the
            # tests' pinned clock); one that changes the status always is one.
            moves = sum(1 for e in timeline if e.kind in MOVE_EVENTS)
            status_moves = sum(1 for e in timeline if e.kind in MOVE_EVENTS and isinstance(e.data.get("after"), dict)
                               and e.data["after"].get("status") not in (None, (e.data.get("before") or {}).get("status")))
            if not 1 + status_moves <= case.version <= 1 + moves:
                bad(f"{no}: version {case.version} after {moves} moves, {status_moves} of them changing the status")
    db.session.rollback()
    return problems


# ---------------------------------------------------------------- pages

class _Alerts(HTMLParser):
    """Text of every element with role="alert" (where each page puts its refusal message), but for warnings
    every page shows (class "warn": the holiday calendar lacks next year)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag not in VOID_TAGS
        elif dict(attrs).get("role") == "alert" and tag not in VOID_TAGS and \
                "warn" not in (dict(attrs).get("class") or ""):  # not the site-wide calendar warning
            self.depth = 1
            self.found.append("")

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.found[-1] += data


VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def alerts(html: str) -> list[str]:
    parser = _Alerts()
    parser.feed(html)
    return [text.strip() for text in parser.found if text.strip()]
