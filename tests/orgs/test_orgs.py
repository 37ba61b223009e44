"""The organisation tree (hotline/orgs/): a case handed down from the city to 吴江 and reported back up,
who sees what, the figures per organisation, programmes and the digest, administration within a subtree,
and the bad input that must change nothing."""
from __future__ import annotations

import tempfile

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from conftest import PASSWORD, BACKENDS, PgDatabase, get_user, make_app
from hotline.auth.models import User
from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db
from hotline.orgs.models import Organisation
from hotline.reference.models import Department


@pytest.fixture
def tree(app, users):
    """市总 (the root, with the conftest users) → 吴江区总工会 (→ 盛泽镇工会) and 太仓市总工会, each with a
    department and an operator, a handler and a supervisor; 吴江 also an admin."""
    from hotline.admin.service import create_department
    from hotline.auth.service import create_user
    from hotline.orgs import service as orgs

    with app.app_context():
        orgs.create(None, "wujiang", "吴江区总工会")
        orgs.create(None, "shengze", "盛泽镇工会", "wujiang")
        orgs.create(None, "taicang", "太仓市总工会")
        for org, dept, dept_name in (("wujiang", "wj_rights", "维权部"), ("taicang", "tc_rights", "权益保障部"),
                                     ("shengze", "sz_rights", "盛泽维权站")):
            create_department(dept, dept_name, None, org)
        for prefix, org, dept in (("wj", "wujiang", "wj_rights"), ("tc", "taicang", "tc_rights"),
                                  ("sz", "shengze", "sz_rights")):
            create_user(f"{prefix}_operator", f"{prefix} 接线员", ["operator"], PASSWORD, org_code=org)
            create_user(f"{prefix}_handler", f"{prefix} 承办人", ["handler"], PASSWORD, dept, org_code=org)
            create_user(f"{prefix}_supervisor", f"{prefix} 主任", ["supervisor"], PASSWORD, org_code=org)
        create_user("wj_admin", "吴江管理员", ["admin"], PASSWORD, org_code="wujiang")
        db.session.commit()


def snapshot(app):
    """Everything an action could change: cases (all columns), events, organisations, departments, users."""
    with app.app_context():
        return (
            [tuple(r) for r in db.session.execute(select(Case.__table__).order_by(Case.id))],
            db.session.scalar(select(func.count()).select_from(CaseEvent)),
            [tuple(r) for r in db.session.execute(select(Organisation.__table__).order_by(Organisation.id))],
            [tuple(r) for r in db.session.execute(select(Department.__table__).order_by(Department.id))],
            db.session.scalar(select(func.count()).select_from(User)),
        )


