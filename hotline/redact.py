"""The one redaction function: every case text that leaves the building goes through `redact`.

Used by the 《职工之声》 digest (热线问答), the radio episode log export and the digest's pull formats.
What it removes (DESIGN.md §4, "nothing that identifies a caller ever reaches a digest"):

* mobile numbers in every common written form (13812345678, 138-1234-5678, 138 1234 5678,
  +86 138 1234 5678, 0086-13812345678, (+86)13812345678) → 138****5678;
* landlines with an area code (0512-65230000, (0512) 6523 0000, 021-12345678, 400-888-1234) → 0512-****0000,
  and bare 7–8 digit numbers right after a word that says "telephone" (电话/座机/号码/拨打 …);
* 18-digit ID numbers (with a trailing X) and 15-digit old ones → first 4 and last 4 (3205**********123X);
* bank card numbers (16–19 digits, grouped or not) → first 4 and last 4;
* e-mail addresses → first letter, and the domain only when it is a public mail service (w***@qq.com);
* the names the caller gave (and other names passed in) → surname + * (王*; compound surnames 欧阳*),
  and names introduced in the text (我叫…, 老板…, 经理…) → surname + *;
* employer names, unless the case is marked cleared: the given employer (and its short forms) and any
  registered company name in the text (…有限公司) → 某公司 / 某厂 / 某单位.

What it must leave alone: dates (2026年3月8日, 2026-03-08), amounts (3000元, 3,000元), the hotline
12351, frequencies (89.1 FM), times (17:45), case numbers, percentages, law articles. The corpus test
(tests/test_redact.py) holds sentences of both kinds.
"""
from __future__ import annotations

import re
from typing import Iterable

CJK = "\u4e00-\u9fff"

# Compound surnames first: 欧阳娜娜 → 欧阳*.
COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒",
    "夏侯", "端木", "申屠", "轩辕", "西门", "独孤", "南宫", "呼延", "闻人", "百里", "万俟", "澹台", "赫连",
)
# The common single-character surnames (百家姓, the ~200 most frequent). Used to recognise names
# introduced in the text; the caller's own name is masked whatever its surname.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古"
    "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# Characters that rarely end a given name but often start the next word: 张三说 → 张*说, not 张*.
NAME_STOP = set(
    "说的在是和与让叫要把被给对不没也都就还又拖欠偷逃打骂扣辞开以等向跟从讲称表已曾今昨去来到每拒签发未却"
    "总经先女师老同这那他她们带请找问答知认则因所会能可应将于为作做当多少个之了着过吗呢吧啊呀和及或但而"
    "某工厂公司主任长员"
)
# Words after which a person's name follows in hotline texts.
NAME_CUES = (
    "我叫", "名叫", "叫做", "本人", "姓名", "联系人", "老板", "经理", "主管", "组长", "班长", "厂长", "车间主任",
    "负责人", "法人", "同事", "工友", "丈夫", "妻子", "老公", "老婆", "儿子", "女儿", "母亲", "父亲", "师傅",
    "来电人", "职工", "员工", "工人", "当事人", "委托人",
)
PUBLIC_MAIL_DOMAINS = {
    "qq.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com", "gmail.com", "outlook.com",
    "hotmail.com", "foxmail.com", "139.com", "189.cn", "aliyun.com", "yahoo.com", "icloud.com", "live.com",
}
# Legal-form endings of company names, longest first.
COMPANY_FORMS = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "集团")
EMPLOYER_SUFFIXES = COMPANY_FORMS + ("分公司", "公司", "总厂", "工厂", "厂", "酒店", "宾馆", "医院", "学校", "商场",
                                     "超市", "中心", "工地", "门店", "店")
PLACE_PREFIXES = ("江苏省", "江苏", "苏州市", "苏州", "吴江市", "吴江区", "吴江", "昆山市", "昆山", "太仓市", "太仓",
                  "常熟市", "常熟", "张家港市", "张家港", "盛泽镇", "盛泽", "市", "区")

_NOT_DIGIT_BEFORE = r"(?<![0-9A-Za-z.])"
_NOT_DIGIT_AFTER = r"(?![0-9A-Za-z])"
_SEP = r"[ \u00a0\-－—.]?"

EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9][A-Za-z0-9._%+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
ID_RE = re.compile(
    _NOT_DIGIT_BEFORE
    + r"([1-9]\d{5})(?:" + _SEP + r")?((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(?:" + _SEP
    + r")?(\d{3}[0-9Xx])" + r"(?![0-9A-Za-z])"
)
OLD_ID_RE = re.compile(_NOT_DIGIT_BEFORE + r"([1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3})"
                       + _NOT_DIGIT_AFTER)
# Bank cards: 16–19 digits, optionally in groups of 4 separated by a space or a dash.
CARD_RE = re.compile(_NOT_DIGIT_BEFORE + r"((?:\d{4}[ \-]){3,4}\d{1,4}|\d{16,19})" + _NOT_DIGIT_AFTER)
MOBILE_RE = re.compile(
    _NOT_DIGIT_BEFORE + r"(?:(?:\+|00)\s?86[ \-]?|\(\s?\+?86\s?\)\s?|（\s?\+?86\s?）\s?)?"
    + r"(1[3-9]\d)" + _SEP + r"(\d{4})" + _SEP + r"(\d{4})" + _NOT_DIGIT_AFTER
)
LANDLINE_RE = re.compile(
    r"(?:(?:\+|00)86[ \-]?)?"
    + r"(?:(\(|（)\s?(0\d{2,3})\s?(\)|）)\s?|" + _NOT_DIGIT_BEFORE + r"(0\d{2,3})[ \-－—])"
    + r"(\d{3,4})[ \-]?(\d{4})" + r"(?:[ \-转]+(\d{1,5}))?" + _NOT_DIGIT_AFTER
)
SERVICE_RE = re.compile(_NOT_DIGIT_BEFORE + r"([48]00)[ \-](\d{3})[ \-](\d{4})" + _NOT_DIGIT_AFTER)
BARE_LANDLINE_RE = re.compile(
    r"((?:电话|座机|手机|号码|拨打|致电|联系方式|联系电话|电话号码|打)(?:是|为|：|:)?\s?)(\d{3,4})[ \-]?(\d{4})"
    + _NOT_DIGIT_AFTER
)


# Full-width digits and signs typed with a Chinese input method are read as ASCII.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－（）", "0123456789+-()")


def _stars(n: int) -> str:
    return "*" * max(n, 0)


def _mask_keep(digits: str, head: int = 4, tail: int = 4) -> str:
    return digits[:head] + _stars(len(digits) - head - tail) + digits[-tail:]


def _mask_email(match: re.Match) -> str:
    local, domain = match.group(1), match.group(2)
    shown = domain if domain.lower() in PUBLIC_MAIL_DOMAINS else "***"
    return f"{local[0]}***@{shown}"


def _mask_id(match: re.Match) -> str:
    digits = match.group(1) + match.group(2) + match.group(3)
    return _mask_keep(digits.upper())


def _mask_card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(1))
    if not 16 <= len(digits) <= 19:
        return match.group(0)
    return _mask_keep(digits)


def _mask_mobile(match: re.Match) -> str:
    return f"{match.group(1)}****{match.group(3)}"


def _mask_landline(match: re.Match) -> str:
    area = match.group(2) or match.group(4)
    number = match.group(5) + match.group(6)
    return f"{area}-{_stars(len(number) - 4)}{number[-4:]}"


def _mask_service(match: re.Match) -> str:
    return f"{match.group(1)}-***-{match.group(3)}"


def _mask_bare_landline(match: re.Match) -> str:
    number = match.group(2) + match.group(3)
    return match.group(1) + _stars(len(number) - 4) + number[-4:]


def surname_of(name: str) -> str:
    for compound in COMPOUND_SURNAMES:
        if name.startswith(compound) and len(name) > len(compound):
            return compound
    return name[:1]


def mask_person(name: str) -> str:
    """王建国 → 王*, 欧阳娜娜 → 欧阳*."""
    name = name.strip()
    return surname_of(name) + "*" if name else name


def _name_variants(name: str) -> list[str]:
    name = re.sub(r"\s+", "", name or "")
    if len(name) < 2:
        return []
    variants = [name]
    surname = surname_of(name)
    given = name[len(surname):]
    # The caller's given name alone (建国) is masked when it has two characters: one would hit ordinary words.
    if len(given) >= 2 and re.fullmatch(f"[{CJK}]+", given):
        variants.append(given)
    return variants


