#!/usr/bin/env python3
"""Time the reports (issue 7) against a generated database: the dashboard for a month and a year,
GET /api/v1/reports/kpis, hot topics, a drill-down list and a 10,000-row 台账 export.

    DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/hotline_bench .venv/bin/python bench/reports_bench.py
    DATABASE_URL=sqlite:///bench/out/bench.sqlite3 .venv/bin/python bench/reports_bench.py --runs 5

The database comes from bench/generate (its history ends at 2026-11-30 10:00 +08:00, the pinned
now used here). Without the reports migration's indexes (ix_hotline_case_report,
ix_hotline_case_closed_at) the figures are slower; --create-indexes adds them (same definitions as
the migration) before timing. Medians of --runs runs after one warm-up run; memory is Python's
peak allocation during the export (tracemalloc), which stays flat as the row count grows.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NOW_ISO = "2026-11-30T10:00:00+08:00"


def median_ms(fn, runs: int) -> tuple[float, object]:
    result = fn()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--export-rows", type=int, default=10_000)
    p.add_argument("--create-indexes", action="store_true")
    args = p.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL to the generated database")
    os.environ["HOTLINE_SCHEDULER"] = "0"
    import logging

    logging.disable(logging.WARNING)
    from sqlalchemy import func, inspect, select, text

    from hotline import create_app
    from hotline.auth.models import User, UserRole
    from hotline.cases import queries
    from hotline.cases.models import Case
    from hotline.extensions import db
    from hotline.reports import export, hot
    from hotline.reports.models import REPORT_COLUMNS
    from hotline.reports.periods import Period

    app = create_app({"HOTLINE_ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "HOTLINE_NOW": NOW_ISO,
                      "HOTLINE_SCHEDULER": False, "WTF_CSRF_ENABLED": False})
    rows_out: list[tuple[str, str, str]] = []
    with app.app_context():
        backend = db.engine.dialect.name
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("hotline_case")}
        wanted = {"ix_hotline_case_report", "ix_hotline_case_closed_at"}
        if not wanted <= indexes and args.create_indexes:
            cols = ", ".join(c.name for c in REPORT_COLUMNS)
            with db.engine.begin() as conn:
                conn.execute(text(f"CREATE INDEX IF NOT EXISTS ix_hotline_case_report ON hotline_case ({cols})"))
                conn.execute(text("CREATE INDEX IF NOT EXISTS ix_hotline_case_closed_at ON hotline_case (closed_at)"))
                conn.execute(text("ANALYZE hotline_case"))
            indexes |= wanted
        total = db.session.scalar(select(func.count()).select_from(Case))
        print(f"database: {backend}, {total:,} cases; report indexes: {'yes' if wanted <= indexes else 'NO'}")
        supervisor = db.session.scalar(select(User).join(UserRole).where(UserRole.role == "supervisor").limit(1))
        user_key = supervisor.get_id()
        from datetime import date

        month = Period(date(2026, 11, 1), date(2026, 11, 30), "month")
        year = Period(date(2026, 1, 1), date(2026, 11, 30), "year")
        db.session.remove()

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = user_key
        sess["_fresh"] = True

    def page(path):
        def run():
            resp = client.get(path)
            assert resp.status_code == 200, (path, resp.status_code, resp.get_data(as_text=True)[:300])
            return resp
        return run

    def record(name, ms, note=""):
        rows_out.append((name, f"{ms:,.0f} ms", note))
        print(f"{name:<46} {ms:>9,.0f} ms  {note}", flush=True)

    for label, period in (("month", month), ("year", year)):
        q = f"period=custom&from={period.first}&to={period.last}"
        ms, resp = median_ms(page(f"/reports?{q}&by=category"), args.runs)
        record(f"dashboard page, {label}, by category", ms, f"{len(resp.data) // 1024} KiB HTML")
        ms, _ = median_ms(page(f"/reports?{q}&by=handler"), args.runs)
        record(f"dashboard page, {label}, by handler", ms)
        with app.app_context():
            token_user = db.session.get(User, int(user_key.split(":")[0]))
            from hotline.auth.service import issue_token

            token = issue_token(token_user)
            db.session.commit()
        headers = {"Authorization": f"Bearer {token}"}

        def api():
            resp = client.get(f"/api/v1/reports/kpis?from={period.first}&to={period.last}&by=department",
                              headers=headers)
            assert resp.status_code == 200, resp.get_json()
            return resp
        ms, resp = median_ms(api, args.runs)
        record(f"GET /api/v1/reports/kpis, {label}, by department", ms,
               f"{resp.get_json()['totals']['registered']:,} cases")
        with app.app_context():
            hot._cache.clear()
            started = time.perf_counter()
            topics = hot.hot_topics(period)
            record(f"hot topics, {label} (first, uncached)", (time.perf_counter() - started) * 1000,
                   f"{topics.sampled:,} + {topics.previous_sampled:,} summaries segmented")
            started = time.perf_counter()
            hot.hot_topics(period)
            record(f"hot topics, {label} (cached)", (time.perf_counter() - started) * 1000)
        ms, _ = median_ms(page(f"/cases?from={period.first}&to={period.last}&status=closed&on_time=1"
                               f"&department=legal_aid"), args.runs)
        record(f"drill-down list with count, {label}", ms)

    # the 台账 export: the last days before now holding about --export-rows cases (and three times as many)
    with app.test_request_context():
        actor = db.session.get(User, int(user_key.split(":")[0]))
        from datetime import timedelta

        last = date(2026, 11, 29)

        def span_for(rows_wanted):
            first = last
            while first > date(2022, 1, 1):
                n = queries.count_cases(actor, queries.parse_filter({"from": first.isoformat(), "to": last.isoformat()}))
                if n >= rows_wanted:
                    break
                first -= timedelta(days=1)
            return first

        for rows_wanted in (args.export_rows, 3 * args.export_rows):
            first = span_for(rows_wanted)
            f = queries.parse_filter({"from": first.isoformat(), "to": last.isoformat()})
            for fmt in ("xlsx", "csv"):
                started = time.perf_counter()
                out, count = export.export_ledger(actor, f, fmt, [("期间", "bench")])
                elapsed = (time.perf_counter() - started) * 1000
                size = out.seek(0, 2)
                out.close()
                tracemalloc.start()  # a second run for memory: tracing slows Python down several times
                out, _count = export.export_ledger(actor, f, fmt, [("期间", "bench")])
                _current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                out.close()
                record(f"台账 export .{fmt}, {count:,} rows", elapsed,
                       f"{size / 1e6:.1f} MB file, Python peak {peak / 1e6:.1f} MB")
                db.session.rollback()
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    print()
    print("| measurement | median | notes |")
    print("|---|---:|---|")
    for name, ms, note in rows_out:
        print(f"| {name} | {ms} | {note} |")


if __name__ == "__main__":
    main()
