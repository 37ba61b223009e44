"""reference_stamp: a stamp that changes with every write to the reference tables (triggers)

Revision ID: f2a4c6e8b0d1
Revises: e5f1a2b3c4d6
Create Date: 2026-12-07 00:00:00

hotline/reference/lookup.py keeps the case types, categories, departments, the handlers a dispatch form
offers and the working-day calendar in process memory, and uses a copy only while its stamp is the
database's. Triggers, not the services, change the stamp: every writer (admin pages, seed, calendar import,
a migration, psql) is covered, in the writer's own transaction. The stamp is random rather than a counter, so
a database restored or rebuilt from scratch cannot hand an old counter value to a server that still holds a
copy read under it.
"""
import sqlalchemy as sa
from alembic import op

revision = 'f2a4c6e8b0d1'
down_revision = 'e5f1a2b3c4d6'
branch_labels = None
depends_on = None

# Table → the columns whose change matters (None: any). A user's login time or password is not reference
# data; their name, department, organisation and being active are (the dispatch form lists handlers).
WATCHED = {
    "case_type": None, "category": None, "department": None, "calendar_day": None, "calendar_year": None,
    "user_role": None, "user_account": ("username", "display_name", "active", "department_id", "org_id"),
}

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION hotline_reference_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_stamp SET stamp = floor(random() * 9007199254740991)::bigint WHERE id = 1;
    RETURN NULL;
END
$$
"""


def _pg_trigger(table: str, columns) -> str:
    update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
    truncate = "" if columns else " OR TRUNCATE"
    return (f"CREATE TRIGGER trg_{table}_reference_stamp AFTER INSERT OR DELETE OR {update}{truncate} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION hotline_reference_touched()")


def _sqlite_triggers(table: str, columns) -> list[str]:
    update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
    body = "BEGIN UPDATE reference_stamp SET stamp = random() WHERE id = 1; END"
    return [f"CREATE TRIGGER trg_{table}_reference_stamp_{kind.split()[0].lower()} AFTER {kind} ON {table} {body}"
            for kind in ("INSERT", "DELETE", update)]


def upgrade():
    op.create_table(
        "reference_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_stamp")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("INSERT INTO reference_stamp (id, stamp) VALUES (1, floor(random() * 9007199254740991)::bigint)")
        op.execute(PG_FUNCTION)
        for table, columns in WATCHED.items():
            op.execute(_pg_trigger(table, columns))
    else:
        op.execute("INSERT INTO reference_stamp (id, stamp) VALUES (1, random())")
        for table, columns in WATCHED.items():
            for statement in _sqlite_triggers(table, columns):
                op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table, columns in WATCHED.items():
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_reference_stamp ON {table}")
        else:
            for kind in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_reference_stamp_{kind}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS hotline_reference_touched()")
    op.drop_table("reference_stamp")
