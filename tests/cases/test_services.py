"""The lifecycle table, role rules, optimistic locking and the event trail, at the service level."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from conftest import get_user, local
from hotline.cases import deadlines, service
from hotline.cases.models import Case, CaseEvent
from hotline.errors import Forbidden, IllegalMove, InvalidInput, StaleVersion
from hotline.extensions import db

BASE = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资三个月",
        "caller": {"phone": "138 1234 5678", "name": "王建国"}}


def register(username="operator", **extra):
    data = {**BASE, **extra}
    case = service.register(get_user(username), data)
    db.session.commit()
    return case


def act(username, case, action, **params):
    result = service.perform(get_user(username), case, action, case.version, params)
    db.session.commit()
    return result


def counts():
    return (db.session.scalar(select(func.count()).select_from(Case)),
            db.session.scalar(select(func.count()).select_from(CaseEvent)))


def test_register_numbers_cases_per_local_day(ctx, users, clock):
    first, second = register(), register()
    assert (first.case_no, second.case_no) == ("20261130-0001", "20261130-0002")
    assert first.caller_phone == "+8613812345678"
    assert first.reply_due_at == local(2026, 12, 2, 17, 30)
    clock.set(local(2026, 12, 1, 0, 30))  # 16:30 UTC on Nov 30, but Dec 1 in Shanghai
    assert register().case_no == "20261201-0001"


def test_close_on_call_needs_an_answer_and_saves_nothing_without_it(ctx, users):
    before = counts()
    with pytest.raises(InvalidInput) as err:
        service.register(get_user("operator"), {**BASE, "resolved_on_call": True})
    db.session.rollback()
    assert "answer" in err.value.fields
    assert counts() == before
    case = register(resolved_on_call=True, answer="可到劳动监察大队投诉。")
    assert case.status == "closed" and case.resolved_on_call and case.closed_at is not None


@pytest.mark.parametrize("phone, expected", [
    ("+86 138-1234-5678", "+8613812345678"),
    ("0512-6523 0000", "+8651265230000"),
    ("(0512)65230000", "+8651265230000"),
])
def test_phone_numbers_are_normalised(ctx, users, phone, expected):
    assert register(caller={"phone": phone}).caller_phone == expected


@pytest.mark.parametrize("phone", ["abc", "12345", "138123456789999", "+1 555"])
def test_bad_phone_numbers_are_refused(ctx, users, phone):
    with pytest.raises(InvalidInput) as err:
        service.register(get_user("operator"), {**BASE, "caller": {"phone": phone}})
    assert "caller.phone" in err.value.fields


@pytest.mark.parametrize("field, value", [("summary", ""), ("summary", "欠" * 10000), ("type", "nope"),
                                          ("category", "nope"), ("channel", "fax"), ("department", "nope")])
def test_bad_fields_are_refused_and_nothing_saved(ctx, users, field, value):
    before = counts()
    with pytest.raises(InvalidInput) as err:
        service.register(get_user("operator"), {**BASE, field: value})
    db.session.rollback()
    assert field in err.value.fields
    assert counts() == before


def test_full_lifecycle_writes_an_event_for_every_move(ctx, users, clock):
    case = register(department="legal_aid")
    assert case.status == "assigned" and case.accept_due_at == local(2026, 12, 1, 17, 30)
    act("handler", case, "accept")
    version = case.version
    act("handler", case, "note", text="已电话联系")
    assert case.version == version  # a note makes nobody's page stale
    act("handler", case, "extend", reply_due_at="2026-12-09T17:30:00+08:00", reason="需调取考勤记录")
    act("supervisor", case, "approve_extension")
    assert case.reply_due_at == local(2026, 12, 9, 17, 30)
    act("handler", case, "reply", content="已协调单位补发工资。", method="phone")
    act("operator", case, "close")
    act("operator", case, "survey", result="satisfied")
    act("supervisor", case, "reopen", reason="来电人反映未补发")
    assert case.status == "accepted" and case.reopen_count == 1
    kinds = [e.kind for e in case.events]
    assert kinds == ["register", "assign", "accept", "note", "extend_request", "extend_approve", "reply",
                     "close", "survey", "reopen"]
    assert case.events[5].data["before"]["reply_due_at"].startswith("2026-12-02T09:30")
    assert case.version == 9  # register+dispatch, then one per action except the note


def test_return_needs_a_reason_and_clears_the_department(ctx, users):
    case = register(department="legal_aid")
    with pytest.raises(InvalidInput):
        act("handler", case, "return", reason="  ")
    db.session.rollback()
    act("handler", case, "return", reason="应由女工部办理")
    # 退单审核: the return waits for the centre; accepted, the case is back on the dispatch list.
    assert (case.status, case.department.code, case.return_reason) == ("assigned", "legal_aid", "应由女工部办理")
    act("operator", case, "accept_return")
    assert (case.status, case.department_id, case.handler_id) == ("registered", None, None)
    assert case.return_requested_at is None
    act("operator", case, "assign", department="women", handler="other_handler")
    assert case.handler.username == "other_handler"


@pytest.mark.parametrize("username, action, params, error", [
    ("operator", "accept", {}, Forbidden),          # not a handler
    ("other_handler", "accept", {}, Forbidden),     # handler of another department
    ("handler", "reply", {"content": "x"}, IllegalMove),  # not accepted yet
    ("handler", "close", {}, Forbidden),
    ("operator", "reopen", {"reason": "x"}, Forbidden),
    ("supervisor", "survey", {"result": "satisfied"}, Forbidden),
    ("supervisor", "approve_extension", {}, IllegalMove),  # nothing requested
])
def test_wrong_role_or_state_is_refused_and_changes_nothing(ctx, users, username, action, params, error):
    case = register(department="legal_aid")
    before = (case.status, case.version, counts())
    with pytest.raises(error):
        service.perform(get_user(username), case, action, case.version, params)
    db.session.rollback()
    db.session.refresh(case)
    assert (case.status, case.version, counts()) == before


def test_stale_version_is_refused(ctx, users):
    case = register(department="legal_aid")
    old = case.version
    act("handler", case, "accept")
    with pytest.raises(StaleVersion):
        service.perform(get_user("handler_b"), case, "return", old, {"reason": "x"})


def test_extension_must_be_asked_before_the_deadline(ctx, users, clock):
    case = register(department="legal_aid")
    act("handler", case, "accept")
    clock.set(local(2026, 12, 3, 9, 0))  # past Dec 2 17:30
    with pytest.raises(IllegalMove):
        act("handler", case, "extend", reply_due_at="2026-12-09T17:30:00+08:00", reason="x")


def test_extension_date_in_wrong_format_is_refused(ctx, users):
    case = register(department="legal_aid")
    with pytest.raises(InvalidInput) as err:
        act("handler", case, "extend", reply_due_at="09/12/2026", reason="x")
    assert "reply_due_at" in err.value.fields


def test_merge_closes_the_duplicate_and_marks_both(ctx, users):
    main, dup = register(), register()
    act("operator", dup, "merge", into=main.case_no)
    assert dup.status == "closed" and dup.merged_into_id == main.id
    assert main.events[-1].kind == "merged_from"
    with pytest.raises(InvalidInput):
        act("operator", main, "merge", into=main.case_no)


def test_overdue_and_due_soon(ctx, users, clock):
    case = register(department="legal_aid")
    assert deadlines.due_state(case) == "ok"
    clock.set(local(2026, 12, 1, 15, 0))
    assert deadlines.due_state(case) == "due_soon"  # accept due Dec 1 17:30
    clock.set(local(2026, 12, 1, 18, 0))
    assert deadlines.is_overdue(case) and deadlines.due_state(case) == "overdue"


def test_confidential_case_hides_caller_from_people_who_do_not_work_it(ctx, users):
    from hotline.cases import access
    from hotline.cases.present import case_to_dict

    case = register(confidential=True, department="legal_aid", detail="举报单位负责人")
    producer = case_to_dict(get_user("producer"), case)
    assert producer["caller"]["phone"] == "138****5678" and producer["caller"]["name"] == "王*"
    assert producer["detail"] is None
    assert case_to_dict(get_user("handler"), case)["detail"] == "举报单位负责人"
    assert not access.can_view(get_user("other_handler"), case)


def test_concurrent_registrations_get_unique_sequential_numbers(app, users, backend_name):
    """Many operators at once: no duplicate and no gap (PostgreSQL row lock; SQLite write lock)."""
    errors, numbers = [], []
    lock = threading.Lock()

    def worker():
        try:
            with app.app_context():
                for _ in range(5):
                    case = service.register(get_user("operator"), dict(BASE))
                    db.session.commit()
                    with lock:
                        numbers.append(case.case_no)
                db.session.remove()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == [f"20261130-{n:04d}" for n in range(1, 41)]


def test_numbers_past_9999_keep_counting_and_the_provisional_number_is_never_seen(ctx, users):
    """The number is taken after the INSERT (hotline/cases/service.py number_case); on PostgreSQL it is
    formatted in SQL, which must say what format_case_no says: four digits at least, then more."""
    from datetime import date

    from hotline.cases.models import CaseCounter
    from hotline.cases.signals import registered

    db.session.add(CaseCounter(day=date(2026, 11, 30), last=9998))
    db.session.commit()
    seen: list[str] = []

    def receiver(case, **_kw):
        seen.append(case.case_no)

    registered.connect(receiver)
    try:
        first, second = register(), register(department="legal_aid")
    finally:
        registered.disconnect(receiver)
    assert (first.case_no, second.case_no) == ("20261130-9999", "20261130-10000")
    assert seen == ["20261130-9999", "20261130-10000"]  # the subscribers see the final number
    assert service.format_case_no(date(2026, 11, 30), 10000) == "20261130-10000"
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Case.case_no))) == ["20261130-10000", "20261130-9999"]
    assert second.version == 2  # registered, then dispatched: the number is no change of the case
    notes = list(db.session.scalars(select(CaseEvent.data)))
    assert not [d for d in notes if "~" in str(d)]
    from hotline.notify.models import Notice

    bodies = list(db.session.scalars(select(Notice.body)))
    assert bodies and not [b for b in bodies if "~" in b]  # the dispatch notice names the final number


def test_two_people_acting_at_once_one_wins(app, users, backend_name):
    """Both loaded version 2; the second commit must not overwrite the first."""
    with app.app_context():
        case = register(department="legal_aid")
        act("handler", case, "accept")
        case_no, version = case.case_no, case.version
    barrier = threading.Barrier(2)
    outcomes = []

    def worker(username, action, params):
        with app.app_context():
            c = db.session.scalar(select(Case).where(Case.case_no == case_no))
            barrier.wait()
            try:
                service.perform(get_user(username), c, action, version, params)
                db.session.commit()
                outcomes.append("ok")
            except StaleVersion:
                db.session.rollback()
                outcomes.append("stale")
            finally:
                db.session.remove()

    t1 = threading.Thread(target=worker, args=("handler", "reply", {"content": "答复一"}))
    t2 = threading.Thread(target=worker, args=("handler_b", "return", {"reason": "退回"}))
    t1.start(), t2.start()
    t1.join(), t2.join()
    assert sorted(outcomes) == ["ok", "stale"]
    with app.app_context():
        c = db.session.scalar(select(Case).where(Case.case_no == case_no))
        assert c.version == version + 1
        assert [e.kind for e in c.events][-1] in ("reply", "return")
        assert len(c.events) == 4
