"""case external_id: the 12351 platform's id of a case handed down (file exchange)

Revision ID: 5e0c3a7b91d4
Revises: 3d5a42d29710
Create Date: 2026-12-04 22:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e0c3a7b91d4'
down_revision = '3d5a42d29710'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable and without a default: adding it is a catalogue change, no rewrite of the case table.
    with op.batch_alter_table('hotline_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_hotline_case_external_id'), ['external_id'])


def downgrade():
    with op.batch_alter_table('hotline_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_hotline_case_external_id'), type_='unique')
        batch_op.drop_column('external_id')
