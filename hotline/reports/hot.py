"""热点: categories and words whose share of the cases rose markedly against the previous period.

Words come from the summaries, segmented with jieba. A big period is sampled evenly (every k-th
case by id) so that the page stays quick; shares from a few thousand summaries are plenty to see
what rose. A word's share is the share of summaries that contain it. Results are kept in memory
per period and data fingerprint (number and last id of the cases in both periods): categories
and summaries do not change after registration, so a fingerprint that matches means the same answer.
"""
from __future__ import annotations

import logging
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.reference.models import Category
from hotline.reports.periods import Period

SAMPLE = 2500  # summaries per period at most
MIN_COUNT = 3  # a topic needs at least this many cases now
RATIO = 1.5  # its share at least this many times the earlier share …
CATEGORY_RISE = 0.02  # … and up by at least 2 points (categories) …
WORD_RISE = 0.01  # … or 1 point (words)
EXAMPLES = 3
MAX_CATEGORIES = 6
MAX_WORDS = 10

# Words of the trade that jieba's general dictionary splits or misses.
DOMAIN_WORDS = (
    "欠薪", "讨薪", "拖欠工资", "农民工", "加班费", "年终奖", "经济补偿", "赔偿金", "劳动合同", "劳务派遣",
    "试用期", "社保", "医保", "公积金", "工伤", "工伤认定", "职业病", "劳动仲裁", "劳动争议", "辞退", "裁员",
    "调岗", "降薪", "产假", "哺乳期", "孕期", "带薪年假", "最低工资", "困难帮扶", "送温暖", "技能培训",
    "入会", "工会组建", "集体协商", "心理疏导", "灵活就业", "外卖骑手", "快递员", "网约车",
)
STOPWORDS = set("""
的 了 是 在 和 与 及 或 等 被 把 对 向 从 到 给 让 由 为 也 都 又 还 就 并 而 但 却 很 太 更 最 没 没有 不 无
如何 怎么 怎样 怎么办 什么 哪些 哪里 是否 能否 可否 能不能 可以 能够 需要 应该 要求 希望 想 想要 请问 询问 咨询 反映
问题 情况 事情 相关 有关 关于 方面 办理 处理 进行 已经 一直 目前 现在 之前 之后 以后 以前 期间 时候 多少 几个 一个
这个 那个 他们 我们 自己 本人 来电 来电人 来访 来信 来电者 职工 员工 公司 单位 企业 工作 一下 还是 个月 三个 两个
以及 因为 所以 如果 虽然 但是 其中 这样 那样 其他 其它 有人 多人 未 已 要 会 能 可 该 其 此 某 各 每
""".split())
_KEEP = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]*$")

log = logging.getLogger(__name__)
_tokenizer = None
_tokenizer_lock = threading.Lock()
_cache: "OrderedDict[tuple, HotTopics]" = OrderedDict()
_CACHE_SIZE = 32


def tokenizer():
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            for word in DOMAIN_WORDS:
                tok.add_word(word, freq=20000)
            _tokenizer = tok
    return _tokenizer


def words_of(text: str) -> set[str]:
    """The distinct words of one summary worth counting: two characters or more, no stop words or numbers."""
    return {w for w in tokenizer().lcut(text or "") if len(w) >= 2 and w not in STOPWORDS and _KEEP.match(w)}


@dataclass
class Topic:
    kind: str  # "category" or "word"
    key: str  # category code or the word
    label: str
    count: int
    share: float
    previous_count: int
    previous_share: float
    examples: list[dict[str, str]] = field(default_factory=list)

    @property
    def rise(self) -> float:
        return self.share - self.previous_share

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "label": self.label, "count": self.count,
                "share": self.share, "previous_count": self.previous_count,
                "previous_share": self.previous_share, "examples": self.examples}


@dataclass
class HotTopics:
    period: Period
    previous: Period
    cases: int
    previous_cases: int
    sampled: int
    previous_sampled: int
    categories: list[Topic]
    words: list[Topic]


def rising(now_count: int, now_total: int, before_count: int, before_total: int, min_rise: float) -> bool:
    if now_count < MIN_COUNT or not now_total:
        return False
    share = now_count / now_total
    before = before_count / before_total if before_total else 0.0
    return share - before >= min_rise and (before == 0 or share >= RATIO * before)


def _in(period: Period, org=None):
    """The period's cases; `org`: the organisation rule's condition (hotline/cases/access.py), or None."""
    cond = and_(Case.created_at >= period.start_utc, Case.created_at < period.end_utc)
    return cond if org is None else and_(cond, org)


