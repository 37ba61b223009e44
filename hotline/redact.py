"""The one redaction module: every text that may reach the air (《职工之声》) goes through `redact`.

Three steps, always in this order (docs/redaction.md has the rules, the corpus and the figures):

1. **normalise**: NFKC for everything but Chinese punctuation (full-width digits, letters, ＠, spaces
   become ASCII), zero-width characters removed, runs of spaces collapsed and spaces between 汉字
   dropped, traditional characters of names and places made simplified, digits spelled in Chinese
   numerals (一三九…) written as digits when five or more stand together;
2. **detect** what identifies a person: mobile and fixed numbers (any prefix, any separator, after
   Latin letters), ID and card numbers, other long numbers, e-mail addresses, QQ and WeChat ids, plate
   numbers, street, residential and village addresses and town names, people's names (the names the
   case knows, names after or before a cue, jieba's person tags, pinyin names, names in a row, masked
   names like 王*), and employers (the case's employer and its short forms, any name ending in a legal
   form, 公司, 厂, 店 …);
3. **rewrite** into words an announcer can read: numbers, ids and contacts are dropped (with their cue
   when nothing else is left of the clause), people become 一位王姓职工 / 这位职工 / 王师傅, employers
   某纺织企业 / 该公司, places 某镇 / 某小区 / 某村; a self-introduction (我叫…, 我是王某…) and a
   greeting with a name are dropped. No mask character (*) is ever written.

Terms listeners need are protected and never touched: laws and articles, amounts, percentages,
periods, dates, 12351, districts and cities, public institutions (苏州市总工会, 劳动监察大队 …).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

CJK = "\u4e00-\u9fff"
H = f"[{CJK}]"

# ---------------------------------------------------------------- word lists

COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒",
    "夏侯", "端木", "申屠", "轩辕", "西门", "独孤", "南宫", "呼延", "闻人", "百里", "万俟", "澹台", "赫连",
    "太史", "东郭", "钟离", "宗政", "濮阳", "淳于", "单于", "公冶", "拓跋", "完颜", "第五", "左丘",
)
# Frequent surnames: a name with one of them keeps its surname in the spoken form (一位王姓职工).
COMMON_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古"
)
# Less frequent ones (recognised, but their spoken form does not name them: a rare surname identifies).
RARE_SURNAMES = set(
    "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝禤亓芈宓郗逯蔺阙鞠昝眭隗笪缑帅宦訾揭仝厍璩桓冼蹇禚羿檀戈"
    "竺蒯燕扈郜邰匡邴靖暴浦琚诸练郦滑凤奚茅蓬鄢邸邵佴谈嵇羊昌郇蓟储谌银鲜晁戎汲都逄隆勾尉栗"
)
SURNAMES = COMMON_SURNAMES | RARE_SURNAMES
_SURNAME_RE = "(?:" + "|".join(COMPOUND_SURNAMES) + f"|[{''.join(sorted(SURNAMES))}])"

# Characters that end a name's candidate: the next word starts there (张德福说 → 张德福).
NAME_STOP = set(
    "说的在是和与让叫要把被给对不没也都就还又拖欠偷逃打骂扣辞开以等向跟从讲称表已曾今昨去来到每拒签发未却"
    "总经先女师老同这那他她们带请找问答知认则因所会能可应将于为作做当多少个之了着过吗呢吧啊呀及或但而"
    "某工厂公司主任长员等你您我有无年日"
)
# Words after which a person's name follows. The longer ones first.
ROLE_CUES = (
    "车间主任", "法人代表", "老板娘", "负责人", "联系人", "来电人", "当事人", "委托人", "女职工", "男职工",
    "老板", "经理", "主管", "组长", "班长", "厂长", "主任", "法人", "同事", "工友", "丈夫", "妻子", "老公",
    "老婆", "爱人", "儿子", "女儿", "母亲", "父亲", "会计", "出纳", "人事", "老乡", "朋友", "职工", "员工",
    "工人", "包工头", "工头", "队长", "股东", "董事长", "总经理", "店长", "领班", "师傅", "主席", "副主席", "书记",
    "局长", "部长", "处长", "科长", "院长", "校长", "村长", "镇长", "律师", "医生", "护士", "保安", "司机", "邻居",
    "妹妹", "姐姐", "哥哥", "弟弟", "表哥", "表姐", "表妹", "表弟", "亲戚", "侄子", "外甥", "儿媳", "女婿", "嫂子",
)
# Compound surnames that are not also ordinary words: a name whatever stands around it.
SURE_COMPOUNDS = ("欧阳", "诸葛", "慕容", "令狐", "澹台", "皇甫", "尉迟", "公孙", "上官", "司徒", "端木", "夏侯", "轩辕",
                  "呼延", "万俟", "赫连", "独孤", "长孙", "宇文", "申屠", "闻人", "濮阳", "淳于", "钟离", "宗政", "拓跋",
                  "完颜", "公冶", "左丘", "司马")
INTRO_CUES = ("我的名字叫", "我的名字是", "我叫", "我是", "我姓", "名叫", "叫做", "本人", "姓名")
# Words after a name: 张德福经理, 王建国师傅.
TITLES = (
    "师傅", "先生", "女士", "小姐", "经理", "老板", "主任", "厂长", "总经理", "阿姨", "大姐", "大哥", "老师",
    "律师", "同志", "会计", "班长", "组长", "主管", "工友",
)

PUBLIC_MAIL_HINT = ("邮箱", "邮件", "电邮", "email", "E-mail", "e-mail", "Email", "mail")
NUMBER_CUES = (
    "联系电话", "电话号码", "手机号码", "身份证号码", "身份证号", "银行卡号", "工资卡号", "号码", "手机号", "手机",
    "电话", "座机", "身份证", "银行卡", "工资卡", "卡号", "账号", "帐号", "邮箱", "QQ号", "QQ", "qq", "微信号", "微信",
    "车牌号", "车牌", "Tel", "TEL", "tel", "ID", "id", "No", "NO", "电邮", "社保卡号", "社保卡", "工号",
    "后六位", "后四位", "后八位", "尾号", "末尾",
)
# Terms that must survive whatever is near them.
INSTITUTION_ENDINGS = (
    "总工会", "工会", "劳动保障监察大队", "劳动监察大队", "监察大队", "劳动人事争议仲裁委员会", "劳动争议仲裁委员会",
    "仲裁委员会", "仲裁院", "人民法院", "法院", "人力资源和社会保障局", "人社局", "劳动社保局", "社保局", "社保中心",
    "社保经办机构", "法律援助中心", "职工援助中心", "信访局", "妇联", "司法局", "卫生局", "市场监督管理局", "市场监管局",
    "住建局", "应急管理局", "公安局", "派出所", "人民政府", "政府", "广播电台", "电台", "女职工委员会", "民管部",
    "女工部", "组织部", "研究室", "办公室", "检察院", "税务局", "医保局", "残联", "团委",
)
DISTRICTS = (
    "江苏省", "苏州市", "吴江区", "吴江市", "吴中区", "相城区", "姑苏区", "虎丘区", "高新区", "工业园区", "昆山市",
    "太仓市", "常熟市", "张家港市", "上海市", "浙江省", "南京市", "无锡市", "吴江", "苏州", "昆山", "太仓", "常熟",
    "张家港", "江苏", "上海", "浙江", "安徽", "河南", "四川", "贵州", "湖南", "湖北", "江西", "山东",
)
# Towns of the service area (a town named with its caller's story identifies; 吴江某镇 does not).
TOWNS = (
    "盛泽", "震泽", "平望", "黎里", "同里", "七都", "桃源", "松陵", "横扇", "芦墟", "汾湖", "北厍", "八坼", "铜罗",
    "青云", "梅堰", "坛丘", "南麻", "金家坝", "莘塔", "菀坪", "庙港", "周庄", "千灯", "锦溪", "淀山湖", "张浦",
    "巴城", "陆家", "花桥", "周市", "木渎", "甪直", "光福", "东山", "胥口", "临湖", "浒墅关", "通安", "东渚",
    "沙溪", "浏河", "璜泾", "双凤", "梅李", "虞山", "古里", "支塘", "杨舍", "塘桥", "金港", "凤凰", "乐余",
)
INDUSTRIES = (
    "纺织", "丝绸", "印染", "化纤", "服装", "服饰", "制衣", "鞋业", "电子", "光电", "机械", "五金", "模具", "塑料",
    "塑胶", "化工", "建筑", "建设", "装饰", "装修", "物流", "快递", "运输", "餐饮", "食品", "家具", "家纺", "汽车",
    "电器", "电缆", "能源", "科技", "软件", "网络", "包装", "印刷", "医药", "制药", "钢铁", "金属", "玻璃", "纸业",
    "保安", "保洁", "物业", "酒店", "超市", "商贸", "贸易", "房地产", "置业", "材料", "新材料", "织造", "纺机",
)
COMPANY_FORMS = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "集团", "分公司", "公司")
EMPLOYER_ENDINGS = COMPANY_FORMS + (
    "总厂", "分厂", "工厂", "厂", "酒店", "饭店", "大酒店", "宾馆", "超市", "商场", "商行", "门市部", "工作室",
    "专卖店", "门店", "店", "工地", "项目部", "车行", "作坊", "加工坊", "幼儿园", "培训学校", "培训中心",
    "餐馆", "饭馆", "餐厅", "面馆", "酒楼", "旅馆", "发廊", "网吧", "会所", "诊所", "药房", "美容院", "农家乐",
)
# Not a name before 公司 / 厂: 我们公司, 这家厂, 一家电子厂.
DETERMINERS = (
    "我们", "他们", "你们", "咱们", "这家", "那家", "一家", "这个", "那个", "该", "本", "原", "新", "老", "前", "现",
    "我", "他", "她", "这", "那", "某", "总", "分", "子", "母", "各", "每", "小", "大", "私营", "民营", "国有", "外资",
    "合资", "台资", "港资", "日资", "韩资", "个体", "私人", "同一", "其他", "别的", "另一", "上一", "下一", "两", "几",
    "所在", "原来", "现在", "以前", "之前", "目前", "所属", "用人", "劳务派遣", "派遣", "外包", "承包", "家里", "整个",
)
GENERIC_BUSINESS = set(INDUSTRIES) | {
    "鞋", "电子", "服装", "工", "工程", "劳务", "外贸", "加工", "小", "一", "个", "家", "奶茶", "理发", "水果", "早餐",
    "面", "饭", "药", "便利", "五金", "建材", "修理", "汽修", "洗车", "干洗", "美容", "美发", "化妆品", "手机", "服饰",
    "快餐", "烧烤", "火锅", "蛋糕", "面包", "网", "淘宝", "外卖", "连锁", "分", "总", "子", "母", "上市", "皮包",
    "空壳", "皮包公司", "黑", "制造", "生产", "私人", "民营", "国营", "国企", "央企", "外企", "工程施工",
}

# Traditional characters seen in names, places and employers, made simplified (same length).
_TRAD = ("國華偉東紅麗陳張劉楊黃趙吳孫馬鄭謝韓馮鄧蕭葉蘇呂蔣錢羅盧許龍鳳軍強傑義興勝廣慶貴寶鳴濤飛鵬輝雲蘭艷"
         "靜潔們說這廠資紡織場號電話區鎮縣門開發長經師闆廳鐘歐陽萬嚴戴莊聶顧龔鄒譚賈衛錦濱熱線職與為醫勞動會"
         "險療歲費後來時間還沒對個幾錢給讓請關係辦處實農業產單價貨員體傷濟團歷園寧鐵銀")
_SIMP = ("国华伟东红丽陈张刘杨黄赵吴孙马郑谢韩冯邓萧叶苏吕蒋钱罗卢许龙凤军强杰义兴胜广庆贵宝鸣涛飞鹏辉云兰艳"
         "静洁们说这厂资纺织场号电话区镇县门开发长经师板厅钟欧阳万严戴庄聂顾龚邹谭贾卫锦滨热线职与为医劳动会"
         "险疗岁费后来时间还没对个几钱给让请关系办处实农业产单价货员体伤济团历园宁铁银")
_TRAD_TABLE = str.maketrans(_TRAD, _SIMP)

_CN_DIGITS = str.maketrans("〇零一二三四五六七八九幺", "001234567891")
_KEEP_PUNCT = set("，。？！：；（）、“”‘’《》【】…—～「」『』")
_ZERO_WIDTH = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")

# Pinyin: a syllable, a surname in pinyin.
_PY_SYL = ("(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ue|ai|ei|ao|ou|"
           "an|en|in|un|ia|ie|iu|ua|uo|ui|er|a|o|e|i|u|v)")
_PY_SURNAMES = {
    "wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu",
    "guo", "he", "gao", "lin", "luo", "zheng", "liang", "xie", "song", "tang", "han", "feng", "deng", "cao", "peng",
    "zeng", "xiao", "tian", "dong", "yuan", "pan", "yu", "jiang", "cai", "du", "ye", "cheng", "su", "wei", "lv",
    "lu", "ding", "ren", "shen", "yao", "cui", "zhong", "tan", "fan", "jin", "shi", "liao", "jia", "xia", "fu",
    "fang", "bai", "zou", "meng", "xiong", "qin", "qiu", "yin", "xue", "yan", "duan", "lei", "hou", "long", "tao",
    "gu", "mao", "hao", "gong", "shao", "wan", "qian", "dai", "mo", "kong", "xiang", "ouyang", "situ", "zhuge",
    "shangguan", "sima", "murong", "ni", "qi", "kang", "niu", "ge", "xing", "an", "qiao", "wen", "chang", "pang",
}


# ---------------------------------------------------------------- results

@dataclass(frozen=True)
class Change:
    """One thing the redaction changed: its kind, what was there, what is read instead ("" = dropped)."""

    kind: str
    found: str
    spoken: str


@dataclass
class Redaction:
    text: str
    changes: list[Change] = field(default_factory=list)


KIND_LABELS_ZH = {
    "mobile": "手机号", "landline": "固定电话", "id": "身份证号", "card": "银行卡号", "number": "其他号码",
    "email": "电子邮箱", "qq": "QQ号", "wechat": "微信号", "plate": "车牌号", "address": "地址", "town": "乡镇",
    "person": "人名", "employer": "单位名称", "self_intro": "自我介绍", "mask": "遮挡字符",
}


# ---------------------------------------------------------------- 1. normalise

def _nfkc(text: str) -> str:
    if text.isascii():
        return text
    return "".join(c if c in _KEEP_PUNCT or "\u4e00" <= c <= "\u9fff" else unicodedata.normalize("NFKC", c)
                   for c in text)


_CN_NUMBER_RUN = re.compile(r"[0-9〇零一二三四五六七八九幺](?:[ \-]?[0-9〇零一二三四五六七八九幺]){4,}")


def _digits_in_chinese(match: re.Match) -> str:
    run = match.group(0)
    if sum(1 for c in run if c in "〇零一二三四五六七八九幺") < 3:
        return run
    return run.translate(_CN_DIGITS)


def normalise(text: str | None) -> str:
    """The text as it is checked and written: see the module's first step."""
    if not text:
        return ""
    out = _ZERO_WIDTH.sub("", str(text))
    out = _nfkc(out).translate(_TRAD_TABLE)
    out = re.sub(r"[^\S\n]+", " ", out)  # runs of spaces (NBSP, ideographic, tabs) → one space
    out = re.sub(f"(?<={H}) (?={H})", "", out)  # 王 建 国 → 王建国
    out = re.sub(r" *\n *", "\n", out).strip()
    return _CN_NUMBER_RUN.sub(_digits_in_chinese, out)


