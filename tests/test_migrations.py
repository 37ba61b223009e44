"""Alembic upgrades an empty database to head, matching the models exactly, and downgrades back."""
from __future__ import annotations

import tempfile

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from conftest import BACKENDS, PgDatabase, make_app
from hotline.extensions import db
from hotline.search import is_extra


def include_object(obj, name, type_, reflected, compare_to):
    return not is_extra(name)


@pytest.fixture(params=BACKENDS)
def empty_app(request):
    if request.param == "sqlite":
        app = make_app(f"sqlite:///{tempfile.mkdtemp()}/empty.sqlite3")
        yield app
        with app.app_context():
            db.engine.dispose()
    else:
        pg = PgDatabase("hotline_mig")
        app = make_app(pg.url)
        yield app
        with app.app_context():
            db.engine.dispose()
        pg.drop()


def test_upgrade_from_empty_matches_models_and_downgrades(empty_app):
    with empty_app.app_context():
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
            diff = compare_metadata(ctx, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        tables = set(inspect(db.engine).get_table_names())
        assert {"hotline_case", "case_event", "user_account", "calendar_day"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
