"""Chinese full-text search: pg_trgm GIN index on PostgreSQL, FTS5 trigram table on SQLite

Revision ID: 5e4c0a1f2b3d
Revises: e3f147086527
Create Date: 2026-11-28 16:30:00

"""
from alembic import op

from hotline import search

revision = '5e4c0a1f2b3d'
down_revision = 'e3f147086527'
branch_labels = None
depends_on = None


def _run(statements):
    for sql in statements:
        op.execute(sql)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(search.POSTGRES_UP)
    elif dialect == "sqlite":
        _run(search.SQLITE_UP)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(search.POSTGRES_DOWN)
    elif dialect == "sqlite":
        _run(search.SQLITE_DOWN)
