"""What a registration does while it holds the day's case number (issue 21, province scale): the same case,
timeline and answer, with fewer round trips and less Python between its INSERT and the commit."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from conftest import SHANGHAI, get_user, statements
from hotline.cases import service
from hotline.cases.models import Case, CaseEvent
from hotline.errors import InvalidInput
from hotline.extensions import db

BODY = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "欠薪三个月",
        "caller": {"phone": "13812345678", "name": "王师傅", "employer": "某厂", "district": "吴江"}}


def _flushed_kinds():
    """The classes of the objects each flush inserts."""
    seen: list[list[str]] = []

    def before_flush(session, flush_context, instances):
        seen.append(sorted(type(o).__name__ for o in session.new))

    event.listen(Session, "before_flush", before_flush)
    return seen, lambda: event.remove(Session, "before_flush", before_flush)


def test_the_case_and_its_registration_event_are_written_past_the_flush_and_the_timeline_is_whole(
        app, users, backend_name):
    with app.test_request_context():
        seen, stop = _flushed_kinds()
        try:
            with statements() as sql:
                case = service.register(get_user("operator"), dict(BODY, department="legal_aid", handler="handler"))
        finally:
            stop()
        writes = [s.split("(")[0].strip() for s in sql if s.startswith(("INSERT", "WITH"))
                  and "case_counter" not in s]  # SQLite takes the number first
        if backend_name == "postgresql":
            # One statement for the case and its registration event; no flush carried either.
            assert writes[0] == "WITH new_case AS"
            assert "INSERT INTO case_event" in next(s for s in sql if s.startswith("WITH new_case"))
            assert not any("Case" in kinds for kinds in seen)
        else:  # SQLite: the flush wrote the case alone, then one INSERT for the event
            assert ["Case"] in seen and writes[:2] == ["INSERT INTO hotline_case", "INSERT INTO case_event"]
        assert not any("CaseEvent" in kinds and "Case" in kinds for kinds in seen)
        assert [e.kind for e in case.events] == ["register", "assign"]  # the dispatch's event after it
        assert case.events[0].actor.username == "operator" and case.events[0].case is case
        assert case.events[0].at == case.created_at and case.version == 2
        assert case.case_no.startswith("20261130-") and case.status == "assigned"
        assert case.escalated is False and case.reopen_count == 0 and case.review_pending is False
        db.session.commit()
        case_id = case.id
    with app.app_context():  # what the database holds: the same timeline, in the same order
        rows = db.session.execute(select(CaseEvent.kind, CaseEvent.actor_id, CaseEvent.data)
                                  .where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)).all()
        assert [r.kind for r in rows] == ["register", "assign"]
        assert rows[0].actor_id == get_user("operator").id
        assert rows[0].data["status"] == "registered" and rows[0].data["via"] == "web"
        kept = db.session.get(Case, case_id)
        assert kept.version == 2 and kept.caller_name == "王师傅" and kept.escalated is False
        assert kept.handler.username == "handler" and kept.next_watch_at is not None


def test_the_api_answer_of_a_registration_reads_no_event_back(app, users, api):
    client = api("operator")
    with app.app_context(), statements() as sql:
        r = client.post("/cases", json=BODY)
    assert r.status_code == 201
    assert [e["kind"] for e in r.get_json()["events"]] == ["register"]
    assert r.get_json()["events"][0]["actor"] == "operator"
    assert not [s for s in sql if "FROM case_event" in s]
    with app.app_context():  # the event the answer showed is the one kept
        kept = db.session.scalars(select(CaseEvent).join(Case).where(Case.case_no == r.get_json()["case_no"])).all()
        assert [e.kind for e in kept] == ["register"]


def test_a_valid_registration_translates_no_field_label_and_a_refused_one_names_them(app, users,
                                                                                    translations_asked):
    asked = translations_asked
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        service.register(get_user("operator"), BODY)
        assert not {"Caller name", "Employer", "District", "Summary", "Detail", "Answer"} & set(asked)
        db.session.rollback()
        with pytest.raises(InvalidInput) as refused:
            service.register(get_user("operator"), dict(BODY, summary="   "))
        assert refused.value.message == "请填写诉求摘要。" and refused.value.fields == {"summary": "必填。"}
        with pytest.raises(InvalidInput) as refused:
            service.register(get_user("operator"), dict(BODY, caller=dict(BODY["caller"], name=7)))
        assert "来电人姓名" in refused.value.message


def test_each_day_numbers_its_own_cases_from_one_and_the_answer_gives_the_number_kept(app, users, api, clock):
    """The one-statement registration is built once and reused: the day of the case number is a parameter of
    each execution, not the day it was first built on."""
    client = api("operator")
    numbers = []
    for day in (1, 1, 2, 3, 3):
        clock.set(datetime(2026, 12, day, 10, 0, tzinfo=SHANGHAI))
        answer = client.post("/cases", json=BODY)
        assert answer.status_code == 201
        numbers.append(answer.get_json()["case_no"])
    assert numbers == ["20261201-0001", "20261201-0002", "20261202-0001", "20261203-0001", "20261203-0002"]
    with app.app_context():
        kept = db.session.scalars(select(Case.case_no).order_by(Case.id)).all()
        assert kept[-5:] == numbers
