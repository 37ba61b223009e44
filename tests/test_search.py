"""Chinese free-text search: the index path (three or more characters) and the short-query path agree."""
from __future__ import annotations

import pytest

from conftest import get_user
from hotline.cases import queries, service
from hotline.extensions import db

SUMMARIES = ["公司拖欠工资三个月", "建筑工地拖欠工资，多人未领到", "咨询社保断缴后如何补缴", "拖欠加班费",
             "工资100%发放了吗", "欠薪_问题"]


@pytest.fixture
def cases(ctx, users):
    made = [service.register(get_user("operator"), {"channel": "hotline", "type": "consult", "category": "wages",
                                                    "summary": s, "caller": {"phone": "13812345678"}})
            for s in SUMMARIES]
    db.session.commit()
    return made


def search(q):
    rows, _ = queries.list_cases(get_user("supervisor"), queries.parse_filter({"q": q}))
    return sorted(c.summary for c in rows)


@pytest.mark.parametrize("q, expected", [
    ("拖欠工资", ["公司拖欠工资三个月", "建筑工地拖欠工资，多人未领到"]),
    ("拖欠", ["公司拖欠工资三个月", "建筑工地拖欠工资，多人未领到", "拖欠加班费"]),
    ("社", ["咨询社保断缴后如何补缴"]),
    ("100%", ["工资100%发放了吗"]),  # LIKE wildcards in the text are literal
    ("欠薪_", ["欠薪_问题"]),
    ('"拖欠', []),  # quotes cannot break the FTS phrase
    ("不存在的词", []),
])
def test_search_finds_exactly_the_matching_summaries(cases, q, expected):
    assert search(q) == sorted(expected)


def test_search_by_case_number(cases):
    assert search(cases[2].case_no) == ["咨询社保断缴后如何补缴"]
