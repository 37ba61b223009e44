"""The handler's queue shows the earliest deadlines first, a bounded number of them, and the true total."""
from __future__ import annotations

import re

from conftest import get_user
from hotline.cases import queries, service
from hotline.extensions import db


def test_queue_shows_the_earliest_deadlines_and_the_total(app, users, login):
    with app.app_context():
        for i in range(queries.QUEUE_LIMIT + 5):
            case = service.register(get_user("operator"), {
                "channel": "hotline", "type": "complaint" if i % 2 else "consult", "category": "wages",
                "summary": f"欠薪 {i}", "caller": {"phone": "13812345678"}, "department": "legal_aid",
                "handler": "handler"})
            # Accepted: the reply clock runs (a dispatched case runs on its acceptance deadline).
            service.perform(get_user("handler"), case, "accept", case.version, {})
        db.session.commit()
    client = login(app.test_client(), "handler")
    for tab in ("mine", "department"):  # here both tabs hold the same cases
        page = client.get(f"/cases/queue?tab={tab}").get_data(as_text=True)
        for tab_id in ("tab-mine", "tab-department"):  # both tabs show their count
            assert re.search(rf'id="{tab_id}"[^>]*>[^<]*<span class="count">{queries.QUEUE_LIMIT + 5}</span>', page)
        assert f"Showing the {queries.QUEUE_LIMIT} earliest deadlines of {queries.QUEUE_LIMIT + 5}." in page
        # Consults (2 working days) come before complaints (15): every consult is shown.
        assert page.count("问题咨询") == (queries.QUEUE_LIMIT + 5 + 1) // 2
        assert page.count('role="tabpanel"') == 1  # only the open tab is rendered


def test_queue_opens_on_the_department_tab_when_nothing_is_assigned_to_the_handler(app, users, login):
    with app.app_context():
        service.register(get_user("operator"), {
            "channel": "hotline", "type": "consult", "category": "wages", "summary": "部门待分派",
            "caller": {"phone": "13812345678"}, "department": "legal_aid"})
        db.session.commit()
    page = login(app.test_client(), "handler").get("/cases/queue").get_data(as_text=True)
    assert 'id="department" class="panel tabpanel"' in page and "部门待分派" in page


def test_the_queue_gives_each_tabs_count_with_its_rows_in_one_statement_and_the_same_answer_as_asked_apart(
        app, users):
    """queries.handler_queue: the open tab's rows carry both tabs' counts (one statement when the tab has
    rows); its answer is what the counts and rows give asked one by one, whichever tab opens."""
    from conftest import statements

    def register(summary, handler=None):
        service.register(get_user("operator"), {
            "channel": "hotline", "type": "consult", "category": "wages", "summary": summary,
            "caller": {"phone": "13812345678"}, "department": "legal_aid", **({"handler": handler} if handler else {})})

    def apart(actor, tab):
        mine, dept = queries.handler_queue_counts(actor)
        tab = tab or ("mine" if mine or not dept else "department")
        return tab, [c.id for c in queries.handler_queue_rows(actor, mine=tab == "mine")], mine, dept

    with app.test_request_context():
        handler, handler_b, other = get_user("handler"), get_user("handler_b"), get_user("other_handler")
        register("部门待分派")  # the department's only: handler_b's queue opens on it
        register("给李明", "handler")
        register("再给李明", "handler")
        db.session.flush()
        for actor in (handler, handler_b, other):
            for tab in (None, "mine", "department"):
                tab_, cases, mine, dept = queries.handler_queue(actor, tab)
                assert (tab_, [c.id for c in cases], mine, dept) == apart(actor, tab), (actor.username, tab)
        with statements() as seen:
            tab, cases, mine, dept = queries.handler_queue(handler, None)
        assert (tab, len(cases), mine, dept) == ("mine", 2, 2, 3) and len(seen) == 1
        assert queries.handler_queue(handler_b, None)[0::2] == ("department", 0)
        assert queries.handler_queue(other, None)[0::2] == ("mine", 0)  # nothing in 妇女: her own tab, empty
