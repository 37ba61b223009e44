"""Reference data (idempotent) and demo data."""
from __future__ import annotations

import random

from sqlalchemy import select

from hotline.auth import service as auth
from hotline.auth.models import User
from hotline.extensions import db
from hotline.reference.models import CaseType, Category, Department
from hotline.workdays import service as workdays

DEPARTMENTS = [
    ("legal_aid", "法律援助中心"), ("democratic", "民管部"), ("women", "女工部"), ("organization", "组织部"),
    ("assistance", "帮扶中心"), ("rights", "权益保障部"), ("publicity", "宣教部"), ("grassroots", "基层工作部"),
    ("economic", "经济技术部"), ("mediation", "劳动争议调解中心"), ("service", "职工服务中心"), ("office", "办公室"),
]
TYPES = [
    ("consult", "问题咨询", 2), ("help", "服务帮扶", 5), ("legal_aid", "法律援助", 5),
    ("complaint", "信访投诉", 15), ("suggestion", "意见建议", 10),
]
CATEGORIES = [
    ("contract", "劳动合同"), ("wages", "工资报酬/欠薪"), ("insurance", "社会保险"), ("injury", "工伤与职业病"),
    ("dispute", "劳动争议"), ("union", "工会组建与入会"), ("women", "女职工权益"), ("hardship", "困难帮扶"),
    ("employment", "就业与求职"), ("education", "教育培训与求学"), ("counselling", "心理疏导"), ("other", "其他"),
]

DEMO_PASSWORD = "hotline-demo-2026"
DEMO_USERS = [
    ("operator", "张丽", ["operator"], None, "+8613900000001"),
    ("operator2", "王芳", ["operator"], None, None),
    ("handler", "李明", ["handler"], "legal_aid", "+8613900000002"),
    ("handler2", "陈静", ["handler"], "women", None),
    ("handler3", "刘强", ["handler"], "assistance", None),
    ("producer", "周晓", ["producer"], None, None),
    ("supervisor", "赵国华", ["supervisor"], None, "+8613900000003"),
    ("admin", "管理员", ["admin"], None, None),
    ("editor", "孙知远", ["editor"], None, None),  # 知识库管理员
]
# The organisations the city works through (hotline/orgs/): (code, name, its departments, its demo users).
# 吴江区总工会 runs the radio programmes, so the demo producer works there.
DEMO_ORGS = [
    ("wujiang", "吴江区总工会", [("wj_rights", "维权部"), ("wj_legal", "法律服务站")],
     [("wj_operator", "沈燕", ["operator"], None), ("wj_handler", "陆文", ["handler"], "wj_rights"),
      ("wj_supervisor", "钱志刚", ["supervisor"], None), ("wj_admin", "吴江管理员", ["admin"], None)]),
    ("taicang", "太仓市总工会", [("tc_rights", "权益保障部"), ("tc_service", "职工服务中心")],
     [("tc_operator", "顾敏", ["operator"], None), ("tc_handler", "浦建华", ["handler"], "tc_rights"),
      ("tc_supervisor", "邵红", ["supervisor"], None)]),
]


def seed_reference() -> dict[str, int]:
    from hotline.orgs.service import ensure_root

    added = {"organisations": ensure_root(), "departments": 0, "types": 0, "categories": 0, "calendar_years": 0,
             "articles": 0}
    for order, (code, name) in enumerate(DEPARTMENTS):
        if db.session.scalar(select(Department.id).where(Department.code == code)) is None:
            db.session.add(Department(code=code, name=name, active=True, sort_order=order))
            added["departments"] += 1
    for order, (code, name, days) in enumerate(TYPES):
        if db.session.get(CaseType, code) is None:
            db.session.add(CaseType(code=code, name=name, reply_days=days, sort_order=order))
            added["types"] += 1
    for order, (code, name) in enumerate(CATEGORIES):
        if db.session.scalar(select(Category.id).where(Category.code == code)) is None:
            db.session.add(Category(code=code, name=name, reply_days=None, active=True, sort_order=order))
            added["categories"] += 1
    db.session.flush()
    added["calendar_years"] = workdays.seed_from_package()
    from hotline.knowledge.service import seed_articles

    added["articles"] = seed_articles()  # the knowledge base's first articles (知识库)
    return added


DEMO_CASES = [
    ("hotline", "consult", "wages", "公司拖欠工资三个月，询问如何维权", "13812345678", "王建国", None),
    ("hotline", "legal_aid", "dispute", "被公司无故辞退，要求法律援助", "13912345670", "李小红", "legal_aid"),
    ("hotline", "consult", "insurance", "咨询社保断缴后如何补缴", "13700001111", "陈伟", None),
    ("hotline", "complaint", "wages", "建筑工地拖欠农民工工资，多人未领到", "13612349876", "赵大山", "rights"),
    ("radio", "consult", "women", "怀孕期间被调岗降薪是否合法", "13512341234", "孙丽", "women"),
    ("hotline", "help", "hardship", "家庭困难，孩子上学需要帮扶", "13412340000", "周师傅", "assistance"),
    ("walk_in", "consult", "union", "企业想组建工会，需要什么手续", "051265230000", "吴经理", "organization"),
    ("hotline", "consult", "injury", "工伤认定需要哪些材料", "13312345678", "郑强", None),
    ("hotline", "suggestion", "education", "建议开设夜校技能培训班", "13212345678", "冯敏", "publicity"),
    ("hotline", "consult", "wages", "加班费如何计算", "13812345678", "王建国", None),
    ("letter", "complaint", "contract", "公司不签劳动合同", "13112345678", "褚明", "legal_aid"),
    ("hotline", "consult", "employment", "下岗后想参加再就业培训", "15012345678", "卫东", None),
]


