"""The 《职工之声》 digest: built once per date by the scheduler, filled by priority to the slot, anonymised,
edited with kept and comparable versions, guarded by a version, and pulled in every format."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from conftest import csrf_from, get_user, local
from hotline.cases import service as cases
from hotline.digest import builder, service, settings as digest_settings
from hotline.digest.models import ContentItem, Digest, DigestRevision
from hotline.extensions import db
from hotline.jobs import run_job
from hotline.radio import schedule

DAY = date(2026, 11, 30)  # Monday; the conftest clock stands at 10:00 that day


def item(section="union_news", title="工会动态", body="市总工会召开会议。", priority=3, days=(-1, 5), active=True):
    row = ContentItem(section=section, title=title, body=body, source="市总办公室", priority=priority,
                      valid_from=DAY + timedelta(days=days[0]),
                      valid_to=DAY + timedelta(days=days[1]) if days[1] is not None else None, active=active,
                      created_at=local(2026, 11, 29, 9, 0), updated_at=local(2026, 11, 29, 9, 0), version=1)
    db.session.add(row)
    db.session.flush()
    return row


def closed_case(summary="公司拖欠工资三个月，怎么办", answer="可以向劳动保障监察部门投诉，也可申请仲裁。",
                broadcast_ok=True, confidential=False, **caller):
    caller = {"phone": "13812345678", "name": "王建国", **caller}
    return cases.register(get_user("operator"), {
        "channel": "hotline", "type": "consult", "category": "wages", "summary": summary, "caller": caller,
        "broadcast_ok": broadcast_ok, "confidential": confidential, "resolved_on_call": True, "answer": answer})


@pytest.fixture
def programmes(app):
    with app.app_context():
        schedule.ensure_defaults()
        db.session.commit()


@pytest.fixture
def producer(app, users, login, programmes):
    return login(app.test_client(), "producer")


def sections(digest):
    return [i["section"] for i in service.revision(digest).items]


# ---------------------------------------------------------------- reading time and filling

def test_reading_time_is_counted_at_the_configured_rate():
    assert builder.chars("各位 听众，\n大家好！") == 9
    assert builder.seconds_for(250, 250) == 60
    assert builder.seconds_for(251, 250) == 61
    assert builder.seconds_for(0, 250) == 0
    assert builder.mmss(900) == "15:00" and builder.mmss(-75) == "-1:15"


def test_the_slot_is_about_3300_characters_of_content_after_intro_and_outro(ctx, programmes):
    settings = digest_settings.get()
    slot, _programme = service._slot()
    assert (slot.slot_seconds, slot.rate, slot.reserve_seconds) == (900, 250, 45)
    intro, outro = builder.fixed_items(settings, DAY)
    budget = slot.reading_chars - builder.chars(intro["text"]) - builder.chars(outro["text"])
    assert 3200 <= budget <= 3400


def test_build_fills_by_priority_and_lists_what_it_left_out(ctx, users, programmes):
    long_text = "职工" * 600  # 1,200 characters: about 4:48 each
    first = item(title="头条", body=long_text, priority=1)
    item(section="policy", title="政策一", body=long_text, priority=2)
    item(section="jobs", title="招聘会", body=long_text, priority=4)
    small = item(title="短讯", body="市总工会召开会议。" * 10, priority=5)
    item(title="过期", days=(-10, -1))
    item(title="未到", days=(1, 5))
    item(title="停用", active=False)
    db.session.commit()
    digest, built = service.build(DAY, None)
    db.session.commit()
    assert built
    v = service.view(digest)
    titles = [i["title"] for i in v["items"]]
    assert titles[0] == "开场" and titles[-1] == "结束语"
    assert "头条" in titles and "政策一" in titles and "短讯" in titles  # the small one still fits
    assert "招聘会" not in titles and "过期" not in titles and "未到" not in titles and "停用" not in titles
    assert [(i["title"], i["reason"]) for i in v["left_out"]] == [("招聘会", "over_slot")]
    assert v["left_out"][0]["over_seconds"] > 0
    assert v["total_seconds"] <= v["slot_seconds"] == 900
    assert sections(digest) == ["intro", "union_news", "union_news", "policy", "figures", "outro"]
    assert v["items"][1]["heading"] == "工会动态" and v["items"][2]["heading"] == ""
    assert v["items"][1]["key"] == f"item:{first.id}"
    assert [i["key"] for i in v["items"]].index(f"item:{small.id}") == 2


def test_figures_say_what_the_hotline_did_today(ctx, users, programmes, clock):
    closed_case()
    cases.register(get_user("operator"), {"type": "consult", "category": "wages", "summary": "咨询",
                                          "caller": {"phone": "13900000000"}})
    db.session.commit()
    clock.set(local(2026, 11, 30, 16, 30))
    digest, _ = service.build(DAY, None)
    figures = next(i for i in service.revision(digest).items if i["section"] == "figures")
    assert figures["text"] == ("截至今天16时30分，12351职工服务热线今天共受理职工诉求2件，办结1件，"
                               "其中按时办结1件，按时办结率100%。")


def test_hotline_qa_comes_from_closed_cleared_cases_anonymised(ctx, users, programmes):
    closed_case(summary="我叫王建国，在苏州恒力纺织有限公司上班，手机13812345678，老板拖欠工资",
                answer="王建国你好，可以先找恒力纺织协商，不行就申请仲裁。",
                employer="苏州恒力纺织有限公司")
    closed_case(summary="保密的问题", broadcast_ok=False, confidential=True)
    closed_case(summary="不同意播出的问题", broadcast_ok=False)
    open_case = cases.register(get_user("operator"), {
        "type": "consult", "category": "wages", "summary": "还没办结的问题", "broadcast_ok": True,
        "caller": {"phone": "13900000000"}})
    db.session.commit()
    digest, _ = service.build(DAY, None)
    qa = [i for i in service.revision(digest).items if i["section"] == "qa"]
    assert len(qa) == 1
    text = qa[0]["text"]
    # read as it is: no self-introduction, no number, no mask; a question ends in ？
    assert text == ("有职工打进12351热线问：在某纺织企业上班，老板拖欠工资，该怎么办？\n"
                    "答：可以先找某纺织企业协商，不行就申请仲裁。")
    blob = str(service.revision(digest).items) + str(service.revision(digest).left_out)
    for secret in ("王建国", "13812345678", "恒力", "保密的问题", "不同意播出", open_case.summary):
        assert secret not in blob


def test_a_case_read_in_an_approved_digest_is_not_repeated(ctx, users, programmes, clock):
    closed_case()
    db.session.commit()
    first, _ = service.build(DAY, None)
    service.approve(first, get_user("producer"), first.version)
    db.session.commit()
    clock.set(local(2026, 12, 1, 16, 30))
    second, _ = service.build(DAY + timedelta(days=1), None)
    assert "qa" in sections(first) and "qa" not in sections(second)


def test_employer_cleared_by_the_producer_is_named(ctx, users, programmes):
    closed_case(summary="恒力纺织拖欠工资", employer="苏州恒力纺织有限公司")
    db.session.commit()
    digest, _ = service.build(DAY, None)
    key = next(i["key"] for i in service.revision(digest).items if i["section"] == "qa")
    assert "恒力" not in service.revision(digest).items[1]["text"]
    service.clear_employer(digest, get_user("producer"), digest.version, key, True, "单位同意")
    db.session.commit()
    qa = next(i for i in service.revision(digest).items if i["section"] == "qa")
    assert qa["text"].startswith("有职工打进12351热线问：恒力纺织拖欠工资，该怎么办？")
    assert "王建国" not in qa["text"]


# ---------------------------------------------------------------- once per date, the scheduler

def test_build_is_idempotent_per_date(ctx, users, programmes):
    assert run_job("digest", day=DAY) == {"date": "2026-11-30", "built": 1, "version": 1, "status": "draft"}
    assert run_job("digest", day=DAY)["built"] == 0
    digest, built = service.build(DAY, get_user("producer"))
    assert not built
    assert db.session.scalar(select(func.count()).select_from(Digest)) == 1
    assert db.session.scalar(select(func.count()).select_from(DigestRevision)) == 1


def test_a_second_scheduler_holding_the_lock_makes_the_run_a_no_op(ctx, users, programmes):
    from hotline import jobs

    with jobs.run_lock("digest") as got:
        assert got
        assert run_job("digest", day=DAY) is None
    assert db.session.scalar(select(func.count()).select_from(Digest)) == 0


def test_the_scheduler_builds_at_the_build_time_once(ctx, users, programmes, clock):
    clock.set(local(2026, 11, 30, 16, 29))
    assert run_job("digest") == {"built": 0, "skipped": "before_build_time"}
    clock.set(local(2026, 11, 30, 16, 30))
    assert run_job("digest") == {"built": 1}
    clock.set(local(2026, 11, 30, 16, 31))
    assert run_job("digest") == {"built": 0}
    assert service.get_digest(DAY).built_by_id is None


def test_a_build_missed_while_down_is_caught_up_until_the_slot_has_passed(ctx, users, programmes, clock):
    clock.set(local(2026, 11, 30, 17, 50))  # the server came back during the slot
    assert run_job("digest") == {"built": 1}
    clock.set(local(2026, 12, 1, 18, 0))  # the next day it came back only after the slot
    assert run_job("digest") == {"built": 0, "skipped": "slot_passed"}
    assert service.get_digest(DAY + timedelta(days=1)) is None


def test_the_build_time_is_a_setting(ctx, users, programmes, clock):
    settings = digest_settings.get()
    form = {k: str(getattr(settings, k)) for k in digest_settings.DEFAULTS}
    digest_settings.update(get_user("producer"), {**form, "build_at": "15:00", "version": settings.version})
    db.session.commit()
    clock.set(local(2026, 11, 30, 15, 1))
    assert run_job("digest") == {"built": 1}


def test_no_build_on_a_day_the_programme_does_not_air(ctx, users, programmes, clock):
    prog = schedule.programme_of_kind("digest")
    prog.weekdays = "12345"
    db.session.commit()
    clock.set(local(2026, 12, 5, 16, 40))  # Saturday
    assert run_job("digest") == {"built": 0, "skipped": "no_programme_today"}


def test_the_scheduler_has_the_digest_job(app):
    from hotline.jobs import build_scheduler

    scheduler = build_scheduler(app)
    assert scheduler.get_job("digest") is not None


def test_cli_run_job_digest_with_a_date(app, users, programmes):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hotline", "run-job", "digest", "--date", "2026-12-24"])
    assert result.exit_code == 0, result.output
    assert "built 1" in result.output
    result = runner.invoke(args=["hotline", "run-job", "digest", "--date", "2026-12-24"])
    assert "built 0" in result.output
    result = runner.invoke(args=["hotline", "run-job", "digest", "--date", "24.12.2026"])
    assert result.exit_code == 2
    result = runner.invoke(args=["hotline", "run-job", "overdue", "--date", "2026-12-24"])
    assert result.exit_code == 2


# ---------------------------------------------------------------- the producer's editor

def _built(app):
    with app.app_context():
        item(title="头条", body="市总工会全面启动集体合同质量年活动。", priority=1)
        item(title="次条", body="太仓市总工会今年实施六项工程。", priority=2)
        digest, _ = service.build(DAY, None)
        db.session.commit()


def _approve(app):
    with app.app_context():
        digest = service.get_digest(DAY)
        service.approve(digest, get_user("producer"), digest.version)
        db.session.commit()


def _page(client, path="/digest/2026-11-30"):
    resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    html = resp.get_data(as_text=True)
    return html, csrf_from(html)


def _version(app):
    with app.app_context():
        return service.get_digest(DAY).version


def _items(app):
    with app.app_context():
        return service.revision(service.get_digest(DAY)).items


def test_edit_reorder_drop_add_restore_each_make_a_kept_version(app, producer):
    _built(app)
    html, token = _page(producer)
    assert "头条" in html and "0:22" in html  # running time in the margin
    items = _items(app)
    head = next(i for i in items if i["title"] == "头条")
    post = lambda path, **data: producer.post(f"/digest/2026-11-30/{path}",
                                              data={"csrf_token": token, "version": _version(app), **data})
    assert post("items/edit", key=head["key"], title="头条新闻", text="市总工会今天启动集体合同质量年。").status_code == 302
    assert post("items/move", key=head["key"], direction="down").status_code == 302
    assert [i["title"] for i in _items(app) if i["section"] == "union_news"] == ["次条", "头条新闻"]
    assert post("items/drop", key=head["key"]).status_code == 302
    assert "头条新闻" not in [i["title"] for i in _items(app)]
    assert post("items/add", section="jobs", title="招聘会", text="3月6日举办女性招聘专场。", source="女工部").status_code == 302
    assert post("items/restore", key=head["key"]).status_code == 302
    with app.app_context():
        digest = service.get_digest(DAY)
        assert digest.revision_no == 6
        kinds = [r.kind for r in service.revisions(digest)]
        assert kinds == ["restore", "add", "drop", "move", "edit", "build"]
        assert service.revision(digest, 1).items[1]["title"] == "头条"  # the first version is kept as it was
        titles = [i["title"] for i in service.revision(digest).items]
        assert titles.index("招聘会") > titles.index("头条新闻")
    html = producer.get("/digest/2026-11-30/compare?a=1&b=2").get_data(as_text=True)
    assert "<del>" in html and "<ins>" in html and "头条新闻" in html
    assert producer.get("/digest/2026-11-30/versions").status_code == 200


def test_two_producers_editing_at_once_get_409_and_nothing_is_overwritten(app, producer, login):
    _built(app)
    other = login(app.test_client(), "producer")
    _html, token = _page(producer)
    _html2, token2 = _page(other)
    version = _version(app)
    key = _items(app)[1]["key"]
    first = producer.post("/digest/2026-11-30/items/edit",
                          data={"csrf_token": token, "version": version, "key": key, "title": "", "text": "甲的稿子。"})
    assert first.status_code == 302
    second = other.post("/digest/2026-11-30/items/edit",
                        data={"csrf_token": token2, "version": version, "key": key, "title": "", "text": "乙的稿子。"})
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "changed meanwhile" in page and "乙的稿子。" in page  # the refused text is kept on the page
    assert _items(app)[1]["text"] == "甲的稿子。"
    assert _version(app) == version + 1


def test_an_empty_text_is_refused_with_422_and_nothing_saved(app, producer):
    _built(app)
    _html, token = _page(producer)
    key = _items(app)[1]["key"]
    resp = producer.post("/digest/2026-11-30/items/edit",
                         data={"csrf_token": token, "version": _version(app), "key": key, "text": "  "})
    assert resp.status_code == 422
    with app.app_context():
        assert service.get_digest(DAY).revision_no == 1


def test_a_producer_cannot_paste_a_callers_number_into_a_hotline_answer(ctx, users, programmes):
    closed_case()
    db.session.commit()
    digest, _ = service.build(DAY, None)
    key = next(i["key"] for i in service.revision(digest).items if i["section"] == "qa")
    service.edit_item(digest, get_user("producer"), digest.version, key, "",
                      "问：王建国问欠薪怎么办？请回电13812345678。答：可申请仲裁。")
    db.session.commit()
    text = next(i for i in service.revision(digest).items if i["section"] == "qa")["text"]
    assert text == "问：一位王姓职工问欠薪怎么办？请回电。答：可申请仲裁。"


def test_rebuild_is_explicit_and_keeps_the_edited_version(app, producer):
    _built(app)
    _html, token = _page(producer)
    key = _items(app)[1]["key"]
    producer.post("/digest/2026-11-30/items/edit",
                  data={"csrf_token": token, "version": _version(app), "key": key, "title": "", "text": "编辑过的稿子。"})
    assert producer.post("/digest/build", data={"csrf_token": token, "date": "2026-11-30"}).status_code == 302
    assert _items(app)[1]["text"] == "编辑过的稿子。"  # building again does not touch it
    assert producer.post("/digest/2026-11-30/rebuild",
                         data={"csrf_token": token, "version": _version(app)}).status_code == 302
    with app.app_context():
        digest = service.get_digest(DAY)
        assert digest.revision_no == 3 and service.revision(digest).kind == "rebuild"
        assert service.revision(digest).items[1]["text"] != "编辑过的稿子。"
        assert service.revision(digest, 2).items[1]["text"] == "编辑过的稿子。"
    assert producer.post("/digest/2026-11-30/versions/restore",
                         data={"csrf_token": token, "version": _version(app), "number": "2"}).status_code == 302
    assert _items(app)[1]["text"] == "编辑过的稿子。"


def test_approve_then_aired_and_an_edit_sends_it_back_to_draft(app, producer):
    _built(app)
    _html, token = _page(producer)
    post = lambda path, **data: producer.post(f"/digest/2026-11-30/{path}",
                                              data={"csrf_token": token, "version": _version(app), **data})
    assert post("aired").status_code == 409  # not approved yet
    assert post("approve").status_code == 302
    key = _items(app)[1]["key"]
    assert post("items/edit", key=key, text="改了一句。").status_code == 302
    with app.app_context():
        digest = service.get_digest(DAY)
        assert digest.status == "draft" and digest.approved_revision is None
    assert post("approve").status_code == 302
    assert post("aired").status_code == 302
    assert post("items/drop", key=key).status_code == 409  # aired: kept as it went out
    with app.app_context():
        digest = service.get_digest(DAY)
        assert (digest.status, digest.approved_revision) == ("aired", 2)


def test_any_date_can_be_built_on_demand(app, producer):
    _html, token = _page(producer, "/digest")
    for day in ("2026-01-05", "2027-02-14"):
        assert producer.post("/digest/build", data={"csrf_token": token, "date": day}).status_code == 302
        assert producer.get(f"/digest/{day}").status_code == 200
    assert producer.post("/digest/build", data={"csrf_token": token, "date": "not-a-day"}).status_code == 422


def test_content_items_are_kept_by_producers(app, producer):
    html, token = _page(producer, "/digest/items/new")
    data = {"csrf_token": token, "section": "policy", "title": "《劳动合同法》要点", "body": "应当订立书面劳动合同。",
            "source": "法律援助中心", "valid_from": "2026-11-30", "valid_to": "2026-12-31", "priority": "2", "active": "1"}
    assert producer.post("/digest/items/new", data={**data, "valid_to": "2026-11-01"}).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 0
    assert producer.post("/digest/items/new", data=data).status_code == 302
    with app.app_context():
        row = db.session.scalar(select(ContentItem))
        row_id, version = row.id, row.version
    assert producer.post(f"/digest/items/{row_id}", data={**data, "version": version, "priority": "1"}).status_code == 302
    stale = producer.post(f"/digest/items/{row_id}", data={**data, "version": version, "priority": "4"})
    assert stale.status_code == 409
    with app.app_context():
        assert db.session.get(ContentItem, row_id).priority == 1
    assert "《劳动合同法》要点" in producer.get("/digest/items?section=policy").get_data(as_text=True)


def test_settings_are_chinese_by_default_and_checked(app, producer):
    html, token = _page(producer, "/digest/settings")
    assert "各位听众" in html and "工会动态" in html
    with app.app_context():
        s = digest_settings.get()
        form = {k: str(getattr(s, k)) for k in digest_settings.DEFAULTS}
        version = s.version
    resp = producer.post("/digest/settings", data={**form, "csrf_token": token, "version": version,
                                                   "intro": "今天是{date}{nonsense}", "rate": "20"})
    assert resp.status_code == 422
    assert producer.post("/digest/settings", data={**form, "csrf_token": token, "version": version,
                                                   "rate": "240"}).status_code == 302
    with app.app_context():
        assert digest_settings.get().rate == 240


def test_other_roles_cannot_use_the_editor(app, users, login, programmes):
    _built(app)
    operator = login(app.test_client(), "operator")
    assert operator.get("/digest/2026-11-30").status_code == 403
    supervisor = login(app.test_client(), "supervisor")
    assert supervisor.get("/digest/2026-11-30").status_code == 200
    page = supervisor.get("/digest/2026-11-30").get_data(as_text=True)
    token = csrf_from(page)
    assert supervisor.post("/digest/2026-11-30/approve", data={"csrf_token": token, "version": 1}).status_code == 403
    assert app.test_client().get("/digest/2026-11-30").status_code == 302  # to the login page


def test_posts_need_the_csrf_token(app, producer):
    _built(app)
    resp = producer.post("/digest/2026-11-30/approve", data={"version": _version(app)})
    assert resp.status_code == 400
    with app.app_context():
        assert service.get_digest(DAY).status == "draft"


# ---------------------------------------------------------------- pull formats

def test_printable_text_json_and_docx(app, producer):
    _built(app)
    html = producer.get("/digest/2026-11-30/print").get_data(as_text=True)
    assert "《职工之声》 2026年11月30日（星期一）" in html and 'class="margin"' in html
    assert "草稿" in html  # the producer's printable page shows the draft, marked as such
    # Files leave the building: a draft is never served as .txt, .json or .docx, not even to a producer.
    for suffix in (".txt", ".json", ".docx"):
        refused = producer.get(f"/digest/2026-11-30{suffix}")
        assert refused.status_code == 409, suffix
    _approve(app)
    text = producer.get("/digest/2026-11-30.txt")
    assert text.mimetype == "text/plain"
    body = text.get_data(as_text=True)
    assert body.startswith("《职工之声》 2026年11月30日（星期一）\n版本1 · ") and "草稿" not in body.splitlines()[1]
    assert "【工会动态】" in body and "[0:22] 开场" in body
    data = producer.get("/digest/2026-11-30.json").get_json()
    assert data["date"] == "2026-11-30" and data["status"] == "approved" and data["version"] == 1
    assert data["slot_seconds"] == 900 and data["items"][0]["section"] == "intro"
    assert sum(i["seconds"] for i in data["items"]) + data["reserve_seconds"] == data["total_seconds"]
    docx = producer.get("/digest/2026-11-30.docx")
    from docx import Document

    document = Document(io.BytesIO(docx.data))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    assert "市总工会全面启动集体合同质量年活动。" in paragraphs and "工会动态" in paragraphs


def test_feed_lists_approved_digests_only(app, producer):
    _built(app)
    with app.app_context():
        service.build(DAY + timedelta(days=1), None)
        service.approve(service.get_digest(DAY), get_user("producer"), service.get_digest(DAY).version)
        db.session.commit()
    feed = producer.get("/digest/feed.atom")
    assert feed.mimetype == "application/atom+xml"
    body = feed.get_data(as_text=True)
    assert body.count("<entry>") == 1 and "urn:hotline:digest:2026-11-30:1" in body


# ---------------------------------------------------------------- the station's systems: API tokens

def test_api_gives_the_digest_to_a_token(app, api, programmes):
    _built(app)
    station = api("producer")
    draft = station.get("/digests/2026-11-30")  # a draft never leaves through the API (issue 13)
    assert draft.status_code == 409 and draft.get_json()["error"]["code"] == "not_approved"
    for path in ("/digests/2026-11-30.txt", "/digests/2026-11-30.docx"):
        assert station.get(path).status_code == 409
    _approve(app)
    resp = station.get("/digests/2026-11-30")
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) >= {"date", "status", "version", "slot_seconds", "total_seconds", "items", "left_out"}
    assert set(body["items"][0]) >= {"section", "title", "text", "chars", "seconds"}
    text = station.get("/digests/2026-11-30.txt")
    assert text.status_code == 200 and text.get_data(as_text=True).startswith("《职工之声》")
    assert station.get("/digests/2026-11-30.docx").status_code == 200
    assert station.get("/digests/feed.atom").status_code == 200
    assert station.get("/digests/2026-12-25").status_code == 404
    assert station.get("/digests/yesterday").status_code == 422
    assert station.get("/digests/2026-11-30?x=1").status_code == 422
    assert api("operator").get("/digests/2026-11-30").status_code == 403
    assert app.test_client().get("/api/v1/digests/2026-11-30").status_code == 401
    bad = app.test_client().get("/api/v1/digests/2026-11-30", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_json_matches_the_documented_schema(app, api, programmes):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    _built(app)
    _approve(app)
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    registry = Registry().with_resource("urn:doc", Resource.from_contents(doc, default_specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": "urn:doc#/components/schemas/Digest"}, registry=registry)
    validator.validate(api("supervisor").get("/digests/2026-11-30").get_json())


# ---------------------------------------------------------------- issue 13: safe and speakable

def test_only_answers_fit_for_listeners_are_chosen(ctx, users, programmes):
    good = closed_case(summary="公司拖欠工资三个月怎么办", answer="可以向劳动保障监察部门投诉，也可以申请劳动仲裁。")
    closed_case(summary="加班费怎么算", answer="已联系来电人并给出处理意见。")  # a process note
    closed_case(summary="社保断缴怎么办", answer="无")  # a placeholder
    closed_case(summary="年休假怎么算", answer="感谢您的来电，如有疑问请拨打12351。")  # boilerplate only
    closed_case(summary="拖欠工资能要求赔偿吗", answer="可以向劳动保障监察部门投诉，也可以申请劳动仲裁。")  # duplicate
    db.session.commit()
    digest, _ = service.build(DAY, None)
    qa = [i for i in service.revision(digest).items + service.revision(digest).left_out if i["section"] == "qa"]
    assert len(qa) == 1  # the duplicate is read once, the note, placeholder and boilerplate never
    assert qa[0]["text"].endswith("答：" + good.answer)


def test_questions_read_as_questions_and_answers_as_answers(ctx, users, programmes):
    closed_case(summary="来电人反映：你好，我是王建国，公司不签劳动合同，能要求双倍工资吗。",
                answer="嘉宾律师答复：可以。用人单位超过一个月不满一年未签书面劳动合同的，应当每月支付二倍工资。")
    db.session.commit()
    digest, _ = service.build(DAY, None)
    qa = next(i for i in service.revision(digest).items if i["section"] == "qa")
    assert qa["text"] == ("有职工打进12351热线问：公司不签劳动合同，能要求双倍工资吗？\n"
                          "答：可以。用人单位超过一个月不满一年未签书面劳动合同的，应当每月支付二倍工资。")


def test_a_producers_item_is_redacted_on_save_and_the_changes_are_listed(app, producer):
    html, token = _page(producer, "/digest/items/new")
    data = {"csrf_token": token, "section": "union_news", "title": "走访鑫达电子厂",
            "body": "市总工会走访鑫达电子厂，为困难职工张德福送去慰问金2000元，联系电话13812345678。",
            "source": "市总办公室", "valid_from": "2026-11-30", "priority": "2", "active": "1"}
    resp = producer.post("/digest/items/new", data=data, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "Personal details were removed before saving" in page and "13812345678" in page  # shown once
    with app.app_context():
        row = db.session.scalar(select(ContentItem))
        assert row.body == "市总工会走访某电子厂，为困难职工送去慰问金2000元。"
        assert row.title == "走访某电子厂"
        row_id, version = row.id, row.version
    # an edit that brings the number back is redacted again
    again = {**data, "version": version, "body": row.body + "请回电13812345678。"}
    assert producer.post(f"/digest/items/{row_id}", data=again).status_code == 302
    with app.app_context():
        assert "13812345678" not in db.session.get(ContentItem, row_id).body


def test_an_item_empty_after_redaction_is_refused_and_nothing_is_saved(app, producer):
    html, token = _page(producer, "/digest/items/new")
    resp = producer.post("/digest/items/new", data={
        "csrf_token": token, "section": "union_news", "title": "联系方式", "body": "手机：13812345678",
        "valid_from": "2026-11-30", "priority": "2", "active": "1"})
    assert resp.status_code == 422
    assert "Nothing would be left to read once personal details are removed; nothing was saved" in \
        resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 0


def test_restoring_a_term_is_deliberate_and_recorded(app, producer):
    html, token = _page(producer, "/digest/items/new")
    data = {"csrf_token": token, "section": "union_news", "title": "学习三洋能源公司的经验",
            "body": "与会人员现场考察了吴中区三洋能源公司，学习该公司开好职代会的经验。",
            "valid_from": "2026-11-30", "priority": "2", "active": "1"}
    assert producer.post("/digest/items/new", data=data).status_code == 302
    with app.app_context():
        row = db.session.scalar(select(ContentItem))
        assert "三洋" not in row.body and row.allowed_terms == "" and row.allowed_by_id is None
        row_id, version = row.id, row.version
    data = {**data, "version": version, "allowed_terms": "三洋能源公司"}
    assert producer.post(f"/digest/items/{row_id}", data=data).status_code == 302
    with app.app_context():
        row = db.session.get(ContentItem, row_id)
        assert "吴中区三洋能源公司" in row.body
        assert row.allowed_terms == "三洋能源公司" and row.allowed_by_id == get_user("producer").id


def test_the_digest_editor_redacts_every_item_and_records_a_kept_term(app, producer):
    _built(app)
    _html, token = _page(producer)
    key = _items(app)[1]["key"]  # a 工会动态 item, not from a case
    resp = producer.post("/digest/2026-11-30/items/edit", data={
        "csrf_token": token, "version": _version(app), "key": key, "title": "",
        "text": "王建国师傅在恒力纺织厂工作，电话13812345678。"}, follow_redirects=True)
    assert "Personal details were removed before saving" in resp.get_data(as_text=True)
    item = _items(app)[1]
    assert item["text"] == "王师傅在某纺织厂工作。" and "*" not in item["text"]
    assert all("found" not in c for c in item["redacted"])  # the revision never stores what was removed
    producer.post("/digest/2026-11-30/items/edit", data={
        "csrf_token": token, "version": _version(app), "key": key, "title": "",
        "text": "王建国师傅在恒力纺织厂工作。", "allowed": "恒力纺织厂"})
    assert _items(app)[1]["text"] == "王师傅在恒力纺织厂工作。"
    with app.app_context():
        assert "恒力纺织厂" in service.revision(service.get_digest(DAY)).note


def test_an_added_item_is_redacted(app, producer):
    _built(app)
    _html, token = _page(producer)
    producer.post("/digest/2026-11-30/items/add", data={
        "csrf_token": token, "version": _version(app), "section": "qa", "title": "欠薪",
        "text": "我叫李红梅，身份证320584198803081234，老板拖欠工资。"})
    added = next(i for i in _items(app) if i["key"].startswith("add:"))
    assert added["text"] == "老板拖欠工资。"


def test_headings_are_not_doubled_and_the_answer_rule_is_on_the_page(app, users, login, programmes):
    with app.app_context():
        closed_case()
        db.session.commit()
    _built(app)
    chinese = login(app.test_client(), "producer", lang="zh")
    html, _token = _page(chinese)
    assert "工会动态" in html and "(工会动态)" not in html and "(热线问答)" not in html
    assert builder.ANSWER_RULE in html


def test_drafts_are_refused_to_non_producers_and_served_once_approved(app, users, login, programmes):
    _built(app)
    supervisor = login(app.test_client(), "supervisor")
    for path in (".txt", ".docx", "/print", ".json"):
        resp = supervisor.get(f"/digest/2026-11-30{path}")
        assert resp.status_code == 409, path
        assert "not approved yet" in resp.get_data(as_text=True)
    _approve(app)
    assert supervisor.get("/digest/2026-11-30.txt").status_code == 200


def test_an_edit_after_approval_serves_nothing_until_approved_again(app, api, producer):
    _built(app)
    _approve(app)
    station = api("producer")
    assert station.get("/digests/2026-11-30").status_code == 200
    _html, token = _page(producer)
    producer.post("/digest/2026-11-30/items/edit", data={
        "csrf_token": token, "version": _version(app), "key": _items(app)[1]["key"], "text": "改稿。"})
    assert station.get("/digests/2026-11-30").status_code == 409
    assert "改稿" not in station.get("/digests/feed.atom").get_data(as_text=True)


def test_docx_is_a4_chinese_and_named_after_the_programme(app, producer):
    from docx import Document
    from docx.oxml.ns import qn

    _built(app)
    _approve(app)
    resp = producer.get("/digest/2026-11-30.docx")
    disposition = resp.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E8%81%8C%E5%B7%A5%E4%B9%8B%E5%A3%B0-2026-11-30.docx" in disposition  # 职工之声-…
    document = Document(io.BytesIO(resp.data))
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    fonts = document.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "宋体"
    lang = document.styles["Normal"].element.rPr.find(qn("w:lang"))
    assert lang.get(qn("w:val")) == "zh-CN" and lang.get(qn("w:eastAsia")) == "zh-CN"
    assert document.core_properties.language == "zh-CN"
    assert "filename*=UTF-8''%E8%81%8C" in producer.get("/digest/2026-11-30.txt").headers["Content-Disposition"]


def test_demo_news_items_are_dated_around_the_day_they_are_seeded(ctx, users, programmes):
    from hotline.digest.demo import seed_radio_demo

    seed_radio_demo(get_user("operator"))
    db.session.commit()
    bodies = " ".join(r.title + r.body for r in db.session.scalars(select(ContentItem)))
    for stale in ("2月26日", "3月6日", "3月中下旬", "第98个", "庆三八", "春季"):
        assert stale not in bodies
    assert "12月3日" in bodies  # the conftest clock stands at 2026-11-30: three days on
