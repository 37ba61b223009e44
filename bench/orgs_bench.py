#!/usr/bin/env python3
"""Time the organisation filter (issue 18) on a generated database: the case list and dispatch list, the
handler's queue and the dashboard, for a user of the root (no filter) and of a sub-organisation.

    DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/hotline_bench .venv/bin/python bench/orgs_bench.py

Setup (idempotent, once): an organisation `bench_wj` (吴江区总工会) under the root with one department and an
operator, a handler and a supervisor; every 10th case (id % 10 = 0) is handed to it by one UPDATE, and a
tenth of those to its department. Medians of --runs runs after one warm-up, in-process (Flask test client).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NOW_ISO = "2026-11-30T10:00:00+08:00"
PASSWORD = "bench-password-2026"  # bench/generate's users have it too (bench/run BENCH_PASSWORD)


def median_ms(fn, runs: int) -> tuple[float, float]:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=15)
    args = p.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL to the generated database")
    import logging

    logging.disable(logging.WARNING)
    from sqlalchemy import func, select, text

    from hotline import create_app
    from hotline.auth.models import User  # noqa: F401  (the tables)
    from hotline.auth.service import create_user
    from hotline.cases.models import Case
    from hotline.extensions import db
    from hotline.orgs import service as orgs
    from hotline.orgs.models import Organisation
    from hotline.reference.models import Department

    app = create_app({"HOTLINE_ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "HOTLINE_NOW": NOW_ISO,
                      "HOTLINE_SCHEDULER": False, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "b" * 40})
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.code == "bench_wj"))
        if org is None:
            started = time.perf_counter()
            org = orgs.create(None, "bench_wj", "吴江区总工会")
            dept = Department(code="bench_wj_rights", name="维权部", active=True, sort_order=0, org_id=org.id)
            db.session.add(dept)
            db.session.flush()
            create_user("bwj_op", "吴江接线员", ["operator"], PASSWORD, org_code="bench_wj")
            create_user("bwj_h", "吴江承办人", ["handler"], PASSWORD, "bench_wj_rights", org_code="bench_wj")
            create_user("bwj_sup", "吴江主任", ["supervisor"], PASSWORD, org_code="bench_wj")
            create_user("broot_sup", "市总主任", ["supervisor"], PASSWORD)
            create_user("broot_op", "市总接线员", ["operator"], PASSWORD)
            db.session.execute(text("UPDATE hotline_case SET org_id = :o WHERE id % 10 = 0"), {"o": org.id})
            db.session.execute(text("UPDATE hotline_case SET department_id = :d WHERE id % 100 = 0"),
                               {"d": dept.id})
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE hotline_case"))
            print(f"setup: {time.perf_counter() - started:.1f} s", flush=True)
        total = db.session.scalar(select(func.count()).select_from(Case))
        mine = db.session.scalar(select(func.count()).select_from(Case).where(Case.org_id == org.id))
        busiest = db.session.execute(text(
            "SELECT u.username FROM user_account u JOIN user_role r ON r.user_id = u.id AND r.role = 'handler' "
            "JOIN hotline_case c ON c.handler_id = u.id AND c.status IN ('assigned', 'accepted') "
            "GROUP BY u.username ORDER BY count(*) DESC LIMIT 1")).scalar()
        print(f"database: {db.engine.dialect.name}, {total:,} cases, {mine:,} owned by bench_wj; "
              f"busiest root handler {busiest}")

    def client_for(username):
        client = app.test_client()
        resp = client.post("/login", data={"username": username, "password": PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        return client

    def page(client, path):
        def run():
            resp = client.get(path)
            assert resp.status_code == 200, (path, resp.status_code)
        return run

    month = "period=custom&from=2026-11-01&to=2026-11-30"
    cases = [
        ("case list, newest 50", "/cases"),
        ("dispatch list (status=registered)", "/cases?status=registered"),
        ("dashboard, month, by category", f"/reports?{month}&by=category"),
        ("dashboard, month, by org (roll-up)", f"/reports?{month}&by=org"),
    ]
    rows = []
    load_before = os.getloadavg()
    for who, username in (("root", "broot_op"), ("sub-org", "bwj_op")):
        client = client_for(username)
        for name, path in cases[:2]:
            rows.append((name, who, *median_ms(page(client, path), args.runs)))
    for who, username in (("root", busiest), ("sub-org", "bwj_h")):
        rows.append(("handler queue (/cases/queue)", who, *median_ms(page(client_for(username), "/cases/queue"),
                                                                       args.runs)))
    for who, username in (("root", "broot_sup"), ("sub-org", "bwj_sup")):
        client = client_for(username)
        for name, path in cases[2:]:
            rows.append((name, who, *median_ms(page(client, path), args.runs)))
        rows.append(("dashboard, month, ?org=bench_wj", who,
                     *median_ms(page(client, f"/reports?{month}&org=bench_wj"), args.runs)))
    print(f"\nload average before: {load_before}")
    print("| request | user | median ms | max ms |\n|---|---|---:|---:|")
    for name, who, med, worst in rows:
        print(f"| {name} | {who} | {med:,.0f} | {worst:,.0f} |")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
