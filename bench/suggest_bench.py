#!/usr/bin/env python3
"""Intake help (issue 19) against a generated database: suggestion accuracy, knowledge-base hit rate,
POST /api/v1/suggest latency and search latency.

    DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/hotline_bench .venv/bin/python bench/suggest_bench.py

Steps (the database comes from bench/generate; its history ends at 2026-11-30 10:00 +08:00, the pinned now):

1. Employer keys: bench/generate loads cases without the registration hook, so the keys of their employers
   (case_employer) are filled here, as the migration's backfill would, if the table is empty.
2. The classifier job (`classifier`, hotline/knowledge/classify.py) trains on the newest closed cases and stores
   its accuracy on the held-out fifth: the figure for the generated history (templated text; the generator
   draws type and department at random within a category, which caps what any classifier can reach).
3. The stored model, and the keyword/knowledge-base fallback, on the hand-written summaries of
   tests/data/intake_summaries.tsv: top-1 and top-3 for type, category and department, and the share of the
   questions whose expected article is among the three suggested (hit rate).
4. Latency, in process through the WSGI app with a bearer token: POST /api/v1/suggest for every hand-written
   summary (with an employer from the history) --rounds times; GET /api/v1/cases?q= and the case list page
   /cases?q= for three queries, --runs times each. Medians (p50) and p99.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NOW_ISO = "2026-11-30T10:00:00+08:00"
QUERIES = ("拖欠工资", "恒达电子", "劳动保障监察 投诉")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3, help="suggest: passes over the hand-written summaries")
    p.add_argument("--runs", type=int, default=25, help="search: requests per query and door")
    p.add_argument("--skip-train", action="store_true", help="use the newest stored model")
    args = p.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL to the generated database")
    import logging

    logging.disable(logging.WARNING)
    from sqlalchemy import func, select, text

    from hotline import create_app
    from hotline.auth.models import User, UserRole
    from hotline.auth.service import issue_token
    from hotline.cases.models import Case
    from hotline.extensions import db
    from hotline.knowledge import classify, service as kb
    from hotline.knowledge.employer import normalise
    from hotline.knowledge.models import Article, CaseEmployer

    app = create_app({"HOTLINE_ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "HOTLINE_NOW": NOW_ISO,
                      "HOTLINE_SCHEDULER": False, "WTF_CSRF_ENABLED": False})
    with app.test_request_context():
        total = db.session.scalar(select(func.count()).select_from(Case))
        print(f"database: {db.engine.dialect.name}, {total:,} cases", flush=True)
        kb.seed_articles()
        db.session.commit()
        if not db.session.scalar(select(func.count()).select_from(CaseEmployer)):
            started = time.perf_counter()
            names = [n for (n,) in db.session.execute(select(Case.caller_employer).where(
                Case.caller_employer.is_not(None)).distinct())]
            keys = {n: normalise(n) for n in names}
            db.session.execute(text("CREATE TEMP TABLE employer_keys (name varchar(128), key varchar(128))"))
            db.session.execute(text("INSERT INTO employer_keys VALUES (:n, :k)"),
                               [{"n": n, "k": k} for n, k in keys.items() if k])
            db.session.execute(text(
                "INSERT INTO case_employer (case_id, employer_key, caller_phone, created_at) "
                "SELECT c.id, k.key, c.caller_phone, c.created_at FROM hotline_case c "
                "JOIN employer_keys k ON k.name = c.caller_employer WHERE c.merged_into_id IS NULL"))
            db.session.execute(text("DROP TABLE employer_keys"))
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("ANALYZE case_employer"))
            print(f"employer keys: {len(names):,} names → {len(set(keys.values())):,} employers, "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        if not args.skip_train:
            started = time.perf_counter()
            result = classify.train()
            db.session.commit()
            print(f"classifier trained in {time.perf_counter() - started:.1f} s: {result}", flush=True)
        record = classify.latest_record()
        print("\nheld-out split of the generated history "
              f"(learnt from {record.train_cases:,}, tested on {record.test_cases:,}):")
        for name in classify.FIELDS:
            acc = record.accuracy[name]
            print(f"  {name:<11} top-1 {acc['top1']:.1%}  top-3 {acc['top3']:.1%}  (n={acc['n']:,})")

        rows = [line.split("\t") for line in (ROOT / "tests/data/intake_summaries.tsv").read_text("utf-8")
                .splitlines() if line.strip() and not line.startswith("#")]
        seed_keys = dict(db.session.execute(select(Article.id, Article.seed_key)).all())
        model = classify.current()
        results = {"model": {}, "keywords": {}, "model+keywords": {}}  # the last is what suggestions use
        asked = found = 0
        for summary, t, c, d, article in rows:
            arts = kb.best_articles(summary)
            top_cat = arts[0][0].category.code if arts and arts[0][0].category else None
            guesses = {"model": model.predict(summary), "keywords": classify.keyword_guess(summary, top_cat)}
            guesses["model+keywords"] = {n: classify.blend(guesses["model"][n], guesses["keywords"][n])
                                         for n in classify.FIELDS}
            for source, guess in guesses.items():
                for name, truth in (("type", t), ("category", c), ("department", d)):
                    codes = [code for code, _conf in guess[name]]
                    hit = results[source].setdefault(name, [0, 0])
                    hit[0] += codes[:1] == [truth]
                    hit[1] += truth in codes[:3]
            if article != "-":
                asked += 1
                found += article in [seed_keys[a.id] for a, _s in arts]
        print(f"\nhand-written summaries (n={len(rows)}):")
        for source, fields in results.items():
            line = "  ".join(f"{name} {h[0] / len(rows):.1%}/{h[1] / len(rows):.1%}" for name, h in fields.items())
            print(f"  {source:<15} top-1/top-3: {line}")
        print(f"  knowledge-base hit rate (expected article among the 3 suggested): {found}/{asked} = "
              f"{found / asked:.1%}")

        operator = db.session.scalar(select(User).join(UserRole).where(UserRole.role == "operator").limit(1))
        supervisor = db.session.scalar(select(User).join(UserRole).where(UserRole.role == "supervisor").limit(1))
        tokens = {"op": issue_token(operator), "sup": issue_token(supervisor)}
        employers = [n for (n,) in db.session.execute(select(Case.caller_employer).where(
            Case.caller_employer.is_not(None)).order_by(Case.id.desc()).limit(500))]
        sup_key = supervisor.get_id()
        db.session.commit()
        db.session.remove()

    client = app.test_client()
    rnd = random.Random(19)
    headers = {"Authorization": f"Bearer {tokens['op']}"}
    client.post("/api/v1/suggest", json={"summary": "预热"}, headers=headers)  # jieba's dictionary loads once
    times = []
    for _round in range(args.rounds):
        for summary, *_labels in rows:
            body = {"summary": summary, "employer": rnd.choice(employers), "phone": "13812345678"}
            started = time.perf_counter()
            resp = client.post("/api/v1/suggest", json=body, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            assert resp.status_code == 200, resp.get_json()
    print(f"\nPOST /api/v1/suggest ({len(times)} requests): p50 {statistics.median(times):.1f} ms, "
          f"p99 {pct(times, 99):.1f} ms, max {max(times):.1f} ms")

    web = app.test_client()
    with web.session_transaction() as sess:
        sess["_user_id"] = sup_key
        sess["_fresh"] = True
    sup_headers = {"Authorization": f"Bearer {tokens['sup']}"}
    print()
    for q in QUERIES:
        for door, run in (("GET /api/v1/cases?q=", lambda: client.get("/api/v1/cases", query_string={"q": q},
                                                                       headers=sup_headers)),
                          ("/cases?q= (page)", lambda: web.get("/cases", query_string={"q": q}))):
            resp = run()  # warm-up
            assert resp.status_code == 200, resp.status_code
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                resp = run()
                times.append((time.perf_counter() - started) * 1000)
            n = len(resp.get_json()["items"]) if resp.is_json else resp.get_data(as_text=True).count("<mark>")
            print(f"{door:<22} {q:<12} p50 {statistics.median(times):7.1f} ms  p99 {pct(times, 99):7.1f} ms  "
                  f"({n} {'items' if resp.is_json else 'highlights'} on the first page)", flush=True)


if __name__ == "__main__":
    main()
