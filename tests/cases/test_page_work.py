"""What the case pages do once per request or per process instead of once per row (issue 21, province
scale): the same answers, fewer look-ups and statements."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import force_locale
from markupsafe import escape

from conftest import DEFAULT_NOW, get_user, statements
from hotline import clock, phones, templating
from hotline.auth.service import load_session_user, start_session
from hotline.cases import queries, service
from hotline.extensions import db
from hotline.notify import service as notify
from hotline.orgs import service as orgs


def _register(department: str, handler: str | None = None, accept: bool = False):
    case = service.register(get_user("operator"), {
        "channel": "hotline", "type": "consult", "category": "wages", "summary": "欠薪",
        "caller": {"phone": "13812345678"}, "department": department, **({"handler": handler} if handler else {})})
    if accept:
        service.perform(get_user(handler), case, "accept", case.version, {})
    return case


def _second_view(app, client, case_no: str) -> tuple[str, list[str]]:
    """The case page as shown a second time (the first fills what is held between requests), and the
    statements that second view sent."""
    client.get(f"/cases/{case_no}")
    with app.app_context(), statements() as seen:
        page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    return page, seen


def test_both_tab_counts_in_one_statement_equal_each_tabs_count(app, users):
    with app.test_request_context():
        _register("legal_aid", "handler")
        _register("legal_aid", "handler", accept=True)
        _register("legal_aid", "handler_b")
        _register("legal_aid")  # registered only: in neither tab (not dispatched)
        _register("women", "other_handler")
        closed = _register("legal_aid", "handler", accept=True)
        service.perform(get_user("handler"), closed, "reply", closed.version,
                        {"content": "已答复", "method": "phone"})
        db.session.commit()
        for name in ("handler", "handler_b", "other_handler", "operator"):
            actor = get_user(name)
            expected = (queries.handler_queue_count(actor, mine=True), queries.handler_queue_count(actor, mine=False))
            with statements() as seen:
                assert queries.handler_queue_counts(actor) == expected
            assert len(seen) == 1
        assert queries.handler_queue_counts(get_user("handler")) == (2, 4)
        assert queries.handler_queue_counts(get_user("operator")) == (0, 0)  # no department: no second tab


def test_session_user_is_one_statement_with_roles_and_department(app, users):
    with app.test_request_context():
        raw = start_session(get_user("handler"), "127.0.0.1")
        db.session.commit()
        db.session.expunge_all()
        with statements() as seen:
            user = load_session_user(raw)
            assert user is not None and user.username == "handler"
            assert user.roles == {"handler"} and user.department.code == "legal_aid"
        assert len(seen) == 1
        with statements() as seen:  # the organisation came with the session: the visibility rule asks nothing
            assert orgs.by_id(user.org_id) is not None and orgs.by_id(user.org_id).id == user.org_id
        assert seen == []
        assert load_session_user("not-a-session") is None
        assert load_session_user("x" * 101) is None


def test_case_page_reads_the_events_once_without_roles(app, users, login):
    with app.app_context():
        case = _register("legal_aid", "handler", accept=True)
        service.perform(get_user("handler"), case, "note", case.version, {"text": "已联系单位"})
        db.session.commit()
        case_no = case.case_no
    client = login(app.test_client(), "operator")
    page, seen = _second_view(app, client, case_no)
    assert "已联系单位" in page
    assert sum(1 for s in seen if "FROM case_event" in s) == 1
    events_sql = next(s for s in seen if "FROM case_event" in s)
    assert "JOIN department" not in events_sql and "password_hash" not in events_sql  # the actors' names only
    assert not [s for s in seen if s.lstrip().startswith("SELECT user_role")]  # roles come with the session
    # The organisations are read for a case that moved between them only (this one never did).
    assert not [s for s in seen if "FROM organisation" in s]


def test_case_page_probes_the_panels_other_features_add_in_one_statement(app, users, login):
    """Recordings, a group-dispute warning and knowledge-base uses (hotline/cases/panels.py): one statement
    asks whether the case has any; a panel with something still shows it."""
    from hotline.knowledge import service as kb
    from hotline.knowledge.models import Article

    with app.app_context():
        plain = _register("legal_aid", "handler", accept=True)
        used = _register("legal_aid", "handler", accept=True)
        article = db.session.scalars(db.select(Article).where(Article.status == "published")).first()
        kb.record_use(get_user("handler"), article.id, used)
        db.session.commit()
        plain_no, used_no, title = plain.case_no, used.case_no, article.title
    client = login(app.test_client(), "operator")
    page, seen = _second_view(app, client, plain_no)
    asking = [s for s in seen if "telephony_recording" in s or "group_alert" in s or "knowledge_use" in s]
    assert len(asking) == 1, asking
    assert "group_alert_case" in asking[0] and "knowledge_use" in asking[0] and "telephony_recording" in asking[0]
    assert "Answered with the article" not in page and "Recordings" not in page
    with app.app_context(), statements() as seen:
        page = client.get(f"/cases/{used_no}").get_data(as_text=True)
    assert "Answered with the article" in page and title in page
    assert sum(1 for s in seen if s.lstrip().startswith("SELECT knowledge_use.")) == 1  # read: the probe said so
    assert not [s for s in seen if "FROM group_alert JOIN" in s or "FROM telephony_recording JOIN" in s]


def test_case_page_reads_the_case_and_probes_its_panels_in_one_statement(app, users, login):
    """One round trip for the case and its panels: the probe's EXISTS are columns of the case's SELECT."""
    with app.app_context():
        case = _register("legal_aid", "handler", accept=True)
        db.session.commit()
        case_no = case.case_no
    client = login(app.test_client(), "handler")
    page, seen = _second_view(app, client, case_no)
    assert case_no in page
    reads = [s for s in seen if "FROM hotline_case" in s and "WHERE hotline_case.case_no" in s]
    assert len(reads) == 1 and all(t in reads[0] for t in ("knowledge_use", "group_alert_case", "notice"))
    assert not [s for s in seen if "knowledge_use" in s and s not in reads]
    # The handler was told of the dispatch: the same page marks the notice read, as the probe said it may.
    with app.app_context():
        assert notify.unread_count(get_user("handler")) == 0
    # A stranger's request for it finds nothing, and asks no panel of a case it may not see.
    stranger = login(app.test_client(), "other_handler")
    with app.app_context(), statements() as seen:
        assert stranger.get(f"/cases/{case_no}").status_code == 404
    assert not [s for s in seen if "knowledge_use" in s and "FROM hotline_case" not in s]


def test_case_page_names_the_timelines_handlers_from_the_held_list(app, users, login):
    """A handler named in the timeline's changes (dispatched to 王…) comes from the list of handlers held
    between requests; a user who is no longer a handler is still named, read from the database."""
    from hotline.auth.models import UserRole

    with app.app_context():
        case = _register("legal_aid", "handler_b")
        db.session.commit()
        case_no = case.case_no
    client = login(app.test_client(), "operator")
    page, seen = _second_view(app, client, case_no)
    assert "Handler_B" in page
    assert not [s for s in seen if "FROM user_account \nWHERE user_account.username IN" in s]
    with app.app_context():
        db.session.execute(db.delete(UserRole).where(UserRole.user_id == get_user("handler_b").id))
        db.session.commit()
    assert "Handler_B" in client.get(f"/cases/{case_no}").get_data(as_text=True)


def test_the_bell_is_counted_in_the_session_statement_and_again_after_a_notice_is_written(app, users, login):
    with app.app_context():
        operator = get_user("operator")
        case = _register("legal_aid", "handler", accept=True)
        notify.enqueue(operator, "test", "a", "关于本件", case, sms=False)
        notify.enqueue(operator, "test", "b", "关于本件二", case, sms=False)
        db.session.commit()
    client = login(app.test_client(), "operator")
    with app.app_context(), statements() as seen:
        page = client.get("/cases?status=accepted").get_data(as_text=True)
    assert 'aria-label="Notices: 2 unread"' in page
    counting = [s for s in seen if "FROM notice" in s]
    assert len(counting) == 1 and "FROM user_session" in counting[0]
    # A notice written in the request itself is counted: the session's figure is dropped.
    with app.test_request_context():
        raw = start_session(get_user("operator"), "127.0.0.1")
        db.session.commit()
    with app.test_request_context():
        user = load_session_user(raw)
        notify.enqueue(user, "test", "c", "又一条", None, sms=False)
        assert notify.unread_count(user) == 3
        db.session.rollback()


def test_case_page_bell_counts_with_the_read_marking(app, users, login):
    with app.app_context():
        case = _register("legal_aid", "handler", accept=True)
        other = _register("legal_aid", "handler", accept=True)
        operator = get_user("operator")
        notify.enqueue(operator, "test", "a", "关于本件", case, sms=False)
        notify.enqueue(operator, "test", "b", "关于他件", other, sms=False)
        notify.enqueue(operator, "test", "c", "关于他件二", other, sms=False)
        db.session.commit()
        case_no, other_no = case.case_no, other.case_no
    client = login(app.test_client(), "operator")
    bell = 'aria-label="Notices: %d unread"'
    assert bell % 2 in client.get(f"/cases/{case_no}").get_data(as_text=True)  # its own notice read here
    with app.app_context(), statements() as seen:
        page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert bell % 2 in page
    # Nothing unread about this case any more: the panels' probe says so, nothing is marked, and the bell is
    # the session statement's count.
    about_notices = [s for s in seen if "FROM notice" in s and "FROM user_session" not in s]
    assert len(about_notices) == 1 and "telephony_recording" in about_notices[0]
    assert bell % 0 in client.get(f"/cases/{other_no}").get_data(as_text=True)
    assert bell % 0 in client.get(f"/cases/{case_no}").get_data(as_text=True)
    with app.app_context():
        assert notify.unread_count(get_user("operator")) == 0


def test_labels_are_translated_once_per_request_and_follow_the_locale(app):
    with app.test_request_context():
        labels = templating.RequestLabels(templating.STATUS_LABELS)
        assert labels["closed"] == "已办结" and str(labels["closed"]) == str(templating.STATUS_LABELS["closed"])
        assert labels["closed"] is labels["closed"]  # the same object: translated once
        assert escape(labels["closed"]) == escape(templating.STATUS_LABELS["closed"])  # printed as before
        assert list(labels) == list(templating.STATUS_LABELS) and "closed" in labels and labels.get("x") is None
        assert templating.colon("原因") == "原因："
        with force_locale("en"):
            assert labels["closed"] == "Closed" and templating.colon("Reason") == "Reason:"
            assert templating.left_words(None) == ""
        assert labels["closed"] == "已办结" and templating.colon("原因") == "原因："


def test_phone_display_is_the_same_from_the_cache():
    for stored, shown in (("+8613812345678", "13812345678"), ("+8651265230000", "051265230000"),
                          ("+85291234567", "+85291234567"), ("", ""), (None, "")):
        assert phones.display_phone(stored) == shown
        assert phones.display_phone(stored) == shown  # second time from the cache
    before = phones._national.cache_info().hits
    phones.display_phone("+8613812345678")
    assert phones._national.cache_info().hits == before + 1


def test_zone_and_pinned_time_are_kept_and_follow_the_config(app):
    with app.app_context():
        zone = clock.local_tz()
        assert zone is clock.local_tz() and zone.key == app.config["HOTLINE_TIMEZONE"]
        saved = app.config["HOTLINE_TIMEZONE"], app.config.get("HOTLINE_NOW")
        clock.set_now(app, None)
        try:
            app.config["HOTLINE_TIMEZONE"] = "Europe/London"
            app.config["HOTLINE_NOW"] = "2026-11-30T10:00:00+08:00"
            assert clock.local_tz().key == "Europe/London"
            assert clock.now() == datetime(2026, 11, 30, 2, tzinfo=timezone.utc) and clock.now() is clock.now()
            app.config["HOTLINE_NOW"] = "2026-12-01T10:00:00+08:00"
            assert clock.now() == datetime(2026, 12, 1, 2, tzinfo=timezone.utc)
        finally:
            app.config["HOTLINE_TIMEZONE"], app.config["HOTLINE_NOW"] = saved
            clock.set_now(app, DEFAULT_NOW)
        assert clock.local_tz() is zone


def test_a_list_loads_its_handlers_names_only_and_the_rest_when_asked(app, users):
    """The list query joins the handler for the name and reads neither the handler's department nor password
    hash with it; a later question about such a handler (the department) is still answered right."""
    with app.test_request_context():
        _register("legal_aid", "handler")
        db.session.commit()
        db.session.expunge_all()
        with statements() as seen:
            rows, _cursor = queries.list_cases(get_user("supervisor"), queries.parse_filter({}))
        listing = [s for s in seen if "FROM hotline_case" in s]
        assert len(listing) == 1 and "password_hash" not in listing[0]
        assert listing[0].count("JOIN department") == 1  # the case's department, not the handler's too
        handler = rows[0].handler
        assert handler.username == "handler" and handler.department.code == "legal_aid"


def test_the_api_list_answers_as_each_case_answers(app, users):
    """cases_to_dicts shares the zone, the time and the organisations' codes over the list: each item must be
    what case_to_dict says of that case alone."""
    from hotline.cases import present

    with app.test_request_context():
        _register("legal_aid", "handler", accept=True)
        _register("women")
        db.session.commit()
        actor = get_user("supervisor")
        rows, _cursor = queries.list_cases(actor, queries.parse_filter({}))
        assert present.cases_to_dicts(actor, rows) == [present.case_to_dict(actor, c, with_events=False)
                                                       for c in rows]


def test_the_api_case_answer_loads_its_events_actors_by_name_only(app, users, api):
    with app.app_context():
        case = _register("legal_aid", "handler", accept=True)
        db.session.commit()
        case_no = case.case_no
    client = api("operator")
    client.get(f"/cases/{case_no}")
    with app.app_context(), statements() as seen:
        body = client.get(f"/cases/{case_no}").get_json()
    assert [e["actor"] for e in body["events"]] == ["operator", "operator", "handler"]
    assert not [s for s in seen if "FROM user_role" in s]  # no roles of the events' actors
    events_sql = next(s for s in seen if "FROM case_event" in s)
    assert "password_hash" not in events_sql and "JOIN department" not in events_sql


def test_the_timelines_labels_are_translated_through_the_requests_catalogue(app, users, login, request):
    """The timeline's field and text labels (and the colon after them) are translated once per request, not
    looked up in full by Flask-Babel each time they are printed: a case with a dozen entries made ~70 such
    look-ups, a tenth of the page's time."""
    with app.app_context():
        case = _register("legal_aid", "handler", accept=True)
        for text in ("已联系单位", "单位答应月底前付清", "职工确认已收到"):
            service.perform(get_user("handler"), case, "note", case.version, {"text": text})
        db.session.commit()
        case_no = case.case_no
    client = login(app.test_client(), "operator")
    client.get(f"/cases/{case_no}")
    looked_up = request.getfixturevalue("translations_asked")  # from here on: the second view's look-ups
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert page.count("Note:") >= 3 and "Status:" in page and "单位答应月底前付清" in page
    assert len(looked_up) <= 5, looked_up


