#!/usr/bin/env python3
"""Digest-build benchmark (issue 6): building one day's 《职工之声》 digest on a large case register.

Usage: DATABASE_URL=... .venv/bin/python bench/digest_bench.py [--rounds 15] [--items 300]

It needs a database filled by bench/generate (1,000,000 cases over four years by default). It adds
--items producers' content items once (a few valid on each date), then times the whole build of
a date as the scheduler runs it at 16:30 — 今日热线 figures, 热线问答 candidates (closed, cleared for
air, answered, redacted), content items, the fill, and the INSERTs of the digest and its first
revision — rolled back after each round so every round builds afresh. Dates cycle over the last
days of the generated history. Prints each round, then the median and p95 (target: median ≤ 500 ms).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from hotline import create_app  # noqa: E402
from hotline.cases.models import Case  # noqa: E402
from hotline.clock import set_now  # noqa: E402
from hotline.digest import service  # noqa: E402
from hotline.digest.models import ContentItem, Digest  # noqa: E402
from hotline.extensions import db  # noqa: E402
from hotline.radio import schedule  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
LAST_DAY = date(2026, 11, 30)  # the generated history ends 2026-11-30 10:00 (bench/generate's pinned now)
SECTIONS = ("union_news", "policy", "jobs")


def ensure_items(n: int) -> int:
    have = db.session.scalar(select(func.count()).select_from(ContentItem)) or 0
    now = datetime(2026, 11, 1, tzinfo=SHANGHAI)
    for i in range(have, n):
        start = LAST_DAY - timedelta(days=(i * 7) % 120)
        db.session.add(ContentItem(
            section=SECTIONS[i % 3], title=f"第{i + 1}条 市总工会动态", priority=1 + i % 5,
            body=("市总工会召开会议，部署集体合同质量年、工会组建和职工援助工作，要求做好12351热线服务。" * (2 + i % 4)),
            source="市总办公室", valid_from=start, valid_to=start + timedelta(days=10), active=True,
            created_at=now, updated_at=now, version=1))
    db.session.commit()
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--items", type=int, default=300)
    args = parser.parse_args()
    app = create_app({"HOTLINE_SCHEDULER": False, "SECRET_KEY": "bench-" + "k" * 40, "HOTLINE_ENV": "development"})
    with app.app_context():
        cases = db.session.scalar(select(func.count()).select_from(Case))
        schedule.ensure_defaults()
        ensure_items(args.items)
        db.session.commit()
        print(f"database: {db.engine.url.render_as_string(hide_password=True)} ({db.engine.dialect.name}), "
              f"{cases:,} cases, {args.items} content items")
        timings = []
        for r in range(args.rounds):
            day = LAST_DAY - timedelta(days=1 + r % 7)
            set_now(app, datetime(day.year, day.month, day.day, 16, 30, tzinfo=SHANGHAI))
            if db.session.scalar(select(Digest.id).where(Digest.air_date == day)) is not None:
                raise SystemExit(f"a digest of {day} is stored; the benchmark builds dates that have none")
            started = time.perf_counter()
            digest, built = service.build(day, None)
            db.session.flush()
            elapsed = (time.perf_counter() - started) * 1000
            assert built
            v = service.view(digest)
            qa = sum(1 for i in v["items"] if i["section"] == "qa")
            db.session.rollback()
            timings.append(elapsed)
            print(f"round {r + 1:2d}  {day}  {elapsed:7.1f} ms  {len(v['items'])} items ({qa} Q&A), "
                  f"{len(v['left_out'])} left out, running time {v['total_seconds'] // 60}:{v['total_seconds'] % 60:02d}")
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
        print(f"digest build: median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
              f"min {timings[0]:.1f} ms, max {timings[-1]:.1f} ms over {len(timings)} rounds (target: median ≤ 500 ms)")


if __name__ == "__main__":
    main()
