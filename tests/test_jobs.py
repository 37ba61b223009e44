"""The job registry (hotline/jobs.py JOBS) is the one list the CLI, the scheduler and the README read."""
from pathlib import Path

from hotline.jobs import JOBS, build_scheduler, jobs_table


def test_scheduler_runs_every_registered_job_on_its_setting(app):
    scheduler = build_scheduler(app)
    scheduled = {job.id: job.trigger.interval.total_seconds() for job in scheduler.get_jobs()}
    assert scheduled == {job.name: app.config[job.every] for job in JOBS}


def test_run_job_offers_exactly_the_registered_jobs(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hotline", "run-job", "no-such-job"])
    assert result.exit_code == 2
    for job in JOBS:
        assert job.name in result.output
    listed = runner.invoke(args=["hotline", "jobs"])
    assert listed.exit_code == 0 and listed.output.strip() == jobs_table()


def test_readme_table_is_the_registry():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- jobs table:")
    block = readme[readme.index("\n", start) + 1:readme.index("<!-- end of jobs table -->")]
    assert block.strip() == jobs_table(), "README's jobs table is stale: paste `flask --app wsgi hotline jobs`"


def test_every_job_target_exists():
    import importlib

    for job in JOBS:
        for target in filter(None, (job.target, job.dated)):
            module, _sep, attr = target.partition(":")
            assert callable(getattr(importlib.import_module(module), attr)), target