def test_case_tables_load_a_tables_columns_and_name_types_from_the_held_copies(app, users, login):
    """The list, queue and supervision tables read a third of a case's columns, join neither its type,
    category nor department, and still name all three."""
    with app.app_context():
        _register("legal_aid", "handler", accept=True)
        db.session.commit()
    pages = {"operator": "/cases?status=accepted", "handler": "/cases/queue"}
    for user, path in pages.items():
        client = login(app.test_client(), user)
        client.get(path)
        with app.app_context(), statements() as seen:
            page = client.get(path).get_data(as_text=True)
        # The rows' statement (the queue's carries its tabs' counts as two more columns).
        listing = [s for s in seen if s.lstrip().startswith("SELECT hotline_case.")]
        assert listing, seen
        for sql in listing:
            assert "hotline_case.detail" not in sql and "hotline_case.answer" not in sql
            assert "JOIN case_type" not in sql and "JOIN category" not in sql and "JOIN department" not in sql
        assert "Consultation" in page or "咨询" in page, path
        assert "Wages" in page or "工资" in page, path
        if user == "operator":
            assert "Legal Aid" in page or "法律援助" in page


def test_a_tables_case_still_answers_what_the_table_did_not_load_outside_tests(app, users):
    """In production a column the table did not load is read when asked (a statement), not refused: the
    strict loading is for the tests, to catch a template that starts reading one."""
    import pytest
    from sqlalchemy.exc import InvalidRequestError

    with app.test_request_context():
        _register("legal_aid", "handler")
        db.session.commit()
        db.session.expunge_all()
        actor = get_user("supervisor")
        rows, *_rest = queries.list_page(actor, queries.parse_filter({}), None, 10, 100)
        with pytest.raises(InvalidRequestError):
            rows[0].detail  # noqa: B018  (strict under tests)
        db.session.expunge_all()
        app.testing = False
        try:
            rows, *_rest = queries.list_page(actor, queries.parse_filter({}), None, 10, 100)
            with statements() as seen:
                assert rows[0].detail == "" and rows[0].case_type.code == "consult"
            assert len(seen) == 2
        finally:
            app.testing = True


