"""Chinese free-text search over case summaries, one path per database.

PostgreSQL: a pg_trgm GIN index on summary serves LIKE '%…%' for queries of three or more
characters (the database's LC_CTYPE, C.UTF-8 here, classifies CJK characters as word characters,
so trigrams are built for Chinese). SQLite: an FTS5 table with the trigram tokenizer, kept in
step by triggers. Words of one or two characters have no trigram: they fall back to a plain
substring test (strpos on PostgreSQL, LIKE on SQLite), walking the newest cases first and
stopping at the page size; on PostgreSQL a two-character word can also be looked up in an index
of character pairs (issue 21, below).

Objects made here live outside the SQLAlchemy models; the migration creates them and
`SCHEMA_EXTRAS` tells Alembic's comparison to leave them alone.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, text

from hotline.cases.models import Case

TRGM_INDEX = "ix_hotline_case_summary_trgm"
FTS_TABLE = "case_fts"
# Issue 19: search over summary, detail, answer and employer (one trigram index over their concatenation) and,
# for those allowed to see callers, the caller's name (its own trigram index).
TEXT_INDEX = "ix_hotline_case_text_trgm"
NAME_INDEX = "ix_hotline_case_caller_name_trgm"
# Issue 21: two-character words (most Chinese words: 尘肺, 欠薪, a surname and given name) have no trigram. On
# PostgreSQL a GIN index over the text's character pairs (the function hotline_era_bigrams, migration a7c9e1b3d5f7)
# finds a rare one without walking the table; a common one is still found fastest by walking the newest cases.
# The case list chooses between the two by the word's frequency among the newest cases
# (hotline/cases/queries.py _pair_word_candidates); an export leaves it to the planner.
# Each pair is indexed with the era of the case's id (`pair#era`, migration a7c9e1b3d5f7): the case list asks the
# newest eras first and reads only their matches, where the index of all eras at once gave every match's page.
BIGRAM_INDEX = "ix_hotline_case_text_era_bigram"
NAME_BIGRAM_INDEX = "ix_hotline_case_caller_name_era_bigram"
# A case's era is its id >> ERA_BITS, as the function hotline_era_bigrams computes it (the migration's own copy).
ERA_BITS = 18
SCHEMA_EXTRAS = (TRGM_INDEX, FTS_TABLE, TEXT_INDEX, NAME_INDEX, BIGRAM_INDEX, NAME_BIGRAM_INDEX)


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


# ---------------------------------------------------------------- issue 19: more fields, relevance, highlighting

# The searched text of a case, written exactly as the expression index is (PostgreSQL matches them by shape).
TEXT_SQL = ("(coalesce(hotline_case.summary, '') || ' ' || coalesce(hotline_case.detail, '') || ' ' || "
            "coalesce(hotline_case.answer, '') || ' ' || coalesce(hotline_case.caller_employer, ''))")
FIELDS = ("summary", "detail", "answer", "caller_employer", "caller_name")
PUBLIC_FIELDS = FIELDS[:-1]  # the caller's name only for those who may see callers
WEIGHTS = {"summary": 8.0, "caller_employer": 6.0, "caller_name": 6.0, "answer": 3.0, "detail": 2.0}
CANDIDATES = 400  # the newest matches ranked by relevance on the list page


def terms(q: str) -> list[str]:
    """The words of a query (white space separates them); each must occur. A case number stays whole."""
    return [t for t in q.split() if t][:5]


def _words(q: str) -> list[str]:
    """What text_condition looks for: the terms, or the query whole when it has none."""
    return terms(q) or [q]


def has_pair_words(q: str) -> bool:
    """Whether a query has a two-character word, which PostgreSQL may look up in the pairs' index."""
    return any(len(word) == 2 for word in _words(q))


def era_of(case_id: int) -> int:
    """The era of a case's id, as the pairs' indexes tag its pairs."""
    return case_id >> ERA_BITS


