"""daily report figures: report_day, report_day_closed, report_rollup (hotline/reports/daily.py); call figures index

Revision ID: b7d21e5a0c93
Revises: 5e0c3a7b91d4
Create Date: 2026-12-04 00:00:00

The tables start empty and report_rollup.through NULL: the dashboard counts live until the `rollup`
job (or `flask --app wsgi hotline run-job rollup`) has counted the days already over.
"""
from alembic import op
import sqlalchemy as sa

revision = 'b7d21e5a0c93'
down_revision = '5e0c3a7b91d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_day',
    sa.Column('dim', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('registered', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('on_call', sa.Integer(), nullable=False),
    sa.Column('surveyed', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('reopened_closed', sa.Integer(), nullable=False),
    sa.Column('attempted', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.Column('reply_seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('dim', 'day', 'key', name=op.f('pk_report_day'))
    )
    op.create_table('report_day_closed',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_report_day_closed'))
    )
    op.create_table('report_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('through', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_rollup'))
    )
    op.execute("INSERT INTO report_rollup (id, through) VALUES (1, NULL)")
    # kpis.call_figures: an index-only scan of the period's calls (a year at 1M cases: ~3x faster)
    op.create_index('ix_telephony_call_figures', 'telephony_call',
                    ['started_at', 'direction', 'status', 'answered_at', 'wait_seconds', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_telephony_call_figures', table_name='telephony_call')
    op.drop_table('report_rollup')
    op.drop_table('report_day_closed')
    op.drop_table('report_day')
