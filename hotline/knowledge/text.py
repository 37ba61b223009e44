"""Words of a text for matching and classifying: jieba words (the trade's own words added, stop words out)
plus character pairs of the Chinese runs, so that a word jieba splits differently still matches."""
from __future__ import annotations

import re

from hotline.reports.hot import STOPWORDS, tokenizer

# Words every caller uses that say nothing about the question (besides the hot-topic stop words).
GENERIC = {"老板", "厂里", "工人", "我们", "现在", "一直", "已经", "还是", "为什么", "合法", "对吗", "可以", "不能"}
_WORD = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]+$")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_SIGNAL = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


def has_signal(text: str | None) -> bool:
    """Whether the text holds a letter, digit or Chinese character (not only symbols and spaces)."""
    return bool(text) and _SIGNAL.search(text) is not None


def words(text: str | None) -> list[str]:
    if not text:
        return []
    return [w for w in tokenizer().lcut(text) if _WORD.match(w) and w not in STOPWORDS and w not in GENERIC]


def pairs(text: str | None) -> list[str]:
    out: list[str] = []
    for word in GENERIC:
        text = (text or "").replace(word, " ")
    for run in _CJK_RUN.findall(text or ""):
        out.extend("#" + run[i:i + 2] for i in range(len(run) - 1))
    return out


def features(text: str | None) -> list[str]:
    return words(text) + pairs(text)


def key_words(text: str | None, limit: int = 3) -> list[str]:
    """The most telling words (longest first), for looking up similar cases."""
    seen: list[str] = []
    for w in words(text):
        if len(w) >= 2 and not w.isdigit() and w not in seen:
            seen.append(w)
    return sorted(seen, key=len, reverse=True)[:limit]
