"""Chinese free-text search: the index path (three or more characters) and the short-query path agree."""
from __future__ import annotations

import pytest

from conftest import get_user
from hotline import search as text_search
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


# ---------------------------------------------------------------- issue 21: two-character words at any size

TWO_CHAR_TEXTS = [
    "尘肺", "患尘肺病", "x尘肺", "xy尘肺", "尘 肺", "尘\n肺", "肺尘", "😀尘肺😀", "ab尘肺cd", "尘肺尘肺",
    "一个很长的摘要，其中在奇数位置出现尘肺", "一个很长的摘要，其中在偶数位置出现了尘肺", "尘", "", "e\u0301尘肺",
]


def test_the_pairs_index_holds_every_two_character_substring(ctx, users, backend_name):
    """hotline_bigrams (migration e5f1a2b3c4d6) must list every pair of adjacent characters, at even and odd
    offsets, beside emoji, line breaks and combining marks: a pair it missed would be a case the search cannot
    find once the planner takes the index."""
    if backend_name != "postgresql":
        pytest.skip("the pairs index is PostgreSQL's")
    from sqlalchemy import text

    for value in TWO_CHAR_TEXTS:
        pairs = set(db.session.scalar(text("SELECT hotline_bigrams(:v)"), {"v": value}))
        expected = {value[i:i + 2] for i in range(len(value) - 1)}
        assert expected <= pairs, value
        assert ("尘肺" in pairs) == ("尘肺" in value)


def test_the_pairs_index_tags_each_pair_with_the_era_of_the_cases_id(ctx, users, backend_name):
    """hotline_era_bigrams (migration a7c9e1b3d5f7) gives the same pairs as hotline_bigrams, each as `pair#era`
    with the era the search asks for (hotline/search.py era_of): a case tagged with another era than the one the
    search computes would never be found through the index."""
    if backend_name != "postgresql":
        pytest.skip("the pairs index is PostgreSQL's")
    from sqlalchemy import text

    era = 1 << text_search.ERA_BITS
    for case_id in (1, era - 1, era, 3 * era + 5, 10_000_000, 2**31 - 1):
        for value in TWO_CHAR_TEXTS:
            tagged = db.session.scalar(text("SELECT hotline_era_bigrams(:v, :id)"), {"v": value, "id": case_id})
            plain = db.session.scalar(text("SELECT hotline_bigrams(:v)"), {"v": value})
            assert sorted(tagged) == sorted(f"{pair}#{text_search.era_of(case_id)}" for pair in plain), (value, case_id)
    assert text_search.era_of(era - 1) == 0 and text_search.era_of(era) == 1


def _registered_across_eras(summaries_by_era: dict[int, list[str]]):
    """Cases registered with ids in the given eras (the id sequence moved to each era's start), oldest first."""
    from sqlalchemy import text

    operator = get_user("operator")
    made = []
    for era, summaries in sorted(summaries_by_era.items()):
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('hotline_case', 'id'), :at)"),
                           {"at": max(era << text_search.ERA_BITS, db.session.scalar(text(
                               "SELECT max(id) FROM hotline_case")) or 1)})
        made += [service.register(operator, {"channel": "hotline", "type": "consult", "category": "wages",
                                             "summary": s, "caller": {"phone": "13812345678"}}) for s in summaries]
    db.session.commit()
    return made


def test_a_rare_two_character_word_is_asked_of_the_newest_eras_first(ctx, users, backend_name, monkeypatch):
    """Through the pairs' index, the newest eras that should hold enough matches are asked first, and the older
    ones only when they did not: at ten million cases, asking every era at once read a heap page for each of
    尘肺's 15,000 matches (p99 above 100 ms) to keep the newest 1,580. Whichever eras answer, the search gives
    the newest matches; and a count or an export (every era) finds them all."""
    if backend_name != "postgresql":
        pytest.skip("the pairs index is PostgreSQL's")
    from sqlalchemy import text

    from conftest import statements

    era = db.session.scalar(text("SELECT max(id) FROM hotline_case")) or 0
    first = text_search.era_of(era) + 1
    made = _registered_across_eras({first: ["尘肺甲", "无关"], first + 1: ["尘肺乙"],
                                    first + 3: ["尘肺丙", "尘肺丁", "无关"]})
    newest = [c.case_no for c in reversed(made) if "尘肺" in c.summary]
    assert [text_search.era_of(c.id) for c in made] == [first, first, first + 1, first + 3, first + 3, first + 3]
    monkeypatch.setattr(queries, "RECENT_WALK", 1)  # the newest case is walked; the rest through the pairs
    monkeypatch.setattr(queries, "PAIRS_ROW_COST", 0)
    supervisor = get_user("supervisor")
    f = queries.parse_filter({"q": "尘肺"})
    for candidates, probes in ((1, 1), (3, 2), (4, 2)):
        # 1: the newest era holds the two ids wanted; 3 and 4: it does not, and the older eras are asked.
        monkeypatch.setattr("hotline.search.CANDIDATES", candidates)
        with statements() as seen:
            rows, _cursor, total = queries._ranked_with_total(supervisor, f, queries.build_query(supervisor, f),
                                                              None, 50)
        assert total == candidates and sorted(c.case_no for c in rows) == sorted(newest[:candidates])
        assert sum("pair_ids AS" in sql for sql in seen) == probes, candidates
        db.session.commit()
    db.session.execute(text("ANALYZE hotline_case"))
    for setting in ("enable_seqscan", "enable_indexscan"):
        db.session.execute(text(f"SET LOCAL {setting} = off"))  # the planner takes the index for all eras
    monkeypatch.setattr("hotline.search.CANDIDATES", 100)
    assert queries.count_cases(supervisor, f) == 4
    assert sorted(numbers("supervisor", "尘肺")) == sorted(newest)


