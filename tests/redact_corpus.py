"""The redaction corpus: sentences written the way callers, operators, the hotline's lawyers and the
producers write (case summaries, details, answers, producer items), each with the identifying spans it
holds and the terms that must survive.

A template's `{kind}` slots are filled with identifiers written in the many ways people type them (the
spellings below); `[[…]]` marks a term listeners need (laws, amounts, periods, 12351, institutions …).
The sentences are built once, deterministically, so every run measures the same corpus. Used by
tests/test_redact.py (recall and over-redaction per kind, printed) and bench/redact_compare.py (the
redactor on main, other packages).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

# ---------------------------------------------------------------- identifiers, in the ways they are typed

MOBILES = [
    "13812345678", "138-1234-5678", "138 1234 5678", "+86 138 1234 5678", "86 13951234567", "8615012345678",
    "0086-13862001234", "(+86)18912345678", "１３９１２３４５６７８", "139\u200b1234\u200b5678", "139  1234  5678",
    "139\u30001234\u30005678", "139_1234_5678", "139/1234/5678", "一三九一二三四五六七八", "幺三八六二零零一二三四",
    "Tel13912345678", "TEL:15250001234", "tel 15250001234", "1391234 5678", "139－1234－5678", "133.1234.5678",
]
LANDLINES = [
    "0512-65230000", "(0512) 6523 0000", "051265230000", "0512 6523 1234", "021-12345678转805", "（0512）63421234",
    "0512—63421234", "０５１２－６３４２１２３４", "400-888-1234", "05126342 1234",
]
IDS = [
    "320584198803081234", "32058419880308123X", "32058419880308123x", "3205 8419 8803 0812 34",
    "320584 19880308 1234", "ID320584198803081234", "３２０５８４１９８８０３０８１２３４", "320584880308123",
    "320584-19880308-123X",
]
CARDS = [
    "6222021234567890123", "6228 4800 1234 5678 912", "6217-0012-3456-7890", "6228.4800.1234.5678",
    "62284 80012 34567 8912", "6222 0212 3456 7890", "６２２２０２１２３４５６７８９０１２３",
]
EMAILS = [
    "wangjianguo@163.com", "li.ming@hengli-textile.com.cn", "wang＠qq.com", "_wangjg@126.com",
    "王建国@163.com", "zhang_defu88@sina.com", "hr@sz-hengli.cn", "wjg1988@foxmail.com",
]
QQS = ["QQ12345678", "QQ号 87654321", "qq：1234567890", "扣扣号365432100", "QQ 98765432"]
WECHATS = ["微信号wxid_abc123", "微信 wang_jg1988", "VX：zhangdefu88", "微信：hengli-hr01", "wx: liming_2026"]
PLATES = ["苏E12345", "苏E·A1234", "苏EA12B3", "浙F 8K123", "苏E-D56789"]
ADDRESSES = [
    ("中山南路1088号3幢2单元501室", "address"), ("盛泽镇西白漾村3组", "address"), ("松陵镇笠泽路88号", "address"),
    ("阳光花园12幢3单元402室", "address"), ("东方新村5号", "address"), ("仁安家园3栋1201室", "address"),
    ("平望镇庙头村5组", "address"), ("震泽镇", "town"), ("盛泽镇", "town"), ("黎里镇", "town"),
]
# (how it is written, the name the case knows or None, kind)
PEOPLE = [
    ("王建国", "王建国"), ("李红梅", "李红梅"), ("张德福", None), ("欧阳娜娜", "欧阳娜娜"), ("澹台明月", None),
    ("陈伟", "陈伟"), ("刘强", None), ("禤志强", "禤志强"), ("宓小芳", None), ("陳偉", "陈伟"), ("劉強", None),
    ("Wang Jianguo", "王建国"), ("zhang defu", None), ("王 建 国", "王建国"), ("诸葛明亮", None), ("周秀英", None),
    ("徐海峰", None), ("钱国华", "钱国华"), ("黄丽娟", None), ("孙志刚", None), ("马小军", None), ("胡春燕", None),
]
EMPLOYERS = [
    ("苏州恒力纺织有限公司", "苏州恒力纺织有限公司"), ("恒力纺织", "苏州恒力纺织有限公司"),
    ("恒力公司", "苏州恒力纺织有限公司"), ("吴江盛泽丝绸印染有限公司", None), ("鑫达电子厂", None),
    ("宏发五金加工厂", None), ("好又多超市", None), ("金凤凰大酒店", None), ("华宇建筑工程有限公司", None),
    ("永昌服装厂", None), ("美佳快餐店", None), ("苏州瑞丰化纤股份有限公司", None), ("顺通物流有限公司", None),
    ("恒力", "苏州恒力纺织有限公司"), ("新宇包装制品厂", None), ("东盛机械", "吴江东盛机械制造有限公司"),
]

# ---------------------------------------------------------------- templates

# (text type, template). Slots: {mobile} {landline} {id} {card} {email} {qq} {wechat} {plate} {address}
# {person} {person2} {employer}. [[…]] = a term that must survive.
TEMPLATES: list[tuple[str, str]] = [
    # case summaries, as operators write them
    ("summary", "来电人{person}反映，{employer}拖欠[[3个月]]工资共计[[15000元]]，联系电话{mobile}。"),
    ("summary", "职工{person}称在{employer}工作[[八个月]]未签劳动合同，询问能否要求[[双倍工资]]。"),
    ("summary", "{person}来电，在{employer}上班被辞退，要求按[[《劳动合同法》第四十七条]]支付经济补偿。"),
    ("summary", "来电人反映{employer}不给交社保，本人手机{mobile}，希望[[12351]]帮忙协调。"),
    ("summary", "女职工{person}怀孕[[五个月]]被{employer}调岗降薪，工资从[[4500元]]降到[[3000元]]。"),
    ("summary", "{person}称老板{person2}拖欠工资，{employer}已停产，住址{address}。"),
    ("summary", "来电人身份证号{id}，在{employer}工伤后单位不申报，询问[[工伤认定]]时限。"),
    ("summary", "来电反映{employer}加班费未按[[150%]]支付，联系人{person}，电话{landline}。"),
    ("summary", "职工称工资卡{card}[[2026年11月]]工资一直没进账，{employer}说是银行问题。"),
    ("summary", "{person}反映{employer}要求员工签自愿放弃社保的承诺书，询问是否有效。"),
    ("summary", "来电人{person}，{employer}员工，反映单位[[98天]]产假只给了[[60天]]。"),
    ("summary", "来电反映{employer}拖欠农民工工资，包工头{person}失联，车牌{plate}。"),
    ("summary", "{person}要求复核[[吴江区劳动监察大队]]的处理意见，手机{mobile}，邮箱{email}。"),
    ("summary", "来电人住{address}，在{employer}做保洁，每月工资低于[[苏州市]]最低工资标准。"),
    ("summary", "职工{person}反映{employer}未足额发放[[高温费]]，已向[[苏州市总工会]]反映过。"),
    ("summary", "来电人要求回电，{mobile}，晚上[[7点]]以后方便。"),
    ("summary", "{person}在{employer}被扣押身份证{id}，要求帮助取回。"),
    ("summary", "反映{employer}[[2026年10月]]起降低[[住房公积金]]缴存比例，联系人{person}{mobile}。"),
    # details, as callers tell them
    ("detail", "我叫{person}，在{employer}干了[[八年]]，老板突然说厂子不开了，工资也不给。"),
    ("detail", "你好，我是{person}，{employer}的员工，上个月工伤住院[[20天]]，公司一分钱不出。"),
    ("detail", "我们车间主任{person}天天让我们加班到[[晚上10点]]，加班费一分没有，我电话{mobile}。"),
    ("detail", "我老公{person}在工地摔伤了，{employer}说不是他们的人，我的手机是{mobile}。"),
    ("detail", "我在{employer}上班，身份证{id}，社保查下来只交了[[半年]]。"),
    ("detail", "工资打到{card}这张卡上，[[9月]]和[[10月]]的都没到，老板{person}说再等等。"),
    ("detail", "我家住{address}，公司在{employer}，每天来回要[[两个小时]]。"),
    ("detail", "材料可以发到我邮箱{email}，或者加我微信{wechat}。"),
    ("detail", "我QQ是{qq}，有什么消息可以留言，白天上班不方便接电话。"),
    ("detail", "老板{person}开的{employer}，拖欠我们[[十几个人]]的工资，一共[[二十多万]]。"),
    ("detail", "我和同事{person}、{person2}都在{employer}，合同到期公司不续签也不给补偿。"),
    ("detail", "{person}师傅说车间的机器没有防护罩，已经有[[两个人]]受伤了。"),
    ("detail", "我是{employer}的，叫{person}，想问问[[年休假]]怎么算。"),
    ("detail", "单位电话{landline}，人事科的{person}经理一直说不归她管。"),
    ("detail", "我爱人{person}怀孕了，{employer}让她下个月走人，这个合法吗？"),
    ("detail", "我的微信{wechat}，手机{mobile}，有事都能找到我。"),
    ("detail", "送货的车牌号是{plate}，就是{employer}的车，撞了人就跑了。"),
    ("detail", "我住在{address}，离[[吴江区]]人社局不远，可以过去拿材料。"),
    ("detail", "本人{person}，身份证号码{id}，要求{employer}出具离职证明。"),
    ("detail", "我是外地来的，在{employer}做了[[三年]]，老板叫{person}，电话是{landline}。"),
    # answers, as the hotline's lawyers and operators write them
    ("answer", "{person}你好，根据[[《劳动合同法》第八十二条]]，用人单位自用工之日起超过[[一个月]]不满[[一年]]未订立书面劳动合同的，应当向劳动者每月支付[[二倍的工资]]。"),
    ("answer", "建议{person}先生保留工资条、考勤记录等证据，先与{employer}协商，协商不成可向[[劳动人事争议仲裁委员会]]申请仲裁。"),
    ("answer", "已告知{person}，可拨打[[12351]]申请法律援助，也可向[[吴江区劳动监察大队]]投诉{employer}。"),
    ("answer", "{employer}应当自事故伤害发生之日起[[30日]]内提出工伤认定申请；单位不申请的，{person}可以在[[1年]]内直接申请。"),
    ("answer", "女职工在孕期，用人单位不得降低其基本工资，{employer}的做法不合法，可以向[[苏州市总工会]]反映。"),
    ("answer", "加班费按[[150%]]、[[200%]]、[[300%]]支付，{employer}按[[100%]]支付不符合规定，建议{person}保留证据。"),
    ("answer", "产假为[[98天]]，难产的增加[[15天]]；{person}可要求{employer}补足差额，并拨打[[12351]]咨询。"),
    ("answer", "经济补偿按工作年限每满[[一年]]支付[[一个月]]工资，{person}在{employer}工作[[八年]]，应支付[[八个月]]工资。"),
    ("answer", "申请仲裁的时效期间为[[一年]]，请{person}在[[2027年3月8日]]前提交材料，联系电话{mobile}已登记。"),
    ("answer", "[[《社会保险法》第五十八条]]规定，用人单位应当自用工之日起[[30日]]内为职工申请办理社会保险登记，{employer}应为{person}补缴。"),
    ("answer", "可携带身份证原件到[[吴江区]]人社局窗口办理，咨询电话请拨[[12351]]，{person}也可以让家属代办。"),
    ("answer", "已联系{employer}人事{person}，单位同意在[[15日]]内补发工资[[5000元]]。"),
    # producer items (热线问答, 今日热线, 工会动态) as typed in the editor
    ("producer", "有职工打进[[12351]]热线问：我在{employer}上班，老板{person}说试用期不交社保，对吗？"),
    ("producer", "今天有位来自{address}的职工{person}来电，反映{employer}拖欠工资，[[市总工会]]已介入协调。"),
    ("producer", "热线接到{employer}职工来电，手机号{mobile}的这位职工说，公司[[三个月]]没发工资了。"),
    ("producer", "[[苏州市总工会]]提醒：{employer}等企业应按[[《江苏省工资支付条例》]]按时足额支付工资，职工{person}的诉求已办结。"),
    ("producer", "工会动态：[[吴江区]]总工会走访{employer}，为困难职工{person}送去慰问金[[2000元]]。"),
    ("producer", "今日热线：截至[[16时30分]]，共受理诉求[[12件]]，其中{employer}欠薪[[3件]]，来电人{person}的问题已转[[劳动监察大队]]。"),
    ("producer", "求职求学：{employer}招聘挡车工[[20名]]，月薪[[6000元]]以上，联系人{person}，电话{landline}。"),
    ("producer", "热线问答：{person}问，[[《职工带薪年休假条例》]]规定的年休假是[[5天]]还是[[10天]]？微信{wechat}。"),
    ("producer", "《职工之声》今天说说{employer}的{person}师傅，他在[[2026年12月1日]]打进[[12351]]求助。"),
    ("producer", "请{person}听到广播后回电，我们的工作人员会通过{email}把材料发给您。"),
]

# Sentences with nothing to redact: every term must survive (over-redaction is measured on them too).
CLEAN: list[str] = [
    "[[2026年3月8日]]是三八国际劳动妇女节。",
    "公司欠我[[3000元]]工资，还有[[3,000元]]加班费。",
    "有问题请拨打[[12351]]职工服务热线。",
    "请收听[[89.1 FM]][[《职工之声》]]，每天[[17:45]]至[[18:00]]。",
    "[[《工会之声》]]每周六下午[[13:30]]至[[14:30]]直播。",
    "根据[[《劳动合同法》第三十八条]]，可以解除劳动合同。",
    "发展会员数比[[2007年]]增长[[8.4%]]，净增[[14.6万人]]。",
    "工单号[[20261130-0007]]已经办结。",
    "申请仲裁的时效是一年，[[2026-03-08]]之前都可以。",
    "月工资[[4500元]]，每天工作[[12小时]]，一个月只休[[2天]]。",
    "加班费按[[150%]]、[[200%]]、[[300%]]支付。",
    "公司拖欠工资[[三个月]]，询问如何维权。",
    "张经理说下个月再发。",
    "我们公司有[[500人]]，工会会员有[[320人]]。",
    "社保缴费基数是[[2026年]]度的[[6000元]]。",
    "[[苏州市总工会]]召开集体合同质量年推进会，[[133名]]工会干部参加。",
    "[[吴江区总工会]]与[[吴江人民广播电台]]联合创办[[《职工之声》]]。",
    "女职工在孕期、产期、哺乳期遇到调岗降薪，可拨打[[12351]]反映。",
    "[[《江苏省企业民主管理条例》]]明确，企业应当建立职工代表大会制度。",
    "参加[[城镇职工基本医疗保险]]的职工可以按规定报销。",
    "[[劳动人事争议仲裁委员会]]应当在受理之日起[[45日]]内结束仲裁。",
    "[[吴江区劳动监察大队]]已责令企业在[[15日]]内整改。",
    "职工在[[2026年12月]]前申请的，按原标准执行。",
    "经济补偿的月工资不超过当地平均工资的[[3倍]]。",
    "工会法律援助中心每周二、周四上午提供免费咨询。",
    "今年全市私营企业工会组建率达[[80%]]，外商投资企业达[[90%]]。",
    "[[太仓市总工会]]今年将再建[[100家]]职工读书站。",
    "最低工资标准调整为每月[[2690元]]，小时最低工资[[24元]]。",
    "试用期最长不得超过[[6个月]]。",
    "[[《工伤保险条例》第十四条]]列出了应当认定为工伤的情形。",
    "[[高新区]]工会将为[[100名]]外来女职工送一份互助医疗保障。",
    "用人单位应当在解除劳动合同时出具解除证明，并在[[15日]]内办理档案转移。",
    "职工朋友可以到[[苏州市]][[吴江区]]人社局窗口咨询。",
    "全年举办[[50场]]免费“送电影到企业”活动。",
    "拖欠工资的，劳动者可以向当地人民法院申请支付令。",
    "[[2025年]]和[[2026年]]的年休假都没有休。",
    "社保断缴[[两个月]]，以后还能补缴吗？",
    "[[市交通工会]]确定今年工作八大目标。",
    "公司说[[2026年1月1日]]起取消全勤奖。",
    "夜班津贴每晚[[30元]]，[[2026年]]起提高到[[40元]]。",
]


@dataclass
class Sentence:
    kind: str  # summary, detail, answer, producer, clean
    text: str
    spans: list[tuple[str, str]] = field(default_factory=list)  # (kind, text as written)
    keep: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    employers: list[str] = field(default_factory=list)


_SLOT = re.compile(r"\{(\w+)\}")
_KEEP = re.compile(r"\[\[(.+?)\]\]")


def _fill(template: str, rng: random.Random, kind: str, variant: int) -> Sentence:
    spans: list[tuple[str, str]] = []
    names: list[str] = []
    employers: list[str] = []
    used_people: set[str] = set()

    def value(slot: str) -> str:
        if slot in ("person", "person2"):
            choices = [p for p in PEOPLE if p[0] not in used_people]
            written, known = choices[(variant * 7 + len(used_people) * 3 + rng.randrange(len(choices))) % len(choices)]
            used_people.add(written)
            if known:
                names.append(known)
            spans.append(("person", written))
            return written
        if slot == "employer":
            written, known = EMPLOYERS[(variant * 5 + rng.randrange(len(EMPLOYERS))) % len(EMPLOYERS)]
            if known:
                employers.append(known)
            spans.append(("employer", written))
            return written
        if slot == "address":
            written, akind = ADDRESSES[(variant * 3 + rng.randrange(len(ADDRESSES))) % len(ADDRESSES)]
            spans.append((akind, written))
            return written
        pool = {"mobile": MOBILES, "landline": LANDLINES, "id": IDS, "card": CARDS, "email": EMAILS, "qq": QQS,
                "wechat": WECHATS, "plate": PLATES}[slot]
        written = pool[(variant * 11 + rng.randrange(len(pool))) % len(pool)]
        span_kind = slot
        shown = written
        if slot == "qq":
            shown = re.search(r"[0-9]+", written).group(0)
        if slot == "wechat":
            shown = re.split(r"[:： ]|微信号|微信", written)[-1].strip()
        spans.append((span_kind, shown))
        return written

    text = _SLOT.sub(lambda m: value(m.group(1)), template)
    keep = _KEEP.findall(text)
    text = _KEEP.sub(lambda m: m.group(1), text)
    return Sentence(kind, text, spans, keep, names, employers)


def build(variants: int = 5, seed: int = 13) -> list[Sentence]:
    rng = random.Random(seed)
    out = [_fill(template, rng, kind, v) for v in range(variants) for kind, template in TEMPLATES]
    out += [Sentence("clean", _KEEP.sub(lambda m: m.group(1), s), [], _KEEP.findall(s)) for s in CLEAN]
    return out


CORPUS = build()


# ---------------------------------------------------------------- measuring a redactor on the corpus

def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


def survives(kind: str, span: str, output: str) -> bool:
    """Whether an identifying span can still be read in `output` (compared after normalising both)."""
    from hotline.redact import DISTRICTS, EMPLOYER_ENDINGS, INDUSTRIES, TOWNS, normalise

    out = normalise(output)
    low = out.lower()
    written = normalise(span)
    if kind in ("mobile", "landline", "id", "card", "number"):
        core = _digits(written)
        if kind == "mobile" and len(core) > 11:
            core = core[-11:]
        return len(core) >= 5 and core in _digits(out)
    if kind in ("qq", "wechat", "plate"):
        core = re.sub(r"[^0-9A-Za-z_\-]", "", written).lower()
        return core in re.sub(r"[^0-9A-Za-z_\-]", "", low)
    if kind == "email":
        local = written.split("@")[0].strip("_").lower()
        return local in low
    if kind in ("address", "town"):
        head = re.sub(r"[0-9]", "", written)[:2]
        digits = _digits(written)
        return head in out or (len(digits) >= 3 and digits in _digits(out))
    if kind == "person":
        name = written.lower()
        if name in low:
            return True
        if re.fullmatch(r"[\u4e00-\u9fff]{3,}", name):
            return name[-2:] in out  # the given name alone
        parts = name.split(" ")
        return len(parts) > 1 and any(len(p) > 3 and p in low for p in parts[1:])
    if kind == "employer":
        if written in out:
            return True
        core = written
        for prefix in sorted(DISTRICTS + TOWNS, key=len, reverse=True):
            if core.startswith(prefix) and len(core) > len(prefix) + 1:
                core = core[len(prefix):]
        for ending in sorted(EMPLOYER_ENDINGS + ("制造", "加工", "工程", "制品"), key=len, reverse=True):
            if core.endswith(ending) and len(core) > len(ending) + 1:
                core = core[: -len(ending)]
        for word in INDUSTRIES:
            core = core.replace(word, "")
        return len(core) >= 2 and core in out
    raise ValueError(kind)


def measure(redactor, corpus: list[Sentence] | None = None) -> dict:
    """Recall (identifying spans removed) and over-redaction (keep-terms lost), per kind, of
    `redactor(sentence) -> str`; also the sentences that still hold a mask character (*)."""
    from hotline.redact import normalise

    corpus = CORPUS if corpus is None else corpus
    found: dict[str, list[int]] = {}
    kept: dict[str, list[int]] = {}
    leaks: list[tuple[str, str, str]] = []
    lost: list[tuple[str, str, str]] = []
    masks = 0
    for sentence in corpus:
        output = redactor(sentence)
        if "*" in output or "＊" in output:
            masks += 1
        for kind, span in sentence.spans:
            row = found.setdefault(kind, [0, 0])
            row[0] += 1
            if survives(kind, span, output):
                leaks.append((kind, span, output))
            else:
                row[1] += 1
        for term in sentence.keep:
            row = kept.setdefault(sentence.kind, [0, 0])
            row[0] += 1
            if normalise(term) in normalise(output):
                row[1] += 1
            else:
                lost.append((term, sentence.text, output))
    spans = sum(r[0] for r in found.values())
    terms = sum(r[0] for r in kept.values())
    return {"recall": found, "keep": kept, "leaks": leaks, "lost": lost, "masks": masks,
            "spans": spans, "removed": sum(r[1] for r in found.values()),
            "terms": terms, "kept": sum(r[1] for r in kept.values()), "sentences": len(corpus)}


def table(result: dict, title: str) -> str:
    lines = [title, f"  sentences {result['sentences']}, identifying spans {result['spans']}, keep-terms "
                    f"{result['terms']}, outputs with a mask character: {result['masks']}",
             "  identifying spans removed (recall), per kind:"]
    for kind, (n, ok) in sorted(result["recall"].items()):
        lines.append(f"    {kind:<10} {ok:>4}/{n:<4} {100 * ok / n:6.1f}%")
    lines.append(f"    {'all':<10} {result['removed']:>4}/{result['spans']:<4} "
                 f"{100 * result['removed'] / max(result['spans'], 1):6.1f}%")
    lines.append("  keep-terms lost (over-redaction), per text type:")
    for kind, (n, ok) in sorted(result["keep"].items()):
        lines.append(f"    {kind:<10} {n - ok:>4}/{n:<4} {100 * (n - ok) / n:6.1f}%")
    lines.append(f"    {'all':<10} {result['terms'] - result['kept']:>4}/{result['terms']:<4} "
                 f"{100 * (result['terms'] - result['kept']) / max(result['terms'], 1):6.1f}%")
    return "\n".join(lines)
