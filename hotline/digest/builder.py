"""Building a 《职工之声》 digest: gather the candidates, measure them, fill the slot by priority.

The slot: the programme's length (15 minutes) less a reserve for jingles and the station ID, read at
the configured rate (250 汉字 a minute) — about 3,560 characters, of which the intro and the outro take
theirs; the rest (≈3,300) is filled with 今日热线 (always), then the other candidates by priority
(1 highest), section order and recency. A candidate that does not fit is left out with the reason, and
the filling goes on with the smaller ones.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, or_, select

from hotline import clock
from hotline.cases.models import Case
from hotline.digest import settings as digest_settings
from hotline.digest.models import SECTIONS, BroadcastClearance, ContentItem, Digest, DigestRevision
from hotline.extensions import db
from hotline.redact import redact, redact_case_text

QA_PRIORITY = 3
QA_CANDIDATES = 30
FIGURES_PRIORITY = 0  # always first in, whatever the producers' priorities
_SPACE = re.compile(r"\s+")


def chars(text: str | None) -> int:
    """What the announcer reads: every character but white space (汉字, digits, letters, punctuation)."""
    return len(_SPACE.sub("", text or ""))


def seconds_for(n_chars: int, rate: int) -> int:
    return math.ceil(n_chars * 60 / rate) if n_chars else 0


def mmss(seconds: int | float) -> str:
    seconds = int(round(seconds))
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 60}:{seconds % 60:02d}"


@dataclass
class Slot:
    slot_seconds: int
    reserve_seconds: int
    rate: int

    @property
    def reading_chars(self) -> int:
        return (self.slot_seconds - self.reserve_seconds) * self.rate // 60


def local_bounds(day: date) -> tuple[datetime, datetime]:
    tz = clock.local_tz()
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
    return start, end


def _on_time_condition():
    try:  # the rule of the reports (architecture §5), written once in hotline/cases/queries.py
        from hotline.cases.queries import on_time_condition
    except ImportError:  # pragma: no cover - until the reports' conditions are there
        return func.coalesce(Case.replied_at, Case.closed_at) <= Case.reply_due_at
    return on_time_condition()


def day_figures(day: date, cutoff: datetime) -> dict[str, int]:
    """Registered and closed on `day` up to `cutoff`; of the closed, how many were settled by their due time."""
    start, end = local_bounds(day)
    end = max(start, min(end, cutoff + timedelta(microseconds=1)))  # up to and including the cut-off
    registered = db.session.scalar(
        select(func.count()).select_from(Case).where(Case.created_at >= start, Case.created_at < end)) or 0
    closed_row = db.session.execute(
        select(func.count(), func.count().filter(_on_time_condition())).select_from(Case)
        .where(Case.status == "closed", Case.closed_at >= start, Case.closed_at < end)).one()
    return {"registered": registered, "closed": closed_row[0] or 0, "on_time": closed_row[1] or 0}


def _percent(part: int, whole: int) -> str:
    value = 100 * part / whole
    return f"{value:.0f}%" if value in (0, 100) or value >= 10 else f"{value:.1f}%"


def figures_item(settings, day: date, cutoff: datetime) -> dict[str, Any]:
    figures = day_figures(day, cutoff)
    start, end = local_bounds(day)
    moment = min(cutoff, end)
    local = clock.to_local(moment)
    when = "24时" if moment >= end else f"{local.hour}时{local.minute:02d}分"
    if figures["closed"]:
        text = digest_settings.fill(settings.figures_text, time=when, registered=figures["registered"],
                                    closed=figures["closed"], on_time=figures["on_time"],
                                    on_time_rate=_percent(figures["on_time"], figures["closed"]))
    else:
        text = digest_settings.fill(settings.figures_text_none_closed, time=when, registered=figures["registered"])
    return {"key": "figures", "section": "figures", "title": settings.title_figures, "text": text,
            "source": "12351职工服务热线", "priority": FIGURES_PRIORITY, "ref": {"figures": figures}}


def content_candidates(day: date) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(ContentItem).where(ContentItem.active.is_(True), ContentItem.valid_from <= day,
                                  or_(ContentItem.valid_to.is_(None), ContentItem.valid_to >= day))
        .order_by(ContentItem.priority, ContentItem.valid_from.desc(), ContentItem.id.desc()))
    # Saved items were redacted on save; redacted again here with the terms their producer kept, so an item
    # stored before (or by another door) cannot bring an identifier to the air.
    return [{"key": f"item:{r.id}", "section": r.section, "title": redact(r.title, allow=r.allowed),
             "text": redact(r.body, allow=r.allowed), "source": r.source, "priority": r.priority,
             "ref": {"item": r.id}, "allowed": r.allowed} for r in rows]


def used_case_ids(day: date) -> set[int]:
    """Cases already read (or approved to be read) in an earlier digest: not repeated."""
    rows = db.session.execute(
        select(DigestRevision.items).join(Digest, and_(Digest.id == DigestRevision.digest_id,
                                                       DigestRevision.number == Digest.revision_no))
        .where(Digest.air_date < day, Digest.air_date >= day - timedelta(days=60),
               Digest.status.in_(("approved", "aired"))))
    found = set()
    for (items,) in rows:
        for item in items or []:
            case_id = (item.get("ref") or {}).get("case_id")
            if case_id:
                found.add(case_id)
    return found


def _sentence(text: str) -> str:
    text = text.strip().rstrip("，,;；")
    return text if text.endswith(("。", "？", "！", "?", "!", "…")) else text + "。"


# ---------------------------------------------------------------- 热线问答: which answers may be read

# The rule, written once (and explained on the digest page, ANSWER_RULE): an answer is read on air only
# if it speaks to the listener about the question — at least ANSWER_MIN_CHARS characters once redacted,
# not a note of what the hotline did (已联系来电人…, 已转…), not a placeholder (无, 略, 已处理 …), not
# boilerplate alone (感谢您的来电…), and not the same as an answer already chosen.
ANSWER_MIN_CHARS = 15
ANSWER_RULE = ("热线问答只选用真正回答了问题的答复：去除个人信息后至少15个字；不选处理记录（如“已联系来电人并给出处理意见”）、"
               "占位语（如“无”“略”“已处理”）、只有客套话的答复，也不选与已选答复重复的内容。")
_PROCESS_NOTE = re.compile(r"^(?:已经?|现已|经)(?:电话|当面|短信)?(?:联系|告知|答复|回复|转交|转办|转至|转给|转到|登记|记录|回访|"
                           r"通知|协调|处理|解答|反馈|沟通|办结|受理|交办|派单)")
_PLACEHOLDERS = {"无", "略", "同上", "见上", "已处理", "已解答", "已答复", "见附件", "暂无", "待定", "待补充", "测试", "test",
                 "xxx", "同前", "已办结", "处理中", "-", "—", "…", "。"}
_BOILERPLATE = re.compile(r"感谢您的来电|感谢来电|谢谢您的来电|欢迎再次来电|如有疑问[，,]?请(?:再次)?拨打12351(?:热线)?|"
                          r"请拨打12351(?:热线)?咨询|祝您生活愉快|祝您工作顺利|请耐心等待|已记录您的诉求")
_ANSWER_PREFIX = re.compile(r"^(?:(?:嘉宾)?(?:律师|专家|工作人员|热线|话务员|值班律师)?(?:答复|回复|解答|答)[：:]\s*)+")
_INTAKE_FRAME = re.compile(r"^(?:来电人|来电职工|来电者|职工|当事人)?(?:来电)?(?:反映|称|咨询|询问|表示|说|问)[：:，,]?")
_QUESTION_WORDS = re.compile(r"吗|呢|能否|是否|怎么|如何|怎样|可不可以|可以.{0,6}吗|能不能|什么|多少|哪|合法|合理|对吗|行吗|算不算")


def answer_unfit(answer: str) -> str | None:
    """Why a redacted answer is not read on air (a short reason), or None when it is fit."""
    text = answer.strip()
    core = re.sub(r"[\s。，,.！!？?、；;：:]", "", text)
    if core.lower() in _PLACEHOLDERS or not core:
        return "placeholder"
    if _PROCESS_NOTE.match(text):
        return "process_note"
    if len(re.sub(r"[\s。，,.！!？?、；;：:]", "", _BOILERPLATE.sub("", text))) < ANSWER_MIN_CHARS:
        return "boilerplate" if _BOILERPLATE.search(text) else "too_short"
    return None


def as_question(summary: str) -> str:
    """A case summary read as the caller's question: no intake frame (来电人反映…), ending in ？."""
    text = _INTAKE_FRAME.sub("", summary.strip()).strip("，,。 ")
    text = re.sub(r"^(?:你好|您好|喂)[，,！!。]?", "", text).strip("，,。 ")
    if not text:
        return ""
    text = text.rstrip("。.!！?？")
    if _QUESTION_WORDS.search(text[-12:]):
        return text + "？"
    return text + "，该怎么办？"


