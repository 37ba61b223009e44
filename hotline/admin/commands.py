"""`hotline department add`: a door over the admin service's departments (each in an organisation)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from hotline.admin.service import create_department
from hotline.cli_support import fail
from hotline.errors import ServiceError
from hotline.extensions import db

department_cli = AppGroup("department", help="Departments of an organisation.")


@department_cli.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--org", "org_code", required=True, help="organisation code")
def department_add(code, name, org_code):
    """Add a department to an organisation."""
    try:
        dept = create_department(code, name, None, org_code)
    except ServiceError as err:
        fail(err)
    db.session.commit()
    click.echo(f"created department {dept.code} ({dept.name}) in {org_code}")
