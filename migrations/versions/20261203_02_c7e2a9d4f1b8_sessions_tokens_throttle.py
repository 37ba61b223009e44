"""trust: server-side sessions, token scope and last use, login locks; no number in voicemail summaries

Revision ID: c7e2a9d4f1b8
Revises: c16a0e1f7b20
Create Date: 2026-12-03 19:30:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa

import hotline.db_types


# revision identifiers, used by Alembic.
revision = 'c7e2a9d4f1b8'
down_revision = 'c16a0e1f7b20'
branch_labels = None
depends_on = None

# The summaries voicemail cases were given before: "<number>的语音留言，N秒。…" and "Voicemail from <number>, N
# seconds. …". The number goes; the rest is what new voicemail cases get.
_OLD_ZH = re.compile(r"^\s*\+?[\d*][\d* ()-]{2,}的语音留言，")
_OLD_EN = re.compile(r"^Voicemail from \+?[\d*][\d* ()-]{2,}, ")


def upgrade():
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('ended_at', hotline.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_session_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_session_token_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index('ix_user_session_user_id_ended_at', ['user_id', 'ended_at'], unique=False)

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=8), server_default='full', nullable=False))
        batch_op.add_column(sa.Column('last_used_at', hotline.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_reason', sa.String(length=16), nullable=True))

    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default='attempt', nullable=False))
        batch_op.add_column(sa.Column('minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('actor_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_login_attempt_actor_id_user_account'), 'user_account',
                                    ['actor_id'], ['id'])

    conn = op.get_bind()
    if conn.dialect.name == 'sqlite':
        # SQLite's batch mode rebuilt hotline_case in the migration before this one (c16a0e1f7b20), which
        # drops the triggers that keep the FTS search table in step (hotline/search.py): put them back and
        # rebuild the index. Idempotent (IF NOT EXISTS), so harmless where they survived.
        from hotline import search

        for statement in search.SQLITE_UP:
            op.execute(statement)

    strip_numbers_from_voicemail_summaries(conn)


def downgrade():
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_login_attempt_actor_id_user_account'), type_='foreignkey')
        batch_op.drop_column('actor_id')
        batch_op.drop_column('minutes')
        batch_op.drop_column('kind')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('revoked_reason')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('scope')

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index('ix_user_session_user_id_ended_at')

    op.drop_table('user_session')


def strip_numbers_from_voicemail_summaries(conn):
    """Personal data out of system-written text: the caller's number led old voicemail summaries."""
    case = sa.table('hotline_case', sa.column('id', sa.Integer), sa.column('channel', sa.String),
                    sa.column('summary', sa.String))
    rows = conn.execute(sa.select(case.c.id, case.c.summary).where(case.c.channel == 'voicemail')).all()
    for case_id, summary in rows:
        fixed = _OLD_EN.sub("Voicemail, ", _OLD_ZH.sub("语音留言，", summary or ""))
        if fixed != summary:
            conn.execute(case.update().where(case.c.id == case_id).values(summary=fixed))
