"""case external_id: the 12351 platform's id of a case handed down (file exchange)

Revision ID: 5e0c3a7b91d4
Revises: eda4e39a51a2
Create Date: 2026-12-04 22:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e0c3a7b91d4'
down_revision = 'eda4e39a51a2'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, not batch mode: on SQLite a batch re-creates hotline_case without the search triggers
    # (hotline/search.py). Nullable, no default: PostgreSQL changes only the catalogue, the index starts empty.
    op.add_column('hotline_case', sa.Column('external_id', sa.String(length=64), nullable=True))
    op.create_index('uq_hotline_case_external_id', 'hotline_case', ['external_id'], unique=True)


def downgrade():
    op.drop_index('uq_hotline_case_external_id', table_name='hotline_case')
    op.drop_column('hotline_case', 'external_id')  # SQLite 3.35+ drops a column in place
