"""The `flask --app wsgi hotline …` commands: doors over the same services.

Each command imports its feature when it runs, not at the top: `flask --help` and every other command
stay light (the classifier, the Excel writer and the SDKs load only for the command that needs them)."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from hotline.cli_support import fail, user_or_exit
from hotline.errors import ServiceError
from hotline.extensions import db
from hotline.jobs import BY_NAME, JOBS, build_scheduler, jobs_table, run_job

hotline_cli = AppGroup("hotline", help="12351 hotline administration.")
user_cli = AppGroup("user", help="User accounts.")
hotline_cli.add_command(user_cli)




@hotline_cli.command("seed")
def seed_cmd():
    """Reference data: departments, types, categories, the holiday calendar (idempotent)."""
    from hotline.seed import seed_reference

    added = seed_reference()
    db.session.commit()
    click.echo("seeded: " + ", ".join(f"{k} +{v}" for k, v in added.items()))


@hotline_cli.command("demo")
def demo_cmd():
    """Demo users and cases; prints the logins it creates."""
    from hotline.seed import seed_demo, seed_reference

    seed_reference()
    created = seed_demo()
    db.session.commit()
    if created:
        click.echo("demo logins (user / roles / password):")
        for username, roles, password in created:
            click.echo(f"  {username:<12} {roles:<12} {password}")
    else:
        click.echo("demo data already present")


@user_cli.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="operator|handler|producer|supervisor|admin; repeatable")
@click.option("--department", default=None, help="department code (handlers)")
@click.option("--org", "org_code", default=None, help="organisation code (default: the root)")
@click.option("--phone", default=None)
@click.option("--display-name", default=None)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def user_add(name, roles, department, org_code, phone, display_name, password_stdin):
    """Create a user."""
    from hotline.auth.service import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    role_list = [r for item in roles for r in item.split(",") if r]
    try:
        user = create_user(name, display_name or name, role_list, password, department, phone, org_code)
    except ServiceError as err:
        fail(err)
    db.session.commit()
    click.echo(f"created {user.username} ({', '.join(sorted(user.roles))})")


class TokenGroup(AppGroup):
    """`hotline token NAME …` issues; `hotline token list [NAME]` and `hotline token revoke ID` manage.
    (A user called "list" or "revoke" is issued a token with `hotline token issue NAME`.)"""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["issue", *args]
        return super().parse_args(ctx, args)


@hotline_cli.group("token", cls=TokenGroup)
def token_cli():
    """API tokens: hotline token NAME [--days N] [--scope full|read|digest]; list [NAME]; revoke ID."""


@token_cli.command("issue")
@click.argument("name")
@click.option("--days", default=None, help="days it is valid, 1 to 3650 (default HOTLINE_API_TOKEN_DAYS)")
@click.option("--scope", default="full", show_default=True,
              help="full: all the role may do; read: GET only; digest: the approved digests only")
def token_issue(name, days, scope):
    """Issue an API token for a user; printed on the last line."""
    from hotline.auth.service import issue_token, user_by_name

    try:
        user = user_by_name(name)
        token = issue_token(user, days, scope)
    except ServiceError as err:
        fail(err)
    db.session.commit()
    click.echo(f"API token for {name}, scope {scope} (shown once):")
    click.echo(token)


@token_cli.command("list")
@click.argument("name", required=False)
def token_list(name):
    """The API tokens (of one user): id, user, scope, state, created, expires, last used."""
    from hotline import clock
    from hotline.auth.service import list_tokens, token_state, user_by_name

    if name:
        try:
            user_by_name(name)
        except ServiceError as err:
            fail(err)

    def when(value):
        return clock.to_local(value).strftime("%Y-%m-%d %H:%M") if value else "-"

    rows = list_tokens(name)
    click.echo(f"{'id':>5}  {'user':<16} {'scope':<7} {'state':<8} {'created':<16}  {'expires':<16}  last used")
    for t in rows:
        click.echo(f"{t.id:>5}  {t.user.username:<16} {t.scope:<7} {token_state(t):<8} {when(t.created_at):<16}  "
                   f"{when(t.expires_at):<16}  {when(t.last_used_at)}")
    if not rows:
        click.echo("no API tokens")


@token_cli.command("revoke")
@click.argument("token_id")
def token_revoke(token_id):
    """Revoke an API token by its id (see `hotline token list`)."""
    from hotline.auth.service import revoke_token

    try:
        token = revoke_token(token_id)
    except ServiceError as err:
        fail(err)
    db.session.commit()
    click.echo(f"revoked token {token.id} of {token.user.username}")


@hotline_cli.command("unlock")
@click.option("--user", "username", default=None, help="the account to unlock (from every address)")
@click.option("--address", default=None, help="the address to unlock")
def unlock_cmd(username, address):
    """Lift a login lock (recorded in the audit log)."""
    from hotline.auth.service import unlock

    try:
        unlock(None, username, address)
    except ServiceError as err:
        fail(err)
    db.session.commit()
    click.echo("unlocked")


@hotline_cli.command("run-job")
@click.argument("name", type=click.Choice([job.name for job in JOBS]))
@click.option("--date", "day", default=None, help="digest: the air date to build (YYYY-MM-DD); default today")
def run_job_cmd(name, day):
    """Run one scheduler job once (the jobs: `flask hotline jobs`, or the README)."""
    params = {}
    if day is not None:
        if not BY_NAME[name].dated:
            click.echo("error: --date goes with the digest job only", err=True)
            sys.exit(2)
        from hotline.digest.service import parse_day

        try:
            params["day"] = parse_day(day)
        except ServiceError as err:
            fail(err)
    elif name == "digest":
        from hotline import clock

        params["day"] = clock.local_now().date()
    result = run_job(name, **params)
    if result is None:
        click.echo(f"{name}: skipped, another process is running it")
    else:
        click.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in result.items()))


@hotline_cli.command("reconcile-calls")
def reconcile_calls_cmd():
    """Ask Twilio how calls ended whose final status callback never arrived (the scheduler's `calls` job)."""
    from hotline.jobs import run_job

    result = run_job("calls")
    if result is None:
        click.echo("calls: skipped, another process is running it")
    else:
        click.echo("calls: " + ", ".join(f"{k} {v}" for k, v in result.items()))
@hotline_cli.command("jobs")
def jobs_cmd():
    """List the scheduler's jobs (the table in the README)."""
    click.echo(jobs_table())


@hotline_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="check every row and report; save nothing")
@click.option("--user", "username", default=None, help="user recorded on the imported cases' events")
def import_cmd(file, dry_run, username):
    """Import a 台账 (ledger) of historical cases from .xlsx or .csv: all rows or none; known numbers skipped."""
    from pathlib import Path

    from hotline.reports import importer

    actor = user_or_exit(username)
    path = Path(file)
    try:
        report = importer.import_ledger(actor, path.name, path.read_bytes(), dry_run)
    except ServiceError as err:
        fail(err)
    for error in report.errors:
        click.echo(f"row {error.row}, column {error.column or '-'}: {error.reason}")
    if report.ignored_columns:
        click.echo("columns not read: " + ", ".join(report.ignored_columns))
    summary = (f"{path.name}: {report.rows} rows, {len(report.new)} new, {len(report.existing)} already present, "
               f"{len(report.errors)} errors")
    if report.errors:
        db.session.rollback()
        click.echo(summary + "; nothing saved", err=True)
        sys.exit(2)
    if dry_run:
        db.session.rollback()
        click.echo(summary + "; dry run, nothing saved")
        return
    db.session.commit()
    click.echo(summary + f"; imported {len(report.new)}")


