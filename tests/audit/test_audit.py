"""The audit: every unmasked view of a confidential case leaves one row (who, which case, when, how, from
where) committed with the request; masked and ordinary views leave none; the admin page lists them with
the login attempts, filtered and paged, and nobody else may open it."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from conftest import DEFAULT_NOW, csrf_from, get_user
from hotline.audit import service as audit
from hotline.audit.models import CaseView
from hotline.auth.models import LoginAttempt, User
from hotline.cases import service
from hotline.cases.models import Case
from hotline.extensions import db

PHONE = "13812345678"


def text_of(resp) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", resp.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def make_case(app, confidential=True, **extra) -> str:
    """A case registered by the operator and dispatched to the legal aid centre (where `handler` works)."""
    data = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "反映单位违法用工",
            "caller": {"phone": PHONE, "name": "王建国", "employer": "某电子厂"}, "detail": "举报人身份需保密",
            "confidential": confidential, "department": "legal_aid", **extra}
    with app.test_request_context():
        case = service.register(get_user("operator"), data)
        db.session.commit()
        return case.case_no


def views(app) -> list[dict]:
    with app.app_context():
        rows = db.session.execute(
            select(CaseView, Case.case_no, User.username).join(Case, Case.id == CaseView.case_id)
            .join(User, User.id == CaseView.user_id).order_by(CaseView.id)).all()
        return [{"user": name, "case_no": no, "via": v.via, "page": v.page, "address": v.address, "at": v.at}
                for v, no, name in rows]


def view_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CaseView))


# ---------------------------------------------------------------- recording

def test_handler_viewing_a_confidential_case_leaves_exactly_one_row(app, users, login):
    case_no = make_case(app)
    handler = login(app.test_client(), "handler")
    resp = handler.get(f"/cases/{case_no}")
    assert resp.status_code == 200 and "举报人身份需保密" in text_of(resp)
    assert views(app) == [{"user": "handler", "case_no": case_no, "via": "web", "page": "cases.show",
                           "address": "127.0.0.1", "at": DEFAULT_NOW}]


def test_api_view_is_recorded_with_its_channel(app, users, api):
    case_no = make_case(app)
    resp = api("handler").get(f"/cases/{case_no}")
    assert resp.status_code == 200 and resp.get_json()["detail"] == "举报人身份需保密"
    assert [(v["user"], v["case_no"], v["via"], v["page"]) for v in views(app)] == [
        ("handler", case_no, "api", "api.get_case")]
    # The answer to an action shows the case too.
    case = resp.get_json()
    resp = api("handler").post(f"/cases/{case_no}/note", json={"version": case["version"], "text": "已联系"})
    assert resp.status_code == 200, resp.get_json()
    assert [(v["via"], v["page"]) for v in views(app)][-1] == ("api", "api.case_action")


def test_ordinary_and_masked_views_are_not_recorded(app, users, login, api):
    ordinary = make_case(app, confidential=False)
    secret = make_case(app)
    handler = login(app.test_client(), "handler")
    assert handler.get(f"/cases/{ordinary}").status_code == 200
    assert api("supervisor").get(f"/cases/{ordinary}").status_code == 200
    # The producer sees the confidential case masked: nothing of the caller, so nothing to record.
    producer = login(app.test_client(), "producer")
    resp = producer.get(f"/cases/{secret}")
    assert resp.status_code == 200 and "举报人身份需保密" not in text_of(resp)
    assert api("producer").get(f"/cases/{secret}").get_json()["detail"] is None
    # A handler of another department does not get the case at all.
    assert login(app.test_client(), "other_handler").get(f"/cases/{secret}").status_code == 404
    assert view_count(app) == 0


def test_registering_through_the_api_is_not_a_view(app, users, api):
    resp = api("operator").post("/cases", json={
        "channel": "hotline", "type": "consult", "category": "wages", "summary": "反映单位违法用工",
        "caller": {"phone": PHONE}, "confidential": True})
    assert resp.status_code == 201
    assert view_count(app) == 0


def test_lists_record_each_confidential_case_they_show_unmasked(app, users, login, api):
    first, second = make_case(app), make_case(app)
    make_case(app, confidential=False)
    supervisor = login(app.test_client(), "supervisor")
    resp = supervisor.get("/cases")
    assert resp.status_code == 200 and PHONE in text_of(resp)
    assert sorted((v["case_no"], v["page"]) for v in views(app)) == [
        (first, "cases.list_cases"), (second, "cases.list_cases")]
    assert api("supervisor").get("/cases").status_code == 200
    assert sorted(v["case_no"] for v in views(app) if v["via"] == "api") == [first, second]
    # The caller's earlier cases on the logging page: the operator who registered them sees them.
    operator = login(app.test_client(), "operator")
    assert operator.get("/cases/caller", query_string={"phone": PHONE}).status_code == 200
    assert sorted(v["case_no"] for v in views(app) if v["page"] == "cases.caller") == [first, second]
    # A producer's list shows them masked: no rows.
    before = view_count(app)
    assert login(app.test_client(), "producer").get("/cases").status_code == 200
    assert view_count(app) == before


def test_the_case_shown_again_after_a_refused_action_is_recorded_and_the_action_is_not(app, users, login):
    case_no = make_case(app)
    handler = login(app.test_client(), "handler")
    token = csrf_from(handler.get(f"/cases/{case_no}").get_data(as_text=True))
    with app.app_context():
        version = db.session.scalar(select(Case.version).where(Case.case_no == case_no))
    resp = handler.post(f"/cases/{case_no}/note", data={"csrf_token": token, "version": version - 1, "text": "x"})
    assert resp.status_code == 409 and "举报人身份需保密" in text_of(resp)
    assert [v["page"] for v in views(app)] == ["cases.show", "cases.act"]
    with app.app_context():
        assert db.session.scalar(select(Case.version).where(Case.case_no == case_no)) == version


def test_a_failed_request_leaves_no_view_row(app, users):
    """The row belongs to the request's transaction: rolled back with it."""
    case_no = make_case(app)
    with app.test_request_context():
        handler = get_user("handler")
        case = service.get_case(handler, case_no)
        assert audit.record_views(handler, [case, case], "web") == 1
        db.session.rollback()
    assert view_count(app) == 0
    with app.test_request_context():
        with pytest.raises(ValueError):
            audit.record_views(get_user("handler"), [], "fax")


