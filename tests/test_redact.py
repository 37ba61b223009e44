"""The redaction corpus: realistic hotline sentences, what each must become, and the ones that must not change.

One function (hotline.redact.redact) is used wherever a case text leaves the building; this corpus is its
contract. `python -m pytest tests/test_redact.py -q -s` prints the before/after table.
"""
from __future__ import annotations

import pytest

from hotline.redact import mask_person, redact

CALLER = {"names": ["王建国"], "employers": ["苏州恒力纺织有限公司"]}

# (input, expected, context)
CORPUS: list[tuple[str, str, dict]] = [
    # ---- mobile numbers, every common written form
    ("我的手机是13812345678，请尽快回电。", "我的手机是138****5678，请尽快回电。", {}),
    ("联系电话138-1234-5678，白天都在。", "联系电话138****5678，白天都在。", {}),
    ("您打138 1234 5678找我就行。", "您打138****5678找我就行。", {}),
    ("我号码是+86 138 1234 5678。", "我号码是138****5678。", {}),
    ("电话+86-139-1234-5670，晚上也可以。", "电话139****5670，晚上也可以。", {}),
    ("请回拨008615012345678。", "请回拨150****5678。", {}),
    ("留的是(+86)18912345678和13700001111两个号。", "留的是189****5678和137****1111两个号。", {}),
    ("手机：１３８１２３４５６７８", "手机：138****5678", {}),  # full-width digits typed with a Chinese IME
    # ---- landlines and service numbers
    ("单位座机0512-65230000，找人事科。", "单位座机0512-****0000，找人事科。", {}),
    ("我家电话是(0512)6523 1234。", "我家电话是0512-****1234。", {}),
    ("可以打021-12345678转805。", "可以打021-****5678。", {}),
    ("公司的客服400-888-1234一直打不通。", "公司的客服400-***-1234一直打不通。", {}),
    ("家里座机65231234，晚上有人。", "家里座机****1234，晚上有人。", {}),
    # ---- ID numbers
    ("身份证号320584198803081234，社保查不到。", "身份证号3205**********1234，社保查不到。", {}),
    ("我的身份证32058419880308123X丢了。", "我的身份证3205**********123X丢了。", {}),
    ("身份证号码是 32058419880308123x 。", "身份证号码是 3205**********123X 。", {}),
    ("老身份证号320584880308123还能用吗？", "老身份证号3205*******8123还能用吗？", {}),
    # ---- bank cards
    ("工资卡6222021234567890123一直没进账。", "工资卡6222***********0123一直没进账。", {}),
    ("卡号6228 4800 1234 5678 912，农行的。", "卡号6228***********8912，农行的。", {}),
    ("打到6217-0012-3456-7890这张卡上。", "打到6217********7890这张卡上。", {}),
    # ---- e-mail
    ("材料发到wangjianguo@163.com就行。", "材料发到w***@163.com就行。", {}),
    ("人事的邮箱是li.ming@hengli-textile.com.cn。", "人事的邮箱是l***@***。", {}),
    # ---- names the caller gave, names in the text
    ("我叫王建国，在厂里干了八年。", "我叫王*，在厂里干了八年。", CALLER),
    ("王建国师傅说车间主任一直不签字。", "王*师傅说车间主任一直不签字。", CALLER),
    ("建国的工资被扣了两个月。", "王*的工资被扣了两个月。", CALLER),
    ("来电人欧阳娜娜反映产假工资未发。", "来电人欧阳*反映产假工资未发。", {"names": ["欧阳娜娜"]}),
    ("老板张德福拖欠我们三个月工资。", "老板张*拖欠我们三个月工资。", {}),
    ("车间主任李红梅让我们晚上加班不给钱。", "车间主任李*让我们晚上加班不给钱。", {}),
    ("我丈夫刘强在工地摔伤了。", "我丈夫刘*在工地摔伤了。", {}),
    ("经理张总说没钱发工资。", "经理张总说没钱发工资。", {}),
    ("老板王某某一直不露面。", "老板王某某一直不露面。", {}),
    # ---- employers
    ("我在苏州恒力纺织有限公司上班，已经三个月没发工资。", "我在某公司上班，已经三个月没发工资。", CALLER),
    ("恒力纺织拖欠加班费。", "某单位拖欠加班费。", CALLER),
    ("恒力公司不给交社保。", "某公司不给交社保。", CALLER),
    ("他们在吴江盛泽丝绸印染有限公司做了五年。", "他们在某公司做了五年。", {}),
    ("苏州恒力纺织有限公司不给交社保。", "苏州恒力纺织有限公司不给交社保。", {**CALLER, "employer_cleared": True}),
    # ---- everything at once
    ("我叫王建国，手机13812345678，身份证320584198803081234，在恒力纺织上班。",
     "我叫王*，手机138****5678，身份证3205**********1234，在某单位上班。", CALLER),
    # ---- must NOT change
    ("2026年3月8日是三八国际劳动妇女节。", None, {}),
    ("公司欠我3000元工资，还有3,000元加班费。", None, {}),
    ("有问题请拨打12351职工服务热线。", None, {}),
    ("请收听89.1 FM《职工之声》，每天17:45至18:00。", None, {}),
    ("《工会之声》每周六下午13:30至14:30直播。", None, {}),
    ("根据《劳动合同法》第三十八条，可以解除劳动合同。", None, {}),
    ("发展会员数比2007年增长8.4%，净增14.6万人。", None, {}),
    ("工单号20261130-0007已经办结。", None, {}),
    ("申请仲裁的时效是一年，2026-03-08之前都可以。", None, {}),
    ("月工资4500元，每天工作12小时，一个月只休2天。", None, {}),
    ("在第98个“三八”国际劳动妇女节来临之际。", None, {}),
    ("加班费按150%、200%、300%支付。", None, {}),
    ("公司拖欠工资三个月，询问如何维权。", None, {}),
    ("张经理说下个月再发。", None, {}),
    ("我们公司有500人，工会会员有320人。", None, CALLER),
    ("社保缴费基数是2026年度的6000元。", None, {}),
]


