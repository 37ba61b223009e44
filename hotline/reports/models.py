"""Indexes the reports need on the case table (no tables of their own).

* ix_hotline_case_report: the period's cases with every column a figure reads, so the dashboard,
  the API and the KPI export are index-only scans ordered by registration time.
* ix_hotline_case_closed_at: the daily closures chart and the list's "closed from/until" filters.
"""
from sqlalchemy import Index

from hotline.cases.models import Case

REPORT_COLUMNS = (Case.created_at, Case.status, Case.category_id, Case.type_code, Case.department_id,
                  Case.handler_id, Case.channel, Case.resolved_on_call, Case.reopen_count, Case.survey_result,
                  Case.reply_due_at, Case.accept_due_at, Case.replied_at, Case.closed_at, Case.survey_resolved)

ix_hotline_case_report = Index("ix_hotline_case_report", *REPORT_COLUMNS)
ix_hotline_case_closed_at = Index("ix_hotline_case_closed_at", Case.closed_at)