def test_the_row_cells_are_the_html_the_tables_styles_and_script_expect(app, users):
    """The badges and the running deadline (hotline/cases/cells.py, Python since they were a table's slowest
    macros): their classes and data attributes, the clock's label and the words, and escaped text."""
    from markupsafe import Markup

    from hotline.cases import cells

    with app.test_request_context():
        case = service.register(get_user("operator"), {
            "channel": "hotline", "type": "complaint", "category": "wages", "summary": "<b>欠薪</b>",
            "caller": {"phone": "13812345678"}, "department": "legal_aid", "urgent": True, "confidential": True})
        db.session.commit()
        assert cells.status_badge(case) == Markup('<span class="badge status assigned">已派单</span>')
        assert cells.flag_badges(case) == Markup('<span class="badge urgent">紧急</span> '
                                                 '<span class="badge confidential">保密</span>')
        cell = cells.deadline(case)
        # Urgent: the reply is due today, before the acceptance deadline, so the reply clock runs.
        assert cell == Markup('<span class="deadline due_soon" data-deadline="reply"><span class="clock">答复</span> '
                              '<time datetime="2026-11-30T17:30">周一 11-30 17:30</time> · '
                              '<span class="left">剩7小时</span></span>')
        assert '<span class="clock">' not in cells.deadline(case, with_clock=False)
        assert cells.due_badge("overdue") == Markup('<span class="badge overdue">超期</span>')
        assert cells.due_badge("ok") == ""
        with force_locale("en"):
            assert cells.status_badge(case) == Markup('<span class="badge status assigned">Dispatched</span>')


