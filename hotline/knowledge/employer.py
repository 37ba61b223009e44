"""Employer names reduced to one key, so that one employer named three ways is one employer.

恒力纺织有限公司, 恒力纺织, 吴江恒力纺织公司 and 苏州市吴江区恒力纺织有限责任公司 all become 恒力纺织: white space
and punctuation go, then bracketed places, then the legal form at the end (有限责任公司, 股份有限公司, 有限公司,
公司, 集团 …), then place names at the start (a province, city, district or county, with or without 省/市/区/县).
A name that is nothing but a legal form or a place (有限公司, 苏州公司) is no employer: the key is None.
"""
from __future__ import annotations

import re
import unicodedata

LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司", "集团", "公司", "分公司",
               "总公司", "责任公司", "合伙企业", "个体工商户", "工作室", "有限", "股份")
PLACES = (
    # provinces and large cities
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古",
    "广西", "西藏", "宁夏", "新疆", "香港", "澳门", "南京", "无锡", "徐州", "常州", "南通", "连云港", "淮安", "盐城",
    "扬州", "镇江", "泰州", "宿迁", "杭州", "宁波", "嘉兴", "湖州", "绍兴", "合肥", "广州", "深圳", "武汉", "成都",
    "中国", "华东", "长三角",
    # Suzhou and its districts and towns
    "苏州", "姑苏", "虎丘", "吴中", "相城", "吴江", "工业园区", "园区", "高新区", "新区", "常熟", "张家港", "昆山",
    "太仓", "浒墅关", "木渎", "甪直", "陆慕", "盛泽", "震泽", "平望", "同里", "黎里", "松陵",
)
_PLACE_SUFFIX = ("省", "市", "区", "县", "镇", "新区", "开发区")
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)
_BRACKETS = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")
MIN_KEY = 2


def normalise(name: str | None) -> str | None:
    """The key of an employer name, or None when the name names no employer."""
    if not name:
        return None
    text = unicodedata.normalize("NFKC", name).strip().lower()
    text = _BRACKETS.sub("", text)
    text = _DROP.sub("", text)
    changed = True
    while changed and text:
        changed = False
        for form in LEGAL_FORMS:
            if text.endswith(form) and len(text) > len(form) - 1:
                text = text[: -len(form)]
                changed = True
                break
        for place in sorted(PLACES, key=len, reverse=True):
            if text.startswith(place) and len(text) > len(place):
                rest = text[len(place):]
                for suffix in _PLACE_SUFFIX:
                    if rest.startswith(suffix) and len(rest) > len(suffix):
                        rest = rest[len(suffix):]
                        break
                if len(rest) >= MIN_KEY:
                    text = rest
                    changed = True
                break
    if len(text) < MIN_KEY or text in PLACES:
        return None
    return text[:128]
