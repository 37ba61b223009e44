"""reports: covering index for the figures, index on closed_at

Revision ID: 7a3c5e9d1b42
Revises: 5e4c0a1f2b3d
Create Date: 2026-11-28 17:00:00

"""
from alembic import op
import sqlalchemy as sa
import hotline.db_types  # noqa: F401


# revision identifiers, used by Alembic.
revision = '7a3c5e9d1b42'
down_revision = '5e4c0a1f2b3d'
branch_labels = None
depends_on = None

REPORT_COLUMNS = ['created_at', 'status', 'category_id', 'type_code', 'department_id', 'handler_id', 'channel',
                  'resolved_on_call', 'reopen_count', 'survey_result', 'reply_due_at', 'accept_due_at',
                  'replied_at', 'closed_at']


def upgrade():
    with op.batch_alter_table('hotline_case', schema=None) as batch_op:
        batch_op.create_index('ix_hotline_case_report', REPORT_COLUMNS, unique=False)
        batch_op.create_index('ix_hotline_case_closed_at', ['closed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('hotline_case', schema=None) as batch_op:
        batch_op.drop_index('ix_hotline_case_closed_at')
        batch_op.drop_index('ix_hotline_case_report')