def test_handler_options_are_escaped_tagged_with_their_department_and_keep_the_choice(app):
    from types import SimpleNamespace

    from markupsafe import Markup

    dept = SimpleNamespace(code="legal_aid", name="法律援助<中心>")
    handlers = [SimpleNamespace(username="h1", display_name="王<b>", department=dept),
                SimpleNamespace(username="h2", display_name="李四", department=None)]
    assert templating.handler_options(handlers, "h2") == Markup(
        '<option value="h1" data-dept="legal_aid">王&lt;b&gt;</option>'
        '<option value="h2" data-dept="" selected>李四</option>')
    assert templating.handler_options(handlers, "", with_department=True) == Markup(
        '<option value="h1" data-dept="legal_aid">王&lt;b&gt; · 法律援助&lt;中心&gt;</option>'
        '<option value="h2" data-dept="">李四</option>')
    # The escaped parts are kept on the (held) rows: another request's choice and variant are its own.
    assert templating.handler_options(handlers, "h1") == Markup(
        '<option value="h1" data-dept="legal_aid" selected>王&lt;b&gt;</option>'
        '<option value="h2" data-dept="">李四</option>')


def test_the_api_list_codes_category_and_department_from_the_held_copies(app, users, api):
    """The API's list joins neither the type, category nor department tables, and each item still says what
    the case's own answer says (its category's and department's codes, the case it was merged into)."""
    with app.app_context():
        _register("legal_aid", "handler", accept=True)
        _register("women")
        db.session.commit()
    client = api("supervisor")
    client.get("/cases?limit=5")
    with app.app_context(), statements() as seen:
        items = client.get("/cases?limit=5").get_json()["items"]
    listing = [s for s in seen if "FROM hotline_case" in s]
    assert len(listing) == 1
    assert "JOIN case_type" not in listing[0] and "JOIN category" not in listing[0]
    assert "JOIN department" not in listing[0]
    assert [(i["category"], i["department"]) for i in items] == [("wages", "women"), ("wages", "legal_aid")]
    for item in items:
        alone = client.get(f"/cases/{item['case_no']}").get_json()
        alone.pop("events")
        assert item == alone