def _employer_variants(employer: str) -> list[tuple[str, str]]:
    """(text to find, replacement): the full name, and the name without place and legal form (恒力纺织)."""
    full = re.sub(r"\s+", "", employer or "")
    if len(full) < 2:
        return []
    word = _employer_word(full)
    found = [(full, "某" + word)]
    core = full
    for prefix in PLACE_PREFIXES:
        if core.startswith(prefix) and len(core) > len(prefix) + 1:
            core = core[len(prefix):]
            break
    for suffix in EMPLOYER_SUFFIXES:
        if core.endswith(suffix) and len(core) > len(suffix) + 1:
            core = core[: -len(suffix)]
            break
    if core != full and len(core) >= 2:
        # 恒力纺织公司 / 恒力纺织厂 / 恒力纺织 → 某公司 / 某厂 / 某单位
        found.append((core, "某单位"))
        if len(core) >= 4:
            found.append((core[:2] + "公司", "某公司"))
            found.append((core[:2] + "厂", "某厂"))
            found.append((core[:2] + "集团", "某集团"))
    return found


def _employer_word(name: str) -> str:
    for suffix, word in (("公司", "公司"), ("集团", "集团"), ("厂", "厂"), ("酒店", "酒店"), ("宾馆", "宾馆"),
                         ("医院", "医院"), ("学校", "学校"), ("商场", "商场"), ("超市", "超市"), ("工地", "工地"),
                         ("店", "店")):
        if name.endswith(suffix):
            return word
    return "单位"


_BOUNDARY = "在于到被与和向告对是了的、，。：:“”\"《 "
_COMPANY_IN_TEXT = re.compile(
    # A registered company name: a run of name characters ending in a legal form, after a boundary.
    f"(?:(?<=[{_BOUNDARY}])|^)((?:(?![{_BOUNDARY}])[{CJK}A-Za-z0-9（）()]){{2,20}}?)"
    f"({'|'.join(COMPANY_FORMS)})"
)
_CUE_NAME = re.compile(
    "(" + "|".join(sorted(NAME_CUES, key=len, reverse=True)) + r")(?:是|为|：|:)?"
    + "(" + "|".join(COMPOUND_SURNAMES) + f"|[{''.join(sorted(SURNAMES))}])([{CJK}]{{1,2}})(?!\\*)"
)


def _mask_cued_name(match: re.Match) -> str:
    cue, surname, given = match.group(1), match.group(2), match.group(3)
    if given.startswith("某") or given[0] in NAME_STOP:
        return match.group(0)  # 张某, 张总: nothing to hide
    if len(given) == 2 and given[1] in NAME_STOP:
        given = given[:1]
        rest = match.group(3)[1:]
    else:
        rest = ""
    sep = match.group(0)[len(cue): len(match.group(0)) - len(surname) - len(match.group(3))]
    return f"{cue}{sep}{surname}*{rest}"


def _mask_company(match: re.Match) -> str:
    name = match.group(1)
    if name.startswith("某") or name.endswith("某"):
        return match.group(0)
    form = match.group(2)
    return "某集团" if form == "集团" else "某公司"


def redact(text: str | None, *, names: Iterable[str | None] = (), employers: Iterable[str | None] = (),
           employer_cleared: bool = False) -> str:
    """`text` without what identifies a caller. `names`: the names the caller gave (and others known);
    `employers`: the employer(s) named in the case, left as they are when `employer_cleared`."""
    if not text:
        return ""
    out = str(text).translate(_FULL_WIDTH)
    out = EMAIL_RE.sub(_mask_email, out)
    out = ID_RE.sub(_mask_id, out)
    out = OLD_ID_RE.sub(lambda m: _mask_keep(m.group(1)), out)
    out = CARD_RE.sub(_mask_card, out)
    out = MOBILE_RE.sub(_mask_mobile, out)
    out = SERVICE_RE.sub(_mask_service, out)
    out = LANDLINE_RE.sub(_mask_landline, out)
    out = BARE_LANDLINE_RE.sub(_mask_bare_landline, out)
    if not employer_cleared:
        pairs = [pair for employer in employers if employer for pair in _employer_variants(employer)]
        for needle, replacement in sorted(pairs, key=lambda p: len(p[0]), reverse=True):
            out = out.replace(needle, replacement)
        out = _COMPANY_IN_TEXT.sub(_mask_company, out)
    variants = [(v, mask_person(name)) for name in names if name for v in _name_variants(name)]
    for needle, replacement in sorted(variants, key=lambda p: len(p[0]), reverse=True):
        out = out.replace(needle, replacement)
    out = _CUE_NAME.sub(_mask_cued_name, out)
    return out


def redact_case_text(case, text: str | None, *, employer_cleared: bool = False) -> str:
    """`redact` with what the case knows about its caller (name, employer)."""
    return redact(text, names=[case.caller_name], employers=[case.caller_employer],
                  employer_cleared=employer_cleared)
