"""two-character search: hotline_bigrams and GIN indexes of the searched text's and caller name's character pairs

Revision ID: e5f1a2b3c4d6
Revises: d8e3b1c5a7f2
Create Date: 2026-12-06 00:10:00

PostgreSQL only (hotline/search.py _has_bigram). pg_trgm needs three characters, so a search for a rare
two-character word (尘肺) walked the newest cases until it had found enough matches: at ten million cases
some 270,000 rows. The pairs of every text are indexed here; the function takes the pairs at even and at odd
offsets with two regular expressions (a plain loop over the positions in SQL was slower to build).
COST 10 (above a substring test's): a walk of the newest cases tests strpos first and computes a row's
pairs only when the word is there. The indexes are built CONCURRENTLY, outside the migration's transaction, so registrations go on during the
build (about as long as the trigram index's build on a large register).
"""
from alembic import op

from hotline import search

revision = 'e5f1a2b3c4d6'
down_revision = 'd8e3b1c5a7f2'
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION hotline_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10 AS $$
    SELECT array(SELECT m[1] FROM regexp_matches(t, '(..)', 'g') AS m)
        || array(SELECT m[1] FROM regexp_matches(substr(t, 2), '(..)', 'g') AS m)
$$
"""
# The searched text exactly as hotline/search.py TEXT_SQL writes it (the planner matches expressions by shape).
TEXT = ("coalesce(summary, '') || ' ' || coalesce(detail, '') || ' ' || coalesce(answer, '') || ' ' || "
        "coalesce(caller_employer, '')")
INDEXES = {
    "ix_hotline_case_text_bigram": f"hotline_bigrams(({TEXT}))",
    "ix_hotline_case_caller_name_bigram": "hotline_bigrams(coalesce(caller_name, ''))",
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    with op.get_context().autocommit_block():
        for name, expression in INDEXES.items():
            search.build_index_concurrently(op, name, expression)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS hotline_bigrams(text)")