# ---------------------------------------------------------------- 2. detect

@dataclass
class _Span:
    start: int
    end: int
    kind: str
    spoken: str = ""  # "" = drop (numbers); otherwise the words read instead
    key: str = ""  # people and employers: who it is, for the later mentions


_LAW = re.compile(r"《[^《》]{1,40}》(?:第[0-9一二三四五六七八九十百零]+条(?:第[0-9一二三四五六七八九十]+款)?)?"
                  r"|第[0-9一二三四五六七八九十百零]+条")
_DATE = re.compile(r"(?:19|20)[0-9]{2}(?:年[0-9]{1,2}月(?:[0-9]{1,2}[日号])?|[-/.][0-9]{1,2}[-/.][0-9]{1,2}|年)"
                   r"|[0-9]{1,2}月[0-9]{1,2}[日号]|[0-9]{1,2}:[0-9]{2}")
_AMOUNT = re.compile(r"[0-9][0-9,，.]*(?:万|亿|千)?(?:元|块|%|％|人|天|日|个月|月|年|小时|次|倍|名|家|万人)")
_CASE_NO = re.compile(r"(?<![0-9])20[0-9]{6}-[0-9]{4}(?![0-9])")
_INSTITUTION = re.compile(
    "(?:" + "|".join(map(re.escape, DISTRICTS)) + r"|市|区|县|镇|省)?(?:"
    + "|".join(map(re.escape, sorted(INSTITUTION_ENDINGS, key=len, reverse=True))) + ")")
