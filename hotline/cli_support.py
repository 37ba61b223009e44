"""What every `flask hotline …` command shares, below the commands themselves (hotline/cli.py and the features'
own command modules import it; it imports none of them)."""
from __future__ import annotations

import sys

import click

from hotline.errors import ServiceError
from hotline.extensions import db


def fail(err: ServiceError) -> None:
    """Say the service's message on stderr, change nothing, exit 2."""
    db.session.rollback()
    click.echo(f"error: {err.message}", err=True)
    sys.exit(2)
