"""daily call figures: report_day_calls, report_rollup.calls_through (hotline/reports/daily.py); open-case index

Revision ID: c4f2a9d81e60
Revises: b7d21e5a0c93
Create Date: 2026-12-05 00:00:00

The table starts empty and calls_through NULL: the dashboard counts the calls live until the
`rollup` job (or `flask --app wsgi hotline run-job rollup`) has counted the days already over.
ix_hotline_case_open: the open cases only (partial), for 超期 now on the dashboard (index-only counts).
"""
from alembic import op
import sqlalchemy as sa

revision = 'c4f2a9d81e60'
down_revision = 'b7d21e5a0c93'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_day_calls',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('inbound', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('answered_within_15s', sa.Integer(), nullable=False),
    sa.Column('abandoned', sa.Integer(), nullable=False),
    sa.Column('callbacks_done', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_report_day_calls'))
    )
    with op.batch_alter_table('report_rollup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calls_through', sa.Date(), nullable=True))
    condition = sa.text("status IN ('registered', 'assigned', 'accepted')")  # cases.models.OPEN_STATUSES
    op.create_index('ix_hotline_case_open', 'hotline_case',
                    ['reply_due_at', 'status', 'accept_due_at', 'department_id', 'category_id', 'type_code',
                     'handler_id', 'channel', 'org_id', 'id'], unique=False,
                    postgresql_where=condition, sqlite_where=condition)


def downgrade():
    op.drop_index('ix_hotline_case_open', table_name='hotline_case')
    with op.batch_alter_table('report_rollup', schema=None) as batch_op:
        batch_op.drop_column('calls_through')
    op.drop_table('report_day_calls')