_DISTRICT = re.compile("|".join(map(re.escape, sorted(DISTRICTS, key=len, reverse=True))))
_KEEP_WORDS = re.compile(r"12351|《职工之声》|《工会之声》|职工之声|工会之声|职工服务热线|[0-9.]+\s?FM")


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Where the terms listeners need stand (laws, dates, amounts, institutions, districts…)."""
    spans: list = []
    for pattern in (_LAW, _DATE, _AMOUNT, _CASE_NO, _INSTITUTION, _DISTRICT, _KEEP_WORDS):
        spans.extend(m.span() for m in pattern.finditer(text))
    return spans


_EMAIL = re.compile(r"(?:[A-Za-z0-9._+\-]+|[\u4e00-\u9fff]{1,4}[A-Za-z0-9._+\-]*)@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_NUMBER = re.compile(
    r"(?<![0-9])(?:[(（]\s?\+?[0-9]{2,4}\s?[)）]\s?)?\+?[0-9](?:(?:[ \-_/.·—－]|\s?[\-_/]\s?)?[0-9])*"
    r"(?:[Xx](?![A-Za-z]))?(?:\s?(?:转|-|ext\.?)\s?[0-9]{1,5}(?![0-9]))?")
_MASKED_NUMBER = re.compile(r"[0-9]*[*＊×xX]{3,}[0-9]+|[0-9]+[*＊]{2,}[0-9]*")
_QQ = re.compile(r"(?:QQ|qq|Qq|扣扣|企鹅)(?:号码|号)?\s?(?:是|为|:|：)?\s?([1-9][0-9]{4,11})(?![0-9])")
_WECHAT = re.compile(r"(?:微信|威信|VX|vx|Vx|WX|wx|wechat|WeChat|weixin|V信|v信)(?:号码|号)?\s?(?:是|为|:|：)?\s?"
                     r"([A-Za-z][A-Za-z0-9_\-]{5,19}|[0-9]{5,12})(?![A-Za-z0-9_\-])")
_PLATE = re.compile(r"(?<![A-Za-z0-9])[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
                    r"\s?[A-Z][ ·•.\-]?[A-Z0-9]{5,6}(?![A-Za-z0-9])")
_NUM = r"[0-9一二三四五六七八九十百零]+"
_HN = "(?:(?![镇乡区市县省在住的是有位自号路街道巷弄])[\u4e00-\u9fff])"  # a place name's characters
_ROAD_ADDRESS = re.compile(
    f"{_HN}{{1,8}}?(?:路|街|大道|大街|巷|弄)(?:{_NUM}(?:-{_NUM})?号(?:院)?)"
    f"(?:{_NUM}(?:幢|栋|号楼|楼|座))?(?:{_NUM}单元)?(?:{_NUM}(?:室|号房|户))?")
_ESTATE = re.compile(
    f"{_HN}{{2,4}}?(?:小区|花园|新村|家园|公寓|嘉园|山庄|名苑|雅苑|华庭|豪庭|佳苑|新城|宿舍)"
    f"(?:{_NUM}(?:幢|栋|号楼|号|楼|区))?(?:{_NUM}单元)?(?:{_NUM}(?:室|号房|户))?")
_BUILDING = re.compile(f"{_NUM}(?:幢|栋|号楼)(?:{_NUM}单元)?{_NUM}(?:室|号房)|{_NUM}单元{_NUM}(?:室|号房)?")
_VILLAGE = re.compile(f"(?:{_HN}{{2,4}}村{_NUM}组|(?<=[镇乡])(?:{_HN}{{2,4}}?)村|(?<=住在|家在|老家|来自|住的)(?:{_HN}{{2,3}})村"
                      f"|{_HN}{{2,4}}?(?:社区|居委会|村委会))")
_TOWN = re.compile("(?:" + "|".join(sorted(TOWNS, key=len, reverse=True)) + f")(?:镇|街道)?"
                   f"|{_HN}{{2}}(?<![城乡村集重小古某])镇")
_PINYIN_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]+(?: [A-Za-z]+){1,3}(?![A-Za-z])")
_PY_SYL_RE = re.compile(f"(?:{_PY_SYL}){{1,3}}")


def _industry(name: str) -> str:
    for word in INDUSTRIES:
        if word in name:
            return word
    return ""


def _employer_spoken(name: str, ending: str) -> tuple[str, str]:
    """(first mention, later mentions): 某纺织企业 / 该公司, 某厂 / 该厂, 某店 / 该店."""
    industry = _industry(name)
    if ending.endswith("厂"):
        return (f"某{industry}厂" if industry else "某厂"), "该厂"
    if ending in ("酒店", "饭店", "大酒店", "宾馆"):
        return "某酒店", "该酒店"
    if ending in ("超市", "商场"):
        return "某" + ending, "该" + ending
    if ending in ("餐馆", "饭馆", "餐厅", "面馆", "酒楼"):
        return "某饭店", "该饭店"
    if ending.endswith("店") or ending in ("商行", "门市部", "车行", "工作室", "旅馆", "发廊", "网吧", "会所", "诊所",
                                          "药房", "美容院", "农家乐"):
        return "某店", "该店"
    if ending in ("工地", "项目部"):
        return "某工地", "该工地"
    if ending in ("幼儿园", "培训学校", "培训中心", "作坊", "加工坊"):
        return "某" + ending, "该" + ending
    if industry and industry not in ("酒店", "超市"):
        return f"某{industry}企业", "该公司"
    return "某公司", "该公司"


def surname_of(name: str) -> str:
    for compound in COMPOUND_SURNAMES:
        if name.startswith(compound) and len(name) > len(compound):
            return compound
    return name[:1]


def spoken_person(name: str, first: bool = True) -> str:
    """一位王姓职工 the first time, 这位职工 later; a rare surname is not named."""
    surname = surname_of(name)
    if not first:
        return "这位职工"
    return f"一位{surname}姓职工" if surname in COMMON_SURNAMES else "一位职工"


def person_label(name: str | None) -> str:
    """A caller in a list that leaves the building (the episode log): 王姓听众, or 听众."""
    name = normalise(name)
    surname = surname_of(name) if name else ""
    return f"{surname}姓听众" if surname in COMMON_SURNAMES else "听众"


@lru_cache(maxsize=1)
def _posseg():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    for word in ("来电人", "职工之声", "工会之声", "总工会", "劳动监察大队", "仲裁委员会", "12351", "该公司", "这位职工"):
        jieba.add_word(word, freq=200000)
    return jieba.posseg


def _name_end(text: str, start: int, surname: str, max_given: int = 2, words: dict[int, str] | None = None) -> int:
    """The end of the name starting at `start` (its surname given): one or two more 汉字, cut at a stop, and
    cut before a word jieba sees starting in it (刘强送去 → 刘强)."""
    pos = start + len(surname)
    given = 0
    while pos < len(text) and given < max_given and "\u4e00" <= text[pos] <= "\u9fff" and text[pos] not in NAME_STOP:
        pos += 1
        given += 1
    if given == 2 and words is not None:
        word = words.get(pos - 1, "")
        if len(word) >= 2 and word[0] not in "":
            pos -= 1
    return pos if given else start


class _Detector:
    def __init__(self, text: str, names: list[str], employers: list[str], employer_cleared: bool,
                 allow: list[str]) -> None:
        self.text = text
        self.spans: list[_Span] = []
        self.protected = protected_spans(text)
        self.names = names
        self.employers = employers
        self.employer_cleared = employer_cleared
        self.allow = [a for a in allow if a]
        if employer_cleared:  # the producer cleared the case's employer: its name and short forms are read
            self.allow += [v for e in employers if e for v in _employer_variants(normalise(e))]
        self._tagged: list[tuple[str, str]] | None = None
        self._words: dict[int, str] | None = None

    # -- bookkeeping
    def _is_protected(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.protected)

    def _overlaps_protected(self, start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in self.protected)

    def _allowed(self, found: str) -> bool:
        return any(found in a or a in found for a in self.allow)

    def add(self, start: int, end: int, kind: str, spoken: str = "", key: str = "", guard: bool = True) -> None:
        if end <= start:
            return
        found = self.text[start:end]
        if self._allowed(found):
            return
        if kind in ("town", "address", "employer", "person") and ("某" in found or found.startswith("该")):
            return  # already a spoken form
        if guard and self._overlaps_protected(start, end):
            return
        self.spans.append(_Span(start, end, kind, spoken, key))

    # -- numbers, contacts, plates
    def numbers(self) -> None:
        text = self.text
        for m in _EMAIL.finditer(text):
            start = m.start()
            while start < m.end() and text[start] in "邮箱是为到发给至:：的地址件":
                start += 1
            self.add(start, m.end(), "email", guard=False)
        for pattern, kind in ((_QQ, "qq"), (_WECHAT, "wechat")):
            for m in pattern.finditer(text):
                self.add(m.start(), m.end(), kind, guard=False)
        for m in _PLATE.finditer(text):
            self.add(m.start(), m.end(), "plate", guard=False)
        for m in _MASKED_NUMBER.finditer(text):
            self.add(m.start(), m.end(), "mask", guard=False)
        for m in _NUMBER.finditer(text):
            run = m.group(0).rstrip(" -")
            digits = re.sub(r"[^0-9Xx]", "", run)
            kind = _number_kind(digits)
            if kind is None:
                continue
            start, end = m.start(), m.start() + len(run)
            if kind == "short":  # 5–6 digits: only after a cue (工号 12345, QQ 12345)
                if not _cue_before(text, start):
                    continue
                kind = "number"
            if self._keep_number(run, start, end):
                continue
            if self.text[end:end + 1] == "年" and re.search(r"(?:19|20)[0-9]{2}$", run) and len(digits) > 8:
                end -= 4  # 工资卡6222…01232026年11月: the year is not part of the card
                run = run[:-4].rstrip(" -")
                kind = _number_kind(re.sub(r"[^0-9Xx]", "", run)) or "number"
            self.add(start, end, kind, guard=False)

    def _keep_number(self, run: str, start: int, end: int) -> bool:
        after = self.text[end:end + 2]
        if re.match(r"(?:万|亿|千|元|块|%|人|天|个|次|倍|名|家|年|月|日|号|小时|分|秒|米|平|吨|件|条|届|期)", after) \
                and not re.search(r"[Xx]$", run) and len(re.sub(r"[^0-9]", "", run)) <= 8:
            return True
        if _CASE_NO.fullmatch(run) or re.fullmatch(r"(?:19|20)[0-9]{2}[-/.][0-9]{1,2}[-/.][0-9]{1,2}", run):
            return True
        digits = re.sub(r"[^0-9]", "", run)
        if re.fullmatch(r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])", digits):
            return True
        groups = re.split(r"[^0-9]+", run)
        if all(re.fullmatch(r"(?:19|20)[0-9]{2}", g) for g in groups if g):
            return True
        if "." in run and len(groups) == 2 and len(digits) <= 8:  # a decimal figure
            return True
        return False

    # -- addresses and towns
    def places(self) -> None:
        text = self.text
        for pattern, spoken in ((_ROAD_ADDRESS, "某小区"), (_ESTATE, "某小区"), (_BUILDING, ""), (_VILLAGE, "某村")):
            for m in pattern.finditer(text):
                start = m.start()
                # the road or estate name starts after a boundary word: 住在 / 在 / 位于
                prefix = re.match(r".*?(?:住址|住在|家住|住|位于|来自|在|于|到|是|的|搬到)", text[start:m.end()])
                if prefix and prefix.end() < m.end() - 2:
                    start += prefix.end()
                found = text[start:m.end()]
                if spoken == "某村" and found.endswith(("社区", "居委会", "村委会")):
                    spoken_here = "某社区"
                else:
                    spoken_here = spoken
                if self._is_protected(start, m.end()) or found in ("新村", "宿舍", "社区"):
                    continue
                self.add(start, m.end(), "address", spoken_here, guard=False)
        for m in _TOWN.finditer(text):
            if self._is_protected(m.start(), m.end()):
                continue
            self.add(m.start(), m.end(), "town", "某镇")

    # -- employers
    def employer_names(self) -> None:
        text = self.text
        known: list[tuple[str, str, str]] = []  # (needle, first, later)
        for employer in self.employers:
            full = normalise(employer)
            if len(full) < 2 or self.employer_cleared:
                continue
            ending = next((e for e in sorted(EMPLOYER_ENDINGS, key=len, reverse=True) if full.endswith(e)), "")
            first, later = _employer_spoken(full, ending or "公司")
            for needle in _employer_variants(full):
                known.append((needle, first, "employer:" + full))
        for needle, first, key in sorted(known, key=lambda k: len(k[0]), reverse=True):
            for m in re.finditer(re.escape(needle), text):
                self.add(m.start(), m.end(), "employer", first, key=key, guard=False)
        ending_re = "|".join(sorted(map(re.escape, EMPLOYER_ENDINGS), key=len, reverse=True))
        for m in re.finditer(f"((?:[{CJK}A-Za-z0-9()（）&]){{2,24}}?)({ending_re})(?!(?:里|内|外|区|长|房|方|家|主|子|商|务|规|纪|籍|休|牌|址|法|面|铺|庆))",
                             text):
            start, end = m.span()
            name_part = m.group(1)
            # the name starts after the last boundary word inside the match
            cut = _last_boundary(name_part)
            start += cut
            name_part = name_part[cut:]
            for s_, e_ in self.protected:  # 吴江区总工会走访永昌服装厂: the name starts after the institution
                if start <= s_ < end and e_ < end - len(m.group(2)):
                    cut2 = e_ - start
                    start, name_part = e_, name_part[cut2:] if cut2 <= len(name_part) else ""
            for det in sorted(DETERMINERS, key=len, reverse=True):
                if name_part.startswith(det):
                    rest = name_part[len(det):]
                    if len(det) > 1 or len(rest) < 2 or rest in GENERIC_BUSINESS or _industry_only(rest):
                        name_part = rest
                        start += len(det)
                    break
            if len(name_part) < 2 or name_part in GENERIC_BUSINESS or _industry_only(name_part) \
                    or name_part.startswith(("某", "该", "本")) or name_part.endswith(("该", "本", "某", "这", "那", "此")):
                continue
            if self._overlaps_protected(start, end) and not self._district_prefix_only(start, end):
                continue
            first, _later = _employer_spoken(name_part, m.group(2))
            self.add(start, end, "employer", first, key="employer:" + name_part, guard=False)

    def _district_prefix_only(self, start: int, end: int) -> bool:
        """苏州恒力纺织有限公司: the district at its head does not make the company a public body."""
        for s, e in self.protected:
            if s < end and start < e:
                found = self.text[s:e]
                if not _DISTRICT.fullmatch(found):
                    return False
        return True

    def tagged(self) -> list[tuple[str, str]]:
        if self._tagged is None:
            self._tagged = [(w, f) for w, f in _posseg().cut(self.text)]
        return self._tagged

    def _function_word_at(self, start: int) -> bool:
        """Whether jieba reads the one character at `start` as a word of its own that is no name
        (a conjunction, preposition, adverb, pronoun, particle or verb)."""
        pos = 0
        for word, flag in self.tagged():
            if pos == start:
                return len(word) == 1 and flag in ("c", "p", "d", "r", "u", "uj", "ul", "v", "ad", "f")
            if pos > start:
                return False
            pos += len(word)
        return False

    def words(self) -> dict[int, str]:
        """Where jieba's words start: position → word."""
        if self._words is None:
            self._words, pos = {}, 0
            for word, _flag in self.tagged():
                self._words[pos] = word
                pos += len(word)
        return self._words

    # -- people
    def people(self) -> None:
        text = self.text
        # the names the case knows, and their given names
        for name in self.names:
            full = normalise(name)
            if len(full) < 2:
                continue
            surname = surname_of(full)
            key = "person:" + full
            for needle in _name_variants(full):
                for m in re.finditer(re.escape(needle), text):
                    self.add(m.start(), m.end(), "person", surname, key=key)
            for py in _pinyin_variants(full):
                for m in re.finditer(re.escape(py), text, flags=re.IGNORECASE):
                    self.add(m.start(), m.end(), "person", surname, key=key)
        # after a cue: 老板张德福, 我叫王建国, 同事李四、王五
        cues = "|".join(sorted(ROLE_CUES + INTRO_CUES, key=len, reverse=True))
        for m in re.finditer(f"(?:{cues})(?:是|为|叫|:|：)?(?={_SURNAME_RE})", text):
            self._name_at(m.end())
        # before a title: 张德福经理, 王建国师傅, 欧阳娜娜女士
        titles = "|".join(sorted(TITLES, key=len, reverse=True))
        for m in re.finditer(f"({_SURNAME_RE})({H}{{1,2}}?)(?:{titles})", text):
            given = m.group(2)
            if given and not (set(given) & NAME_STOP) and not given.startswith("某"):
                self._add_person(m.start(), m.start(2) + len(given), m.group(1))
        # compound surnames that are no ordinary word: 澹台明月, 欧阳娜娜
        for m in re.finditer("(" + "|".join(SURE_COMPOUNDS) + ")", text):
            end = _name_end(text, m.start(), m.group(1), words=self.words())
            if end > m.end():
                self._add_person(m.start(), end, m.group(1))
        # masked names typed by someone: 王*, 王**
        for m in re.finditer(f"({_SURNAME_RE})[*＊]+", text):
            self._add_person(m.start(), m.end(), m.group(1))
        # jieba's person tags
        next_pos = 0
        words = self.tagged()
        for index, (word, flag) in enumerate(words):
            start, pos = next_pos, next_pos + len(word)
            next_pos = pos
            if flag.startswith("nr") and 2 <= len(word) <= 4:
                surname = surname_of(word)
                while len(word) > len(surname) + 1 and word[-1] in NAME_STOP:  # 黄建说 → 黄建
                    word, pos = word[:-1], pos - 1
                if len(word) - len(surname) > 2:
                    continue  # one surname and three more characters: no Chinese name
                if surname in RARE_SURNAMES and len(word) < 3:
                    continue  # 练兵, 和平: a rare surname with one more character is rarely a name
                if surname in SURNAMES or surname in COMPOUND_SURNAMES:
                    if not (set(word[len(surname):]) & {"某", "总", "姓", "氏", "家", "区", "市", "县", "镇", "村"}):
                        self._add_person(start, pos, surname, strict=True)
            elif len(word) == 1 and word in SURNAMES and flag in ("nr", "q", "n") and index + 1 < len(words):
                nxt, nflag = words[index + 1]
                if nflag.startswith(("nr", "ns", "nz")) and 1 <= len(nxt) <= 2 and not (set(nxt) & NAME_STOP):
                    self._add_person(start, pos + len(nxt), word, strict=True)
        # pinyin names: Wang Jianguo, ZHANG San
        for m in _PINYIN_WORD.finditer(text):
            parts = m.group(0).split(" ")
            lower = [p.lower() for p in parts]
            if all(_PY_SYL_RE.fullmatch(p) for p in lower) and (lower[0] in _PY_SURNAMES or lower[-1] in _PY_SURNAMES):
                self.add(m.start(), m.end(), "person", "", key="person:" + m.group(0).lower(), guard=False)
        # names in a row after a found one: 李四、王五和赵六
        changed = True
        while changed:
            changed = False
            for span in [s for s in self.spans if s.kind == "person"]:
                m = re.match(f"(?:、|和|与|及|,|，)({_SURNAME_RE})", text[span.end:])
                if m:
                    start = span.end + m.start(1)
                    end = _name_end(text, start, m.group(1), words=self.words())
                    if end - start >= 2 and not any(s.start <= start < s.end for s in self.spans):
                        before = len(self.spans)
                        self._add_person(start, end, m.group(1))
                        changed = changed or len(self.spans) > before

    def _name_at(self, start: int) -> None:
        m = re.match(_SURNAME_RE, self.text[start:])
        if not m:
            return
        surname = m.group(0)
        if (surname in RARE_SURNAMES or surname in "向于曾常时成安") and self._function_word_at(start):
            return  # 律师和劳动争议调解员: 和 is a conjunction here, not a surname
        end = _name_end(self.text, start, surname, words=self.words())
        if end > start and not self.text[start + len(surname):end].startswith("某"):
            self._add_person(start, end, surname)

    def _add_person(self, start: int, end: int, surname: str, strict: bool = False) -> None:
        found = self.text[start:end]
        given = found[len(surname):]
        if found in _NOT_NAMES or found in TITLES or found in ROLE_CUES or (strict and _looks_like_word(found)) \
                or given.endswith(TITLES) or given in ("总", "某", "姓", "氏"):
            return
        self.add(start, end, "person", surname, key="person:" + found.rstrip("*＊"))

    def run(self) -> list[_Span]:
        self.numbers()
        self.places()
        self.employer_names()
        self.people()
        return _merge_rows(self.text, _resolve(self.spans))