# ---------------------------------------------------------------- the page

def test_audit_page_lists_logins_and_views_and_filters_them(app, users, login):
    case_no = make_case(app)
    other_no = make_case(app)
    client = app.test_client()
    token = csrf_from(client.get("/login?lang=en").get_data(as_text=True))
    assert client.post("/login", data={"username": "handler", "password": "wrong-password-1",
                                       "csrf_token": token}).status_code == 401
    handler = login(app.test_client(), "handler")
    handler.get(f"/cases/{case_no}")
    login(app.test_client(), "supervisor").get(f"/cases/{other_no}")
    admin = login(app.test_client(), "admin")

    text = text_of(admin.get("/admin/audit"))
    assert "Audit log" in text and "Views of confidential cases" in text
    assert case_no in text and other_no in text and "Handler" in text and "Supervisor" in text
    assert "Case page" in text and "127.0.0.1" in text

    text = text_of(admin.get("/admin/audit", query_string={"user": "handler"}))
    assert case_no in text and other_no not in text
    text = text_of(admin.get("/admin/audit", query_string={"case_no": other_no}))
    assert other_no in text and case_no not in text
    text = text_of(admin.get("/admin/audit", query_string={"user": "nobody"}))
    assert "No views of confidential cases match." in text

    resp = admin.get("/admin/audit", query_string={"tab": "logins"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'data-outcome="failed"' in body and 'data-outcome="success"' in body
    assert body.count('data-outcome="failed"') == 1
    body = admin.get("/admin/audit", query_string={"tab": "logins", "user": "handler", "outcome": "failed"}).get_data(
        as_text=True)
    assert body.count('data-outcome="failed"') == 1 and 'data-outcome="success"' not in body
    assert admin.get("/admin/audit", query_string={"tab": "logins", "outcome": "bogus"}).status_code == 422
    assert admin.get("/admin/audit", query_string={"before": "x"}).status_code == 422


def test_audit_page_shows_refused_logins(app, users, login):
    with app.app_context():
        db.session.add(LoginAttempt(username="operator", address="10.0.0.9", at=DEFAULT_NOW, success=False,
                                    refused=True))
        db.session.commit()
    body = login(app.test_client(), "admin").get("/admin/audit?tab=logins&outcome=refused").get_data(as_text=True)
    assert 'data-outcome="refused"' in body and "10.0.0.9" in body and 'data-outcome="success"' not in body


def test_audit_page_pages_by_keyset(app, users, login, monkeypatch):
    case_no = make_case(app)
    handler = login(app.test_client(), "handler")
    for _ in range(5):
        handler.get(f"/cases/{case_no}")
    with app.app_context():
        ids = list(db.session.scalars(select(CaseView.id).order_by(CaseView.id.desc())))
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    admin = login(app.test_client(), "admin")
    seen, url = [], "/admin/audit?user=handler"
    while url:
        body = admin.get(url).get_data(as_text=True)
        seen.append(body.count(f">{case_no}</a>"))
        match = re.search(r'href="([^"]+)" rel="next"', body)
        url = html.unescape(match.group(1)) if match else None
        assert url is None or "user=handler" in url
    assert seen == [2, 2, 1] and len(ids) == 5


def test_audit_page_is_in_chinese_and_linked_from_the_admin_pages(app, users, login):
    make_case(app)
    admin = login(app.test_client(), "admin", lang="zh_Hans_CN")
    overview = admin.get("/admin").get_data(as_text=True)
    assert 'href="/admin/audit"' in overview and "审计日志" in overview
    text = text_of(admin.get("/admin/audit"))
    assert "审计日志" in text and "保密工单查看记录" in text and "登录记录" in text
    text = text_of(admin.get("/admin/audit?tab=logins"))
    assert "登录成功" in text


@pytest.mark.parametrize("username", ["operator", "handler", "producer", "supervisor"])
def test_only_administrators_may_read_the_audit_log(app, users, login, username):
    client = login(app.test_client(), username)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit?tab=logins").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(app):
    resp = app.test_client().get("/admin/audit")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]

