"""Scheduler jobs and the run lock that keeps them single, on PostgreSQL and SQLite.

Each job runs in its own app context; a lease row in job_lease makes a second scheduler
(or an overrunning run) skip instead of running in parallel. A lease whose holder has no database
session left is taken over at once, so after a PostgreSQL restart two runs of one job can overlap
for a moment (the old holder reconnects and carries on). The unique keys on flags and notices, and
delivery claiming each notice atomically, are what make that safe: even two runs at once could not
double anything.
"""
from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, text, update

from hotline import clock
from hotline.config import PROCESS_NAME
from hotline.db_helpers import changed_rows, insert_ignore
from hotline.extensions import db

log = logging.getLogger("hotline.jobs")
HOLDER = PROCESS_NAME  # also the application_name of this process's PostgreSQL sessions
_inside: set[str] = set()  # leases a run in this process is inside run_lock for right now


@dataclass(frozen=True)
class Job:
    """One scheduled job: the CLI's `run-job`, the scheduler and the README's job table read this list."""

    name: str
    target: str  # "module:function", imported when the job runs (features import this module, not it them)
    every: str  # the setting holding the interval in seconds
    lease: timedelta  # how long a run may hold the run lock before another process may take it
    description: str
    dated: str | None = None  # "module:function" taking day=…: what `run-job NAME --date` runs


JOBS: tuple[Job, ...] = (
    Job("overdue", "hotline.notify.service:scan", "HOTLINE_SCAN_SECONDS", timedelta(minutes=5),
        "Deadline watch: warns before and flags past a reply or acceptance deadline (临期/超期)."),
    Job("notify", "hotline.notify.delivery:deliver_pending", "HOTLINE_NOTIFY_SECONDS", timedelta(minutes=2),
        "Delivers the SMS waiting in the outbox (retries, quiet hours)."),
    Job("escalate", "hotline.cases.service:escalate_overdue", "HOTLINE_SCAN_SECONDS", timedelta(minutes=5),
        "督办 by the clock: escalates cases the case type's number of working days past their reply deadline."),
    Job("reminders", "hotline.notify.service:send_reminders", "HOTLINE_REMINDER_SECONDS", timedelta(minutes=5),
        "One morning reminder per person listing their still-overdue cases."),
    Job("digest", "hotline.digest.service:scheduled", "HOTLINE_DIGEST_SECONDS", timedelta(minutes=5),
        "Builds the day's 《职工之声》 digest once its build time has come (`--date` builds that day).",
        dated="hotline.digest.service:build_for_cli"),
    Job("calls", "hotline.telephony.reconcile:reconcile", "HOTLINE_CALLS_SECONDS", timedelta(minutes=10),
        "Asks Twilio how calls ended whose final status callback never arrived."),
    Job("classifier", "hotline.knowledge.classify:train", "HOTLINE_CLASSIFIER_SECONDS", timedelta(minutes=30),
        "Intake help: the suggestion classifier learns from the closed cases and stores its held-out accuracy."),
    Job("channels", "hotline.voice_jobs:run", "HOTLINE_CHANNELS_SECONDS", timedelta(minutes=5),
        "Station line retries, 回访 calls, recording downloads and deletions."),
    Job("rollup", "hotline.reports.daily:roll_up", "HOTLINE_ROLLUP_SECONDS", timedelta(minutes=30),
        "The dashboard's daily figures for the days that are over (built from scratch after an upgrade)."),
)
BY_NAME = {job.name: job for job in JOBS}


def _function(target: str) -> Callable[..., Any]:
    module, _sep, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def jobs_table() -> str:
    """The README's table of jobs (tests/test_jobs.py checks the README against it)."""
    lines = ["| job | every (setting) | what it does |", "| --- | --- | --- |"]
    lines += [f"| `{job.name}` | `{job.every}` | {job.description} |" for job in JOBS]
    return "\n".join(lines)


@contextmanager
def run_lock(name: str):
    """Yields True when this process holds the lease for `name`, False when another does."""
    from hotline.notify.models import JobLease
    now = clock.wall()
    ttl = BY_NAME[name].lease if name in BY_NAME else timedelta(minutes=5)
    insert_ignore(JobLease, [dict(name=name, holder="", until=now - timedelta(seconds=1), runs=0)])
    db.session.commit()
    free: list[Any] = [JobLease.until < now]
    if name not in _inside:
        # Ours, but no run of ours is inside: an earlier run lost the database before it could release.
        free.append(JobLease.holder == HOLDER)
    if db.session.get_bind().dialect.name == "postgresql":
        # The holder has no session left: it was killed (or PostgreSQL restarted under it). Do not wait
        # for the lease to expire. Needs each process's own sessions (no transaction-pooling proxy).
        free.append(text("NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = job_lease.holder)"))
    got = changed_rows(
        update(JobLease).where(JobLease.name == name, or_(*free))
        .values(holder=HOLDER, until=now + ttl, runs=JobLease.runs + 1)
    ) == 1
    db.session.commit()
    if got:
        _inside.add(name)
    try:
        yield got
    finally:
        if got:
            _inside.discard(name)
            db.session.rollback()
            db.session.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == HOLDER)
                               .values(until=clock.wall() - timedelta(seconds=1), last_finished_at=clock.wall()))
            db.session.commit()


def run_job(name: str, **params) -> dict | None:
    """Run one job once, in the current app context. Returns its figures, or None when another holds it.

    `digest` with day=<date> builds that date (the CLI's --date); without it, the scheduled build of today.
    """
    job = BY_NAME.get(name)
    if job is None:
        raise ValueError(f"unknown job {name}")
    if params.get("day") and job.dated:
        body: Callable[[], Any] = functools.partial(_function(job.dated), params["day"])
    else:
        body = _function(job.target)
    with run_lock(name) as got:
        if not got:
            log.info("job %s skipped: another process holds it", name)
            return None
        try:
            result = body()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", name)
            raise
    return result


def job_runner(app, name: str):
    def run():
        with app.app_context():
            try:
                result = run_job(name)
                if result and any(result.values()):
                    log.info("job %s: %s", name, result)
            finally:
                db.session.remove()

    run.__name__ = f"job_{name}"
    return run


def build_scheduler(app, blocking: bool = False):
    """APScheduler with the watch jobs. coalesce: missed runs after downtime are caught up once."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=app.config["HOTLINE_TIMEZONE"],
                    job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    first = clock.wall()  # run each job at start-up, then on its interval
    for job in JOBS:
        scheduler.add_job(job_runner(app, job.name), "interval", seconds=app.config[job.every], id=job.name,
                          next_run_time=first)
    return scheduler