def test_an_answer_codes_a_category_the_held_copy_does_not_know_yet_from_the_case(app, users):
    """A category or department made after this request read the stamp is not in the held copies: the answer
    reads it from the case rather than saying null."""
    from hotline.cases import present

    with app.test_request_context():
        case = _register("legal_aid")
        db.session.commit()
        shared = present._Request()
        shared.category_codes, shared.department_codes = {}, {}  # the held maps are shared: not cleared
        answer = present.case_to_dict(get_user("supervisor"), case, with_events=False, shared=shared)
        assert (answer["category"], answer["department"]) == ("wages", "legal_aid")


def test_a_case_table_states_all_its_rows_at_one_moment(app, users, login, monkeypatch):
    """A queue's deadlines and states are worked out against one moment for the whole table: the clock is
    asked as often for six rows as for two (it was asked three times a row), and every row says the same
    time left for the same deadline."""
    with app.app_context():
        for _ in range(2):
            _register("legal_aid", "handler", accept=True)
        db.session.commit()
    client = login(app.test_client(), "handler")
    asked = []
    real_now = clock.now

    def counting_now():
        asked.append(1)
        return real_now()

    monkeypatch.setattr(clock, "now", counting_now)

    def asked_for_queue():
        client.get("/cases/queue")
        asked.clear()
        page = client.get("/cases/queue").get_data(as_text=True)
        return len(asked), page

    with_two, _ = asked_for_queue()
    with app.app_context():
        for _ in range(4):
            _register("legal_aid", "handler", accept=True)
        db.session.commit()
    with_six, page = asked_for_queue()
    assert with_six == with_two
    lefts = [part.split("</span>")[0] for part in page.split('<span class="left">')[1:]]
    assert len(lefts) >= 6 and len(set(lefts)) == 1, lefts


