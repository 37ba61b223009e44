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



@pytest.mark.parametrize("name, before, revision, function", [
    ("ix_hotline_case_caller_name_bigram", "d8e3b1c5a7f2", "e5f1a2b3c4d6", "hotline_bigrams("),
    ("ix_hotline_case_caller_name_era_bigram", "f2a4c6e8b0d1", "a7c9e1b3d5f7", "hotline_era_bigrams("),
])
def test_a_failed_concurrent_build_of_the_pairs_index_is_built_again(empty_app, name, before, revision, function):
    """The pairs' indexes (migrations e5f1a2b3c4d6, then a7c9e1b3d5f7 by era) are built CONCURRENTLY: a build
    that failed leaves an invalid index of that name behind, which the next upgrade must replace rather than
    keep (IF NOT EXISTS alone would)."""
    if empty_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL's concurrent index builds")
    from sqlalchemy import text

    with empty_app.app_context():
        upgrade(revision=before)
        with db.engine.begin() as conn:  # what a failed build leaves: an index of that name, marked invalid
            conn.execute(text(f"CREATE INDEX {name} ON hotline_case (case_no)"))
            conn.execute(text(f"UPDATE pg_index SET indisvalid = false WHERE indexrelid = '{name}'::regclass"))
        upgrade(revision=revision)
        with db.engine.connect() as conn:
            valid, definition = conn.execute(text(
                "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = :n"), {"n": name}).one()
        assert valid and function in definition
