"""Clean Chinese (issue 17): no raw keys or ids on the pages, no ASCII colon after a Chinese label, and one
glossary: the ledger and KPI exports use the pages' words."""
from __future__ import annotations

import html
import io
import re

from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext
from openpyxl import load_workbook

from conftest import get_user, local
from hotline.cases import service
from hotline.cases.models import CaseEvent
from hotline.extensions import db
from hotline.notify import service as watch
from hotline.reports import vocab
from hotline.templating import CHANNEL_LABELS, STATUS_LABELS, SURVEY_LABELS
from test_i18n import PO

CALL_SID = "CA" + "0123456789abcdef" * 2
RAW = re.compile(r"\b(deadline|due_at|reply_due_at|accept_due_at|call_sid|wait_seconds|resolved_on_call)\b|"
                 + CALL_SID + r"|https?://\S+|\bNone\b")
ASCII_COLON = re.compile(r"[\u3400-\u9fff）》」]:(?!//)")


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def test_the_catalogue_puts_no_ascii_colon_after_chinese():
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    bad = []
    for message in catalog:
        for text in (message.string if isinstance(message.string, tuple) else (message.string,)):
            if text and ASCII_COLON.search(text):
                bad.append(text)
    assert bad == []


def test_glossary_ledger_and_kpi_terms_are_the_pages_words(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        drift = {key: (vocab.LEDGER_HEADERS[key], gettext(msgid)) for key, msgid in vocab.UI_TERMS.items()
                 if vocab.LEDGER_HEADERS[key] != gettext(msgid)}
        drift.update({c: (zh, str(CHANNEL_LABELS[c])) for c, zh in vocab.CHANNEL_ZH.items()
                      if zh != str(CHANNEL_LABELS[c])})
        drift.update({s: (zh, str(STATUS_LABELS[s])) for s, zh in vocab.STATUS_ZH.items()
                      if zh != str(STATUS_LABELS[s])})
        drift.update({s: (zh, str(SURVEY_LABELS[s])) for s, zh in vocab.SURVEY_ZH.items()
                      if zh != str(SURVEY_LABELS[s])})
        from hotline.reports.views import GROUPING_LABELS

        drift.update({f"by {b}": (zh, str(GROUPING_LABELS[b])) for b, zh in vocab.GROUPING_ZH.items()
                      if zh != str(GROUPING_LABELS[b])})
        kpi = {k: h for k, h, _kind in vocab.KPI_COLUMNS}
        if kpi["overdue_open"] != gettext("Overdue now"):
            drift["overdue_open"] = (kpi["overdue_open"], gettext("Overdue now"))
    assert drift == {}


def test_pages_show_no_raw_keys_ids_or_ascii_colons(app, users, login, clock):
    clock.set(local(2026, 11, 30, 10, 0))
    with app.app_context():
        case = service.register(get_user("operator"), {
            "channel": "voicemail", "type": "consult", "category": "wages", "summary": "语音留言",
            "caller": {"phone": "13812345678"}, "department": "legal_aid",
            "detail": "留言时间2026-11-30 09:00。录音：https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"})
        db.session.add(CaseEvent(case=case, kind="call", at=clock_now(), actor_id=None,
                                 data={"call": CALL_SID, "wait_seconds": 5, "talk_seconds": 60}))
        closed = service.register(get_user("operator"), {
            "channel": "hotline", "type": "consult", "category": "wages", "summary": "当场解答",
            "caller": {"phone": "13812345678"}, "resolved_on_call": True, "answer": "已解答"})
        db.session.commit()
        no, closed_no = case.case_no, closed.case_no
    clock.set(local(2026, 12, 2, 9, 0))  # acceptance overdue: the watch writes its events
    with app.app_context():
        watch.scan()
        db.session.commit()
    supervisor = login(app.test_client(), "supervisor", lang="zh")
    handler = login(app.test_client(), "handler", lang="zh")
    operator = login(app.test_client(), "operator", lang="zh")
    pages = {
        "case": supervisor.get(f"/cases/{no}"), "closed case": supervisor.get(f"/cases/{closed_no}"),
        "list": supervisor.get("/cases?sort=due"), "dashboard": supervisor.get("/reports"),
        "queue": handler.get("/cases/queue"), "notices": handler.get("/notices"),
        "form": operator.get("/cases/new?phone=13812345678"), "calls": operator.get("/calls"),
    }
    for name, resp in pages.items():
        assert resp.status_code == 200, name
        # What a person reads, not what they may edit: the correction form's textareas hold the stored text.
        text = visible_text(re.sub(r"<textarea[^>]*>.*?</textarea>", "", resp.get_data(as_text=True), flags=re.S))
        assert not RAW.search(text), (name, RAW.search(text).group(0), text[max(0, RAW.search(text).start() - 80):][:160])
        assert not ASCII_COLON.search(text), (name, text[max(0, ASCII_COLON.search(text).start() - 40):][:80])
    calls = pages["calls"].get_data(as_text=True)
    header = re.search(r"<thead>.*?</thead>", calls, re.S)
    assert header is None or "工单编号" not in header.group(0)  # the phone column is headed 电话
    form = pages["form"].get_data(as_text=True)
    assert "来电人正在留语音留言" not in form and 'data-t-live="实时更新中"' in form
    producer = login(app.test_client(), "producer", lang="zh")
    digest = producer.get("/digest")
    if digest.status_code == 302:
        digest = producer.get(digest.headers["Location"])
    assert "/api/v1/digests/&lt;YYYY-MM-DD&gt;" in digest.get_data(as_text=True)  # the placeholder is visible
    case_text = visible_text(pages["case"].get_data(as_text=True))
    assert "收听录音" in case_text and "通话时长（秒）" in case_text
    assert re.search(r"超期 .{0,80}签收时限：", case_text), "the watch's event, in words"
    assert "已派给您的部门" in pages["notices"].get_data(as_text=True)


def test_exports_carry_no_codes(app, users, login, clock):
    clock.set(local(2026, 11, 30, 10, 0))
    with app.app_context():
        service.register(get_user("operator"), {"channel": "hotline", "type": "legal_aid", "category": "wages",
                                                "summary": "欠薪", "caller": {"phone": "13812345678"},
                                                "department": "legal_aid"})
        db.session.commit()
    client = login(app.test_client(), "supervisor", lang="zh")
    for url in ("/reports/kpis.xlsx?period=month", "/reports/ledger.xlsx?from=2026-11-01&to=2026-11-30"):
        wb = load_workbook(io.BytesIO(client.get(url).data))
        values = {str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v}
        assert not values & {"wages", "legal_aid", "consult", "hotline", "registered", "assigned"}, url


def clock_now():
    from hotline import clock

    return clock.now()