# Words jieba or a cue may take for a name.
_NOT_NAMES = {
    "高新", "高新区", "金融", "石油", "房产", "白班", "夜班", "何时", "任何", "于是", "孙子", "周末", "钟点", "常年",
    "双倍", "林业", "温度", "黄金", "龙头", "马上", "向来", "成本", "时间", "江苏", "上海", "陆续", "华为", "安全",
    "方面", "方式", "方法", "关于", "关系", "万元", "申请", "邵阳", "明年", "明天", "车间", "毕业", "苗木",
    "和谐", "文件", "谷歌", "应当", "应该", "全部", "全年", "全市", "全体", "全面", "宁可", "司机", "包括",
    "单位", "单独", "单亲", "曲线", "连续", "简单", "章程", "夏天", "夏季", "秦淮", "江南", "黎明",
}


def _looks_like_word(found: str) -> bool:
    return found in _NOT_NAMES or found[-1] in "区市县镇村省局厂店路街部处科"


def _last_boundary(name_part: str) -> int:
    cut = 0
    for m in re.finditer(r"在|到|被|与|和|向|对|是|了|的|去|进|从|给|跟|找|告|由|为|帮|替|让|叫|说|称|于|入职|就职"
                         r"|开的|办的|位于|所在|工作|上班|打工|老板|投诉|举报|反映|名叫|叫做|这家|那家|一家|走访|慰问|约谈"
                         r"|联系|协调|起诉|检查|前往|来到|离开|辞职|加入|调解|督促|责令|要求|通知|推荐|提醒|等|及|、|，", name_part):
        if m.end() < len(name_part):
            cut = m.end()
    return cut


