"""Indexes the reports need on the case table, and the daily figures (hotline/reports/daily.py).

* ix_hotline_case_report: the period's cases with every column a figure reads, so the dashboard,
  the API and the KPI export are index-only scans ordered by registration time.
* ix_hotline_case_closed_at: the daily closures chart and the list's "closed from/until" filters.
* ix_hotline_case_open: the open cases (partial), for 超期 now: the dashboard's overdue figures and board.
* ix_telephony_call_figures: the period's call figures without reading the calls themselves.
"""
from datetime import date

from sqlalchemy import Date, Float, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.telephony.models import Call

REPORT_COLUMNS = (Case.created_at, Case.status, Case.category_id, Case.type_code, Case.department_id,
                  Case.handler_id, Case.channel, Case.resolved_on_call, Case.reopen_count, Case.survey_result,
                  Case.reply_due_at, Case.accept_due_at, Case.replied_at, Case.closed_at, Case.survey_resolved)

ix_hotline_case_report = Index("ix_hotline_case_report", *REPORT_COLUMNS)
ix_hotline_case_closed_at = Index("ix_hotline_case_closed_at", Case.closed_at)

# 超期 now (kpis.overdue_now and the board): the open cases only, with every column those counts group by,
# so the counts and the board's longest overdue are index-only scans of a small index, however many
# closed cases the table holds. Its condition is OPEN_STATUSES written out (a partial index needs a literal).
OPEN_CASE_CONDITION = "status IN ('registered', 'assigned', 'accepted')"
ix_hotline_case_open = Index("ix_hotline_case_open", Case.reply_due_at, Case.status, Case.accept_due_at,
                             Case.department_id, Case.category_id, Case.type_code, Case.handler_id, Case.channel,
                             Case.org_id, Case.id, postgresql_where=text(OPEN_CASE_CONDITION),
                             sqlite_where=text(OPEN_CASE_CONDITION))

# The telephony figures (接通率 and the rest, kpis.call_figures) of a period: an index-only range scan.
ix_telephony_call_figures = Index("ix_telephony_call_figures", Call.started_at, Call.direction, Call.status,
                                  Call.answered_at, Call.wait_seconds, Call.id)


class ReportDay(db.Model):
    """The figures' counts of the cases registered on one local day, per value of one grouping (dim:
    category, type, department, handler or channel; key: its id or code as text, '' for none). Every
    case is in one row of each dim, so the rows of one dim add up to the day's totals."""

    __tablename__ = "report_day"

    # Primary key (dim, day, key): a period of one grouping is one range of the index.
    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    registered: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    on_call: Mapped[int] = mapped_column(Integer, default=0)
    surveyed: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    reopened_closed: Mapped[int] = mapped_column(Integer, default=0)
    attempted: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    replied: Mapped[int] = mapped_column(Integer, default=0)
    reply_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class ReportDayClosed(db.Model):
    """Cases closed on one local day (the daily chart's second line)."""

    __tablename__ = "report_day_closed"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    closed: Mapped[int] = mapped_column(Integer, default=0)


class ReportRollup(db.Model):
    """One row: the daily figures hold every local day up to `through` (None: not built yet)."""

    __tablename__ = "report_rollup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    through: Mapped[date | None] = mapped_column(Date, nullable=True)
    # report_day_calls holds every local day up to this one (rolled up in transactions of their own)
    calls_through: Mapped[date | None] = mapped_column(Date, nullable=True)


class ReportDayCalls(db.Model):
    """The telephony figures of one local day (telephony.figures.call_figures over that day): calls that
    came in that day, and call-back attempts made that day."""

    __tablename__ = "report_day_calls"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    inbound: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_15s: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    callbacks_done: Mapped[int] = mapped_column(Integer, default=0)