def test_a_rare_two_character_word_is_found_through_the_pairs_index(ctx, users, backend_name):
    """At ten million cases 尘肺 walked some 270,000 rows (no trigram in two characters); the search now has an
    index for it. The planner is made to do without walks and full scans: the plan must name the index."""
    if backend_name != "postgresql":
        pytest.skip("the pairs index is PostgreSQL's")
    from sqlalchemy import text

    operator = get_user("operator")
    made = {}
    for key, extra in {"summary": {"summary": "尘肺病职业病认定"},
                       "detail": {"summary": "咨询职业病", "detail": "工友查出尘肺"},
                       "name": {"summary": "咨询工伤", "caller": {"phone": "13812345678", "name": "尘肺"}},
                       "apart": {"summary": "尘土和肺部问题"}}.items():
        body = {"channel": "hotline", "type": "consult", "category": "wages", "caller": {"phone": "13812345678"},
                **extra}
        made[key] = service.register(operator, body).case_no
    db.session.commit()
    db.session.execute(text("ANALYZE hotline_case"))
    for setting in ("enable_seqscan", "enable_indexscan"):
        db.session.execute(text(f"SET LOCAL {setting} = off"))
    assert sorted(numbers("supervisor", "尘肺")) == sorted([made["summary"], made["detail"], made["name"]])
    assert numbers("producer", "尘肺") == [made["summary"]]  # neither callers' names nor details
    stmt = queries.build_query(get_user("supervisor"), queries.parse_filter({"q": "尘肺"}))
    compiled = stmt.with_only_columns(queries.Case.id).compile(db.session.get_bind(),
                                                               compile_kwargs={"literal_binds": True})
    plan = "\n".join(db.session.scalars(text(f"EXPLAIN {compiled}")))
    assert text_search.BIGRAM_INDEX in plan and text_search.NAME_BIGRAM_INDEX in plan, plan


def test_the_pairs_index_serves_a_two_character_word_even_under_a_generic_plan(ctx, users, backend_name):
    """A prepared search whose plan-cache setting did not hold is planned once for any value: its name condition
    must still be the name index's own expression. With the empty string bound, the generic plan could not use
    the index and read every case's pairs (a benchmark at ten million cases waited minutes for one search)."""
    if backend_name != "postgresql":
        pytest.skip("the pairs index is PostgreSQL's")
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    db.session.execute(text("ANALYZE hotline_case"))
    probe = queries.build_query(get_user("supervisor"), queries.parse_filter({"q": "尘肺"}), pairs_only=True)
    compiled = probe.with_only_columns(queries.Case.id).compile(dialect=postgresql.dialect(paramstyle="numeric_dollar"))
    sql = str(compiled)  # $1, $2 … as psycopg sends a prepared statement
    db.session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    for setting in ("enable_seqscan", "enable_indexscan"):
        db.session.execute(text(f"SET LOCAL {setting} = off"))
    db.session.execute(text(f"PREPARE pairs_probe AS {sql}"))
    try:
        values = ", ".join("ARRAY[" + ", ".join(f"'{v}'" for v in value) + "]::text[]" if isinstance(value, list)
                           else f"'{value}'" for value in (compiled.params[name] for name in compiled.positiontup))
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN EXECUTE pairs_probe({values})")))
    finally:
        db.session.execute(text("DEALLOCATE pairs_probe"))
    assert text_search.NAME_BIGRAM_INDEX in plan and "Seq Scan" not in plan, plan


def test_a_two_character_search_finds_the_same_newest_matches_across_the_recent_walk(ctx, users, monkeypatch):
    """PostgreSQL walks the newest RECENT_WALK cases first, then the older ones through the pairs' index: the
    candidates must be the newest matches whatever side of that line they fall on."""
    operator = get_user("operator")
    summaries = ["尘肺一", "无关", "尘肺二", "无关", "无关", "尘肺三", "尘肺四", "无关", "尘肺五"]
    made = [service.register(operator, {"channel": "hotline", "type": "consult", "category": "wages",
                                        "summary": s, "caller": {"phone": "13812345678"}}) for s in summaries]
    db.session.commit()
    matching = [c.summary for c in reversed(made) if "尘肺" in c.summary]
    monkeypatch.setattr("hotline.search.CANDIDATES", 3)
    for recent in (1, 3, 4, 100):
        for cost in (0, 10**9):  # the older cases through the pairs' index, or walked on
            monkeypatch.setattr(queries, "RECENT_WALK", recent)
            monkeypatch.setattr(queries, "PAIRS_ROW_COST", cost)
            rows, _cursor, total = queries._ranked_with_total(
                get_user("supervisor"), queries.parse_filter({"q": "尘肺"}),
                queries.build_query(get_user("supervisor"), queries.parse_filter({"q": "尘肺"})), None, 50)
            assert total == 3 and sorted(c.summary for c in rows) == sorted(matching[:3]), (recent, cost)


