"""`flask --app wsgi hotline backup DEST` and `… hotline restore SRC`: doors over hotline/backup/service.py."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from hotline.backup import service

PG_BIN = click.option("--pg-bin", envvar="HOTLINE_PG_BIN", default=None, metavar="DIR",
                      help="PostgreSQL: directory of pg_dump/pg_restore (env HOTLINE_PG_BIN); "
                           "default /usr/lib/postgresql/<server major>/bin, then PATH")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _report(outcome: service.Outcome) -> None:
    what = (f"restored {outcome.source} into the {outcome.backend} database {outcome.path}" if outcome.source
            else f"backup written to {outcome.path} ({outcome.backend}, {_size(outcome.size)})")
    click.echo(f"{what}: schema {', '.join(outcome.revisions)}, {outcome.cases} cases")
    if outcome.safety_copy:
        click.echo(f"the database as it was before the restore: {outcome.safety_copy}")
    for note in outcome.notes:
        click.echo(f"note: {note}")


@click.command("backup")
@with_appcontext
@click.argument("dest", type=click.Path(dir_okay=True, file_okay=True))
@click.option("--force", is_flag=True, help="replace DEST if it is an existing file")
@PG_BIN
def backup_cmd(dest, force, pg_bin):
    """Back the database up to DEST (a file, or a directory for a dated file), consistently, while the app runs."""
    try:
        outcome = service.backup(dest, force=force, pg_bin=pg_bin)
    except service.BackupError as err:
        click.echo(f"error: {err.message}", err=True)
        sys.exit(2)
    _report(outcome)


@click.command("restore")
@with_appcontext
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option("--no-safety-copy", is_flag=True, help="do not back the current database up first")
@PG_BIN
def restore_cmd(src, yes, no_safety_copy, pg_bin):
    """Replace the whole database by the backup SRC (checked first). Stop the web and scheduler processes before."""
    if not yes:
        click.confirm(f"Replace the whole database by {src}? Everything saved since that backup is lost"
                      + ("" if no_safety_copy else " (a copy of the current database is kept)"), abort=True)
    try:
        outcome = service.restore(src, safety_copy=not no_safety_copy, pg_bin=pg_bin)
    except service.BackupError as err:
        click.echo(f"error: {err.message}", err=True)
        if not err.changed:
            click.echo("the database was not changed", err=True)
        sys.exit(2)
    _report(outcome)
