"""`hotline org add` and `hotline department add`: doors over the organisation and admin services."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from hotline.errors import ServiceError
from hotline.extensions import db

org_cli = AppGroup("org", help="Organisations (the city's 12351 centre and the unions below it).")
department_cli = AppGroup("department", help="Departments of an organisation.")


@org_cli.command("add")
@click.argument("code")
@click.option("--name", required=True, help="e.g. 吴江区总工会")
@click.option("--parent", default=None, help="parent organisation code (default: the root)")
def org_add(code, name, parent):
    """Add an organisation under PARENT."""
    from hotline.cli import _fail
    from hotline.orgs import service

    try:
        org = service.create(None, code, name, parent)
    except ServiceError as err:
        _fail(err)
    db.session.commit()
    click.echo(f"created {org.code} ({org.name}) under {' → '.join(o.code for o in service.chain(org)[:-1])}")


@org_cli.command("list")
def org_list():
    """The tree, one organisation a line."""
    from hotline.orgs import service

    for org in service.all_orgs():
        click.echo(f"{'  ' * org.depth}{org.code:<16} {org.name}")


@department_cli.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--org", "org_code", required=True, help="organisation code")
def department_add(code, name, org_code):
    """Add a department to an organisation."""
    from hotline.admin.service import create_department
    from hotline.cli import _fail

    try:
        dept = create_department(code, name, None, org_code)
    except ServiceError as err:
        _fail(err)
    db.session.commit()
    click.echo(f"created department {dept.code} ({dept.name}) in {org_code}")