def _run(text: str, ctx: dict) -> str:
    return redact(text, names=ctx.get("names", ()), employers=ctx.get("employers", ()),
                  employer_cleared=ctx.get("employer_cleared", False))


def test_the_corpus_has_at_least_forty_sentences_and_ones_that_must_not_change():
    assert len(CORPUS) >= 40
    assert sum(1 for _i, expected, _c in CORPUS if expected is None) >= 10


@pytest.mark.parametrize("text,expected,ctx", CORPUS, ids=[f"{i:02d}" for i in range(len(CORPUS))])
def test_corpus(text, expected, ctx):
    assert _run(text, ctx) == (text if expected is None else expected)


def test_redaction_is_idempotent():
    for text, _expected, ctx in CORPUS:
        once = _run(text, ctx)
        assert _run(once, ctx) == once


def test_nothing_identifying_survives_in_the_corpus():
    secrets = ["13812345678", "1234-5678", "65230000", "320584198803", "6222021234567890123", "wangjianguo",
               "王建国", "恒力纺织", "李红梅", "张德福", "欧阳娜娜", "hengli"]
    for text, _expected, ctx in CORPUS:
        if ctx.get("employer_cleared"):
            continue
        out = _run(text, ctx)
        for secret in secrets:
            assert secret not in out, (text, out)


def test_mask_person():
    assert mask_person("王建国") == "王*"
    assert mask_person("欧阳娜娜") == "欧阳*"
    assert mask_person("李") == "李*"


def test_print_table(capsys):
    """The table of the corpus for the note (shown with -s)."""
    rows = []
    for text, expected, ctx in CORPUS:
        out = _run(text, ctx)
        rows.append(("=" if out == text else "→", text, out))
    with capsys.disabled():
        print()
        for mark, text, out in rows:
            print(f"{mark} {text}\n    {out}" if mark == "→" else f"= {text}")
