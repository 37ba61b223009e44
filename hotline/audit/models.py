"""Who saw a confidential case: one row each time a door shows its unmasked caller or detail.

Logins have their own record (hotline/auth/models.py, LoginAttempt); the audit page reads both.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db_types import UTCDateTime
from hotline.extensions import db

# How the case reached the person: a web page, the JSON API, or an export file. Exports mask every
# caller today (hotline/reports/export.py), so no export writes a row yet; an export that ever shows
# confidential callers unmasked records itself with "export".
VIA = ("web", "api", "export")


class CaseView(db.Model):
    """Append-only. `page` is the endpoint that showed the case (cases.show, api.get_case, cases.list_cases …):
    the full record or one row of a list."""

    __tablename__ = "case_view"
    __table_args__ = (
        # The audit page: newest first, for one case or one person (keyset on id).
        Index("ix_case_view_case_id_id", "case_id", "id"),
        Index("ix_case_view_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(8))
    page: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))


class AdminChange(db.Model):
    """Append-only: one row per changed record of the administered data (users and roles, departments,
    types and categories with their time limits, the holiday calendar, telephony and digest settings),
    with the values before and after. Written by the flush hook in hotline/audit/admin_log.py."""

    __tablename__ = "admin_change"
    __table_args__ = (Index("ix_admin_change_area_id", "area", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    area: Mapped[str] = mapped_column(String(24))  # users | departments | types | categories | calendar | …
    action: Mapped[str] = mapped_column(String(8))  # create | update | delete
    target: Mapped[str] = mapped_column(String(128))  # what was changed: a user name, a code, a date
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor = relationship("User", lazy="joined")