def _industry_only(name: str) -> bool:
    rest = name
    for word in sorted(INDUSTRIES, key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest in ("", "小", "大", "一", "个")


def _cue_before(text: str, start: int) -> bool:
    before = text[max(0, start - 8):start].rstrip(" :：是为")
    return before.endswith(NUMBER_CUES)


def _number_kind(digits: str) -> str | None:
    n = len(digits.rstrip("Xx"))
    if n < 5:
        return None
    if n < 7:
        return "short"
    plain = digits.upper()
    for prefix in ("0086", "86"):
        rest = plain[len(prefix):]
        if plain.startswith(prefix) and len(rest) == 11 and re.match(r"1[3-9]", rest):
            return "mobile"
    if len(plain) == 11 and re.match(r"1[3-9]", plain):
        return "mobile"
    if (len(plain) == 18 and re.fullmatch(r"[1-9][0-9]{16}[0-9X]", plain)) or \
            (len(plain) == 15 and plain[0] != "0" and plain.isdigit()):
        return "id"
    if 16 <= len(plain) <= 19:
        return "card"
    if plain.startswith(("0", "400", "800")) or 7 <= len(plain) <= 8:
        return "landline"
    return "number"


def _employer_variants(full: str) -> list[str]:
    variants = [full]
    core = full
    for prefix in sorted(DISTRICTS + ("市", "区"), key=len, reverse=True):
        if core.startswith(prefix) and len(core) > len(prefix) + 1:
            core = core[len(prefix):]
            break
    for town in TOWNS:
        if core.startswith(town) and len(core) > len(town) + 2:
            core = core[len(town):]
            break
    for suffix in sorted(EMPLOYER_ENDINGS, key=len, reverse=True):
        if core.endswith(suffix) and len(core) > len(suffix) + 1:
            core = core[: -len(suffix)]
            break
    if core != full and len(core) >= 2:
        variants.append(core)
    trimmed = core
    while True:
        shorter = re.sub(r"(?:制造|加工|工程|制品|实业|发展|技术|科技|贸易|有限|股份)$", "", trimmed)
        if shorter == trimmed or len(shorter) < 2:
            break
        trimmed = shorter
    if trimmed not in variants and len(trimmed) >= 2:
        variants.append(trimmed)
    industry = _industry(trimmed)
    brand = trimmed.replace(industry, "") if industry else trimmed
    if 2 <= len(brand) < len(full) and brand not in GENERIC_BUSINESS and brand not in variants:
        variants.append(brand)
    return variants


def _name_variants(full: str) -> list[str]:
    surname = surname_of(full)
    given = full[len(surname):]
    variants = [full]
    if len(given) >= 2 and re.fullmatch(f"{H}+", given):
        variants.append(given)
    return variants


def _pinyin_variants(full: str) -> list[str]:
    """The caller's name in pinyin is found by the generic pinyin rule; nothing to derive here."""
    return []


def _resolve(spans: list[_Span]) -> list[_Span]:
    """Non-overlapping spans: the longest first where two overlap; numbers and contacts win over names."""
    rank = {"email": 0, "mask": 0, "qq": 0, "wechat": 0, "plate": 0, "id": 1, "card": 1, "mobile": 1,
            "landline": 1, "number": 1, "address": 2, "employer": 3, "town": 4, "person": 5}
    chosen: list[_Span] = []
    taken: list = []
    for span in sorted(spans, key=lambda s: (rank.get(s.kind, 9), -(s.end - s.start), s.start)):
        if any(span.start < e and s < span.end for s, e in taken):
            continue
        chosen.append(span)
        taken.append((span.start, span.end))
    return sorted(chosen, key=lambda s: s.start)


def _merge_rows(text: str, spans: list[_Span]) -> list[_Span]:
    """Names in a row (李四、王五和赵六) are read as 几位职工."""
    out: list[_Span] = []
    for span in spans:
        prev = out[-1] if out else None
        if prev is not None and prev.kind == "person" and span.kind == "person" \
                and text[prev.end:span.start] in ("、", "和", "与", "及", "，", ","):
            out[-1] = _Span(prev.start, span.end, "person", "", key="row:" + text[prev.start:span.end])
            out[-1].row = True  # type: ignore[attr-defined]
            continue
        out.append(span)
    return out


# ---------------------------------------------------------------- 3. rewrite

_CLAUSE_END = "，,。；;！!？?\n"
_INTRO_RE = re.compile(r"^(?:(?:你好|您好|喂)[，,！!]?)?(?:我叫|我姓|我的名字叫|我的名字是|本人姓|本人叫|本人是)")
_SELF_IS = re.compile(r"^(?:(?:你好|您好|喂)[，,！!]?)?(?:我是|本人)")  # a self-introduction only with a name in it
_GREETING = re.compile(r"^(?:你好|您好)[，,！!。]?")
_CUE_TAIL = re.compile(
    "(?:" + "|".join(sorted(map(re.escape, NUMBER_CUES), key=len, reverse=True)) + r")(?:号码|号)?\s?(?:是|为|:|：)?\s?$")


def _spoken_number(kind: str, before: str) -> str:
    """The word read where a number was, when its clause goes on: 您打电话找我 (not 您打找我)."""
    if kind in ("qq", "wechat"):  # the span holds its cue: 微信号wxid_… → 微信, unless 微信 was just said
        return "" if before.endswith(("微信", "QQ", "qq")) else {"qq": "QQ", "wechat": "微信"}[kind]
    if _CUE_TAIL.search(before) or re.search(r"(?:回电|致电|回拨|来电)$", before):
        return ""
    return {"mobile": "电话", "landline": "电话", "email": "邮箱", "qq": "QQ", "wechat": "微信", "id": "身份证",
            "card": "银行卡", "plate": "车辆", "number": "", "mask": ""}.get(kind, "")


def _rewrite(text: str, spans: list[_Span]) -> tuple[str, list[Change], list[tuple[int, int, str]]]:
    out: list[str] = []
    changes: list[Change] = []
    marks: list[tuple[int, int, str]] = []  # (start, end, kind) in the output
    pos = 0
    seen: set[str] = set()
    for span in spans:
        out.append(text[pos:span.start])
        before = "".join(out)[-12:]
        found = text[span.start:span.end]
        if span.kind == "person":
            spoken = _spoken_for_person(text, span, seen)
        elif span.kind == "employer":
            key = span.key
            if key in seen:
                spoken = _later_employer(span.spoken)
            else:
                spoken = span.spoken
            seen.add(key)
        elif span.kind in ("address", "town"):
            spoken = span.spoken
        else:
            spoken = _spoken_number(span.kind, before)
            if not spoken:  # the cue (手机是) stays only if its clause has more to say; see _tidy
                pass
        if span.kind == "employer" and before.endswith("某"):
            spoken = spoken.lstrip("某")
        start = sum(len(p) for p in out)
        out.append(spoken)
        marks.append((start, start + len(spoken), span.kind))
        changes.append(Change(span.kind, found, spoken))
        pos = span.end
    out.append(text[pos:])
    return "".join(out), changes, marks


def _later_employer(first: str) -> str:
    for word in ("厂", "店", "酒店", "超市", "商场", "工地"):
        if first.endswith(word):
            return "该" + word
    return "该公司"


def _spoken_for_person(text: str, span: _Span, seen: set[str]) -> str:
    surname = span.spoken
    if getattr(span, "row", False):
        seen.add(span.key)
        return "几位职工"
    after = text[span.end:span.end + 3]
    before = text[max(0, span.start - 6):span.start]
    title = next((t for t in sorted(TITLES, key=len, reverse=True) if after.startswith(t)), None)
    first = span.key not in seen
    seen.add(span.key)
    if title:  # 王建国师傅 → 王师傅; a rare surname → 这位师傅
        return surname if surname in COMMON_SURNAMES else "这位"
    if any(before.endswith(c) for c in ROLE_CUES):  # 老板张德福 → 老板
        return ""
    if re.search(r"(?:我是|我叫|本人|姓名|名叫|我姓|叫做|叫)[是为:：]?$", before):
        return ""  # the self-introduction goes with its clause (see _tidy)
    if not surname:
        return "一位职工" if first else "这位职工"
    return spoken_person(surname + "某", first)


def _tidy(text: str, marks: list[tuple[int, int, str]]) -> str:
    """Clause by clause: drop self-introductions, greetings with a name, and clauses that were only a
    cue and a number; then tidy the punctuation left behind."""
    pieces = re.split(f"([{_CLAUSE_END}])", text)
    out: list[str] = []
    offset = 0
    kept_any = False
    for i in range(0, len(pieces), 2):
        clause = pieces[i]
        sep = pieces[i + 1] if i + 1 < len(pieces) else ""
        start, end = offset, offset + len(clause)
        offset = end + len(sep)
        kinds = {k for s, e, k in marks if start <= s <= end}
        stripped = clause.strip()
        drop = False
        if stripped and (_INTRO_RE.match(stripped) or (_SELF_IS.match(stripped) and "person" in kinds)):
            drop = True
        elif stripped and "person" in kinds and len(stripped) <= 14 and (
                _GREETING.match(stripped) or re.search(r"(?:你好|您好)[！!]?$", stripped)):
            drop = True
        elif re.fullmatch(r"(?:你好|您好|喂)[！!]?", stripped) and not kept_any:
            drop = True
        elif kinds and _only_cue_left(stripped):
            drop = True
        if drop:
            # keep the sentence's end if this clause closed it
            if sep in "。！!？?\n" and out and out[-1] in "，,；;":
                out[-1] = sep if sep != "\n" else "。\n"
            elif sep == "\n":
                out.append("\n")
            continue
        out.append(clause)
        out.append(sep)
        kept_any = kept_any or bool(stripped)
    result = "".join(out)
    result = re.sub(r"^[，,；;。、\s]+", "", result)
    result = re.sub(r"\n[，,；;、]+", "\n", result)
    result = re.sub(r"[，,]([。！？])", r"\1", result)
    result = re.sub(r"([，,；;、])\1+", r"\1", result)
    result = re.sub(r"(这位职工|该公司|该厂)(?:和|、)\1", r"\1", result)
    result = re.sub(r"(电话)(?:和|、)电话", r"\1", result)
    result = re.sub(r"(某小区|某镇|某村)(?:\1)+", r"\1", result)
    result = re.sub(r"[*＊]+", "", result)
    result = re.sub(r" +([，。？！、；：])", r"\1", result)
    result = re.sub(r"[ ]{2,}", " ", result)
    return result.strip()


_FILLER_WORDS = ("我的", "我", "他的", "她的", "他", "她", "本人", "家里", "家庭", "单位", "公司", "老板", "的", "是", "为",
                 "和", "或", "及", "有", "两个", "一个", "请", "打", "拨打", "回拨", "联系", "联系方式", "方式", "地址",
                 "住址", "住在", "住", "家住", "号", "在", ":", "：", " ", "留的", "留了", "新", "旧", "原来", "叫", "名叫",
                 "姓名", "名字", "加", "加我", "或者", "或") + NUMBER_CUES
_FILLER = re.compile("|".join(sorted(map(re.escape, _FILLER_WORDS), key=len, reverse=True)))


def _only_cue_left(clause: str) -> bool:
    return not _FILLER.sub("", clause).strip("，,。；;！!？? ")


# ---------------------------------------------------------------- the doors

def redact_detail(text: str | None, *, names: Iterable[str | None] = (), employers: Iterable[str | None] = (),
                  employer_cleared: bool = False, allow: Iterable[str | None] = ()) -> Redaction:
    """The text as it may be read on air, and the list of what was changed.

    `names`: the names the case knows (the caller's, others); `employers`: the case's employer(s), named
    as they are when `employer_cleared`; `allow`: terms a producer deliberately restored (kept as typed)."""
    clean = normalise(text)
    if not clean:
        return Redaction("", [])
    detector = _Detector(clean, [n for n in names if n], [e for e in employers if e], employer_cleared,
                         [normalise(a) for a in allow if a])
    spans = detector.run()
    rewritten, changes, marks = _rewrite(clean, spans)
    out = _tidy(rewritten, marks)
    return Redaction(out, changes)


def redact(text: str | None, *, names: Iterable[str | None] = (), employers: Iterable[str | None] = (),
           employer_cleared: bool = False, allow: Iterable[str | None] = ()) -> str:
    """`text` without what identifies a caller, in words an announcer can read."""
    if not text:
        return ""
    return _redact_cached(str(text), tuple(n for n in names if n), tuple(e for e in employers if e),
                          bool(employer_cleared), tuple(a for a in allow if a))


@lru_cache(maxsize=4096)
def _redact_cached(text: str, names: tuple[str, ...], employers: tuple[str, ...], employer_cleared: bool,
                   allow: tuple[str, ...]) -> str:
    """The same text with the same context redacts the same way: the day's content items and cases are
    read by every build of a date, a rebuild and the next days' builds."""
    return redact_detail(text, names=names, employers=employers, employer_cleared=employer_cleared,
                         allow=allow).text


def redact_case_text(case, text: str | None, *, employer_cleared: bool = False,
                     allow: Iterable[str | None] = ()) -> str:
    """`redact` with what the case knows about its caller (name, employer)."""
    return redact(text, names=[case.caller_name], employers=[case.caller_employer],
                  employer_cleared=employer_cleared, allow=allow)

