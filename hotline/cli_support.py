"""What every `flask hotline …` command shares, below the commands themselves (hotline/cli.py and the features'
own command modules import it; it imports none of them)."""
from __future__ import annotations

import sys

import click
from sqlalchemy import select

from hotline.auth.models import User
from hotline.errors import ServiceError
from hotline.extensions import db


def fail(err: ServiceError) -> None:
    """Say the service's message on stderr, change nothing, exit 2."""
    db.session.rollback()
    click.echo(f"error: {err.message}", err=True)
    sys.exit(2)


def user_or_exit(username: str | None) -> User | None:
    """The user a `--user NAME` option names (None without one); an unknown name stops the command with exit 2."""
    if not username:
        return None
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        click.echo(f"error: no user {username}", err=True)
        sys.exit(2)
    return user