@hotline_cli.command("scheduler")
def scheduler_cmd():
    """Run the scheduler in the foreground (production: its own process)."""
    import logging

    from flask import current_app


    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the app behind the proxy
    click.echo("scheduler running: " + ", ".join(f"{job.name} every {app.config[job.every]} s" for job in JOBS))
    build_scheduler(app, blocking=True).start()


@hotline_cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve_cmd(host, port):
    """Development server, with the scheduler inside when HOTLINE_SCHEDULER is on."""
    from flask import current_app
    from werkzeug.serving import run_simple

    from hotline.reports.hot import warm_up

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the app behind the proxy
    if app.config["HOTLINE_SCHEDULER"]:
        build_scheduler(app).start()
        click.echo("scheduler started inside the web process")
    if app.config.get("HOTLINE_ENV") != "test":
        warm_up()
    run_simple(host, port, app, threaded=True, use_reloader=False)


from hotline.telephony.simulate import simulate_cli  # noqa: E402  (telephony, trying it without Twilio)

hotline_cli.add_command(simulate_cli)
from hotline.admin.commands import department_cli  # noqa: E402  (departments of an organisation)
from hotline.orgs.commands import org_cli  # noqa: E402  (hotline/orgs/)

hotline_cli.add_command(org_cli)
hotline_cli.add_command(department_cli)

from hotline.backup.commands import backup_cmd, restore_cmd  # noqa: E402  (docs/backup.md)

hotline_cli.add_command(backup_cmd)
hotline_cli.add_command(restore_cmd)

from hotline.exchange.commands import exchange_cli  # noqa: E402  (docs/exchange.md)

hotline_cli.add_command(exchange_cli)


def register_cli(app: Flask) -> None:
    app.cli.add_command(hotline_cli)
