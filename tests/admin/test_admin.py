"""Administration pages: users and roles, departments, types, categories, the holiday calendar.

Pages are read in English (?lang=en) so the assertions do not depend on the Chinese catalogue.
"""
from __future__ import annotations

import html
import re
from datetime import date

import pytest
from conftest import csrf_from, get_user, local, statements
from sqlalchemy import func, select

from hotline import clock as hclock
from hotline.auth.models import User
from hotline.extensions import db
from hotline.reference.models import CaseType, Category, Department
from hotline.workdays.models import CalendarDay, CalendarYear

NON_ADMIN = ("operator", "handler", "producer", "supervisor")


def text_of(resp) -> str:
    """The page as a user reads it: tags dropped, entities decoded, whitespace collapsed."""
    body = resp.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


@pytest.fixture
def admin(app, users, login):
    client = login(app.test_client(), "admin")
    client.get("/admin?lang=en")
    return client


def post_form(client, page_url, action_url, data, **kw):
    """Submit a form the way a browser does: the CSRF token comes from the page the form is on."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={**data, "csrf_token": token}, **kw)


def register_case(app, type_code, category="wages"):
    from hotline.cases.service import register

    with app.test_request_context():
        case = register(get_user("operator"), {
            "channel": "hotline", "type": type_code, "category": category, "summary": "公司拖欠工资",
            "caller": {"phone": "13812345678"},
        })
        db.session.commit()
        return hclock.to_local(case.reply_due_at).replace(tzinfo=local(2026, 1, 1).tzinfo), case.due_uncertain


def count(app, stmt):
    with app.app_context():
        return db.session.scalar(stmt)


# ---------------------------------------------------------------- users


def test_admin_creates_a_handler_who_can_log_in(app, admin, login):
    resp = post_form(admin, "/admin/users", "/admin/users", {
        "username": "li_na", "display_name": "李娜", "roles": ["handler"], "department": "women",
        "phone": "139 1234 5678", "password": "Spring-tea-2027",
    }, follow_redirects=True)
    page = text_of(resp)
    assert resp.status_code == 200
    assert "User li_na was created. They can log in now." in page
    assert re.search(r"li_na 李娜 Handler 女工部 \+8613912345678 Active", page)

    client = login(app.test_client(), "li_na", "Spring-tea-2027")
    assert "李娜" in text_of(client.get("/account/password?lang=en"))
    with app.app_context():
        user = get_user("li_na")
        assert user.roles == {"handler"} and user.department.code == "women"


def test_a_handler_without_department_is_refused(app, admin):
    resp = post_form(admin, "/admin/users", "/admin/users", {
        "username": "wang_wu", "display_name": "王五", "roles": ["handler"], "department": "",
        "password": "Spring-tea-2027",
    })
    assert resp.status_code == 422
    page = text_of(resp)
    assert "A handler must belong to a department." in page
    assert 'value="wang_wu"' in resp.get_data(as_text=True)  # what was typed stays in the form
    with app.app_context():
        assert get_user("wang_wu") is None


def test_user_creation_refuses_bad_input_and_saves_nothing(app, admin):
    cases = [
        ({"username": "admin", "roles": ["operator"], "password": "Spring-tea-2027"}, "User admin already exists."),
        ({"username": "no_roles", "password": "Spring-tea-2027"}, "Roles must be among"),
        ({"username": "short_pw", "roles": ["operator"], "password": "abc"}, "at least 10 characters"),
        ({"username": "bad_phone", "roles": ["operator"], "password": "Spring-tea-2027", "phone": "12ab"},
         "The phone number may contain only digits"),
        ({"username": "old_dept", "roles": ["handler"], "department": "nope", "password": "Spring-tea-2027"},
         "Unknown department: nope"),
    ]
    before = count(app, select(func.count()).select_from(User))
    for data, message in cases:
        resp = post_form(admin, "/admin/users", "/admin/users", data)
        assert resp.status_code == 422, data
        assert message in text_of(resp), (message, text_of(resp)[:600])
    assert count(app, select(func.count()).select_from(User)) == before


def test_admin_edits_roles_deactivates_and_resets_a_password(app, admin, login):
    handler_session = login(app.test_client(), "handler")
    assert handler_session.get("/account/password").status_code == 200
    with app.app_context():
        handler_id = get_user("handler").id
        admin_id = get_user("admin").id
    page_url = f"/admin/users/{handler_id}"

    resp = post_form(admin, page_url, page_url, {
        "display_name": "Handler", "roles": ["handler", "supervisor"], "department": "women", "phone": "",
        "active": "1"}, follow_redirects=True)
    assert "The account of handler was saved." in text_of(resp)
    with app.app_context():
        user = get_user("handler")
        assert user.roles == {"handler", "supervisor"} and user.department.code == "women" and user.active

    resp = post_form(admin, page_url, page_url, {"display_name": "Handler", "roles": ["handler"],
                                                  "department": "women"}, follow_redirects=True)
    assert re.search(r"handler Handler Handler 女工部 Inactive", text_of(resp))
    # The deactivated user's open session ends at once.
    assert handler_session.get("/account/password").status_code == 302

    resp = post_form(admin, page_url, f"{page_url}/password", {"password": "short"})
    assert resp.status_code == 422 and "at least 10 characters" in text_of(resp)
    resp = post_form(admin, page_url, f"{page_url}/password", {"password": "New-river-stone-9"},
                     follow_redirects=True)
    assert "The password of handler was reset." in text_of(resp)
    post_form(admin, page_url, page_url, {"display_name": "Handler", "roles": ["handler"], "department": "women",
                                          "active": "1"})
    login(app.test_client(), "handler", "New-river-stone-9")

    # An admin cannot lock themselves out.
    own = f"/admin/users/{admin_id}"
    resp = post_form(admin, own, own, {"display_name": "Admin", "roles": ["operator"], "active": "1"})
    assert resp.status_code == 422
    assert "You cannot remove your own administrator role" in text_of(resp)
    with app.app_context():
        assert get_user("admin").roles == {"admin"}


# ---------------------------------------------------------------- access


def admin_urls(app):
    """Every admin route with sample arguments: (method, url)."""
    with app.app_context():
        admin_id = get_user("admin").id
    samples = {"user_id": admin_id, "year": 2026, "token_id": 1}
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        args = dict(samples)
        if "code" in rule.arguments:
            args["code"] = "wages" if "categor" in rule.endpoint else "women"
        url = rule.rule
        for name, value in args.items():
            url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_every_admin_page_is_refused_to_other_roles(app, users, login):
    routes = admin_urls(app)
    assert len(routes) >= 18
    for role in NON_ADMIN:
        client = login(app.test_client(), users[role])
        client.get("/account/password?lang=en")
        token = csrf_from(client.get("/account/password").get_data(as_text=True))
        for method, url in routes:
            if method == "GET":
                resp = client.get(url)
            else:
                resp = client.post(url, data={"csrf_token": token, "code": "x", "name": "x", "year": "2027",
                                              "holidays": "2027-01-01", "day": "2026-12-07", "kind": "holiday",
                                              "reply_days-consult": "3"})
            assert resp.status_code == 403, (role, method, url, resp.status_code)
            assert "Your role may not use this page." in text_of(resp)
    anonymous = app.test_client()
    for method, url in routes:
        if method == "GET":
            resp = anonymous.get(url)
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    with app.app_context():
        assert db.session.get(CalendarYear, 2027) is None
        assert db.session.get(CaseType, "consult").reply_days == 2
        assert db.session.scalar(select(Department).where(Department.code == "x")) is None


def test_a_form_without_csrf_token_is_refused(app, admin):
    resp = admin.post("/admin/departments", data={"code": "press", "name": "新闻中心"})
    assert resp.status_code == 400
    assert "The form expired or was not sent from this site." in text_of(resp)
    resp = admin.post("/admin/calendar", data={"year": "2027", "holidays": "2027-01-01"})
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Department).where(Department.code == "press")) is None
        assert db.session.get(CalendarYear, 2027) is None


def test_admin_overview_links_every_section(app, admin):
    page = text_of(admin.get("/admin"))
    for label in ("Users and roles", "Departments", "Case types and reply limits", "Categories",
                  "Holiday calendar", "Entered years: 2004 to 2026 (23 years).",
                  "Deadlines counted from today can reach 2027, which is not entered."):
        assert label in page, label


# ---------------------------------------------------------------- departments and categories


def test_departments_created_edited_and_deactivated_never_deleted(app, admin):
    resp = post_form(admin, "/admin/departments", "/admin/departments",
                     {"code": "press", "name": "新闻中心"}, follow_redirects=True)
    assert "Department 新闻中心 was created." in text_of(resp)
    assert re.search(r"press 新闻中心 0 \d+ Active", text_of(resp))

    resp = post_form(admin, "/admin/departments/press", "/admin/departments/press",
                     {"name": "新闻宣传中心", "sort_order": "3"}, follow_redirects=True)
    assert "Department 新闻宣传中心 was saved." in text_of(resp)
    assert re.search(r"press 新闻宣传中心 0 3 Inactive", text_of(resp))
    with app.app_context():
        dept = db.session.scalar(select(Department).where(Department.code == "press"))
        assert dept.name == "新闻宣传中心" and not dept.active
    # An inactive department is not offered to new users.
    assert 'value="press"' not in admin.get("/admin/users").get_data(as_text=True)


def test_duplicate_and_invalid_codes_are_refused_and_nothing_is_saved(app, admin):
    before = count(app, select(func.count()).select_from(Department))
    checks = [
        ("/admin/departments", {"code": "women", "name": "另一个女工部"},
         "A department with the code women already exists. Nothing was saved."),
        ("/admin/departments", {"code": "Press-Office", "name": "新闻"}, "The code Press-Office is not valid"),
        ("/admin/departments", {"code": "press", "name": "  "}, "Please enter a name."),
        ("/admin/departments", {"code": "press", "name": "长" * 65}, "The name is too long: at most 64 characters."),
        ("/admin/categories", {"code": "wages", "name": "欠薪"},
         "A category with the code wages already exists. Nothing was saved."),
        ("/admin/categories", {"code": "", "name": "欠薪"}, "Please enter a code."),
        ("/admin/categories", {"code": "overtime", "name": "加班", "reply_days": "0"},
         "must be a whole number from 1 to 60"),
        ("/admin/categories", {"code": "overtime", "name": "加班", "reply_days": "61"},
         "must be a whole number from 1 to 60"),
        ("/admin/categories", {"code": "overtime", "name": "加班", "reply_days": "3.5"},
         "must be a whole number from 1 to 60"),
    ]
    for url, data, message in checks:
        resp = post_form(admin, url, url, data)
        assert resp.status_code == 422, (url, data)
        assert message in text_of(resp), (message, text_of(resp)[:800])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Department)) == before
        assert db.session.scalar(select(Category).where(Category.code == "overtime")) is None
        assert db.session.scalar(select(Department).where(Department.code == "press")) is None
        women = db.session.scalar(select(Department).where(Department.code == "women"))
        assert women.name == "女工部"


def test_category_with_own_limit_and_deactivation(app, admin):
    resp = post_form(admin, "/admin/categories", "/admin/categories",
                     {"code": "overtime", "name": "加班与休假", "reply_days": "3"}, follow_redirects=True)
    assert "Category 加班与休假 was created." in text_of(resp)
    assert "overtime 加班与休假 3 working days" in text_of(resp)
    # complaint is 15 days, but the category's own limit wins: Mon 2026-11-30 + 3 working days.
    assert register_case(app, "complaint", "overtime") == (local(2026, 12, 3, 17, 30), False)

    resp = post_form(admin, "/admin/categories/overtime", "/admin/categories/overtime",
                     {"name": "加班与休假", "reply_days": ""}, follow_redirects=True)
    assert "overtime 加班与休假 the type's limit" in text_of(resp)
    assert "Inactive" in text_of(resp)
    from hotline.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        register_case(app, "consult", "overtime")
    assert "category" in err.value.fields and "overtime" in err.value.message
    with app.app_context():
        assert db.session.scalar(select(Category).where(Category.code == "overtime")).active is False


def test_reference_lists_held_for_a_request_follow_a_change_committed_in_it(ctx):
    """The case pages read the reference tables once (hotline.reference.lookup holds them between requests);
    a category created and committed in the same request is in the next read, and one rolled back is not."""
    from hotline.admin import service as admin_service
    from hotline.reference import lookup

    lookup.all_rows(CaseType)
    with statements() as seen:
        assert lookup.all_rows(CaseType)  # held: no second read
    assert seen == []
    assert "overtime" not in [c.code for c in lookup.active_categories()]
    admin_service.create_category("overtime", "加班与休假", "3", "")
    assert "overtime" in [c.code for c in lookup.active_categories()]  # this transaction's own change
    db.session.commit()
    assert "overtime" in [c.code for c in lookup.active_categories()]
    admin_service.create_category("leave", "休假", "", "")
    assert "leave" in [c.code for c in lookup.active_categories()]
    db.session.rollback()
    assert [c.code for c in lookup.active_categories()].count("overtime") == 1
    assert "leave" not in [c.code for c in lookup.active_categories()]


# ---------------------------------------------------------------- types


def test_editing_a_type_limit_changes_the_deadline_of_new_cases(app, admin):
    # Mon 2026-11-30 10:00: a consult (2 working days) is due Wed Dec 2.
    resp = admin.get("/admin/types")
    assert 'name="reply_days-consult" value="2"' in resp.get_data(as_text=True)
    assert "问题咨询 consult 2026-12-02 17:30" in text_of(resp)
    assert register_case(app, "consult") == (local(2026, 12, 2, 17, 30), False)

    limits = {"reply_days-consult": "4", "reply_days-help": "5", "reply_days-legal_aid": "5",
              "reply_days-complaint": "15", "reply_days-suggestion": "10"}
    resp = post_form(admin, "/admin/types", "/admin/types", limits, follow_redirects=True)
    page = text_of(resp)
    assert "Reply limits saved. New cases get the new limits" in page
    assert 'name="reply_days-consult" value="4"' in resp.get_data(as_text=True)
    assert "问题咨询 consult 2026-12-04 17:30" in page
    assert register_case(app, "consult") == (local(2026, 12, 4, 17, 30), False)


def test_an_invalid_type_limit_saves_none_of_the_limits(app, admin):
    limits = {"reply_days-consult": "3", "reply_days-help": "5", "reply_days-legal_aid": "5",
              "reply_days-complaint": "61", "reply_days-suggestion": "10"}
    resp = post_form(admin, "/admin/types", "/admin/types", limits)
    assert resp.status_code == 422
    assert "信访投诉: the reply limit in working days must be a whole number from 1 to 60." in text_of(resp)
    assert 'aria-invalid="true"' in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CaseType, "consult").reply_days == 2
        assert db.session.get(CaseType, "complaint").reply_days == 15


# ---------------------------------------------------------------- calendar

HOLIDAYS_2027 = "2027-01-01..2027-01-03 元旦\n\n2027-02-10..2027-02-16 春节\n"
MAKEUP_2027 = "2027-02-06 春节调休\n2027-02-20"


def test_entering_2027_clears_the_warning_and_fixes_deadlines(app, users, login, clock):
    clock.set(local(2026, 12, 31, 9, 0))
    admin = login(app.test_client(), "admin")  # a session from a month ago would have ended (idle, lifetime)
    warning = "The holiday calendar has no entry for 2027"
    assert warning in text_of(admin.get("/admin/calendar"))
    # Thu 2026-12-31, help = 5 working days, 2027 unknown: Jan 1, 4, 5, 6, 7 counted as Mon–Fri.
    assert register_case(app, "help") == (local(2027, 1, 7, 17, 30), True)
    check = "/admin/calendar?check_day=2026-12-31&check_time=09:00&check_type=help"
    assert "is due 2027-01-07 17:30. uncertain: year not entered" in text_of(admin.get(check))

    resp = post_form(admin, "/admin/calendar", "/admin/calendar",
                     {"year": "2027", "holidays": HOLIDAYS_2027, "makeup_days": MAKEUP_2027},
                     follow_redirects=True)
    page = text_of(resp)
    assert resp.status_code == 200
    assert "2027 was entered: 6 weekday holidays and 2 make-up working days." in page
    assert ("Saturdays and Sundays in the holiday list are days off anyway and were not stored: "
            "2027-01-02, 2027-01-03, 2027-02-13, 2027-02-14.") in page
    assert "2027-01-01 Friday Holiday 元旦" in page
    assert "2027-02-06 Saturday Make-up working day 春节调休" in page
    assert warning not in page

    assert warning not in text_of(admin.get("/admin"))
    # Jan 1 is now a holiday: Jan 4, 5, 6, 7, 8.
    assert register_case(app, "help") == (local(2027, 1, 8, 17, 30), False)
    checked = text_of(admin.get(check))
    assert "is due 2027-01-08 17:30." in checked and "uncertain" not in checked
    with app.app_context():
        assert db.session.get(CalendarDay, date(2027, 2, 20)).is_workday is True
        assert db.session.get(CalendarDay, date(2027, 2, 13)) is None


@pytest.mark.parametrize("holidays, makeups, message", [
    ("2027-01-01\n2027-02-30 春节", "", "Holidays, line 2: 2027-02-30 is not a date in the form YYYY-MM-DD."),
    ("2027-01-01\n\n27-2-10", "", "Holidays, line 3: 27-2-10 is not a date in the form YYYY-MM-DD."),
    ("2027-02-16..2027-02-10", "", "Holidays, line 1: the range ends before it starts."),
    ("2027-01-01\n2028-01-03", "", "Holidays, line 2: 2028-01-03 is not in 2027."),
    ("2027-01-01", "2027-02-06\n2027-02-08", "Make-up working days, line 2: 2027-02-08 is a Monday and a working "
                                             "day anyway; a make-up day must be a Saturday or Sunday."),
    ("2027-02-06..2027-02-12 春节", "2027-02-06", "2027-02-06 cannot be both a holiday (holidays, line 1) and a "
                                                   "make-up day (make-up working days, line 1)."),
    ("", "", "Enter at least one holiday or make-up day for 2027."),
])
def test_invalid_date_lines_are_refused_with_the_line_number(app, admin, holidays, makeups, message):
    resp = post_form(admin, "/admin/calendar", "/admin/calendar",
                     {"year": "2027", "holidays": holidays, "makeup_days": makeups})
    assert resp.status_code == 422
    assert message in text_of(resp), text_of(resp)[:1500]
    if holidays:
        assert html.escape(holidays.split("\n")[0]) in resp.get_data(as_text=True)  # the lists stay in the form
    with app.app_context():
        assert db.session.get(CalendarYear, 2027) is None
        assert db.session.scalar(select(func.count()).select_from(CalendarDay)
                                 .where(CalendarDay.day >= date(2027, 1, 1))) == 0


def test_an_entered_year_is_only_replaced_on_purpose(app, admin):
    resp = post_form(admin, "/admin/calendar", "/admin/calendar", {"year": "2026", "holidays": "2026-01-01"})
    assert resp.status_code == 422
    assert "2026 is already entered. Tick \"Replace the year\"" in text_of(resp)
    with app.app_context():
        assert db.session.get(CalendarDay, date(2026, 10, 6)) is not None  # National Day still there

    post_form(admin, "/admin/calendar", "/admin/calendar",
              {"year": "2027", "holidays": HOLIDAYS_2027, "makeup_days": MAKEUP_2027})
    # The year page offers the entered lists again, runs of days as ranges.
    body = admin.get("/admin/calendar/2027").get_data(as_text=True)
    assert "2027-01-01 元旦\n2027-02-10..2027-02-16 春节</textarea>" in body
    resp = post_form(admin, "/admin/calendar/2027", "/admin/calendar",
                     {"year": "2027", "origin": "2027", "holidays": "2027-01-01 元旦", "makeup_days": "",
                      "replace": "1"}, follow_redirects=True)
    assert "2027 was entered: 1 weekday holidays and 0 make-up working days." in text_of(resp)
    with app.app_context():
        assert db.session.get(CalendarDay, date(2027, 2, 10)) is None


def test_mark_and_unmark_single_days(app, admin):
    url = "/admin/calendar/2026"
    resp = post_form(admin, url, f"{url}/day", {"day": "2026-12-07", "kind": "holiday", "note": "防汛"},
                     follow_redirects=True)
    page = text_of(resp)
    assert "2026-12-07 is now a holiday." in page
    assert "2026-12-07 Monday Holiday 防汛" in page
    # Dec 1, 2, 3, 4, 8: the marked Monday no longer counts.
    assert register_case(app, "help") == (local(2026, 12, 8, 17, 30), False)

    refusals = [
        ({"day": "2026-12-05", "kind": "holiday"}, "2026-12-05 is a Saturday and a day off anyway"),
        ({"day": "2026-12-08", "kind": "makeup"}, "2026-12-08 is a Tuesday and a working day anyway"),
        ({"day": "2027-01-04", "kind": "holiday"}, "2027 is not entered yet. Enter the whole year first."),
        ({"day": "2026-13-01", "kind": "holiday"}, "2026-13-01 is not a date in the form YYYY-MM-DD."),
        ({"day": "2026-12-09", "kind": "bogus"}, "Choose holiday, make-up day or normal day."),
    ]
    for data, message in refusals:
        resp = post_form(admin, url, f"{url}/day", data)
        assert resp.status_code == 422, data
        assert message in text_of(resp), message

    resp = post_form(admin, url, f"{url}/day", {"day": "2026-12-07", "kind": "normal"}, follow_redirects=True)
    assert "2026-12-07 is now a normal day (Monday to Friday rule)." in text_of(resp)
    with app.app_context():
        assert db.session.get(CalendarDay, date(2026, 12, 7)) is None
        assert db.session.get(CalendarDay, date(2027, 1, 4)) is None


def test_year_page_shows_the_month_grid(app, admin):
    body = admin.get("/admin/calendar/2026").get_data(as_text=True)
    # National Day week: Tue 2026-10-06 is a holiday; Sat 2026-02-14 a make-up working day.
    assert "2026-10 " in text_of(admin.get("/admin/calendar/2026"))
    assert re.search(r'<td class="day holiday"[^>]*>6<span class="sr"> holiday', body)
    assert re.search(r'<td class="day makeup"[^>]*>14<span class="sr"> make-up working day', body)
    page = text_of(admin.get("/admin/calendar/2027"))
    assert "2027 is not entered." in page
    assert admin.get("/admin/calendar/1999").status_code == 404
