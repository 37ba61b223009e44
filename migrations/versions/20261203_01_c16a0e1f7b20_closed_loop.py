"""closed loop: 回访 resolved and review, 退单审核, escalation after N working days, admin change log,
append-only triggers on PostgreSQL

Revision ID: c16a0e1f7b20
Revises: b3dadc013626
Create Date: 2026-12-03 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hotline.db_types


# revision identifiers, used by Alembic.
revision = 'c16a0e1f7b20'
down_revision = 'b3dadc013626'
branch_labels = None
depends_on = None

OLD_REPORT_COLUMNS = ['created_at', 'status', 'category_id', 'type_code', 'department_id', 'handler_id', 'channel',
                      'resolved_on_call', 'reopen_count', 'survey_result', 'reply_due_at', 'accept_due_at',
                      'replied_at', 'closed_at']
# The timeline and the audit logs: rows are added, never changed or removed.
APPEND_ONLY = ('case_event', 'case_view', 'admin_change')


def upgrade():
    op.create_table('admin_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('area', sa.String(length=24), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_admin_change_actor_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_change'))
    )
    with op.batch_alter_table('admin_change', schema=None) as batch_op:
        batch_op.create_index('ix_admin_change_area_id', ['area', 'id'], unique=False)

    with op.batch_alter_table('case_type', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalate_after_days', sa.Integer(), server_default=sa.text('3'),
                                      nullable=False))

    with op.batch_alter_table('hotline_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('survey_resolved', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('review_pending', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))
        batch_op.add_column(sa.Column('return_requested_at', hotline.db_types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('return_reason', sa.Text(), nullable=True))
        batch_op.drop_index('ix_hotline_case_report')
        batch_op.create_index('ix_hotline_case_report', OLD_REPORT_COLUMNS + ['survey_resolved'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            CREATE FUNCTION hotline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$
        """)
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION hotline_append_only()")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS hotline_append_only()")

    with op.batch_alter_table('hotline_case', schema=None) as batch_op:
        batch_op.drop_index('ix_hotline_case_report')
        batch_op.create_index('ix_hotline_case_report', OLD_REPORT_COLUMNS, unique=False)
        batch_op.drop_column('return_reason')
        batch_op.drop_column('return_requested_at')
        batch_op.drop_column('review_pending')
        batch_op.drop_column('survey_resolved')

    with op.batch_alter_table('case_type', schema=None) as batch_op:
        batch_op.drop_column('escalate_after_days')

    with op.batch_alter_table('admin_change', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_change_area_id')

    op.drop_table('admin_change')
