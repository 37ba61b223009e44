"""One definition of "overdue now" (issue 17): the card, the board, the department table, the drill-down and
the API count the same cases, whenever they were registered, and say so; supervisors land on the dashboard."""
from __future__ import annotations

import re

from conftest import get_user, local

from hotline.cases import service
from hotline.extensions import db


def _case(dept, summary):
    data = {"channel": "hotline", "type": "consult", "category": "wages", "summary": summary,
            "caller": {"phone": "13812345678"}}
    if dept:
        data["department"] = dept
    return service.register(get_user("operator"), data)


def test_overdue_now_is_one_figure_everywhere(app, users, login, api, clock):
    # Two cases registered in October for legal_aid, one this month for women: all overdue by December 10.
    clock.set(local(2026, 10, 20, 10, 0))
    with app.app_context():
        _case("legal_aid", "十月一")
        _case("legal_aid", "十月二")
        db.session.commit()
    clock.set(local(2026, 12, 1, 10, 0))
    with app.app_context():
        _case("women", "十二月")
        _case(None, "十二月未派")
        db.session.commit()
    clock.set(local(2026, 12, 10, 10, 0))
    client = login(app.test_client(), "supervisor", lang="zh")
    page = client.get("/reports?period=month&by=department").get_data(as_text=True)
    card = page[page.index('data-figure="overdue_open"'):]
    assert re.search(r"data-value>4<", card[:card.index("</div>")])
    assert "不限登记日期" in card[:card.index("</div>")]  # the scope written beside it
    assert 'data-board-total>4' in page.replace("\n", "")
    # The department table has legal_aid's two, though nothing was registered for it this month.
    row = re.search(r'<tr data-key="legal_aid">.*?</tr>', page, re.S).group(0)
    assert re.search(r'data-figure="overdue_open"><a href="([^"]+)">2</a>', row)
    drill = re.search(r'data-figure="overdue_open"><a href="([^"]+)">2</a>', row).group(1).replace("&amp;", "&")
    listing = client.get(drill).get_data(as_text=True)
    assert "十月一" in listing and "十月二" in listing and "十二月" not in listing
    tfoot = page[page.index("<tfoot>"):]
    assert re.search(r'data-figure="overdue_open"><a href="[^"]+">4</a>', tfoot)
    body = api("supervisor").get("/reports/kpis?from=2026-12-01&to=2026-12-31&by=department").get_json()
    assert body["totals"]["overdue_open"] == 4
    assert {g["key"]: g["overdue_open"] for g in body["groups"]}["legal_aid"] == 2


def test_supervisor_lands_on_the_dashboard(app, users):
    client = app.test_client()
    from conftest import PASSWORD, csrf_from

    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": "supervisor", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/reports")


def test_the_open_case_index_is_over_the_open_statuses():
    """ix_hotline_case_open writes OPEN_STATUSES out (a partial index needs a literal): they must not drift."""
    from hotline.cases.models import OPEN_STATUSES
    from hotline.reports.models import OPEN_CASE_CONDITION

    assert OPEN_CASE_CONDITION == "status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")"
