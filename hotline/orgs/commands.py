"""`hotline org add` and `hotline org list`: doors over the organisation service."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from hotline.cli_support import fail
from hotline.errors import ServiceError
from hotline.extensions import db
from hotline.orgs import service

org_cli = AppGroup("org", help="Organisations (the city's 12351 centre and the unions below it).")


@org_cli.command("add")
@click.argument("code")
@click.option("--name", required=True, help="e.g. 吴江区总工会")
@click.option("--parent", default=None, help="parent organisation code (default: the root)")
def org_add(code, name, parent):
    """Add an organisation under PARENT."""
    try:
        org = service.create(None, code, name, parent)
    except ServiceError as err:
        fail(err)
    db.session.commit()
    click.echo(f"created {org.code} ({org.name}) under {' → '.join(o.code for o in service.chain(org)[:-1])}")


@org_cli.command("list")
def org_list():
    """The tree, one organisation a line."""
    for org in service.all_orgs():
        click.echo(f"{'  ' * org.depth}{org.code:<16} {org.name}")
