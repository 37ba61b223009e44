"""The case (工单), its append-only events and the per-day number counter."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, FetchedValue, ForeignKey, Index, Integer, String, Text, and_, or_, text
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.db_types import UTCDateTime
from hotline.extensions import db
from hotline.reference.models import CaseType, Category, Department

CHANNELS = ("hotline", "radio", "voicemail", "walk_in", "letter", "online")
STATUSES = ("registered", "assigned", "accepted", "replied", "closed")
OPEN_STATUSES = ("registered", "assigned", "accepted")
REPLY_METHODS = ("phone", "sms", "letter", "visit", "other")
SURVEY_RESULTS = ("satisfied", "basically_satisfied", "dissatisfied", "unreachable")


class CaseCounter(db.Model):
    """Last case number handed out on one local day; bumped inside the registering transaction."""

    __tablename__ = "case_counter"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Case(db.Model):
    __tablename__ = "hotline_case"
    __table_args__ = (
        Index("ix_hotline_case_status_id", "status", "id"),
        Index("ix_hotline_case_department_status", "department_id", "status", "reply_due_at"),
        Index("ix_hotline_case_handler_status", "handler_id", "status", "reply_due_at"),
        Index("ix_hotline_case_caller_phone_id", "caller_phone", "id"),
        Index("ix_hotline_case_created_at", "created_at"),
        # The deadline watch only looks at cases with something left to flag.
        # The handler's queue: open cases of one handler or department in deadline order, read
        # straight off a small partial index instead of sorting the department's cases.
        Index("ix_hotline_case_queue_handler", "handler_id", "reply_due_at", "id",
              postgresql_where=text("status IN ('assigned', 'accepted')"),
              sqlite_where=text("status IN ('assigned', 'accepted')")),
        Index("ix_hotline_case_queue_department", "department_id", "reply_due_at", "id",
              postgresql_where=text("status IN ('assigned', 'accepted')"),
              sqlite_where=text("status IN ('assigned', 'accepted')")),
        # Merges are rare; without this, checking the self-reference scans the table.
        Index("ix_hotline_case_merged_into_id", "merged_into_id",
              postgresql_where=text("merged_into_id IS NOT NULL"), sqlite_where=text("merged_into_id IS NOT NULL")),
        # Organisation scope (hotline/orgs/): a sub-organisation's users read the cases owned by their subtree
        # (never the root's, id 1) and those it registered that moved elsewhere. Both partial, so the
        # migration builds them over a table where every case is the root's, and they stay small.
        Index("ix_hotline_case_org_id", "org_id", "created_at",
              postgresql_where=text("org_id <> 1"), sqlite_where=text("org_id <> 1")),
        Index("ix_hotline_case_registered_org_id", "registered_org_id",
              postgresql_where=text("registered_org_id <> org_id"), sqlite_where=text("registered_org_id <> org_id")),
        Index("ix_hotline_case_next_watch_at", "next_watch_at",
              postgresql_where=text("next_watch_at IS NOT NULL"), sqlite_where=text("next_watch_at IS NOT NULL")),
        # One case per platform id (hotline/exchange/). A unique index rather than a constraint: SQLite adds it
        # without re-creating the table (which would drop the search triggers, hotline/search.py).
        Index("uq_hotline_case_external_id", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # FetchedValue: on PostgreSQL the INSERT computes the number (cases/service.py take_case_no), and the
    # flush then reads it back in the INSERT's RETURNING instead of a SELECT of its own.
    case_no: Mapped[str] = mapped_column(String(16), unique=True, server_default=FetchedValue())
    channel: Mapped[str] = mapped_column(String(16))
    type_code: Mapped[str] = mapped_column(ForeignKey("case_type.code"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    caller_name: Mapped[str | None] = mapped_column(String(64))
    caller_employer: Mapped[str | None] = mapped_column(String(128))
    caller_district: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(500))
    detail: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str | None] = mapped_column(Text)
    reply_method: Mapped[str | None] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    broadcast_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The organisation that owns the case now (its dispatch list, its departments) and the one that
    # registered it (closes it and does the 回访, unless it delegates both). 1 is the root.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), default=1, server_default=text("1"))
    registered_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), default=1,
                                                   server_default=text("1"))
    # 上报: the owning level asks its parent to take the case back; the parent reviews it.
    up_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    up_reason: Mapped[str | None] = mapped_column(Text)
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # True when a deadline was counted through a year the calendar does not cover yet.
    due_uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"))
    extension_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_reason: Mapped[str | None] = mapped_column(String(500))
    # Deadline watch: the due time each warning/flag was raised for, and when to look next.
    accept_warned_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accept_flagged_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_warned_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_flagged_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_watch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    survey_result: Mapped[str | None] = mapped_column(String(24))
    # 回访: did the caller say the problem was solved (None: not asked, e.g. an SMS answer or unreachable).
    survey_resolved: Mapped[bool | None] = mapped_column(Boolean)
    # A dissatisfied or unresolved 回访 waits for a supervisor's review (重办 or 维持).
    review_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # 退单审核: a handler's 退回 waiting for the centre to accept or refuse it.
    return_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    surveyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The provincial/national 12351 platform's id for a case it handed down (hotline/exchange/); None otherwise.
    external_id: Mapped[str | None] = mapped_column(String(64))

    case_type: Mapped[CaseType] = relationship(lazy="joined")
    category: Mapped[Category] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id], lazy="joined")
    registered_by: Mapped[User | None] = relationship(foreign_keys=[registered_by_id])
    merged_into: Mapped["Case | None"] = relationship(remote_side=[id])
    events: Mapped[list["CaseEvent"]] = relationship(
        back_populates="case", order_by="CaseEvent.id", lazy="select"
    )

    # 超期, the one rule for Python and SQL (hotline/cases/deadlines.py builds on it): open and past the
    # reply deadline, or dispatched and past the acceptance deadline.
    @hybrid_method
    def overdue_at(self, now: datetime) -> bool:
        if self.status not in OPEN_STATUSES:
            return False
        return now > self.reply_due_at or (
            self.status == "assigned" and self.accept_due_at is not None and now > self.accept_due_at)

    @overdue_at.inplace.expression  # type: ignore[attr-defined]  # hybrid_method is typed as a plain function here
    @classmethod
    def _overdue_at_expression(cls, now: datetime):
        return and_(cls.status.in_(OPEN_STATUSES),
                    or_(cls.reply_due_at < now, and_(cls.status == "assigned", cls.accept_due_at < now)))

    __mapper_args__ = {"version_id_col": version}


class CaseEvent(db.Model):
    """Append-only record of every move, note and field change."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")
