"""digest item: terms a producer deliberately kept through the redaction, and who did it when

Revision ID: c4e8a1d2f713
Revises: c7e2a9d4f1b8
Create Date: 2026-12-03 19:40:00

"""
from alembic import op
import sqlalchemy as sa
import hotline.db_types  # noqa: F401


revision = 'c4e8a1d2f713'
down_revision = 'c7e2a9d4f1b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('digest_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allowed_terms', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('allowed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('allowed_at', hotline.db_types.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key('fk_digest_item_allowed_by_id_user_account', 'user_account', ['allowed_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('digest_item', schema=None) as batch_op:
        batch_op.drop_constraint('fk_digest_item_allowed_by_id_user_account', type_='foreignkey')
        batch_op.drop_column('allowed_at')
        batch_op.drop_column('allowed_by_id')
        batch_op.drop_column('allowed_terms')
