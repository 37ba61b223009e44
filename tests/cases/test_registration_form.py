"""The registration form reports every missing or wrong field at once (issue 17): on the page, each field
marked aria-invalid with its message beside it, and in the API's 422 `fields`; nothing is saved."""
from __future__ import annotations

import re

from conftest import csrf_from, get_user
from sqlalchemy import func, select

from hotline.cases import service
from hotline.cases.models import Case
from hotline.extensions import db


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def _post(client, **data):
    data["csrf_token"] = csrf_from(client.get("/cases/new").get_data(as_text=True))
    return client.post("/cases/new", data=data)


def _invalid(page: str) -> set[str]:
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([a-z_]+)"[^>]*aria-invalid="true"', page))
    names |= set(re.findall(r'<(?:input|select|textarea)[^>]*aria-invalid="true"[^>]*\bname="([a-z_]+)"', page))
    if re.search(r'role="radiogroup" aria-labelledby="type-label" aria-invalid="true"', page):
        names.add("type")
    return names


def test_an_empty_form_shows_every_missing_field_in_one_submit(app, users, login):
    client = login(app.test_client(), "operator", lang="zh")
    resp = _post(client, channel="hotline", outcome="register", phone="", summary="")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert _invalid(page) == {"phone", "type", "category", "summary"}
    for name in ("phone", "type", "category", "summary"):
        assert f'id="err-{name}"' in page  # the message beside the field
    assert "有4项需要更正" in page
    assert _count(app) == 0


def test_two_forgotten_fields_and_a_wrong_one_are_reported_together(app, users, login):
    client = login(app.test_client(), "operator", lang="zh")
    resp = _post(client, channel="hotline", outcome="dispatch", phone="12", type="consult", summary="",
                 category="wages", department="")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert _invalid(page) == {"phone", "summary", "department"}
    # Typed values stay; the browser hints say what is required, the server decides.
    assert 'name="phone" value="12"' in page or 'value="12"' in page
    assert re.search(r'id="summary"[^>]*required', page)
    assert _count(app) == 0


def test_api_422_lists_every_field(api):
    resp = api("operator").post("/cases", json={"channel": "hotline", "type": "nope", "category": "",
                                                 "caller": {"phone": "abc"}, "summary": ""})
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]["fields"]) == {"type", "category", "caller.phone", "summary"}


def test_phone_prefilled_by_a_screen_pop_moves_the_focus_to_the_next_field(app, users, login):
    client = login(app.test_client(), "operator", lang="zh")
    page = client.get("/cases/new?phone=13812345678").get_data(as_text=True)
    assert re.search(r'id="caller_name"[^>]*autofocus', page)
    assert not re.search(r'id="phone"[^>]*autofocus', page)
    assert re.search(r'id="phone"[^>]*autofocus', client.get("/cases/new").get_data(as_text=True))


def test_repeat_caller_can_add_a_note_to_the_open_case_with_one_key(app, users, login):
    with app.app_context():
        case = service.register(get_user("operator"), {"channel": "hotline", "type": "consult",
                                                       "category": "wages", "summary": "欠薪三个月",
                                                       "caller": {"phone": "13812345678"}})
        db.session.commit()
        no = case.case_no
    client = login(app.test_client(), "operator", lang="zh")
    pop = client.get("/cases/caller?phone=13812345678").get_data(as_text=True)
    assert f'action="/cases/{no}/note"' in pop and 'data-hotkey="Alt+N"' in pop
    token = re.search(r'name="csrf_token" value="([^"]+)"', pop).group(1)
    version = re.search(r'name="version" value="(\d+)"', pop).group(1)
    resp = client.post(f"/cases/{no}/note", data={"csrf_token": token, "version": version,
                                                  "text": "来电人再次来电，公司仍未支付"})
    assert resp.status_code == 302
    assert "公司仍未支付" in client.get(f"/cases/{no}").get_data(as_text=True)
    assert _count(app) == 1  # no second case for the same matter
