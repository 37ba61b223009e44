"""Statements the everyday requests run are compiled once per process (SQLAlchemy's compiled cache), not on
every request: the dialects' INSERT … ON CONFLICT constructs have no cache key of their own."""
from __future__ import annotations

from conftest import DEFAULT_NOW, compiled, get_user
from hotline.cases import service
from hotline.db_helpers import insert_ignore
from hotline.extensions import db
from hotline.notify.models import JobLease


def test_insert_ignore_is_compiled_once_and_still_ignores_a_repeat(app):
    row = {"name": "cache-check", "holder": "a", "until": DEFAULT_NOW, "runs": 0}
    with app.app_context():
        assert insert_ignore(JobLease, [row]) == 1  # each shape (one row, several) compiled here
        assert insert_ignore(JobLease, [dict(row, name="cache-check-2"), dict(row, name="cache-check-3")]) == 2
        with compiled() as seen:
            assert insert_ignore(JobLease, [dict(row, holder="b")]) == 0  # the same name: nothing written
            assert insert_ignore(JobLease, [dict(row, name="cache-check-3"), dict(row, name="cache-check-4")]) == 1
        inserts = [(sql, hit) for sql, hit in seen if sql.startswith("INSERT INTO job_lease")]
        assert inserts and all(hit for _sql, hit in inserts), inserts
        assert all("ON CONFLICT DO NOTHING" in sql for sql, _hit in inserts)
        assert db.session.get(JobLease, "cache-check").holder == "a"


def test_a_dispatchs_notices_reuse_their_compiled_insert(app, users):
    """Dispatching tells the department's handlers (notices, written with insert_ignore)."""
    data = {"type": "consult", "category": "wages", "summary": "公司拖欠工资", "caller": {"phone": "13812340005"}}
    with app.test_request_context():
        operator = get_user("operator")
        first, second = service.register(operator, data), service.register(operator, data)
        service.perform(operator, first, "assign", first.version, {"department": "legal_aid"})
        with compiled() as seen:
            service.perform(operator, second, "assign", second.version, {"department": "legal_aid"})
            db.session.flush()
    notices = [(sql, hit) for sql, hit in seen if sql.startswith("INSERT INTO notice")]
    assert notices and all(hit for _sql, hit in notices), notices


def test_a_dispatch_tells_the_whole_department_in_one_statement(app, users):
    """Both handlers of 法律援助 are told, in one INSERT (a department of fifteen wrote fifteen, one by one)."""
    from sqlalchemy import select

    from hotline.notify.models import Notice

    data = {"type": "consult", "category": "wages", "summary": "公司拖欠工资", "caller": {"phone": "13812340006"}}
    with app.test_request_context():
        operator = get_user("operator")
        case = service.register(operator, data)
        with compiled() as seen:
            service.perform(operator, case, "assign", case.version, {"department": "legal_aid"})
            db.session.flush()
        told = set(db.session.scalars(select(Notice.recipient_id).where(
            Notice.case_id == case.id, Notice.kind == "dispatched", Notice.channel == "in_app")))
        assert told == {get_user("handler").id, get_user("handler_b").id}
    assert len([sql for sql, _hit in seen if sql.startswith("INSERT INTO notice")]) == 1
    # The handlers are read without their roles (a second statement) or departments: a notice needs neither.
    assert not [sql for sql, _hit in seen if sql.startswith("SELECT user_role.")]