def as_answer(answer: str) -> str:
    """The answer without a second “答：” (嘉宾律师答复：…) and ending as a sentence."""
    return _sentence(_ANSWER_PREFIX.sub("", answer.strip()))


def qa_item(settings, case: Case, employer_cleared: bool = False, redacted: tuple[str, str] | None = None
            ) -> dict[str, Any]:
    """The 热线问答 item of a case; `redacted` = (summary, answer) already through the redaction."""
    if redacted is None:
        redacted = (redact_case_text(case, case.summary, employer_cleared=employer_cleared),
                    redact_case_text(case, case.answer or "", employer_cleared=employer_cleared))
    question = as_question(redacted[0])
    answer = as_answer(redacted[1])
    category = case.category.name if case.category else ""
    text = f"{settings.qa_question}{question}\n{settings.qa_answer}{answer}"
    short = question if len(question) <= 24 else question[:23] + "…"
    title = f"{category}：{short}" if category else short
    return {"key": f"case:{case.case_no}", "section": "qa", "title": title, "text": text,
            "source": "12351职工服务热线", "priority": QA_PRIORITY,
            "ref": {"case": case.case_no, "case_id": case.id, "employer_cleared": employer_cleared}}


def digest_org_condition():
    """The digest programme's organisation: its digest draws from its own subtree's cases (the organisation rule,
    hotline/cases/access.py), unless that organisation's setting widens it to every case. None: no limit."""
    from hotline.cases import access
    from hotline.orgs import service as orgs
    from hotline.radio import schedule

    programme = schedule.programme_of_kind("digest")
    org = orgs.by_id(programme.org_id) if programme is not None else None
    if org is None or org.parent_id is None or org.digest_scope == "all":
        return None
    return access.ids_condition(orgs.subtree_ids(org.id))


