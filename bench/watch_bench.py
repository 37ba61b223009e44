#!/usr/bin/env python3
"""Deadline-watch benchmark (issue 4): the overdue/warning scan on a large register.

Usage: DATABASE_URL=... .venv/bin/python bench/watch_bench.py [--open 50000] [--overdue 1000] [--rounds 7]

It needs a database filled by bench/generate. It (1) makes sure at least --open cases are open
with deadlines ahead (reopening closed ones deterministically, in SQL), (2) times a scan with
nothing new to flag, (3) times scans that each flag --overdue newly overdue cases (a fresh set per
round). It changes the benchmark database; regenerate it for other figures if that matters.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text, update  # noqa: E402

from hotline import create_app  # noqa: E402
from hotline.cases import deadlines  # noqa: E402
from hotline.cases.models import OPEN_STATUSES, Case  # noqa: E402
from hotline.clock import set_now  # noqa: E402
from hotline.extensions import db  # noqa: E402
from hotline.notify import service as watch  # noqa: E402

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


def ensure_open(target: int) -> int:
    open_count = db.session.scalar(select(func.count()).select_from(Case).where(Case.status.in_(OPEN_STATUSES)))
    missing = target - open_count
    if missing > 0:
        ids = select(Case.id).where(Case.status == "closed", Case.department_id.is_not(None),
                                    Case.merged_into_id.is_(None)).order_by(Case.id.desc()).limit(missing)
        db.session.execute(update(Case).where(Case.id.in_(ids)).values(
            status="accepted", closed_at=None, replied_at=None, survey_result=None))
    # Every open case: deadline ten days ahead, nothing flagged, next look at the warning time.
    due = NOW + timedelta(days=10)
    db.session.execute(update(Case).where(Case.status.in_(OPEN_STATUSES)).values(
        reply_due_at=due, accept_due_at=None, reply_warned_for=None, reply_flagged_for=None,
        accept_warned_for=None, accept_flagged_for=None, next_watch_at=due - deadlines.WARNING_LEAD))
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.status.in_(OPEN_STATUSES)))


def make_overdue(n: int, round_no: int) -> None:
    """n open, never-flagged cases get a deadline one minute ago."""
    # A due time no earlier run used, so the flags are new even on a re-used database.
    due = NOW - timedelta(minutes=1 + round_no, seconds=int(time.time()) % 3600)
    ids = select(Case.id).where(Case.status.in_(OPEN_STATUSES), Case.reply_flagged_for.is_(None)) \
        .order_by(Case.id).limit(n)
    db.session.execute(update(Case).where(Case.id.in_(ids)).values(reply_due_at=due, next_watch_at=due))
    db.session.commit()


def timed_scan() -> tuple[float, dict]:
    start = time.perf_counter()
    stats = watch.scan(NOW)
    db.session.commit()
    return (time.perf_counter() - start) * 1000, stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--open", type=int, default=50_000)
    ap.add_argument("--overdue", type=int, default=1_000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    app = create_app({"HOTLINE_ENV": "development", "HOTLINE_SCHEDULER": False})
    with app.app_context():
        set_now(app, NOW)
        total = db.session.scalar(select(func.count()).select_from(Case))
        open_now = ensure_open(args.open)
        timed_scan()  # settle
        idle = [timed_scan()[0] for _ in range(args.rounds * 3)]
        busy, flagged = [], []
        for r in range(args.rounds):
            make_overdue(args.overdue, r)
            ms, stats = timed_scan()
            busy.append(ms)
            flagged.append(stats["overdue"])
        dialect = db.engine.dialect.name
        plan = ""
        if dialect == "postgresql":
            plan = "\n".join(row[0] for row in db.session.execute(text(
                "EXPLAIN ANALYZE SELECT id FROM hotline_case WHERE next_watch_at IS NOT NULL "
                "AND next_watch_at <= :now ORDER BY next_watch_at, id LIMIT 2000"), {"now": NOW}))
        else:
            plan = "\n".join(str(row) for row in db.session.execute(text(
                "EXPLAIN QUERY PLAN SELECT id FROM hotline_case WHERE next_watch_at IS NOT NULL "
                "AND next_watch_at <= :now ORDER BY next_watch_at, id LIMIT 2000"), {"now": NOW.replace(tzinfo=None)}))
        print(f"database: {dialect}, {total:,} cases, {open_now:,} open")
        print("| scenario | median | p95 | runs |")
        print("|---|---|---|---|")
        q = lambda xs: sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)]  # noqa: E731
        print(f"| scan, nothing new to flag | {statistics.median(idle):.1f} ms | {q(idle):.1f} ms | {len(idle)} |")
        print(f"| scan flagging {args.overdue:,} newly overdue cases | {statistics.median(busy):.0f} ms | "
              f"{q(busy):.0f} ms | {len(busy)} (flagged {flagged}) |")
        print("\nplan of the scan query:\n" + plan)


if __name__ == "__main__":
    main()