def test_the_list_filters_are_made_once_per_filters_and_language_and_again_after_a_rename(app, users, login,
                                                                                           monkeypatch):
    """The list's filter form is kept between requests: made once for the same filters, organisation and
    language; made again for other filters, in another language, or once a department is renamed."""
    from hotline.admin import service as admin
    from hotline.cases import views

    made = []
    real = views._filters
    monkeypatch.setattr(views, "_filters", lambda args, *rest: made.append(args["status"]) or real(args, *rest))
    client = login(app.test_client(), "operator")

    def filters(path):
        page = client.get(path).get_data(as_text=True)
        start = page.index('<form method="get"')
        return page[start:page.index("</form>", start)]

    closed = filters("/cases?status=closed&lang=zh_Hans_CN")  # the language stays the session's
    assert filters("/cases?status=closed") == closed and made == ["closed"]
    assert '<option value="closed" selected>' in closed and "更多筛选条件" in closed and "法律援助中心" in closed
    accepted = filters("/cases?status=accepted&q=%3Cb%3E")
    assert made == ["closed", "accepted"]
    assert '<option value="accepted" selected>' in accepted and '<option value="closed" selected>' not in accepted
    assert 'value="&lt;b&gt;"' in accepted and "<b>" not in accepted  # the search box keeps the words, escaped
    english = filters("/cases?status=closed&lang=en")
    assert "More filters" in english and "更多筛选条件" not in english and len(made) == 3
    filters("/cases?status=closed&lang=zh_Hans_CN")
    assert len(made) == 3  # the Chinese form was kept
    with app.app_context():
        admin.update_department("legal_aid", "法律援助站", True)
        db.session.commit()
    renamed = filters("/cases?status=closed")
    assert "法律援助站" in renamed and "法律援助中心" not in renamed and len(made) == 4
    # A filter in error is shown with its message, and never kept.
    for _ in range(2):
        page = client.get("/cases?status=closed&from=2026-13-45")
        assert page.status_code == 422 and 'aria-invalid="true"' in page.get_data(as_text=True)
    assert len(made) == 6


def test_a_requests_last_commit_expires_nothing_and_later_commits_still_do(app, users, login):
    """The commit that ends a request leaves the objects it read loaded (a list page's fifty cases: nothing
    reads them after it); a commit outside a request, after it, expires them as before."""
    from sqlalchemy import event, select

    from hotline.cases.models import Case

    with app.app_context():
        _register("legal_aid", "handler", accept=True)
        db.session.commit()
    client = login(app.test_client(), "operator")
    expired = []

    def note(target, attrs):
        expired.append(target)

    event.listen(Case, "expire", note)
    try:
        with app.app_context():
            assert "20261130-0001" in client.get("/cases?status=accepted").get_data(as_text=True)
            assert expired == []
            case = db.session.scalars(select(Case)).one()
            db.session.commit()
            assert expired == [case]
    finally:
        event.remove(Case, "expire", note)


