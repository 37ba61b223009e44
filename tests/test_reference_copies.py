"""The reference tables, the dispatch form's handlers and the working-day calendar held in process memory
between requests (hotline/reference/lookup.py), checked the way a second server sees them: a change made
through one app is used by the other at its next request, and a page that holds them reads none of them."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select, text

from conftest import DEFAULT_NOW, PASSWORD, csrf_from, get_user, make_app, statements
from hotline import clock as hclock
from hotline.clock import set_now
from hotline.extensions import db
from hotline.reference.models import ReferenceStamp

REFERENCE_READS = ("FROM case_type", "FROM category", "FROM department", "FROM calendar_day", "JOIN user_role ON")


@pytest.fixture
def second(app):
    """A second server on the same database: its own engine, so its own copies."""
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"])
    other.config["TESTING"] = True
    set_now(other, DEFAULT_NOW)
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def sent(app_):
    seen: list[str] = []
    with app_.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def log_in(app_, username):
    client = app_.test_client()
    token = csrf_from(client.get("/login?lang=zh").get_data(as_text=True))
    assert client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


def stamp(app_):
    with app_.app_context():
        return db.session.scalar(select(ReferenceStamp.stamp))


def test_a_page_that_holds_the_reference_data_reads_none_of_it(app, users, second):
    client = log_in(second, "operator")
    seen = sent(second)
    assert client.get("/cases/new").status_code == 200
    assert any(s for s in seen if "FROM category" in s)  # the first page fills the copies
    seen.clear()
    page = client.get("/cases/new").get_data(as_text=True)
    assert "工资" in page and "问题咨询" in page  # categories and types on the form
    assert not [s for s in seen if any(read in s for read in REFERENCE_READS)], seen
    client.get("/cases?status=closed")  # fills the copy of every organisation's handlers (its handler column)
    seen.clear()
    client.get("/cases?status=closed")
    assert not [s for s in seen if any(read in s for read in REFERENCE_READS)], seen


def test_a_category_renamed_on_one_server_shows_on_the_other_at_its_next_page(app, users, second):
    from hotline.admin import service as admin_service

    client = log_in(second, "operator")
    assert "工资福利待遇" not in client.get("/cases/new").get_data(as_text=True)
    before = stamp(app)
    with app.test_request_context():
        admin_service.update_category("wages", "工资福利待遇", "", "1")
        db.session.commit()
    assert stamp(app) != before  # the trigger, not the admin service, changed it
    assert "工资福利待遇" in client.get("/cases/new").get_data(as_text=True)


def test_a_holiday_entered_on_one_server_moves_the_deadlines_the_other_counts(app, users, second):
    from hotline.cases.service import register
    from hotline.workdays import service as workdays

    def due_on_second():
        with second.test_request_context():
            case = register(get_user("operator"), {
                "channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资",
                "caller": {"phone": "13812345678"}})
            db.session.commit()
            return hclock.to_local(case.reply_due_at).date()

    assert due_on_second() == date(2026, 12, 2)  # Mon 10:00 + 2 working days
    assert due_on_second() == date(2026, 12, 2)  # (from the held calendar)
    with app.app_context():
        workdays.set_day(date(2026, 12, 1), False, "台风停工")
        db.session.commit()
    assert due_on_second() == date(2026, 12, 3)


def test_a_new_handler_is_offered_by_the_other_server_and_a_deactivated_one_is_not(app, users, second):
    from hotline.auth.models import User
    from hotline.auth.service import create_user

    client = log_in(second, "operator")
    page = client.get("/cases/new").get_data(as_text=True)
    assert 'value="handler_b"' in page and 'value="newcomer"' not in page
    with app.app_context():
        create_user("newcomer", "新来的", ["handler"], PASSWORD, "legal_aid")
        db.session.execute(text("UPDATE user_account SET active = false WHERE username = 'handler_b'"))
        db.session.commit()
    page = client.get("/cases/new").get_data(as_text=True)
    assert 'value="newcomer"' in page and 'value="handler_b"' not in page
    # A phone number is not reference data: the copies stay.
    before = stamp(app)
    with app.app_context():
        db.session.get(User, get_user("handler").id).phone = "13900001111"
        db.session.commit()
    assert stamp(app) == before


@pytest.mark.parametrize("statement", [
    "UPDATE case_type SET name = name || '' WHERE code = 'consult'",
    "UPDATE department SET sort_order = sort_order + 1",
    "DELETE FROM calendar_day WHERE day = '2026-10-01'",
    "UPDATE calendar_year SET source = 'manual'",
    "DELETE FROM user_role",
])
def test_every_watched_table_changes_the_stamp(app, users, statement):
    before = stamp(app)
    with app.app_context():
        db.session.execute(text(statement))
        db.session.commit()
    assert stamp(app) != before


def test_a_change_rolled_back_leaves_no_copy_behind(app, users, second):
    """A transaction that wrote a category reads from the database (its own change); what it read is not
    kept, so after its rollback the next request does not see the category."""
    from hotline.admin import service as admin_service
    from hotline.reference import lookup
    from hotline.reference.models import Category

    with second.test_request_context():
        lookup.all_rows(Category)
        admin_service.create_category("ghost", "幽灵分类", "", "")
        assert "ghost" in [c.code for c in lookup.all_rows(Category)]
        db.session.rollback()
    with second.test_request_context():
        assert "ghost" not in [c.code for c in lookup.all_rows(Category)]
    client = log_in(second, "operator")
    assert "幽灵分类" not in client.get("/cases/new").get_data(as_text=True)


def test_a_registration_over_the_api_reads_the_stamp_with_its_token(app, api):
    client = api("operator")
    body = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "欠薪",
            "caller": {"phone": "13812345678"}}
    assert client.post("/cases", json=body).status_code == 201
    with app.app_context(), statements() as seen:
        assert client.post("/cases", json=body).status_code == 201
    assert not [s for s in seen if "FROM calendar_day" in s]  # the calendar is held
    assert [s for s in seen if "reference_stamp" in s] == [s for s in seen if "FROM api_token" in s]


def test_a_savepoint_keeps_the_stamp_and_what_the_transaction_wrote(app, users, second):
    """The dashboard counts its live call figures in a savepoint: releasing it is no commit (no second read
    of the stamp), and a transaction that wrote a category still reads its own change after one."""
    from hotline.admin import service as admin_service
    from hotline.reference import lookup
    from hotline.reference.models import Category

    with second.test_request_context():
        lookup.all_rows(Category)
        with db.session.begin_nested():
            db.session.execute(select(1))
        seen = sent(second)
        lookup.all_rows(Category)
        assert seen == []
        admin_service.create_category("ghost", "幽灵分类", "", "")
        with db.session.begin_nested():
            db.session.execute(select(1))
        assert "ghost" in [c.code for c in lookup.all_rows(Category)]
        savepoint = db.session.begin_nested()
        savepoint.rollback()
        assert "ghost" in [c.code for c in lookup.all_rows(Category)]
        db.session.rollback()


def test_the_dashboard_names_its_groups_from_the_held_copies(app, users, login):
    from hotline.cases.service import register

    with app.test_request_context():
        register(get_user("operator"), {"channel": "hotline", "type": "consult", "category": "wages",
                                        "summary": "欠薪", "caller": {"phone": "13812345678"},
                                        "department": "legal_aid"})
        db.session.commit()
    client = login(app.test_client(), "supervisor", lang="zh")
    url = "/reports?period=custom&from=2026-11-01&to=2026-11-30&by=category"
    client.get(url)
    with app.app_context(), statements() as seen:
        page = client.get(url).get_data(as_text=True)
    assert "工资" in page
    assert not [s for s in seen if "FROM category" in s or "FROM department" in s], seen


def test_a_renamed_category_is_the_name_the_other_servers_case_list_shows(app, users, second):
    """The case tables name their rows' categories from a map held with the copies: renamed on one server,
    the other server's list shows the new name at its next page."""
    from hotline.admin import service as admin_service
    from hotline.cases import service as case_service

    with app.test_request_context():
        case_service.register(get_user("operator"), {
            "channel": "hotline", "type": "consult", "category": "wages", "summary": "欠薪",
            "caller": {"phone": "13812345678"}})
        db.session.commit()
    client = log_in(second, "operator")
    assert "工资福利待遇" not in client.get("/cases").get_data(as_text=True)
    with app.test_request_context():
        admin_service.update_category("wages", "工资福利待遇", "", "1")
        db.session.commit()
    assert "工资福利待遇" in client.get("/cases").get_data(as_text=True)
    assert "工资福利待遇" in client.get("/cases?q=欠薪").get_data(as_text=True)