def _fingerprint(period: Period, org=None) -> tuple[int, int]:
    count, last = db.session.execute(select(func.count(Case.id), func.max(Case.id)).where(_in(period, org))).one()
    return int(count or 0), int(last or 0)


def _sample(period: Period, count: int, org=None) -> list[tuple[int, str, str, bool]]:
    stride = max(1, -(-count // SAMPLE))
    stmt = select(Case.id, Case.case_no, Case.summary, Case.confidential).where(_in(period, org))
    if stride > 1:
        stmt = stmt.where(Case.id % stride == 0)
    return [tuple(r) for r in db.session.execute(stmt.order_by(Case.id.desc()).limit(SAMPLE * 2))]


def _category_counts(period: Period, org=None) -> dict[int, int]:
    return dict(db.session.execute(
        select(Case.category_id, func.count(Case.id)).where(_in(period, org)).group_by(Case.category_id)).tuples().all())


def hot_topics(period: Period, actor=None) -> HotTopics:
    """Rising topics among the cases the actor's organisation sees (every case for the root's users)."""
    from hotline.cases import access

    org = access.org_condition(actor) if actor is not None else None
    org_key = tuple(sorted(access.org_ids(actor) or ())) if actor is not None else ()
    previous = period.previous()
    now_print, before_print = _fingerprint(period, org), _fingerprint(previous, org)
    cache_key = (str(db.engine.url), period.first, period.last, previous.first, now_print, before_print, org_key)
    if cache_key in _cache:
        _cache.move_to_end(cache_key)
        return _cache[cache_key]
    now_total, before_total = now_print[0], before_print[0]

    # categories
    now_cats, before_cats = _category_counts(period, org), _category_counts(previous, org)
    names = {r.id: (r.code, r.name) for r in db.session.execute(select(Category.id, Category.code, Category.name))}
    categories = []
    for cat_id, n in now_cats.items():
        b = before_cats.get(cat_id, 0)
        if rising(n, now_total, b, before_total, CATEGORY_RISE):
            code, name = names.get(cat_id, (str(cat_id), str(cat_id)))
            categories.append(Topic("category", code, name, n, n / now_total, b,
                                    b / before_total if before_total else 0.0))
    categories.sort(key=lambda t: (-t.rise, t.label))
    categories = categories[:MAX_CATEGORIES]
    for topic in categories:
        cat_id = next(i for i, (code, _n) in names.items() if code == topic.key)
        # Examples never quote a confidential case: the page is for administrators too, who never read
        # those (hotline/cases/access.py); the counts still include them.
        rows = db.session.execute(select(Case.case_no, Case.summary).where(
            _in(period, org), Case.category_id == cat_id, Case.confidential.is_(False))
            .order_by(Case.id.desc()).limit(EXAMPLES))
        topic.examples = [{"case_no": no, "summary": summary} for no, summary in rows]

    # words
    now_docs = _sample(period, now_total, org)
    before_docs = _sample(previous, before_total, org)
    now_words: Counter[str] = Counter()
    examples: dict[str, list[dict[str, str]]] = {}
    for _id, case_no, summary, confidential in now_docs:  # newest first: the first examples are the latest
        for word in words_of(summary):
            now_words[word] += 1
            if len(examples.setdefault(word, [])) < EXAMPLES and not confidential:
                examples[word].append({"case_no": case_no, "summary": summary})
    before_words: Counter[str] = Counter()
    for _id, _no, summary, _confidential in before_docs:
        before_words.update(words_of(summary))
    words = []
    for word, n in now_words.items():
        b = before_words.get(word, 0)
        if rising(n, len(now_docs), b, len(before_docs), WORD_RISE):
            words.append(Topic("word", word, word, n, n / len(now_docs), b,
                               b / len(before_docs) if before_docs else 0.0, examples.get(word, [])[:2]))
    words.sort(key=lambda t: (-t.rise, -t.count, t.label))

    result = HotTopics(period, previous, now_total, before_total, len(now_docs), len(before_docs),
                       categories, words[:MAX_WORDS])
    _cache[cache_key] = result
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return result


def warm_up() -> None:
    """Load jieba's dictionary in the background, so that the first suggestion does not wait a second for it."""
    import threading

    threading.Thread(target=tokenizer, name="jieba-warm-up", daemon=True).start()