def register(api, username="operator", **extra):
    body = {"type": "complaint", "category": "wages", "summary": "吴江某厂拖欠工资",
            "caller": {"phone": "13962512351", "name": "沈师傅"}, **extra}
    resp = api(username).post("/cases", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def act(api, username, case, action, expect=200, **params):
    resp = api(username).post(f"/cases/{case['case_no']}/{action}", json={"version": case["version"], **params})
    assert resp.status_code == expect, (action, resp.get_json())
    return resp.get_json()


# ---------------------------------------------------------------- the walk: city → 吴江 → back

def test_a_case_walks_from_the_city_to_wujiang_and_back(app, api, tree, clock, login):
    from conftest import local

    case = register(api)
    due = case["reply_due_at"]
    # 市总 hands it down to 吴江区总工会 (下派), with a note.
    clock.set(local(2026, 11, 30, 11, 0))
    case = act(api, "operator", case, "transfer", org="wujiang", note="属地处理")
    assert case["reply_due_at"] == due  # deadlines keep running from registration
    assert (case["org"], case["registered_org"]) == ("wujiang", "city")
    # It is on 吴江's dispatch list, not the city's.
    listed = api("wj_operator").get("/cases?status=registered").get_json()["items"]
    assert [c["case_no"] for c in listed] == [case["case_no"]]
    city_list = api("operator").get("/cases?status=registered&org=city").get_json()
    assert case["case_no"] in [c["case_no"] for c in city_list["items"]]  # the city still sees it (below it)
    # The city may no longer dispatch it; 吴江 dispatches it to its own 维权部.
    act(api, "operator", case, "assign", expect=403, department="legal_aid")
    act(api, "wj_operator", case, "assign", expect=422, department="legal_aid")  # another organisation's
    clock.set(local(2026, 11, 30, 14, 0))
    case = act(api, "wj_operator", case, "assign", department="wj_rights")
    case = act(api, "wj_handler", case, "accept")
    clock.set(local(2026, 12, 1, 10, 0))
    case = act(api, "wj_handler", case, "reply", content="已协调企业补发工资")
    # The reply is visible to every level above.
    for username in ("operator", "supervisor", "wj_supervisor"):
        seen = api(username).get(f"/cases/{case['case_no']}").get_json()
        assert seen["answer"] == "已协调企业补发工资"
    # The level that registered it closes it and does the 回访; 吴江 may not.
    act(api, "wj_operator", case, "close", expect=403)
    case = act(api, "operator", case, "close")
    act(api, "wj_operator", case, "survey", expect=403, result="satisfied", resolved=True)
    case = act(api, "operator", case, "survey", result="satisfied", resolved=True)
    assert case["status"] == "closed"
    # The case page shows the path and each level's times.
    client = login(app.test_client(), "supervisor")
    page = client.get(f"/cases/{case['case_no']}").get_data(as_text=True)
    assert "Path" in page and "吴江区总工会" in page and "维权部" in page
    path = page[page.index('class="org-path"'):]
    path = path[:path.index("</p>")]
    assert path.index("苏州市总工会") < path.index("吴江区总工会") < path.index("维权部")
    # The timeline names the organisations of the hand-down by name, not by code.
    timeline = page[page.index('id="timeline-title"'):]
    assert "吴江区总工会" in timeline and ">wujiang<" not in timeline
    assert "11/30 11:00" in page or "2026-11-30 11:00" in page  # when 吴江 received it


def test_delegated_closure_lets_the_replying_level_close(app, api, tree, ctx):
    from hotline.orgs import service as orgs

    orgs.update_settings(None, "city", "1", "subtree")
    db.session.commit()
    case = register(api)
    case = act(api, "operator", case, "transfer", org="wujiang")
    case = act(api, "wj_operator", case, "assign", department="wj_rights")
    case = act(api, "wj_handler", case, "accept")
    case = act(api, "wj_handler", case, "reply", content="已处理")
    case = act(api, "wj_operator", case, "close")
    act(api, "wj_operator", case, "survey", result="satisfied", resolved=True)


def test_a_case_is_handed_down_one_level_at_a_time(api, tree):
    case = register(api)
    case = act(api, "operator", case, "transfer", org="wujiang")
    case = act(api, "wj_operator", case, "transfer", org="shengze")
    listed = api("sz_operator").get("/cases").get_json()["items"]
    assert [c["case_no"] for c in listed] == [case["case_no"]]
    # Every level above sees it; 盛泽 dispatches to its own station.
    assert api("wj_supervisor").get(f"/cases/{case['case_no']}").status_code == 200
    act(api, "sz_operator", case, "assign", department="sz_rights")


def test_sending_up_is_reviewed_by_the_parent(api, tree):
    case = register(api)
    case = act(api, "operator", case, "transfer", org="wujiang")
    act(api, "wj_operator", case, "send_up", expect=422, reason="")
    case = act(api, "wj_operator", case, "send_up", reason="不属本区管辖")
    act(api, "wj_operator", case, "send_up", expect=409, reason="again")
    act(api, "wj_operator", case, "accept_up", expect=403)  # the parent reviews, not the sender
    act(api, "tc_operator", case, "accept_up", expect=404)  # a sibling does not even see it
    # Refused: it stays with 吴江, which may dispatch it.
    case = act(api, "supervisor", case, "refuse_up", reason="属地企业，请继续办理")
    detail = api("wj_operator").get(f"/cases/{case['case_no']}").get_json()
    assert detail["events"][-1]["kind"] == "send_up_refuse"
    # Asked again and accepted: back on the city's dispatch list.
    case = act(api, "wj_operator", case, "send_up", reason="企业注册地在市区")
    case = act(api, "operator", case, "accept_up")
    case = act(api, "operator", case, "assign", department="legal_aid")
    # 吴江 registered nothing and owns nothing now: it no longer sees the case.
    assert api("wj_operator").get(f"/cases/{case['case_no']}").status_code == 404


def test_the_root_cannot_send_a_case_up(api, tree):
    case = register(api)
    act(api, "operator", case, "send_up", expect=409, reason="x")


# ---------------------------------------------------------------- bad input: clear errors, nothing changed

@pytest.mark.parametrize("who,org,status,field", [
    ("operator", "shengze", 422, "org"),   # a grandchild: not directly below
    ("operator", "city", 422, "org"),      # the same organisation
    ("operator", "nowhere", 422, "org"),   # unknown
    ("operator", "", 422, "org"),          # missing
    ("wj_operator", "wujiang", 404, None),  # the city's case: 吴江 does not even see it
])
def test_bad_transfers_change_nothing(app, api, tree, who, org, status, field):
    case = register(api)
    before = snapshot(app)
    resp = api(who).post(f"/cases/{case['case_no']}/transfer", json={"version": case["version"], "org": org})
    assert resp.status_code == status, resp.get_json()
    error = resp.get_json()["error"]
    assert error["message"]
    if field:
        assert field in error.get("fields", {})
    assert snapshot(app) == before


def test_transfer_to_a_sibling_is_refused(app, api, tree):
    case = register(api)
    case = act(api, "operator", case, "transfer", org="wujiang")
    before = snapshot(app)
    resp = api("wj_operator").post(f"/cases/{case['case_no']}/transfer",
                                   json={"version": case["version"], "org": "taicang"})
    assert resp.status_code == 422
    assert "太仓市总工会" in resp.get_json()["error"]["message"] or "taicang" in str(resp.get_json())
    assert snapshot(app) == before


def test_a_closed_case_is_not_transferred(app, api, tree):
    case = register(api, resolved_on_call=True, answer="已当场解答")
    before = snapshot(app)
    resp = api("operator").post(f"/cases/{case['case_no']}/transfer", json={"version": case["version"], "org": "wujiang"})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "illegal_move"
    assert snapshot(app) == before


def test_a_user_or_department_in_an_unknown_organisation_is_refused(app, tree):
    from hotline.cli import hotline_cli

    runner = app.test_cli_runner()
    before = snapshot(app)
    result = runner.invoke(hotline_cli, ["department", "add", "x_rights", "--name", "某部", "--org", "nowhere"])
    assert result.exit_code == 2 and "nowhere" in result.output
    result = runner.invoke(hotline_cli, ["user", "add", "ghost", "--role", "operator", "--org", "nowhere",
                                         "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 2 and "nowhere" in result.output
    # A handler in another organisation's department, and an organisation under an unknown parent.
    result = runner.invoke(hotline_cli, ["user", "add", "ghost", "--role", "handler", "--org", "taicang",
                                         "--department", "wj_rights", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 2
    result = runner.invoke(hotline_cli, ["org", "add", "gaoxin", "--name", "高新区工会", "--parent", "nowhere"])
    assert result.exit_code == 2
    assert snapshot(app) == before


def test_cli_builds_a_tree(app):
    from hotline.cli import hotline_cli

    runner = app.test_cli_runner()
    assert runner.invoke(hotline_cli, ["org", "add", "gaoxin", "--name", "高新区工会"]).exit_code == 0
    assert runner.invoke(hotline_cli, ["org", "add", "jiaotong", "--name", "市交通工会"]).exit_code == 0
    assert runner.invoke(hotline_cli, ["department", "add", "gx_rights", "--name", "维权部",
                                       "--org", "gaoxin"]).exit_code == 0
    result = runner.invoke(hotline_cli, ["user", "add", "gx_h", "--role", "handler", "--org", "gaoxin",
                                         "--department", "gx_rights", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = get_user("gx_h")
        org = db.session.scalar(select(Organisation).where(Organisation.code == "gaoxin"))
        assert user.org_id == org.id and user.department.code == "gx_rights"
        assert org.parent_id == 1 and org.path == f"/1/{org.id}/"


# ---------------------------------------------------------------- who sees what

def test_a_sibling_organisation_gets_404_and_lists_nothing(app, api, tree, login):
    case = register(api)
    case = act(api, "operator", case, "transfer", org="wujiang")
    mine = register(api, "tc_operator", summary="太仓来电")
    for username in ("tc_operator", "tc_supervisor", "tc_handler"):
        assert api(username).get(f"/cases/{case['case_no']}").status_code == 404
        listed = api(username).get("/cases").get_json()["items"]
        assert case["case_no"] not in [c["case_no"] for c in listed]
        found = api(username).get("/cases?q=拖欠工资").get_json()["items"]
        assert case["case_no"] not in [c["case_no"] for c in found]
        by_phone = api(username).get("/cases?phone=13962512351").get_json()["items"]
        assert case["case_no"] not in [c["case_no"] for c in by_phone]
    # 太仓 sees its own; 吴江 does not see 太仓's; the city sees both.
    assert api("tc_supervisor").get(f"/cases/{mine['case_no']}").status_code == 200
    assert api("wj_supervisor").get(f"/cases/{mine['case_no']}").status_code == 404
    city = [c["case_no"] for c in api("supervisor").get("/cases").get_json()["items"]]
    assert case["case_no"] in city and mine["case_no"] in city
    # The ledger export and the web list follow the same rule.
    client = login(app.test_client(), "tc_supervisor")
    page = client.get("/cases").get_data(as_text=True)
    assert case["case_no"] not in page and mine["case_no"] in page
    export = client.get("/reports/ledger.csv").get_data().decode("utf-8-sig")
    assert case["case_no"] not in export and mine["case_no"] in export


def test_the_registering_level_keeps_seeing_a_case_it_sent_up(api, tree):
    case = register(api, "wj_operator", summary="吴江登记")
    case = act(api, "wj_operator", case, "send_up", reason="需市总协调")
    case = act(api, "operator", case, "accept_up")
    case = act(api, "operator", case, "assign", department="legal_aid")
    assert api("wj_supervisor").get(f"/cases/{case['case_no']}").status_code == 200
    assert api("tc_supervisor").get(f"/cases/{case['case_no']}").status_code == 404


def test_confidential_rules_apply_on_top(api, tree):
    case = register(api, "wj_operator", confidential=True, detail="保密细节")
    seen = api("wj_supervisor").get(f"/cases/{case['case_no']}").get_json()
    assert seen["detail"] == "保密细节"
    # The city's operator who did not register it: opens it (below her), caller masked.
    seen = api("operator").get(f"/cases/{case['case_no']}").get_json()
    assert seen.get("detail") != "保密细节"


def test_notices_reach_only_organisations_that_see_the_case(app, api, tree, ctx):
    from hotline.notify.models import Notice

    case = register(api)
    act(api, "operator", case, "transfer", org="wujiang")
    told = {n.recipient.username if hasattr(n, "recipient") else db.session.get(User, n.user_id).username
            for n in db.session.scalars(select(Notice))}
    assert {"wj_operator", "wj_supervisor"} <= told
    assert not told & {"tc_operator", "tc_supervisor", "sz_operator"}


# ---------------------------------------------------------------- figures by organisation

def test_kpis_by_organisation_roll_up_and_stay_in_the_subtree(app, api, tree, login):
    a = register(api)
    act(api, "operator", a, "transfer", org="wujiang")
    b = register(api, "wj_operator")
    b = act(api, "wj_operator", b, "transfer", org="shengze")
    register(api, "tc_operator")
    register(api)  # stays with the city
    city = api("supervisor").get("/reports/kpis?by=org").get_json()
    rows = {g["key"]: g["registered"] for g in city["groups"]}
    assert city["totals"]["registered"] == 4
    assert rows == {"city": 4, "wujiang": 2, "shengze": 1, "taicang": 1}  # each row counts its subtree
    wj = api("wj_supervisor").get("/reports/kpis?by=org").get_json()
    assert wj["org"] == "wujiang" and wj["totals"]["registered"] == 2
    assert {g["key"]: g["registered"] for g in wj["groups"]} == {"wujiang": 2, "shengze": 1}
    assert api("supervisor").get("/reports/kpis?org=wujiang").get_json()["totals"]["registered"] == 2
    # Another organisation's figures: 403; an unknown one: 422.
    for path in ("/reports/kpis?org=taicang", "/reports/kpis?org=city"):
        resp = api("wj_supervisor").get(path)
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    assert api("wj_supervisor").get("/reports/kpis?org=nowhere").status_code == 422
    # The dashboard and the exports: the same scope.
    client = login(app.test_client(), "wj_supervisor")
    assert client.get("/reports?org=taicang").status_code == 403
    assert client.get("/reports.xlsx").status_code in (404, 200)
    assert client.get("/reports/kpis.csv?org=taicang").status_code == 403
    page = client.get("/reports?by=org").get_data(as_text=True)
    assert "吴江区总工会" in page and "太仓市总工会" not in page
    csv = client.get("/reports/kpis.csv?by=org").get_data().decode("utf-8-sig")
    assert "盛泽镇工会" in csv and "太仓" not in csv


# ---------------------------------------------------------------- administration within a subtree

def test_an_admin_manages_only_her_subtree(app, tree, login):
    from conftest import csrf_from

    client = login(app.test_client(), "wj_admin")
    users = client.get("/admin/users").get_data(as_text=True)
    assert "wj_handler" in users and "sz_handler" in users and "tc_handler" not in users
    assert "handler_b" not in users
    with app.app_context():
        tc = get_user("tc_handler").id
    assert client.get(f"/admin/users/{tc}").status_code == 404
    assert client.get("/admin/departments/tc_rights").status_code == 404
    page = client.get("/admin/orgs").get_data(as_text=True)
    assert "盛泽镇工会" in page and "太仓市总工会" not in page
    token = csrf_from(page)
    before = snapshot(app)
    resp = client.post("/admin/orgs", data={"csrf_token": token, "code": "tc_sub", "name": "某镇", "parent": "taicang"})
    assert resp.status_code == 403
    assert snapshot(app) == before
    resp = client.post("/admin/orgs", data={"csrf_token": token, "code": "lili", "name": "黎里镇工会",
                                            "parent": "wujiang"})
    assert resp.status_code == 302
    resp = client.post("/admin/departments", data={"csrf_token": token, "code": "ll_rights", "name": "黎里维权站",
                                                   "org": "lili"})
    assert resp.status_code == 302
    with app.app_context():
        dept = db.session.scalar(select(Department).where(Department.code == "ll_rights"))
        assert dept.org_id == db.session.scalar(select(Organisation.id).where(Organisation.code == "lili"))


def test_reference_lists_organisations_and_each_departments_org(api, tree):
    ref = api("operator").get("/reference").get_json()
    orgs = {o["code"]: o for o in ref["organisations"]}
    assert orgs["city"]["parent"] is None
    assert orgs["shengze"]["parent"] == "wujiang" and orgs["wujiang"]["name"] == "吴江区总工会"
    depts = {d["code"]: d["org"] for d in ref["departments"]}
    assert depts["legal_aid"] == "city" and depts["wj_rights"] == "wujiang"


# ---------------------------------------------------------------- radio: programmes belong to an organisation

def test_the_digest_draws_from_its_programme_organisation(app, api, tree, ctx):
    from hotline.digest import builder
    from hotline.orgs import service as orgs
    from hotline.radio import schedule
    from hotline.radio.models import Programme

    schedule.ensure_defaults()
    wujiang = db.session.scalar(select(Organisation).where(Organisation.code == "wujiang"))
    for programme in db.session.scalars(select(Programme)):
        programme.org_id = wujiang.id
    db.session.commit()
    answer = "单位应当按时足额支付工资，拖欠的可以向劳动保障监察部门投诉。"
    mine = register(api, "wj_operator", summary="工厂拖欠工资怎么办", broadcast_ok=True, resolved_on_call=True,
                    answer=answer)
    other = register(api, "tc_operator", summary="太仓加班费怎么算", broadcast_ok=True, resolved_on_call=True,
                     answer="加班费按照劳动法规定的标准计算，工作日延长工作时间支付不低于百分之一百五十的工资。")
    db.session.expire_all()
    cond = builder.digest_org_condition()
    numbers = set(db.session.scalars(select(Case.case_no).where(cond)))
    assert mine["case_no"] in numbers and other["case_no"] not in numbers
    # The setting widens it to every case.
    orgs.update_settings(None, "wujiang", None, "all")
    assert builder.digest_org_condition() is None


# ---------------------------------------------------------------- the migration keeps today's data

@pytest.mark.parametrize("backend_kind", BACKENDS)
def test_the_migration_moves_existing_rows_under_the_root(backend_kind):
    if backend_kind == "sqlite":
        app = make_app(f"sqlite:///{tempfile.mkdtemp()}/old.sqlite3")
        pg = None
    else:
        pg = PgDatabase("hotline_orgmig")
        app = make_app(pg.url)
    try:
        with app.app_context():
            upgrade(revision="3d5a42d29710")
            db.session.execute(text("INSERT INTO department (code, name, active, sort_order) "
                                    "VALUES ('legal_aid', '法律援助中心', true, 0)"))
            db.session.execute(text(
                "INSERT INTO user_account (username, display_name, password_hash, department_id, active, "
                "session_epoch, created_at) VALUES ('old', '老用户', 'x', 1, true, 0, '2026-11-30 02:00:00+00')"))
            db.session.execute(text("INSERT INTO case_type (code, name, reply_days, sort_order, escalate_after_days) "
                                    "VALUES ('consult', '问题咨询', 2, 0, 3)"))
            db.session.execute(text("INSERT INTO category (code, name, active, sort_order) "
                                    "VALUES ('wages', '工资', true, 0)"))
            db.session.execute(text(
                "INSERT INTO hotline_case (case_no, channel, type_code, category_id, summary, detail, urgent, "
                "confidential, broadcast_ok, resolved_on_call, status, version, department_id, registered_by_id, "
                "reply_due_at, due_uncertain, escalated, review_pending, reopen_count, created_at, updated_at) "
                "VALUES ('20261130-0001', 'hotline', 'consult', 1, '旧工单', '', false, false, false, false, "
                "'assigned', 3, 1, 1, '2026-12-02 09:30:00+00', false, false, false, 0, "
                "'2026-11-30 02:00:00+00', '2026-11-30 02:00:00+00')"))
            db.session.commit()
            upgrade(revision="heads")
            row = db.session.execute(text("SELECT org_id, registered_org_id, version, status, summary "
                                          "FROM hotline_case")).one()
            assert tuple(row) == (1, 1, 3, "assigned", "旧工单")  # nothing else touched: not even the version
            assert db.session.execute(text("SELECT org_id FROM department")).scalar_one() == 1
            assert db.session.execute(text("SELECT org_id FROM user_account")).scalar_one() == 1
            root = db.session.execute(text("SELECT id, code, parent_id, path FROM organisation")).one()
            assert tuple(root) == (1, "city", None, "/1/")
            db.session.remove()
            db.engine.dispose()
    finally:
        if pg is not None:
            pg.drop()


def test_the_kept_filter_form_is_each_organisations_own(app, tree, login):
    """The case list's filter form is kept between requests: an operator of 太仓 asking with the same filters
    right after the city's operator and 吴江's gets her own departments and handlers, not theirs."""
    def form(username):
        page = login(app.test_client(), username).get("/cases?status=closed").get_data(as_text=True)
        start = page.index('<form method="get"')
        return page[start:page.index("</form>", start)]

    city, wujiang, taicang = form("operator"), form("wj_operator"), form("tc_operator")
    assert "Legal Aid" in city or "法律援助中心" in city
    assert "维权部" in wujiang and "wj 承办人" in wujiang and "权益保障部" not in wujiang
    assert "权益保障部" in taicang and "tc 承办人" in taicang
    assert "维权部" not in taicang and "wj 承办人" not in taicang and "法律援助中心" not in taicang
    assert form("tc_operator") == taicang
