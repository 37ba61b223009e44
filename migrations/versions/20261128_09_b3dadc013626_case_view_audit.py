"""case view audit: who was shown a confidential case unmasked

Revision ID: b3dadc013626
Revises: 60e40e402210
Create Date: 2026-11-28 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hotline.db_types


# revision identifiers, used by Alembic.
revision = 'b3dadc013626'
down_revision = '60e40e402210'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('page', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['hotline_case.id'], name=op.f('fk_case_view_case_id_hotline_case')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_case_view_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_view'))
    )
    with op.batch_alter_table('case_view', schema=None) as batch_op:
        batch_op.create_index('ix_case_view_case_id_id', ['case_id', 'id'], unique=False)
        batch_op.create_index('ix_case_view_user_id_id', ['user_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_view', schema=None) as batch_op:
        batch_op.drop_index('ix_case_view_user_id_id')
        batch_op.drop_index('ix_case_view_case_id_id')

    op.drop_table('case_view')
