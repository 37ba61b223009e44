"""organisations: the tree of unions (the city's 12351 centre at the root), every department, user, case and
programme under one, transfer down and report up

Today's data moves under the root organisation (id 1) without touching the rows: the new columns carry the
constant server default 1, which PostgreSQL (11+) adds to a table without rewriting it; no UPDATE runs.

Revision ID: eda4e39a51a2
Revises: 3d5a42d29710
Create Date: 2026-12-04 00:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hotline.db_types


# revision identifiers, used by Alembic.
revision = 'eda4e39a51a2'
down_revision = '3d5a42d29710'
branch_labels = None
depends_on = None

ROOT = {'id': 1, 'code': 'city', 'name': '苏州市总工会职工援助中心（12351）', 'parent_id': None, 'path': '/1/',
        'active': True, 'sort_order': 0, 'delegate_closure': False, 'digest_scope': 'subtree'}


def _org_column(name: str = 'org_id') -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default=sa.text('1'), nullable=False)


def upgrade():
    organisation = op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('sort_order', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('delegate_closure', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('digest_scope', sa.String(length=8), server_default='subtree', nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['organisation.id'], name=op.f('fk_organisation_parent_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('code', name=op.f('uq_organisation_code')),
    sa.UniqueConstraint('path', name=op.f('uq_organisation_path'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_parent_id'), ['parent_id'], unique=False)
    # The root exists before any column points at it.
    op.bulk_insert(organisation, [ROOT])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT setval(pg_get_serial_sequence('organisation', 'id'), 1)")

    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(_org_column())
        batch_op.create_index(batch_op.f('ix_department_org_id'), ['org_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_department_org_id_organisation'), 'organisation', ['org_id'], ['id'])

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(_org_column())
        batch_op.create_index(batch_op.f('ix_user_account_org_id'), ['org_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_user_account_org_id_organisation'), 'organisation', ['org_id'], ['id'])

    with op.batch_alter_table('radio_programme', schema=None) as batch_op:
        batch_op.add_column(_org_column())
        batch_op.create_foreign_key(batch_op.f('fk_radio_programme_org_id_organisation'), 'organisation', ['org_id'], ['id'])

    with op.batch_alter_table('hotline_case', schema=None) as batch_op:
        batch_op.add_column(_org_column())
        batch_op.add_column(_org_column('registered_org_id'))
        batch_op.add_column(sa.Column('up_requested_at', hotline.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('up_reason', sa.Text(), nullable=True))
        # Partial: every case today is the root's, so both start empty (one pass over the table each).
        batch_op.create_index('ix_hotline_case_org_id', ['org_id', 'created_at'], unique=False,
                              postgresql_where=sa.text('org_id <> 1'), sqlite_where=sa.text('org_id <> 1'))
        batch_op.create_index('ix_hotline_case_registered_org_id', ['registered_org_id'], unique=False,
                              postgresql_where=sa.text('registered_org_id <> org_id'),
                              sqlite_where=sa.text('registered_org_id <> org_id'))
        batch_op.create_foreign_key(batch_op.f('fk_hotline_case_org_id_organisation'), 'organisation', ['org_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_hotline_case_registered_org_id_organisation'), 'organisation', ['registered_org_id'], ['id'])

    if op.get_bind().dialect.name == "sqlite":
        # SQLite's batch mode re-created hotline_case without its search triggers: the text search's
        # (summary, detail, answer, employer, name; the intake-help migration), rebuilt.
        from hotline import search

        for statement in search.TEXT_SQLITE_UP:
            op.execute(statement)


def downgrade():
    with op.batch_alter_table('hotline_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_hotline_case_registered_org_id_organisation'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_hotline_case_org_id_organisation'), type_='foreignkey')
        batch_op.drop_index('ix_hotline_case_registered_org_id', sqlite_where=sa.text('registered_org_id <> org_id'))
        batch_op.drop_index('ix_hotline_case_org_id', sqlite_where=sa.text('org_id <> 1'))
        batch_op.drop_column('up_reason')
        batch_op.drop_column('up_requested_at')
        batch_op.drop_column('registered_org_id')
        batch_op.drop_column('org_id')

    with op.batch_alter_table('radio_programme', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_radio_programme_org_id_organisation'), type_='foreignkey')
        batch_op.drop_column('org_id')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_account_org_id_organisation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_account_org_id'))
        batch_op.drop_column('org_id')

    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_department_org_id_organisation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_department_org_id'))
        batch_op.drop_column('org_id')

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_parent_id'))
    op.drop_table('organisation')

    if op.get_bind().dialect.name == "sqlite":
        from hotline import search

        for statement in search.TEXT_SQLITE_UP:
            op.execute(statement)
