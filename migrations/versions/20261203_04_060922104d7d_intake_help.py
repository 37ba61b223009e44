"""intake help: knowledge base (知识库) with versions and uses, employer keys and group-dispute alerts, the
suggestion classifier; search over summary, detail, answer, employer and caller name

Revision ID: 060922104d7d
Revises: c4e8a1d2f713
Create Date: 2026-12-03 19:13:06.937933

"""
from alembic import op
import sqlalchemy as sa

import hotline.db_types


# revision identifiers, used by Alembic.
revision = '060922104d7d'
down_revision = 'c4e8a1d2f713'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('classifier_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trained_at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('train_cases', sa.Integer(), nullable=False),
    sa.Column('test_cases', sa.Integer(), nullable=False),
    sa.Column('accuracy', sa.JSON(), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classifier_model'))
    )
    op.create_table('group_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_key', sa.String(length=128), nullable=False),
    sa.Column('employer_name', sa.String(length=128), nullable=False),
    sa.Column('callers', sa.Integer(), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('first_at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_alert'))
    )
    with op.batch_alter_table('group_alert', schema=None) as batch_op:
        batch_op.create_index('ix_group_alert_employer_key_last_at', ['employer_key', 'last_at'], unique=False)

    op.create_table('case_employer',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('employer_key', sa.String(length=128), nullable=False),
    sa.Column('caller_phone', sa.String(length=20), nullable=True),
    sa.Column('created_at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['hotline_case.id'], name=op.f('fk_case_employer_case_id_hotline_case')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_employer'))
    )
    with op.batch_alter_table('case_employer', schema=None) as batch_op:
        batch_op.create_index('ix_case_employer_key_created_at', ['employer_key', 'created_at'], unique=False)

    op.create_table('group_alert_case',
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['group_alert.id'], name=op.f('fk_group_alert_case_alert_id_group_alert')),
    sa.ForeignKeyConstraint(['case_id'], ['hotline_case.id'], name=op.f('fk_group_alert_case_case_id_hotline_case')),
    sa.PrimaryKeyConstraint('alert_id', 'case_id', name=op.f('pk_group_alert_case'))
    )
    with op.batch_alter_table('group_alert_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_alert_case_case_id'), ['case_id'], unique=False)

    op.create_table('knowledge_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('use_count', sa.Integer(), nullable=False),
    sa.Column('seed_key', sa.String(length=40), nullable=True),
    sa.Column('source_case_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', hotline.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', hotline.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_knowledge_article_category_id_category')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_knowledge_article_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['source_case_id'], ['hotline_case.id'], name=op.f('fk_knowledge_article_source_case_id_hotline_case')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_knowledge_article_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_article')),
    sa.UniqueConstraint('seed_key', name=op.f('uq_knowledge_article_seed_key'))
    )
    with op.batch_alter_table('knowledge_article', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_article_status_id', ['status', 'id'], unique=False)

    op.create_table('knowledge_article_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_knowledge_article_version_actor_id_user_account')),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_article.id'], name=op.f('fk_knowledge_article_version_article_id_knowledge_article')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_article_version')),
    sa.UniqueConstraint('article_id', 'version', name=op.f('uq_knowledge_article_version_article_id'))
    )
    op.create_table('knowledge_use',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', hotline.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_article.id'], name=op.f('fk_knowledge_use_article_id_knowledge_article')),
    sa.ForeignKeyConstraint(['case_id'], ['hotline_case.id'], name=op.f('fk_knowledge_use_case_id_hotline_case')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_knowledge_use_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_use')),
    sa.UniqueConstraint('article_id', 'case_id', name=op.f('uq_knowledge_use_article_id'))
    )
    with op.batch_alter_table('knowledge_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_use_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_use_case_id'), ['case_id'], unique=False)


    _backfill_employers()
    # Search over summary, detail, answer, employer and the caller's name (hotline/search.py).
    from hotline import search

    dialect = op.get_bind().dialect.name
    for sql in search.TEXT_POSTGRES_UP if dialect == "postgresql" else search.TEXT_SQLITE_UP:
        op.execute(sql)


def _backfill_employers():
    """Employer keys of the cases already registered, so that clusters and similar cases see them."""
    from hotline.knowledge.employer import normalise

    bind = op.get_bind()
    cases = sa.table("hotline_case", sa.column("id", sa.Integer), sa.column("caller_employer", sa.String),
                     sa.column("caller_phone", sa.String), sa.column("merged_into_id", sa.Integer),
                     sa.column("created_at", hotline.db_types.UTCDateTime()))
    rows = bind.execute(sa.select(cases.c.id, cases.c.caller_employer, cases.c.caller_phone, cases.c.created_at)
                        .where(cases.c.caller_employer.is_not(None), cases.c.merged_into_id.is_(None))).all()
    table = sa.table("case_employer", sa.column("case_id", sa.Integer), sa.column("employer_key", sa.String),
                     sa.column("caller_phone", sa.String), sa.column("created_at", hotline.db_types.UTCDateTime()))
    batch = []
    for case_id, employer, phone, created_at in rows:
        key = normalise(employer)
        if key:
            batch.append({"case_id": case_id, "employer_key": key, "caller_phone": phone, "created_at": created_at})
        if len(batch) >= 5000:
            op.bulk_insert(table, batch)
            batch = []
    if batch:
        op.bulk_insert(table, batch)


def downgrade():
    from hotline import search

    dialect = op.get_bind().dialect.name
    for sql in search.TEXT_POSTGRES_DOWN if dialect == "postgresql" else search.TEXT_SQLITE_DOWN:
        op.execute(sql)
    with op.batch_alter_table('knowledge_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_use_case_id'))
        batch_op.drop_index(batch_op.f('ix_knowledge_use_article_id'))

    op.drop_table('knowledge_use')
    op.drop_table('knowledge_article_version')
    with op.batch_alter_table('knowledge_article', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_article_status_id')

    op.drop_table('knowledge_article')
    with op.batch_alter_table('group_alert_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_alert_case_case_id'))

    op.drop_table('group_alert_case')
    with op.batch_alter_table('case_employer', schema=None) as batch_op:
        batch_op.drop_index('ix_case_employer_key_created_at')

    op.drop_table('case_employer')
    with op.batch_alter_table('group_alert', schema=None) as batch_op:
        batch_op.drop_index('ix_group_alert_employer_key_last_at')

    op.drop_table('group_alert')
    op.drop_table('classifier_model')
