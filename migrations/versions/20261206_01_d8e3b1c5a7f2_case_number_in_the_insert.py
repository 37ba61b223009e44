"""case number taken by the case's INSERT: the database function hotline_take_case_no (PostgreSQL)

Revision ID: d8e3b1c5a7f2
Revises: c4f2a9d81e60
Create Date: 2026-12-06 00:00:00

hotline/cases/service.py take_case_no: the day's counter is advanced and the number formatted inside the
INSERT of the case, instead of an INSERT under a provisional number followed by an UPDATE of the whole row
(which wrote every index of hotline_case twice). SQLite takes the number in Python just before the INSERT
and needs no function.
"""
from alembic import op

revision = 'd8e3b1c5a7f2'
down_revision = 'c4f2a9d81e60'
branch_labels = None
depends_on = None

# format_case_no's format: YYYYMMDD-NNNN, at least four digits. Volatile: it writes the counter.
FUNCTION = """
CREATE OR REPLACE FUNCTION hotline_take_case_no(d date) RETURNS varchar LANGUAGE sql VOLATILE AS $$
    INSERT INTO case_counter (day, last) VALUES (d, 1)
    ON CONFLICT (day) DO UPDATE SET last = case_counter.last + 1
    RETURNING to_char(d, 'YYYYMMDD') || '-' ||
              CASE WHEN last < 10000 THEN lpad(last::text, 4, '0') ELSE last::text END
$$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS hotline_take_case_no(date)")