def qa_candidates(settings, day: date, cutoff: datetime) -> list[dict[str, Any]]:
    """Closed cases the caller let us air, with an answer, never confidential, closed in the last days."""
    start, end = local_bounds(day)
    end = max(start, min(end, cutoff + timedelta(microseconds=1)))
    since = start - timedelta(days=settings.qa_days)
    stmt = (select(Case).where(Case.status == "closed", Case.broadcast_ok.is_(True),
                               Case.confidential.is_(False), Case.answer.is_not(None), Case.answer != "",
                               Case.merged_into_id.is_(None), Case.closed_at >= since, Case.closed_at < end)
            .order_by(Case.closed_at.desc(), Case.id.desc()).limit(QA_CANDIDATES))
    org_scope = digest_org_condition()
    if org_scope is not None:
        stmt = stmt.where(org_scope)
    cases = [c for c in db.session.scalars(stmt)]
    used = used_case_ids(day)
    cases = [c for c in cases if c.id not in used]
    cleared = {row.case_id for row in db.session.scalars(
        select(BroadcastClearance).where(BroadcastClearance.case_id.in_([c.id for c in cases]),
                                         BroadcastClearance.employer_cleared.is_(True)))} if cases else set()
    chosen, seen = [], set()
    for case in cases:
        cleared_here = case.id in cleared
        answer = redact_case_text(case, case.answer or "", employer_cleared=cleared_here)
        key = re.sub(r"\W", "", _ANSWER_PREFIX.sub("", answer))
        if answer_unfit(_ANSWER_PREFIX.sub("", answer)) or key in seen:
            continue
        summary = redact_case_text(case, case.summary, employer_cleared=cleared_here)
        if not as_question(summary):
            continue
        seen.add(key)
        chosen.append(qa_item(settings, case, cleared_here, (summary, answer)))
    return chosen


