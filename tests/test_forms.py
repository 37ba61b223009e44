"""One way to take a form (hotline/forms.py) and one set of form macros (templates/_forms.html).

A refused form marks each wrong field the same way on every page: aria-invalid, and an aria-describedby
that names the message beside it (id err-<field>), so a screen reader reads the message with the field.
An action's form fields come from its spec: a field the spec does not name is never read.
"""
from __future__ import annotations

import re

from conftest import csrf_from
from cases.test_cases_web import make_case

from hotline.cases import actions
from hotline.cases.actions import ActionSpec, Param, text_schema
from hotline.cases.forms import ActionForm, action_form


def _post(client, page_url, action_url, data):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={**data, "csrf_token": token})


def _described_fields(page: str) -> dict[str, list[str]]:
    """{field name: the ids its aria-describedby names}, for each marked-invalid input, select or textarea."""
    found = {}
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page):
        if 'aria-invalid="true"' not in tag:
            continue
        name = re.search(r'\bname="([^"]+)"', tag).group(1)
        described = re.search(r'aria-describedby="([^"]*)"', tag)
        found[name] = described.group(1).split() if described else []
    return found


def _assert_each_error_is_tied_to_its_field(page: str, expected: set[str]) -> None:
    fields = _described_fields(page)
    assert expected <= set(fields)
    for name in expected:
        assert f"err-{name}" in fields[name], (name, fields[name])
        assert re.search(rf'<span class="field-error" id="err-{re.escape(name)}">[^<]+</span>', page), name
    for ids in fields.values():  # no link to an element the page does not have
        for ref in ids:
            assert f'id="{ref}"' in page, ref


def test_the_admin_pages_name_their_error_messages_like_every_other_page(app, users, login):
    client = login(app.test_client(), "admin", lang="en")
    resp = _post(client, "/admin/users", "/admin/users",
                 {"username": "newclerk", "display_name": "x" * 300, "password": "a long enough password",
                  "roles": "operator"})
    assert resp.status_code == 422
    _assert_each_error_is_tied_to_its_field(resp.get_data(as_text=True), {"display_name"})


def test_a_field_with_a_hint_keeps_the_hint_and_gains_the_message(app, users, login):
    client = login(app.test_client(), "admin", lang="en")
    resp = _post(client, "/admin/categories/wages", "/admin/categories/wages",
                 {"name": "Wages", "reply_days": "0", "active": "1", "sort_order": "1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert _described_fields(page)["reply_days"] == ["days-hint", "err-reply_days"]
    _assert_each_error_is_tied_to_its_field(page, {"reply_days"})


def test_the_telephony_settings_use_the_same_messages(app, users, login):
    client = login(app.test_client(), "admin", lang="en")
    page = client.get("/calls/settings").get_data(as_text=True)
    data = {name: value for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page)}
    data.update({"open_time": "25:00", "queue_name": ""})
    resp = _post(client, "/calls/settings", "/calls/settings", data)
    assert resp.status_code == 422
    _assert_each_error_is_tied_to_its_field(resp.get_data(as_text=True), {"open_time", "queue_name"})


def test_a_refused_action_marks_its_field_on_the_case_page(app, users, login):
    case_no = make_case(app)
    client = login(app.test_client(), "operator", lang="en")
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    resp = _post(client, f"/cases/{case_no}", f"/cases/{case_no}/merge", {"version": version, "into": "nonsense"})
    assert resp.status_code == 422
    _assert_each_error_is_tied_to_its_field(resp.get_data(as_text=True), {"into"})


def test_each_action_form_reads_exactly_its_specs_params():
    for spec in actions.ACTIONS:
        form = action_form(spec)
        assert issubclass(form, ActionForm)
        if spec.form is None:
            assert form.param_names == spec.param_names
            assert {name for name in spec.param_names} <= set(dir(form))


def test_a_new_spec_row_gets_its_form_without_more_code(app):
    spec = ActionSpec("confirm", ("registered",), None, ("operator",), "Confirm", "confirm", "Confirm a case.",
                      lambda c: "", params=(Param("remark", text_schema(200), True),))
    with app.test_request_context("/cases/x/confirm", method="POST",
                                  data={"remark": "checked", "version": "3", "status": "closed"}):
        form = action_form(spec)()
        assert form.params() == {"remark": "checked"}  # "status" is not a param: never read
        assert form.version.data == "3"


def test_an_html_door_does_not_take_a_json_body_as_its_form(app, users, login):
    """The pages read posted forms only (the API takes JSON, with a token): a JSON body is an empty form."""
    case_no = make_case(app)
    client = login(app.test_client(), "operator", lang="en")
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    token = csrf_from(page)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    resp = client.post(f"/cases/{case_no}/note", json={"version": version, "text": "from a script"},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 422
    assert "from a script" not in client.get(f"/cases/{case_no}").get_data(as_text=True)
    resp = client.post(f"/cases/{case_no}/note", json=[["text", "x"]], headers={"X-CSRFToken": token})
    assert resp.status_code == 422
