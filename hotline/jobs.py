"""Scheduler jobs and the run lock that keeps them single, on PostgreSQL and SQLite.

Each job runs in its own app context; a lease row in job_lease makes a second scheduler
(or an overrunning run) skip instead of running in parallel. A lease whose holder has no database
session left is taken over at once, so after a PostgreSQL restart two runs of one job can overlap
for a moment (the old holder reconnects and carries on). The unique keys on flags and notices, and
delivery claiming each notice atomically, are what make that safe: even two runs at once could not
double anything.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import or_, text, update

from hotline import clock
from hotline.config import PROCESS_NAME
from hotline.extensions import db

log = logging.getLogger("hotline.jobs")
HOLDER = PROCESS_NAME  # also the application_name of this process's PostgreSQL sessions
_inside: set[str] = set()  # leases a run in this process is inside run_lock for right now
LEASE = {"overdue": timedelta(minutes=5), "notify": timedelta(minutes=2), "reminders": timedelta(minutes=5),
         "digest": timedelta(minutes=5)}
LEASE["calls"] = timedelta(minutes=10)  # telephony: ask Twilio how calls ended whose end was never reported
LEASE["escalate"] = timedelta(minutes=5)  # 督办 by the clock (hotline/cases/service.py escalate_overdue)
LEASE["classifier"] = timedelta(minutes=30)  # intake help: learn suggestions from the closed cases
LEASE["rollup"] = timedelta(minutes=30)  # the dashboard's daily figures (hotline/reports/daily.py)


@contextmanager
def run_lock(name: str):
    """Yields True when this process holds the lease for `name`, False when another does."""
    from hotline.notify.models import JobLease
    from hotline.notify.service import _insert_ignore

    now = clock.wall()
    ttl = LEASE.get(name, timedelta(minutes=5))
    _insert_ignore(JobLease, [dict(name=name, holder="", until=now - timedelta(seconds=1), runs=0)])
    db.session.commit()
    free = [JobLease.until < now]
    if name not in _inside:
        # Ours, but no run of ours is inside: an earlier run lost the database before it could release.
        free.append(JobLease.holder == HOLDER)
    if db.session.get_bind().dialect.name == "postgresql":
        # The holder has no session left: it was killed (or PostgreSQL restarted under it). Do not wait
        # for the lease to expire. Needs each process's own sessions (no transaction-pooling proxy).
        free.append(text("NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = job_lease.holder)"))
    got = db.session.execute(
        update(JobLease).where(JobLease.name == name, or_(*free))
        .values(holder=HOLDER, until=now + ttl, runs=JobLease.runs + 1)
    ).rowcount == 1
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
    from hotline.digest import service as digests
    from hotline.notify import delivery, service

    bodies = {"overdue": service.scan, "notify": delivery.deliver_pending, "reminders": service.send_reminders,
              "digest": (lambda: digests.build_for_cli(params["day"])) if params.get("day") else digests.scheduled}
    from hotline.telephony.service import reconcile as reconcile_calls

    bodies["calls"] = reconcile_calls
    from hotline.cases.service import escalate_overdue

    bodies["escalate"] = escalate_overdue  # 督办 by the clock

    from hotline.knowledge.classify import train as train_classifier

    bodies["classifier"] = train_classifier
    from hotline.telephony.channels import run as channels

    bodies["channels"] = channels  # station line retries, 回访 calls, recordings
    from hotline.reports.daily import roll_up

    bodies["rollup"] = roll_up  # the days that are over, into the dashboard's daily figures
    if name not in bodies:
        raise ValueError(f"unknown job {name}")
    with run_lock(name) as got:
        if not got:
            log.info("job %s skipped: another process holds it", name)
            return None
        try:
            result = bodies[name]()
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
    cfg = app.config
    scheduler.add_job(job_runner(app, "overdue"), "interval", seconds=cfg["HOTLINE_SCAN_SECONDS"], id="overdue",
                      next_run_time=first)
    scheduler.add_job(job_runner(app, "notify"), "interval", seconds=cfg["HOTLINE_NOTIFY_SECONDS"], id="notify",
                      next_run_time=first)
    scheduler.add_job(job_runner(app, "escalate"), "interval", seconds=cfg["HOTLINE_SCAN_SECONDS"], id="escalate",
                      next_run_time=first)
    scheduler.add_job(job_runner(app, "reminders"), "interval", seconds=cfg["HOTLINE_REMINDER_SECONDS"],
                      id="reminders", next_run_time=first)
    # The digest: the job looks every minute whether today's build time (digest settings, default 16:30) has
    # come and the slot not passed, and builds once per date; at start-up it catches up a missed build.
    scheduler.add_job(job_runner(app, "digest"), "interval", seconds=cfg["HOTLINE_DIGEST_SECONDS"],
                      id="digest", next_run_time=first)
    scheduler.add_job(job_runner(app, "calls"), "interval", seconds=cfg["HOTLINE_CALLS_SECONDS"],
                      id="calls", next_run_time=first)  # telephony: calls whose final status callback was lost
    # Intake help: the suggestion classifier learns from the closed cases once a day (and at start-up).
    scheduler.add_job(job_runner(app, "classifier"), "interval", seconds=cfg["HOTLINE_CLASSIFIER_SECONDS"],
                      id="classifier", next_run_time=first)
    scheduler.add_job(job_runner(app, "channels"), "interval", seconds=cfg["HOTLINE_CHANNELS_SECONDS"],
                      id="channels", next_run_time=first)
    scheduler.add_job(job_runner(app, "rollup"), "interval", seconds=cfg["HOTLINE_ROLLUP_SECONDS"],
                      id="rollup", next_run_time=first)
    return scheduler