def test_a_gap_in_the_newest_ids_does_not_make_a_common_word_look_rare(ctx, users, backend_name, monkeypatch):
    """The recent walk is the newest RECENT_WALK cases, however sparse their ids. Counted as the ids within
    RECENT_WALK of the newest, a gap there (registrations rolled back, cases removed) left few cases to walk,
    a common word looked rare, and all its older matches were read through the pairs' index: at ten million
    cases a search for 工伤 ran 79 s after a benchmark had removed the cases it registered."""
    if backend_name != "postgresql":
        pytest.skip("the recent walk and the pairs' index are PostgreSQL's")
    operator = get_user("operator")

    def register(summary):
        return service.register(operator, {"channel": "hotline", "type": "consult", "category": "wages",
                                           "summary": summary, "caller": {"phone": "13812345678"}})

    made = [register(f"工伤认定{i}") for i in range(8)]
    db.session.commit()
    for _ in range(3):
        register("无关")
    db.session.rollback()  # registrations that did not stand: their ids are gone
    last = register("无关")
    db.session.commit()
    through_pairs = []
    real = queries._older_through_pairs
    monkeypatch.setattr(queries, "_older_through_pairs", lambda *a, **k: through_pairs.append(1) or real(*a, **k))
    monkeypatch.setattr("hotline.search.CANDIDATES", 6)
    monkeypatch.setattr(queries, "RECENT_WALK", 4)
    f = queries.parse_filter({"q": "工伤"})
    rows, _cursor, total = queries._ranked_with_total(get_user("supervisor"), f,
                                                      queries.build_query(get_user("supervisor"), f), None, 50)
    assert total == 6 and sorted(c.case_no for c in rows) == sorted(c.case_no for c in made[-6:])
    assert through_pairs == []  # three of the four newest cases hold the word: it is walked, not looked up
    assert last.case_no not in [c.case_no for c in rows]


def test_older_matches_through_the_pairs_index_when_newer_index_matches_fail_another_word(ctx, users, monkeypatch):
    """Through the pairs' index the newest ids come first and only they are tested in full; when another word
    refuses more of them than the margin, the full query over every index match must still find the older ones."""
    operator = get_user("operator")
    summaries = ["尘肺职业病一", "尘肺职业病二", "尘肺职业病三"] + ["尘肺咨询"] * 8 + ["无关"]
    made = [service.register(operator, {"channel": "hotline", "type": "consult", "category": "wages",
                                        "summary": s, "caller": {"phone": "13812345678"}}) for s in summaries]
    db.session.commit()
    monkeypatch.setattr("hotline.search.CANDIDATES", 3)
    monkeypatch.setattr(queries, "RECENT_WALK", 1)
    monkeypatch.setattr(queries, "PAIRS_ROW_COST", 0)
    for q in ("尘肺 职业病", "尘肺"):
        f = queries.parse_filter({"q": q})
        rows, _cursor, total = queries._ranked_with_total(get_user("supervisor"), f,
                                                          queries.build_query(get_user("supervisor"), f), None, 50)
        expected = [c.case_no for c in reversed(made) if all(w in c.summary for w in q.split())][:3]
        assert total == 3 and sorted(c.case_no for c in rows) == sorted(expected), q


def test_a_search_sets_its_planner_settings_once_per_transaction(ctx, users, backend_name, monkeypatch):
    """A two-character word builds its query three times (the walk, the pairs' ids, the full test); the planner
    settings were a round trip each time. Once per transaction, and again in the next one."""
    if backend_name != "postgresql":
        pytest.skip("PostgreSQL's planner settings")
    from sqlalchemy import event, text

    operator = get_user("operator")
    for s in ["尘肺一", "无关", "尘肺二"]:
        service.register(operator, {"channel": "hotline", "type": "consult", "category": "wages", "summary": s,
                                    "caller": {"phone": "13812345678"}})
    db.session.commit()
    monkeypatch.setattr(queries, "RECENT_WALK", 1)
    monkeypatch.setattr(queries, "PAIRS_ROW_COST", 0)
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(2):
            assert sorted(numbers("supervisor", "尘肺")) == sorted(numbers("supervisor", "尘肺"))
            assert db.session.scalar(text("SELECT current_setting('plan_cache_mode')")) == "force_custom_plan"
            db.session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert sum("plan_cache_mode" in s and "set_config" in s for s in statements) == 2, statements
