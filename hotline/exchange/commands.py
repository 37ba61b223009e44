"""`flask --app wsgi hotline exchange import FILE` / `… export --since DATE`: doors over hotline/exchange/service.py."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from hotline.cli_support import fail, user_or_exit
from hotline.errors import ServiceError
from hotline.exchange import service
from hotline.extensions import db

exchange_cli = AppGroup("exchange", help="File exchange with the provincial / national 12351 platform.")


@exchange_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="check every line and report; save nothing")
@click.option("--user", "username", default=None,
              help="operator recorded as registering the cases (default: the system)")
def import_cmd(file, dry_run, username):
    """Register the cases the platform handed down (.jsonl or .xlsx): all lines or none; known ids skipped."""
    actor = user_or_exit(username)
    path = Path(file)
    try:
        report = service.import_file(actor, path.name, path.read_bytes(), dry_run)
    except ServiceError as err:
        fail(err)
    for error in report.errors:
        click.echo(f"row {error.row}, field {error.field or '-'}: {error.reason}")
    for skip in report.skipped:
        where = f"case {skip.case_no}" if skip.case_no else "an earlier row of this file"
        click.echo(f"row {skip.row}, {skip.external_id}: already imported as {where}; skipped")
    if report.ignored_columns:
        click.echo("fields not read: " + ", ".join(report.ignored_columns))
    summary = (f"{path.name}: {report.rows} rows, {len(report.new)} new, {len(report.skipped)} already imported, "
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
    for external_id, case_no in report.imported.items():
        click.echo(f"{external_id} -> {case_no}")
    click.echo(summary + f"; imported {len(report.imported)}")


@exchange_cli.command("export")
@click.option("--since", required=True, help="cases changed at or after this local date (or ISO date and time)")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False),
              help="file to write (default: JSON lines on standard output)")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "xlsx"]), default=None,
              help="default: from the --out file's ending, else jsonl")
def export_cmd(since, out, fmt):
    """Write the feedback (status, reply, closure, 回访) on the cases the platform handed down."""
    try:
        moment = service.parse_since(since)
    except ServiceError as err:
        fail(err)
    if fmt is None:
        fmt = "xlsx" if out and out.lower().endswith(".xlsx") else "jsonl"
    if fmt == "xlsx" and not out:
        click.echo("error: --format xlsx needs --out FILE", err=True)
        sys.exit(2)
    records = service.feedback(moment)
    data = service.feedback_xlsx(records) if fmt == "xlsx" else service.feedback_jsonl(records)
    db.session.rollback()  # read only
    if out:
        Path(out).write_bytes(data)
        click.echo(f"{len(records)} cases written to {out}", err=True)
    else:
        click.echo(data.decode("utf-8"), nl=False)
        click.echo(f"{len(records)} cases", err=True)