def seed_demo() -> list[tuple[str, str, str]]:
    """Demo users (printed logins) and a few cases in every state. Idempotent on users."""
    created = []
    for username, name, roles, dept, phone in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.username == username)) is None:
            org = "wujiang" if username == "producer" else None
            if org:
                _demo_org(org)
            auth.create_user(username, name, roles, DEMO_PASSWORD, dept, phone, org_code=org)
            created.append((username, ",".join(roles), DEMO_PASSWORD))
    for code, _name, _depts, people in DEMO_ORGS:
        _demo_org(code)
        for username, name, roles, dept in people:
            if db.session.scalar(select(User.id).where(User.username == username)) is None:
                auth.create_user(username, name, roles, DEMO_PASSWORD, dept, None, org_code=code)
                created.append((username, ",".join(roles), DEMO_PASSWORD))
    db.session.flush()
    if not created:
        return created
    from hotline.cases import service as cases
    from hotline.cases.models import Case

    operator = db.session.scalar(select(User).where(User.username == "operator"))
    supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
    rng = random.Random(12351)
    for channel, ctype, cat, summary, phone, name, dept in DEMO_CASES:
        resolved = dept is None and rng.random() < 0.7
        data = {"channel": channel, "type": ctype, "category": cat, "summary": summary,
                "caller": {"phone": phone, "name": name}, "broadcast_ok": rng.random() < 0.5,
                "detail": summary + "。来电人希望尽快得到答复。"}
        if resolved:
            data.update(resolved_on_call=True, answer="已在电话中解答：可携带相关材料到劳动保障监察部门投诉，或拨打12351获取法律援助。")
        elif dept:
            data["department"] = dept
        case = cases.register(operator, data)
        if dept and rng.random() < 0.6:
            handler = db.session.scalar(select(User).join(User.department).where(Department.code == dept))
            if handler is not None:
                cases.perform(handler, case, "accept", case.version, {})
                if rng.random() < 0.5:
                    cases.perform(handler, case, "reply", case.version,
                                  {"content": "已联系来电人并给出处理意见。", "method": "phone"})
                    cases.perform(supervisor, case, "close", case.version, {})
    # 回访 by phone of the closed cases, so the three rates (响应率, 解决率, 满意率) have figures.
    answers = [("satisfied", True), ("basically_satisfied", True), ("unreachable", None), ("dissatisfied", False),
               ("satisfied", True), ("basically_satisfied", False)]
    closed = db.session.scalars(select(Case).where(Case.status == "closed").order_by(Case.id)).all()
    for case, (result, solved) in zip(closed, answers * len(closed)):
        cases.perform(operator, case, "survey", case.version, {"result": result, "resolved": solved})
    from hotline.digest.demo import seed_radio_demo
    from hotline.radio.models import Programme

    # The radio call-ins are 吴江's: its operator logs them, and its programmes draw on its own cases.
    wj_operator = db.session.scalar(select(User).where(User.username == "wj_operator"))
    seed_radio_demo(wj_operator)  # programme schedule, bulletin items, cases cleared for air
    wujiang = _demo_org("wujiang")
    for programme in db.session.scalars(select(Programme)):
        programme.org_id = wujiang.id
    # One case handed down from the city to 吴江, so the path shows on a case page.
    case = cases.register(operator, {"channel": "hotline", "type": "complaint", "category": "wages",
                                     "summary": "吴江某电子厂拖欠三十名工人两个月工资",
                                     "caller": {"phone": "13962512351", "name": "沈师傅"},
                                     "detail": "工厂位于吴江经济开发区，来电人希望区总工会介入。"})
    cases.perform(operator, case, "transfer", case.version, {"org": "wujiang", "note": "属地处理，请吴江区总工会跟进。"})
    db.session.flush()
    return created


def _demo_org(code: str):
    """One of the demo organisations under the root, with its departments (idempotent)."""
    from hotline.orgs import service as orgs
    from hotline.orgs.models import Organisation

    org = db.session.scalar(select(Organisation).where(Organisation.code == code))
    if org is not None:
        return org
    _code, name, depts, _people = next(o for o in DEMO_ORGS if o[0] == code)
    org = orgs.create(None, code, name)
    for order, (dept_code, dept_name) in enumerate(depts):
        db.session.add(Department(code=dept_code, name=dept_name, active=True, sort_order=order, org_id=org.id))
    db.session.flush()
    return org