def test_a_registration_takes_its_type_and_category_from_the_held_copies(app, api, second):
    """Registering is the busiest write: its case type and category come from the held copies, not a statement,
    and a change made on another server (a category's own limit, a category retired) counts from the next one."""
    from hotline.admin import service as admin_service

    headers = api("operator").headers
    client = second.test_client()
    body = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "欠薪",
            "caller": {"phone": "13812345678"}}

    def register():
        return client.post("/api/v1/cases", json=body, headers=headers)

    assert register().status_code == 201  # fills the copies
    seen = sent(second)
    usual = register()
    assert usual.status_code == 201
    assert not [s for s in seen if "FROM case_type" in s or "FROM category" in s], seen

    with app.test_request_context():
        admin_service.update_category("wages", "工资报酬/欠薪", "1", "1")  # its own one-working-day limit
        db.session.commit()
    quicker = register()
    assert quicker.status_code == 201
    assert quicker.get_json()["reply_due_at"] < usual.get_json()["reply_due_at"]

    with app.test_request_context():
        admin_service.update_category("wages", "工资报酬/欠薪", "1", "")  # retired
        db.session.commit()
    refused = register()
    assert refused.status_code == 422
    assert "category" in refused.get_json()["error"]["fields"]


def test_a_registration_writes_the_tokens_last_use_before_it_takes_the_days_number(app, api):
    """The case's INSERT takes the day's counter row, held to the commit; the token's last use is a row lock
    too. Taken in one order by one request and in the other by the next (the type and category no longer come
    from a query that flushed the token first), several clients on one token deadlocked (a backup test under
    load saw 503s). The token's UPDATE goes first, every time."""
    client = api("operator")
    body = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "欠薪",
            "caller": {"phone": "13812345678"}}
    assert client.post("/cases", json=body).status_code == 201  # fills the copies
    with app.app_context():
        db.session.execute(text("UPDATE api_token SET last_used_at = NULL"))  # its last use is due again
        db.session.commit()
    with app.app_context(), statements() as seen:
        assert client.post("/cases", json=body).status_code == 201
    # On PostgreSQL the case's INSERT is inside a WITH (with its first event's: hotline/cases/events.py).
    writes = [" ".join(" ".join(s.split()).removeprefix("WITH new_case AS (").replace("INSERT INTO", "INSERT")
                       .split()[:2]) for s in seen if s.startswith(("UPDATE", "INSERT", "WITH new_case"))]
    assert writes.index("UPDATE api_token") < writes.index("INSERT hotline_case"), writes


def test_a_registrations_insert_stays_within_psycopgs_statement_cache(app, api):
    """psycopg converts a statement of more than 50 parameters afresh on every execution (a regular
    expression over the case INSERT's 2.4 KB, ~800 function calls a registration). The day of the case
    number is written into the SQL, so the INSERT binds 50: the case's other columns."""
    from psycopg._queries import MAX_CACHED_STATEMENT_PARAMS

    client = api("operator")
    body = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "欠薪",
            "caller": {"phone": "13812345678"}}
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the number is taken by the INSERT on PostgreSQL only")
    with app.app_context(), statements() as seen:
        answer = client.post("/cases", json=body)
    assert answer.status_code == 201
    assert answer.get_json()["case_no"].startswith(DEFAULT_NOW.strftime("%Y%m%d"))
    # The case's INSERT, with its first event's in the same statement (hotline/cases/events.py add_with_case).
    insert = next(s for s in (" ".join(s.split()) for s in seen)
                  if s.startswith(("INSERT INTO hotline_case", "WITH new_case AS (INSERT INTO hotline_case")))
    assert "INSERT INTO case_event" in insert
    assert insert.count("%(") <= MAX_CACHED_STATEMENT_PARAMS == 50
