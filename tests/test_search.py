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


# ---------------------------------------------------------------- issue 19: more fields, relevance, highlighting

@pytest.fixture
def wide(ctx, users):
    """Cases where the searched words sit in different fields; the newest matches only in its detail."""
    operator = get_user("operator")

    def make(summary, **extra):
        caller = {"phone": "13812345678", **extra.pop("caller", {})}
        case = service.register(operator, {"channel": "hotline", "type": "consult", "category": "wages",
                                           "summary": summary, "caller": caller, **extra})
        return case.case_no

    made = {
        "summary": make("恒力纺织拖欠工资"),
        "answer": make("咨询维权途径", resolved_on_call=True, answer="可以向劳动保障监察大队投诉"),
        "employer": make("咨询社保", caller={"employer": "恒力纺织有限公司"}),
        "name": make("咨询加班", caller={"name": "欧阳明华"}),
        "detail": make("咨询工资问题", detail="老板说恒力纺织年底才发工资"),
        "secret": make("咨询补偿", detail="举报人在金桥电子上班", confidential=True),
    }
    db.session.commit()
    return made


def numbers(username, q):
    rows, _ = queries.list_cases(get_user(username), queries.parse_filter({"q": q}))
    return [c.case_no for c in rows]


def test_search_looks_in_detail_answer_employer_and_ranks_the_summary_first(wide):
    found = numbers("supervisor", "恒力纺织")
    assert set(found) == {wide["summary"], wide["employer"], wide["detail"]}
    # The summary match comes first although the detail match is newer; then the employer.
    assert found == [wide["summary"], wide["employer"], wide["detail"]]
    assert numbers("supervisor", "劳动保障监察") == [wide["answer"]]
    assert numbers("supervisor", "恒力 年底") == [wide["detail"]]  # every word must occur


def test_caller_names_are_searched_only_for_those_allowed(wide):
    assert numbers("operator", "欧阳明华") == [wide["name"]]
    assert numbers("supervisor", "欧阳明华") == [wide["name"]]
    assert numbers("producer", "欧阳明华") == []


def test_a_confidential_cases_detail_is_no_search_oracle(wide):
    assert numbers("supervisor", "金桥电子") == [wide["secret"]]
    assert numbers("producer", "金桥电子") == []
    assert numbers("operator2", "金桥电子") == []  # not the operator who registered it


def test_the_list_highlights_the_matched_words_and_escapes_the_rest(app, users, login):
    with app.test_request_context():
        service.register(get_user("operator"), {"channel": "hotline", "type": "consult", "category": "wages",
                                                "summary": "<b>恒力纺织</b>拖欠工资", "caller": {"phone": "13812345678"},
                                                "detail": "工友说恒力纺织欠了两个月"})
        db.session.commit()
    page = login(app.test_client(), "supervisor").get("/cases?q=恒力纺织").get_data(as_text=True)
    assert "&lt;b&gt;<mark>恒力纺织</mark>&lt;/b&gt;拖欠工资" in page
    assert "工友说<mark>恒力纺织</mark>欠了两个月" in page


def test_a_ranked_search_pages_through_its_ranking(ctx, users):
    operator = get_user("operator")
    for i in range(5):
        service.register(operator, {"channel": "hotline", "type": "consult", "category": "wages",
                                    "summary": f"拖欠工资{i}", "caller": {"phone": "13812345678"}})
    db.session.commit()
    f = queries.parse_filter({"q": "拖欠工资"})
    first, cursor = queries.list_cases(get_user("supervisor"), f, limit=2)
    second, cursor2 = queries.list_cases(get_user("supervisor"), f, cursor=cursor, limit=2)
    third, cursor3 = queries.list_cases(get_user("supervisor"), f, cursor=cursor2, limit=2)
    seen = [c.case_no for c in first + second + third]
    assert len(seen) == len(set(seen)) == 5 and cursor3 is None
