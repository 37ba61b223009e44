"""Two real scheduler processes on one database: every flag and notice exists once, every SMS goes out once."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from conftest import get_user
from hotline.cases import service as cases
from hotline.extensions import db
from hotline.notify.models import CaseFlag, Notice

ROOT = Path(__file__).resolve().parent.parent
CASES = 40


def test_two_schedulers_send_each_notice_once(app, users, tmp_path):
    with app.app_context():
        get_user("handler").phone = "+8613900000002"
        get_user("supervisor").phone = "+8613900000003"
        for i in range(CASES):
            cases.register(get_user("operator"), {
                "channel": "hotline", "type": "consult", "category": "wages", "summary": f"欠薪 {i}",
                "caller": {"phone": "13812345678"}, "department": "legal_aid", "handler": "handler"})
        db.session.commit()
        url = db.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "HOTLINE_ENV": "test", "DATABASE_URL": url, "SECRET_KEY": "s" * 40,
           # Wednesday morning: the accept (Mon) and reply (Tue) deadlines have passed; reminders may go out.
           "HOTLINE_NOW": "2026-12-03T09:00:00+08:00",
           "HOTLINE_SCAN_SECONDS": "1", "HOTLINE_NOTIFY_SECONDS": "1", "HOTLINE_REMINDER_SECONDS": "1"}
    # dispatch SMS + (accept and reply overdue) SMS to the handler + one reminder SMS each for
    # the handler and the supervisor
    expected_sms = CASES + CASES * 2 + 2
    logs = [tmp_path / f"scheduler{i}.log" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "hotline", "scheduler"], cwd=ROOT,
                              env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT) for log in logs]
    try:
        deadline = time.monotonic() + 90  # a bound, not a wait: we poll until the work is done
        sent = 0
        while time.monotonic() < deadline:
            with app.app_context():
                sent = db.session.scalar(select(func.count()).select_from(Notice).where(
                    Notice.channel == "sms", Notice.status == "sent"))
                db.session.remove()
            if sent >= expected_sms:
                break
            time.sleep(0.5)
        # Let both keep scanning a few more rounds over work that is already done.
        rounds_deadline = time.monotonic() + 4
        while time.monotonic() < rounds_deadline:
            time.sleep(0.5)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)
    output = "".join(log.read_text() for log in logs)
    with app.app_context():
        notices = list(db.session.scalars(select(Notice)))
        flags = list(db.session.scalars(select(CaseFlag)))
    assert sent == expected_sms, output[-3000:]
    per_key = Counter((n.case_id, n.kind, n.recipient_id, n.channel, n.body) for n in notices)
    assert max(per_key.values()) == 1
    assert Counter(f.kind for f in flags) == {"accept_overdue": CASES, "reply_overdue": CASES}
    # Each SMS left the process exactly once (log backend lines across both processes).
    assert output.count("SMS (log backend) to") == expected_sms
    # Both processes really ran.
    assert all(log.read_text().count("scheduler running") == 1 for log in logs)