def text_condition(q: str, dialect: str, with_name: bool, private_ok=None, pairs: bool = True,
                   pairs_only: bool = False, eras: range = range(0)):
    """SQL condition: every term of q occurs in summary, detail, answer or employer (or, with_name, the
    caller's name); or q is the case number. private_ok (hotline/cases/access.py): where given, detail,
    employer and name count only on the cases whose private parts the actor may see. pairs=False leaves
    out the pairs' index condition of two-character words (the same matches, for a walk of recent cases).
    pairs_only=True (PostgreSQL, a query with a two-character word) is the pairs' index condition alone: every
    match and perhaps a few more (another word, a private part), tested by nothing but the index. `eras`: the
    eras of ids the pairs' index condition looks in (PostgreSQL; every era that holds a case, for all matches)."""
    from sqlalchemy import and_, literal_column

    words = _words(q)
    indexed: list[Any] = []  # PostgreSQL: the pairs' index conditions of two-character words

    def like(column, word):
        return column.like("%" + escape_like(word) + "%", escape="\\")

    if dialect == "sqlite":
        columns = "{summary detail answer caller_employer caller_name}" if with_name else \
            "{summary detail answer caller_employer}"
        parts: list[Any] = []
        for word in words:
            if len(word) >= 3:
                phrase = '"' + word.replace('"', '""') + '"'
                parts.append(Case.id.in_(select(text("rowid")).select_from(text(FTS_TABLE)).where(
                    text(f"{FTS_TABLE} MATCH :m").bindparams(m=f"{columns} : {phrase}"))))
            else:
                cond = [like(Case.summary, word), like(Case.detail, word), like(Case.answer, word),
                        like(Case.caller_employer, word)]
                if with_name:
                    cond.append(like(Case.caller_name, word))
                parts.append(or_(*cond))
    else:
        doc: Any = literal_column(TEXT_SQL)
        # '' written into the SQL, not bound: the expression must be the name index's own under any plan. With a
        # bound '' a generic plan (a prepared statement whose plan-cache setting did not hold) cannot use the index
        # and reads the pairs of every case (minutes at ten million).
        name = func.coalesce(Case.caller_name, literal_column("''"))
        parts = []
        for word in words:
            if len(word) == 2 and pairs:  # no trigram: the character pair's index finds a rare word (see below)
                in_pairs = [_has_bigram(doc, word, eras)] + ([_has_bigram(name, word, eras)] if with_name else [])
                indexed.append(or_(*in_pairs, Case.case_no == q))
            if len(word) < 3:  # no trigram: a substring test (while walking the newest cases)
                # Field by field, not in the joined text: the same matches (a word holds no space, the fields'
                # separator), and a walk of 20,000 cases 30 % faster without building each row's text.
                cond = [func.strpos(column, word) > 0
                        for column in (Case.summary, Case.detail, Case.answer, Case.caller_employer)]
                if with_name:
                    cond.append(func.strpos(name, word) > 0)
            else:
                cond = [like(doc, word)]
                if with_name:
                    cond.append(like(Case.caller_name, word))
            parts.append(or_(*cond))
    match = and_(*parts)
    if private_ok is not None:
        # A confidential case of others matches on its summary and answer only (no oracle on the rest).
        public = and_(*[or_(like(Case.summary, w), like(Case.answer, w)) for w in words])
        match = and_(match, or_(private_ok, public))
    if indexed and pairs_only:
        return and_(*indexed)
    if indexed:
        # Separate conditions beside the substring test, not inside it: a scan of the pairs' index returns
        # exact matches, so the rows it finds are tested only by the cheap substring test, and a walk of the
        # newest cases (a common word) computes the pairs only for the rows that contain the word.
        return and_(*indexed, or_(match, Case.case_no == q))
    return or_(match, Case.case_no == q)


