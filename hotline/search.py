"""Chinese free-text search over case summaries, one path per database.

PostgreSQL: a pg_trgm GIN index on summary serves LIKE '%…%' for queries of three or more
characters (the database's LC_CTYPE, C.UTF-8 here, classifies CJK characters as word characters,
so trigrams are built for Chinese). SQLite: an FTS5 table with the trigram tokenizer, kept in
step by triggers. Queries of one or two characters have no trigram: they fall back to a plain
substring test (strpos on PostgreSQL, LIKE on SQLite), walking the newest cases first and
stopping at the page size.

Objects made here live outside the SQLAlchemy models; the migration creates them and
`SCHEMA_EXTRAS` tells Alembic's comparison to leave them alone.
"""
from __future__ import annotations

from sqlalchemy import func, or_, select, text

from hotline.cases.models import Case

TRGM_INDEX = "ix_hotline_case_summary_trgm"
FTS_TABLE = "case_fts"
SCHEMA_EXTRAS = (TRGM_INDEX, FTS_TABLE)


def is_extra(name: str | None) -> bool:
    return bool(name) and any(name == x or name.startswith(FTS_TABLE + "_") for x in SCHEMA_EXTRAS)


def escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def summary_condition(q: str, dialect: str):
    """SQL condition for 'summary contains q' (or the case number equals q)."""
    like = Case.summary.like("%" + escape_like(q) + "%", escape="\\")
    if dialect == "postgresql" and len(q) < 3:
        # No trigram in one or two characters: keep the planner off the trigram index (it would
        # recheck most of the table) and let it walk the newest cases until the page is full.
        return or_(func.strpos(Case.summary, q) > 0, Case.case_no == q)
    if dialect == "sqlite" and len(q) >= 3:
        # FTS5 trigram: a phrase query of the text, quotes doubled.
        phrase = '"' + q.replace('"', '""') + '"'
        fts = Case.id.in_(select(text("rowid")).select_from(text(FTS_TABLE)).where(
            text(f"{FTS_TABLE} MATCH :phrase").bindparams(phrase=phrase)))
        return or_(fts, Case.case_no == q)
    return or_(like, Case.case_no == q)


POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON hotline_case USING gin (summary gin_trgm_ops)",
]
POSTGRES_DOWN = [f"DROP INDEX IF EXISTS {TRGM_INDEX}"]
SQLITE_UP = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(summary, content='hotline_case', "
    "content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON hotline_case BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, summary) VALUES (new.id, new.summary); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON hotline_case BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, summary) VALUES ('delete', old.id, old.summary); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF summary ON hotline_case BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, summary) VALUES ('delete', old.id, old.summary); "
    f"INSERT INTO {FTS_TABLE}(rowid, summary) VALUES (new.id, new.summary); END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{s}" for s in ("ai", "ad", "au")] + [
    f"DROP TABLE IF EXISTS {FTS_TABLE}"]
