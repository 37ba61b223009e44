"""The handler's queue shows the earliest deadlines first, a bounded number of them, and the true total."""
from __future__ import annotations

from conftest import get_user
from hotline.cases import queries, service
from hotline.extensions import db


def test_queue_shows_the_earliest_deadlines_and_the_total(app, users, login):
    with app.app_context():
        for i in range(queries.QUEUE_LIMIT + 5):
            service.register(get_user("operator"), {
                "channel": "hotline", "type": "complaint" if i % 2 else "consult", "category": "wages",
                "summary": f"欠薪 {i}", "caller": {"phone": "13812345678"}, "department": "legal_aid",
                "handler": "handler"})
        db.session.commit()
    page = login(app.test_client(), "handler").get("/cases/queue").get_data(as_text=True)
    assert f'<span class="count">{queries.QUEUE_LIMIT + 5}</span>' in page
    assert f"Showing the {queries.QUEUE_LIMIT} earliest deadlines of {queries.QUEUE_LIMIT + 5}." in page
    # Consults (2 working days) come before complaints (15): every consult is shown, in both tabs
    # (the handler's own and the department's, which here hold the same cases).
    assert page.count("问题咨询") == 2 * ((queries.QUEUE_LIMIT + 5 + 1) // 2)