def _has_bigram(value, word: str, eras: range):
    """PostgreSQL: the value's character pairs include the two-character word in one of these eras, written as
    the bigram indexes are (hotline_era_bigrams(expression, id) && ARRAY['word#era', …]), so the planner can use
    them. A case has one era: a query of several words asks each in the same eras. Exact for two characters; the
    strpos beside it is what a walk of the newest cases tests first, being the cheaper of the two."""
    from sqlalchemy import Text, bindparam
    from sqlalchemy.dialects.postgresql import ARRAY

    keys = [f"{word}#{era}" for era in eras]  # one array parameter, however many eras
    return func.hotline_era_bigrams(value, Case.id).op("&&")(bindparam(None, keys, type_=ARRAY(Text)))


def relevance(row, q: str, fields: tuple[str, ...]) -> float:
    """How well a case matches: each term weighed by the field it is in (summary first), a little for
    repeats. row: anything with the fields as attributes."""
    score = 0.0
    if row.case_no == q:
        return 1000.0
    for word in terms(q):
        for name in fields:
            value = getattr(row, name) or ""
            hits = value.count(word)
            if hits:
                score += WEIGHTS[name] + min(hits - 1, 3) * 0.5
    return score


def highlight(value: str | None, q: str | None, limit: int | None = None):
    """The text with each term of q wrapped in <mark> (escaped HTML); around the first match when cut."""
    import re

    from markupsafe import Markup, escape

    value = value or ""
    words = sorted({w for w in terms(q or "") if w}, key=len, reverse=True)
    if limit and len(value) > limit:
        first = min((i for i in (value.find(w) for w in words) if i >= 0), default=0)
        start = max(0, first - limit // 3)
        value = ("…" if start else "") + value[start:start + limit] + ("…" if start + limit < len(value) else "")
    if not words:
        return escape(value)
    pattern = re.compile("|".join(re.escape(w) for w in words))
    out, last = [], 0
    for match in pattern.finditer(value):
        out.append(escape(value[last:match.start()]))
        out.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
        last = match.end()
    out.append(escape(value[last:]))
    return Markup("").join(out)


TEXT_POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {TEXT_INDEX} ON hotline_case USING gin ("
    + TEXT_SQL.replace("hotline_case.", "") + " gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS {NAME_INDEX} ON hotline_case USING gin (caller_name gin_trgm_ops)",
    f"DROP INDEX IF EXISTS {TRGM_INDEX}",  # the summary alone is covered by the text index
]
TEXT_POSTGRES_DOWN = [f"DROP INDEX IF EXISTS {TEXT_INDEX}", f"DROP INDEX IF EXISTS {NAME_INDEX}", *POSTGRES_UP[1:]]
_FTS_COLUMNS = "summary, detail, answer, caller_employer, caller_name"
_NEW = "new.summary, new.detail, new.answer, new.caller_employer, new.caller_name"
_OLD = "old.summary, old.detail, old.answer, old.caller_employer, old.caller_name"
TEXT_SQLITE_UP = SQLITE_DOWN + [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({_FTS_COLUMNS}, content='hotline_case', "
    "content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON hotline_case BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_FTS_COLUMNS}) VALUES (new.id, {_NEW}); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON hotline_case BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_FTS_COLUMNS}) VALUES ('delete', old.id, {_OLD}); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF {_FTS_COLUMNS} ON hotline_case BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_FTS_COLUMNS}) VALUES ('delete', old.id, {_OLD}); "
    f"INSERT INTO {FTS_TABLE}(rowid, {_FTS_COLUMNS}) VALUES (new.id, {_NEW}); END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
TEXT_SQLITE_DOWN = SQLITE_DOWN + SQLITE_UP


def build_index_concurrently(op: Any, name: str, expression: str) -> None:
    """A migration's GIN index on hotline_case, built CONCURRENTLY (inside the migration's autocommit block) so
    registrations go on during the build. A build that failed (cancelled, out of disk) leaves an invalid index of
    that name behind, which IF NOT EXISTS alone would keep: it is dropped and built again."""
    invalid = op.get_bind().exec_driver_sql(
        "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = %(name)s AND NOT i.indisvalid", {"name": name}).first()
    if invalid:
        op.execute(f"DROP INDEX CONCURRENTLY {name}")
    op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON hotline_case USING gin ({expression})")