def test_a_tables_reading_rule_asks_the_actors_roles_once_not_once_a_row(app, users, login, monkeypatch):
    """Whether each row shows its caller is decided by access.private_reader: the actor's roles, department
    and organisations are looked at once per table or list answer, however many rows it has."""
    from hotline.auth.models import User

    asked = []
    real = User.has_role
    monkeypatch.setattr(User, "has_role", lambda self, *roles: asked.append(roles) or real(self, *roles))
    client = login(app.test_client(), "operator")
    counts = []
    for more in (1, 5):
        with app.app_context():
            for _ in range(more):
                _register("legal_aid", "handler", accept=True)
            db.session.commit()
        client.get("/cases?status=accepted")
        asked.clear()
        page = client.get("/cases?status=accepted").get_data(as_text=True)
        assert page.count('<tr class="') == (1 if more == 1 else 6)
        assert phones.display_phone("+8613812345678") in page  # an operator reads ordinary callers
        counts.append(len(asked))
    assert counts[0] == counts[1], counts


def test_a_tables_handlers_are_named_from_the_held_list_and_a_former_handler_from_the_database(app, users, login):
    """The list, queue and supervision tables name each case's handler from the held handlers, without joining
    the handler to every case; a handler who has lost the role since is still named, read by id."""
    from hotline.auth.models import UserRole

    with app.app_context():
        _register("legal_aid", "handler", accept=True)
        db.session.commit()
        name = get_user("handler").display_name
    client = login(app.test_client(), "operator")
    client.get("/cases?status=accepted")
    with app.app_context(), statements() as seen:
        page = client.get("/cases?status=accepted").get_data(as_text=True)
    listing = [s for s in seen if "FROM hotline_case" in s and "count(" not in s.lower()]
    assert listing and not [s for s in listing if "user_account" in s], listing
    assert not [s for s in seen if "FROM user_account" in s and "user_session" not in s], seen
    assert f'data-label="Handler">{escape(name)}</td>' in page
    with app.app_context():
        db.session.execute(db.delete(UserRole).where(UserRole.user_id == get_user("handler").id))
        db.session.commit()
    assert f'data-label="Handler">{escape(name)}</td>' in client.get("/cases?status=accepted").get_data(as_text=True)


def test_the_menu_is_made_once_per_roles_and_language_and_shows_each_role_its_links(app, users, login, monkeypatch):
    made = []
    real = templating.render_part
    monkeypatch.setattr(templating, "render_part", lambda name, **kw: made.append(name) or real(name, **kw))
    app.extensions.pop("hotline.main_nav", None)  # menus an earlier test's pages made with this app

    def menu(client, path="/cases/followup"):
        page = client.get(path).get_data(as_text=True)
        start = page.index('<nav aria-label=')
        return page[start:page.index("</nav>", start)]

    operator = login(app.test_client(), "operator")
    first = menu(operator, "/cases/followup?lang=zh_Hans_CN")
    assert menu(operator) == first and made.count("_nav.html") == 1
    assert 'href="/cases/new"' in first and "/cases/queue" not in first and "/admin" not in first
    assert "来电登记" in first
    english = menu(operator, "/cases/followup?lang=en")
    assert "Log a call" in english and made.count("_nav.html") == 2
    handler = login(app.test_client(), "handler")
    queue = menu(handler, "/cases/queue?lang=zh_Hans_CN")
    assert 'href="/cases/queue"' in queue and 'href="/cases/new"' not in queue and made.count("_nav.html") == 3
    # A role given later shows its link at the next page: the menu follows the roles, not the person.
    from hotline.auth.models import UserRole

    with app.app_context():
        db.session.add(UserRole(user_id=get_user("handler").id, role="operator"))
        db.session.commit()
    both = menu(handler)
    assert 'href="/cases/queue"' in both and 'href="/cases/new"' in both and made.count("_nav.html") == 4
    assert menu(operator) == english  # the operator's menus are still kept
