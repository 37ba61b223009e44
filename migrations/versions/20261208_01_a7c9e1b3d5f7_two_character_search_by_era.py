"""two-character search by era: the pairs' indexes tag each character pair with the era of the case's id

Revision ID: a7c9e1b3d5f7
Revises: f2a4c6e8b0d1
Create Date: 2026-12-08 00:00:00

PostgreSQL only (hotline/search.py). The pairs' indexes of e5f1a2b3c4d6 found every case holding a rare
two-character word at once, but the case list wants only the newest few hundred: at ten million cases 尘肺 is in
15,000 cases, and reading their ids meant reading 15,000 heap pages (p99 above 100 ms). Here each pair is indexed
as `pair#era`, the era being the case's id >> 18 (262,144 ids), so the list asks the newest eras first and reads
only their matches. The same pairs, the same number of entries: the new indexes replace the old ones. The era's
width is written in hotline/search.py (ERA_BITS) too; a change of it is a new function and a rebuild.
Built CONCURRENTLY, as e5f1a2b3c4d6's were: registrations go on during the build.
"""
from alembic import op

from hotline import search

revision = 'a7c9e1b3d5f7'
down_revision = 'f2a4c6e8b0d1'
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION hotline_era_bigrams(t text, case_id integer) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10 AS $$
    SELECT array(SELECT m[1] || '#' || (case_id >> 18) FROM regexp_matches(t, '(..)', 'g') AS m)
        || array(SELECT m[1] || '#' || (case_id >> 18) FROM regexp_matches(substr(t, 2), '(..)', 'g') AS m)
$$
"""
# The searched text exactly as hotline/search.py TEXT_SQL writes it (the planner matches expressions by shape).
TEXT = ("coalesce(summary, '') || ' ' || coalesce(detail, '') || ' ' || coalesce(answer, '') || ' ' || "
        "coalesce(caller_employer, '')")
INDEXES = {
    "ix_hotline_case_text_era_bigram": f"hotline_era_bigrams(({TEXT}), id)",
    "ix_hotline_case_caller_name_era_bigram": "hotline_era_bigrams(coalesce(caller_name, ''), id)",
}
OLD_INDEXES = {
    "ix_hotline_case_text_bigram": f"hotline_bigrams(({TEXT}))",
    "ix_hotline_case_caller_name_bigram": "hotline_bigrams(coalesce(caller_name, ''))",
}


def _build(indexes: dict[str, str]) -> None:
    with op.get_context().autocommit_block():
        for name, expression in indexes.items():
            search.build_index_concurrently(op, name, expression)


def _drop(names) -> None:
    with op.get_context().autocommit_block():
        for name in names:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    _build(INDEXES)  # the new ones first: searches keep an index of pairs throughout
    _drop(OLD_INDEXES)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    _build(OLD_INDEXES)
    _drop(INDEXES)
    op.execute("DROP FUNCTION IF EXISTS hotline_era_bigrams(text, integer)")
