"""The dashboard's daily figures (hotline/reports/daily.py) stay equal to a recount of the cases."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from conftest import compiled, get_user, local, statements
from hotline.cases import service
from hotline.errors import Forbidden, IllegalMove, InvalidInput, StaleVersion
from hotline.extensions import db
from hotline.reports import daily, kpis
from hotline.reports.models import ReportDay, ReportDayClosed
from hotline.reports.periods import Period

TYPES = ("consult", "help", "legal_aid", "complaint", "suggestion")
CATEGORIES = ("wages", "contract", "insurance", "injury", "other")
CHANNELS = ("hotline", "walk_in", "online", "letter")
NOVEMBER = Period(local(2026, 11, 1).date(), local(2026, 11, 30).date())


def _register(rnd: random.Random) -> None:
    data = {"channel": rnd.choice(CHANNELS), "type": rnd.choice(TYPES), "category": rnd.choice(CATEGORIES),
            "summary": "公司拖欠工资", "caller": {"phone": f"1381234{rnd.randrange(10000):04d}"}}
    if rnd.random() < 0.2:
        data.update(resolved_on_call=True, answer="已解答。")
    elif rnd.random() < 0.5:
        data["department"] = rnd.choice(("legal_aid", "women"))
    service.register(get_user("operator"), data)


def _move(rnd: random.Random, case) -> None:
    """One random move of the lifecycle, by whoever may make it (an illegal one is refused and skipped)."""
    dept_handler = "handler" if case.department and case.department.code == "legal_aid" else "other_handler"
    action, who, params = rnd.choice([
        ("assign", "operator", {"department": rnd.choice(("legal_aid", "women"))}),
        ("reassign", "supervisor", {"department": rnd.choice(("legal_aid", "women"))}),
        ("accept", dept_handler, {}),
        ("reply", dept_handler, {"content": "已答复。"}),
        ("close", "operator", {}),
        ("survey", "operator", {"result": rnd.choice(("satisfied", "basically_satisfied", "dissatisfied",
                                                      "unreachable")), "resolved": rnd.random() < 0.7}),
        ("reopen", "supervisor", {"reason": "来电人不满意"}),
        ("edit", "supervisor", {"reason": "分类有误", "category": rnd.choice(CATEGORIES), "type": rnd.choice(TYPES)}),
    ])
    if action == "survey" and params["result"] == "unreachable":
        params.pop("resolved")
    try:
        with db.session.begin_nested():
            service.perform(get_user(who), case, action, case.version, params)
    except (IllegalMove, Forbidden, InvalidInput, StaleVersion):
        db.session.expire(case)


def _rows() -> tuple[dict, dict]:
    days = {(r.day, r.dim, r.key): tuple(getattr(r, c) for c in daily.COUNTS[:-1]) + (round(r.reply_seconds, 3),)
            for r in db.session.scalars(select(ReportDay)) if r.registered}
    closed = {r.day: r.closed for r in db.session.scalars(select(ReportDayClosed)) if r.closed}
    return days, closed


def _report(by: str | None) -> list:
    report = kpis.compute(NOVEMBER, by, with_calls=False, with_days=True)
    return [report.totals.as_dict(), [g.as_dict(with_key=True) for g in report.groups], report.days]


@pytest.mark.parametrize("seed", [12351])
def test_daily_figures_equal_a_recount_after_random_moves(app, users, clock, seed):
    rnd = random.Random(seed)
    # A week of cases, some moved along on the days they came in.
    for day in range(20, 27):
        clock.set(local(2026, 11, day, 9, 0))
        with app.test_request_context():
            for _ in range(rnd.randint(3, 6)):
                _register(rnd)
            db.session.commit()
    clock.set(local(2026, 11, 27, 10, 0))
    with app.test_request_context():
        assert daily.roll_up() == {"days": 7, "call_days": 1}  # 20–26 November (no calls: the last day, empty)
        assert daily.roll_up() == {"days": 0, "call_days": 0}  # idempotent
        assert daily.through() == local(2026, 11, 26).date()

    # Moves over the next days: on rolled-up cases (kept by the listener) and on new ones (counted live),
    # with the roll-up running between them.
    for day in (27, 28, 30):
        clock.set(local(2026, 11, day, 10, 0))
        with app.test_request_context():
            daily.roll_up()
            _register(rnd)
            from hotline.cases.models import Case

            cases = list(db.session.scalars(select(Case).order_by(Case.id)))
            for _ in range(40):
                _move(rnd, rnd.choice(cases))
            db.session.commit()

    with app.test_request_context():
        assert daily.through() == local(2026, 11, 29).date()
        kept = _rows()
        with_figures = {by: _report(by) for by in (None, *kpis.GROUPINGS)}
        assert kept[0], "the roll-up holds rows"
        # A recount from scratch gives the same rows …
        daily.reset()
        db.session.flush()
        live = {by: _report(by) for by in (None, *kpis.GROUPINGS)}  # nothing rolled up: all from the cases
        daily.roll_up()
        assert _rows() == kept
        # … and the dashboard's figures are those of the cases themselves.
        assert with_figures == live


def test_the_rollup_job_is_scheduled_and_idempotent(app, users):
    from hotline.jobs import build_scheduler, run_job

    assert "rollup" in {job.id for job in build_scheduler(app).get_jobs()}
    with app.test_request_context():
        assert run_job("rollup") == {"days": 1, "call_days": 1}  # no cases yet: yesterday, counted empty
        assert run_job("rollup") == {"days": 0, "call_days": 0}
        assert daily.through() == local(2026, 11, 29).date()
        assert daily.calls_through() == local(2026, 11, 29).date()


def test_a_reply_on_a_case_of_a_rolled_up_day_reuses_the_figures_statements(app, users, clock):
    """The listener adds a reply on an earlier day's case to five rows of the day's figures. Its statements are
    made once: the dialects' INSERT … ON CONFLICT had no cache key, so every handler's action on such a case
    compiled five of them anew (a third of the request's time)."""
    data = {"type": "consult", "category": "wages", "summary": "公司拖欠工资", "caller": {"phone": "13812340001"},
            "department": "legal_aid"}
    clock.set(local(2026, 11, 20, 9, 0))
    with app.test_request_context():
        first, second = (service.register(get_user("operator"), data).case_no for _ in range(2))
        db.session.commit()
    clock.set(local(2026, 11, 23, 10, 0))
    with app.test_request_context():
        daily.roll_up()

    def reply(case_no: str) -> None:
        with app.test_request_context():
            handler = get_user("handler")
            case = service.get_case(handler, case_no)
            service.perform(handler, case, "accept", case.version, {})
            service.perform(handler, case, "reply", case.version, {"content": "已电话答复。"})
            db.session.commit()

    reply(first)  # the statements are made here
    with app.app_context(), compiled() as seen:
        reply(second)
    figures = [(sql, hit) for sql, hit in seen if "report_day" in sql]
    assert any(sql.lstrip().upper().startswith("INSERT") for sql, _hit in figures), "the reply was added"
    assert [sql for sql, hit in figures if not hit] == []
    contribution = [(sql, hit) for sql, hit in seen if "GROUP BY hotline_case.id" in sql]
    assert contribution and all(hit for _sql, hit in contribution)
    with app.test_request_context():
        rows = db.session.scalars(select(ReportDay).where(ReportDay.day == local(2026, 11, 20).date(),
                                                          ReportDay.dim == "channel")).all()
        assert [(r.registered, r.replied) for r in rows] == [(2, 2)]


def _register_one(app, phone: str = "13812340002") -> None:
    with app.test_request_context():
        service.register(get_user("operator"), {"type": "consult", "category": "wages", "summary": "公司拖欠工资",
                                                "caller": {"phone": phone}, "resolved_on_call": True, "answer": "已解答。"})
        db.session.commit()


def test_a_registration_on_a_day_not_over_does_not_read_the_rollups_last_day(app, users, clock):
    """The roll-up counts only days that are over: a case registered (and closed on the call) today cannot be
    in it, so the registration, which holds the day's case number, does not ask."""
    clock.set(local(2026, 11, 23, 10, 0))
    with app.test_request_context():
        daily.roll_up(until=local(2026, 11, 30).date())  # a later day asked for: yesterday at most
        assert daily.through() == local(2026, 11, 22).date()
    with app.app_context(), statements() as seen:
        _register_one(app)
    assert any("INSERT INTO hotline_case" in sql for sql in seen)
    assert not [sql for sql in seen if "report_rollup" in sql]


def test_a_registration_by_a_server_whose_clock_is_behind_the_rollups_is_still_counted(app, users, clock):
    """The roll-up ran on a server whose clock had passed midnight; a server a few minutes behind registers a
    case on the day just rolled up. It is within the margin, so it reads `through` and adds itself."""
    clock.set(local(2026, 11, 22, 9, 0))
    _register_one(app, "13812340003")
    clock.set(local(2026, 11, 23, 0, 1))
    with app.test_request_context():
        daily.roll_up()
        assert daily.through() == local(2026, 11, 22).date()
    clock.set(local(2026, 11, 22, 23, 58))
    _register_one(app, "13812340004")
    with app.test_request_context():
        kept = _rows()
        assert kept[0][(local(2026, 11, 22).date(), "channel", "hotline")][:2] == (2, 2)  # registered, closed
        assert kept[1] == {local(2026, 11, 22).date(): 2}
        daily.reset()
        db.session.flush()
        clock.set(local(2026, 11, 23, 0, 5))
        daily.roll_up()
        assert _rows() == kept


# ---------------------------------------------------------------- the telephony figures per day

def _call(rnd: random.Random, n: int, started):
    from datetime import timedelta

    from hotline.telephony.models import Call

    status = rnd.choice(("completed", "abandoned", "ringing", "in_queue", "completed"))
    answered = started + timedelta(seconds=rnd.randint(1, 40)) if status == "completed" else None
    return Call(call_sid=f"CA{n:08d}", direction=rnd.choice(("inbound", "inbound", "inbound", "agent")),
                from_phone=f"+861381234{rnd.randrange(10000):04d}", status=status, started_at=started,
                answered_at=answered, wait_seconds=(answered - started).seconds if answered else None,
                updated_at=started)


def _attempt(rnd: random.Random, callback, at):
    from hotline.telephony.models import CallbackAttempt

    return CallbackAttempt(callback_id=callback.id, at=at, outcome=rnd.choice(
        ("reached", "wrong_number", "no_answer", "busy", "cancelled")))


def _call_move(rnd: random.Random, calls: list, attempts: list, n: int, now) -> None:
    """One random change to the calls: answered late, abandoned, a new call (today or on a rolled-up day),
    an attempt's outcome corrected, a call or an attempt deleted."""
    from datetime import timedelta

    what = rnd.choice(("answer", "abandon", "new", "new_past", "outcome", "delete", "delete_attempt", "move"))
    if what == "answer" and calls:
        call = rnd.choice(calls)
        call.status, call.answered_at = "completed", call.started_at + timedelta(seconds=rnd.randint(1, 40))
        call.wait_seconds = rnd.randint(1, 40)
    elif what == "abandon" and calls:
        call = rnd.choice(calls)
        call.status, call.answered_at, call.wait_seconds = "abandoned", None, None
    elif what in ("new", "new_past"):
        started = now - timedelta(days=rnd.randint(1, 8) if what == "new_past" else 0, minutes=rnd.randint(0, 300))
        calls.append(_call(rnd, n, started))
        db.session.add(calls[-1])
    elif what == "move" and calls:  # a correction of the time it came in: to another day
        call = rnd.choice(calls)
        call.started_at -= timedelta(days=rnd.randint(-1, 2), hours=rnd.randint(0, 12))
    elif what == "outcome" and attempts:
        rnd.choice(attempts).outcome = rnd.choice(("reached", "no_answer", "cancelled"))
    elif what == "delete" and calls:
        db.session.delete(calls.pop(rnd.randrange(len(calls))))
    elif what == "delete_attempt" and attempts:
        db.session.delete(attempts.pop(rnd.randrange(len(attempts))))


def _call_rows() -> dict:
    from hotline.reports.models import ReportDayCalls

    return {r.day: tuple(getattr(r, c) for c in daily.CALL_COUNTS)
            for r in db.session.scalars(select(ReportDayCalls)) if any(getattr(r, c) for c in daily.CALL_COUNTS)}


def _call_figures() -> list:
    """kpis.call_figures over November, one week, one day and a period that starts before the calls."""
    periods = [NOVEMBER, Period(local(2026, 11, 21).date(), local(2026, 11, 27).date()),
               Period(local(2026, 11, 24).date(), local(2026, 11, 24).date()),
               Period(local(2026, 10, 1).date(), local(2026, 11, 30).date())]
    return [kpis.call_figures(p) for p in periods]


@pytest.mark.parametrize("seed", [12351, 7])
def test_daily_call_figures_equal_a_recount_after_random_changes(app, users, clock, seed):
    from datetime import timedelta

    from hotline import clock as hotline_clock
    from hotline.telephony.models import Callback

    rnd = random.Random(seed)
    calls: list = []
    attempts: list = []
    n = 0
    for day in range(20, 27):
        clock.set(local(2026, 11, day, 9, 0))
        with app.test_request_context():
            for _ in range(rnd.randint(5, 12)):
                n += 1
                calls.append(_call(rnd, n, hotline_clock.now() + timedelta(minutes=rnd.randint(0, 14 * 60))))
                db.session.add(calls[-1])
            now = hotline_clock.now()
            callback = Callback(phone=f"+8613912{day:02d}0000", day=now.date(), status="open", calls=1,
                                first_call_at=now, last_call_at=now, updated_at=now)
            db.session.add(callback)
            db.session.flush()
            for _ in range(rnd.randint(1, 4)):
                attempts.append(_attempt(rnd, callback, now + timedelta(hours=rnd.randint(0, 14))))
                db.session.add(attempts[-1])
            db.session.commit()
    clock.set(local(2026, 11, 27, 10, 0))
    with app.test_request_context():
        assert daily.roll_up() == {"days": 1, "call_days": 7}  # no cases: yesterday; the calls from the 20th
        assert daily.calls_through() == local(2026, 11, 26).date()
        assert _call_rows(), "the roll-up holds rows"

    # Changes over the next days, on rolled-up days (kept by the listener) and today (counted live),
    # with the roll-up running between them.
    for day in (27, 28, 30):
        clock.set(local(2026, 11, day, 10, 0))
        with app.test_request_context():
            daily.roll_up()
            calls = [db.session.merge(c) for c in calls]
            attempts = [db.session.merge(a) for a in attempts]
            for _ in range(30):
                n += 1
                _call_move(rnd, calls, attempts, n, hotline_clock.now())
                if rnd.random() < 0.3:
                    db.session.flush()
            db.session.commit()

    with app.test_request_context():
        assert daily.calls_through() == local(2026, 11, 29).date()
        kept = _call_rows()
        from_rows = _call_figures()
        daily.reset()
        db.session.flush()
        live = _call_figures()  # nothing rolled up: all from the calls
        daily.roll_up()
        assert _call_rows() == kept
        assert from_rows == live
        assert live[0]["inbound"] > 0 and live[0]["callbacks_done"] > 0