def fixed_items(settings, day: date) -> tuple[dict[str, Any], dict[str, Any]]:
    values = {"date": f"{day.month}月{day.day}日", "weekday": digest_settings.WEEKDAYS[day.weekday()]}
    intro = {"key": "intro", "section": "intro", "title": "开场", "text": digest_settings.fill(settings.intro, **values),
             "source": "", "priority": 0, "ref": {}}
    outro = {"key": "outro", "section": "outro", "title": "结束语",
             "text": digest_settings.fill(settings.outro, **values), "source": "", "priority": 0, "ref": {}}
    return intro, outro


def section_order(section: str) -> int:
    return SECTIONS.index(section) if section in SECTIONS else len(SECTIONS)


def fill(intro: dict, outro: dict, figures: dict, candidates: list[dict], slot: Slot,
         titles: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """Choose what fits: intro, outro and 今日热线 always; then by priority, section, given order.

    Counted in the seconds the running time shows (each item's heading and text, rounded up), so a
    digest that was filled never shows a running time over its slot."""
    def cost(item: dict, opened: set[str]) -> int:
        heading = titles.get(item["section"], "") if item["section"] not in opened else ""
        return seconds_for(chars(item["text"]) + chars(heading), slot.rate)

    budget = slot.slot_seconds - slot.reserve_seconds - cost(intro, {"intro"}) - cost(outro, {"outro"})
    chosen: list[dict] = [figures]
    used = cost(figures, set())
    opened = {"figures"}
    left_out: list[dict] = []
    ranked = sorted(enumerate(candidates), key=lambda p: (p[1]["priority"], section_order(p[1]["section"]), p[0]))
    for _index, item in ranked:
        seconds = cost(item, opened)
        if used + seconds <= budget:
            chosen.append(item)
            used += seconds
            opened.add(item["section"])
        else:
            left_out.append({**item, "reason": "over_slot", "over_seconds": used + seconds - budget})
    order = {id(item): i for i, (_n, item) in enumerate(ranked)}
    body = sorted(chosen, key=lambda it: (section_order(it["section"]), order.get(id(it), -1)))
    return [intro, *body, outro], left_out


def build_content(day: date, cutoff: datetime, slot: Slot) -> tuple[list[dict], list[dict]]:
    settings = digest_settings.get()
    intro, outro = fixed_items(settings, day)
    figures = figures_item(settings, day, cutoff)
    candidates = content_candidates(day) + qa_candidates(settings, day, cutoff)
    titles = {s: digest_settings.section_title(settings, s) for s in SECTIONS}
    items, left_out = fill(intro, outro, figures, candidates, slot, titles)
    # A heading's characters may round into another item than the fill charged them to: never end over.
    while measure(items, slot.rate, titles, slot.reserve_seconds)["total_seconds"] > slot.slot_seconds:
        last = max((i for i in items if i["section"] not in ("intro", "outro", "figures")),
                   key=lambda i: (i["priority"], section_order(i["section"])), default=None)
        if last is None:
            break
        items.remove(last)
        left_out.append({**last, "reason": "over_slot", "over_seconds": 1})
    return items, left_out


def measure(items: list[dict], rate: int, titles: dict[str, str], reserve_seconds: int) -> dict[str, Any]:
    """Characters and seconds of each item, the section headings read out, and the running time."""
    running = 0
    measured = []
    seen: set[str] = set()
    for item in items:
        heading = ""
        if item["section"] not in ("intro", "outro") and item["section"] not in seen:
            heading = titles.get(item["section"], "")
        seen.add(item["section"])
        n = chars(item["text"]) + chars(heading)
        secs = seconds_for(n, rate)
        measured.append({**item, "heading": heading, "chars": chars(item["text"]), "heading_chars": chars(heading),
                         "seconds": secs, "starts_at": running + reserve_seconds // 2})
        running += secs
    return {"items": measured, "reading_seconds": running, "total_seconds": running + reserve_seconds,
            "chars": sum(m["chars"] + m["heading_chars"] for m in measured)}

