"""Deadlines as people say them (issue 17): weekday, date and the working time left or overdue, for the
clock that is running, counted on the same calendar as the deadlines; lists sorted by that deadline."""
from __future__ import annotations

import re

from conftest import get_user, local

from hotline.cases import queries, service
from hotline.extensions import db
from hotline.templating import left_words, local_day_time
from hotline.workdays import service as wd


def words(due, now):
    return left_words(wd.time_left(due, "reply", now))


def test_time_left_counts_working_days_on_the_holiday_calendar(ctx):
    with ctx.test_request_context("/?lang=zh"):
        # Friday afternoon, due Monday: the weekend does not count.
        assert words(local(2026, 12, 7, 17, 30), local(2026, 12, 4, 15, 0)) == "剩1个工作日"
        # Same day: hours, then minutes.
        assert words(local(2026, 12, 7, 17, 30), local(2026, 12, 7, 14, 0)) == "剩3小时"
        assert words(local(2026, 12, 7, 17, 30), local(2026, 12, 7, 17, 10)) == "剩20分钟"
        # Due Friday, now Tuesday: Monday and Tuesday have passed.
        assert words(local(2026, 12, 4, 17, 30), local(2026, 12, 8, 9, 0)) == "已超期2个工作日"
        assert words(local(2026, 12, 4, 17, 30), local(2026, 12, 4, 20, 0)) == "已超期2小时"
        # Across the National Day week (Oct 1-7 off, Sat Oct 10 a make-up working day).
        assert words(local(2026, 10, 12, 17, 30), local(2026, 9, 30, 10, 0)) == "剩4个工作日"
        assert local_day_time(local(2026, 12, 7, 17, 30)) in ("周一 12-07 17:30", "周一 2026-12-07 17:30")


def _register(dept=None, summary="欠薪", type_="consult", resolved=False):
    data = {"channel": "hotline", "type": type_, "category": "wages", "summary": summary,
            "caller": {"phone": "13812345678"}}
    if dept:
        data["department"] = dept
    if resolved:
        data["resolved_on_call"], data["answer"] = True, "已当场解答"
    return service.register(get_user("operator"), data)


def test_case_overdue_on_acceptance_shows_the_acceptance_clock_first_in_the_queue(app, users, login, clock):
    # Registered Monday 10:00: the consult's reply is due Wednesday 17:30, acceptance Tuesday 17:30.
    clock.set(local(2026, 11, 30, 10, 0))
    with app.app_context():
        accepted = _register("legal_aid", "已签收的工单")
        service.perform(get_user("handler"), accepted, "accept", accepted.version, {})
        _register("legal_aid", "逾期未签收")
        db.session.commit()
    # Wednesday 10:00: acceptance overdue by one working day, the accepted one has 7 hours left.
    clock.set(local(2026, 12, 2, 10, 0))
    page = login(app.test_client(), "handler", lang="zh").get("/cases/queue?tab=department").get_data(as_text=True)
    late = page.index("逾期未签收")
    assert late < page.index("已签收的工单"), "the case overdue on acceptance comes first"
    row = page[late:page.index("</tr>", late)]
    assert "签收" in row and "周二 12-01 17:30" in row and "已超期1个工作日" in row
    assert "12-02 17:30" not in row  # not the (future) reply deadline beside a red chip
    other = page[page.index("已签收的工单"):]
    assert "周三 12-02 17:30" in other[:other.index("</tr>")] and "剩7小时" in other[:other.index("</tr>")]


def test_case_closed_on_the_call_shows_no_reply_deadline(app, users, login):
    with app.app_context():
        no = _register(resolved=True).case_no
        open_no = _register().case_no
        db.session.commit()
    client = login(app.test_client(), "operator", lang="zh")
    assert "答复时限" not in client.get(f"/cases/{no}").get_data(as_text=True)
    page = client.get(f"/cases/{open_no}").get_data(as_text=True)
    assert re.search(r"答复时限</dt><dd[^>]*>周三 12-02 17:30 · 剩2个工作日", page)


def test_list_sorted_by_running_deadline_pages_through_every_case_once(app, users, login, clock):
    clock.set(local(2026, 11, 30, 10, 0))
    with app.app_context():
        complaint = _register(summary="投诉", type_="complaint")  # reply in 15 working days
        consult = _register(summary="咨询")  # reply in 2
        dispatched = _register("legal_aid", summary="派出")  # accept by Tuesday
        closed = _register(summary="当场", resolved=True)
        expected = [dispatched.case_no, consult.case_no, complaint.case_no, closed.case_no]
        db.session.commit()
    client = login(app.test_client(), "supervisor", lang="zh")
    seen, url = [], "/cases?sort=due&limit=1"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r'<td class="no"><a href="/cases/([0-9-]+)"', page)
        nxt = re.search(r'href="([^"]+)" rel="next"', page)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == expected
    with app.app_context():
        f = queries.parse_filter({"sort": "due"})
        rows, _ = queries.list_cases(get_user("supervisor"), f, limit=10)
        assert [c.case_no for c in rows] == expected
