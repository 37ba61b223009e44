"""Password patterns Chinese users favour that zxcvbn's (English) lists do not know.

A password is refused when, after taking out the pieces below, fewer than MIN_REST characters remain:
- a name in pinyin: a common surname followed by one or two syllables (zhangwei, wangxiaoming), or any
  run of at most three pinyin syllables (woaini is taken out separately);
- 123456 and its variants: runs of four or more consecutive digits up or down (1234, 987654), one digit
  repeated (8888), pairs or triples repeated (121212, 123123, 112233), keyboard and love-number
  favourites (5201314, 1314, 520, 147258, 159357, qwerty, asdf, 1qaz2wsx);
- birthdays and years: YYYYMMDD, YYMMDD, MMDD, 19xx and 20xx.
"""
from __future__ import annotations

import re
from datetime import date

MIN_REST = 4

SURNAMES = (
    "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie song "
    "tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai du ye cheng wei su lv lu ding ren "
    "shen yao jin fu zhong tan qiu qin shi gu hou shao meng long wan duan lei qian fan yin kong bai mao qi "
    "xiong hao mo dai xiang chang wen hong ou ni niu yan yi bao tao jia kang jiao zou geng xing"
).split()

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z",
             "c", "s", "y", "w", "")
_FINALS = ("a", "o", "e", "i", "u", "v", "ai", "ei", "ui", "ao", "ou", "iu", "ie", "ve", "er", "an", "en", "in",
           "un", "vn", "ang", "eng", "ing", "ong", "ia", "iao", "ian", "iang", "iong", "ua", "uo", "uai", "uan",
           "uang", "ue", "ueng")
# A superset of the real syllables (a few impossible pairs do no harm: they only make a name match).
SYLLABLES = frozenset(i + f for i in _INITIALS for f in _FINALS if i + f)
_LONGEST = max(len(s) for s in SYLLABLES)

FAVOURITES = ("5201314", "1314520", "147258369", "147258", "159357", "159753", "1qaz2wsx3edc", "1qaz2wsx",
              "qwertyuiop", "qwerty", "asdfgh", "asdf", "zxcvbn", "woaini", "iloveyou", "aini", "1314", "520",
              "password", "passwd", "admin", "abc", "zhongguo", "china")


def _syllables(letters: str, limit: int) -> bool:
    """Whether `letters` splits into at most `limit` pinyin syllables."""
    if not letters:
        return True
    if limit == 0:
        return False
    for n in range(min(_LONGEST, len(letters)), 0, -1):
        if letters[:n] in SYLLABLES and _syllables(letters[n:], limit - 1):
            return True
    return False


def _is_pinyin_name(letters: str) -> bool:
    if len(letters) < 2:
        return False
    if _syllables(letters, 3):
        return True
    return any(letters.startswith(s) and _syllables(letters[len(s):], 2) for s in SURNAMES)


def _sequence_runs(digits: str) -> str:
    """Take out runs of 4+ consecutive digits (up or down), repeats of one digit, and repeated pairs/triples."""
    out, i = [], 0
    while i < len(digits):
        j = i + 1
        for step in (1, -1):
            k = i + 1
            while k < len(digits) and int(digits[k]) - int(digits[k - 1]) == step:
                k += 1
            j = max(j, k)
        k = i + 1
        while k < len(digits) and digits[k] == digits[i]:
            k += 1
        j = max(j, k)
        for size in (2, 3):
            unit, k = digits[i:i + size], i + size
            while len(unit) == size and digits[k:k + size] == unit:
                k += size
            if k - i >= 2 * size:
                j = max(j, k)
        if j - i >= 4:
            i = j
        else:
            out.append(digits[i])
            i += 1
    return "".join(out)


def _is_date(digits: str) -> bool:
    try:
        if len(digits) == 8:
            year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
            return 1920 <= year <= 2049 and bool(date(year, month, day))
        if len(digits) == 6:
            return bool(date(2000, int(digits[2:4]), int(digits[4:])))
        if len(digits) == 4:
            return (digits[:2] in ("19", "20")) or bool(date(2000, int(digits[:2]), int(digits[2:])))
    except ValueError:
        return False
    return False


def _strip_dates(digits: str) -> str:
    for size in (8, 6, 4):
        for start in range(0, len(digits) - size + 1):
            if _is_date(digits[start:start + size]):
                return _strip_dates(digits[:start] + digits[start + size:])
    return digits


def chinese_pattern(password: str) -> bool:
    """True when the password is a common Chinese pattern (see the module's docstring)."""
    text = re.sub(r"[^a-z0-9]", " ", (password or "").lower())
    # Non-ASCII (e.g. Chinese characters) counts as strength: only ASCII letters and digits are examined.
    other = len(re.sub(r"[\x00-\x7f]", "", password or ""))
    if other >= 2:
        return False
    for word in FAVOURITES:
        text = text.replace(word, " ")
    rest = 0
    for chunk in re.findall(r"[a-z]+|[0-9]+", text):
        if chunk.isdigit():
            rest += len(_strip_dates(_sequence_runs(chunk)))
        elif not _is_pinyin_name(chunk):
            rest += len(chunk)
    return rest < MIN_REST
