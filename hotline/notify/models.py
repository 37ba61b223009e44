"""The outbox of notices, the flags the deadline watch raises, and job leases."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.db_types import UTCDateTime
from hotline.extensions import db

# rejected: the message itself is wrong (a template variable missing, too long, a URL, or the gateway
# refused the template or signature): fixed in the catalogue, then retried. opted_out: the caller sent TD.
NOTICE_STATUSES = ("pending", "sending", "sent", "failed", "unknown", "rejected", "opted_out")
DELIVERY_STATES = ("delivered", "undelivered")


class Notice(db.Model):
    """One message to one recipient on one channel. Written in the transaction of the change that causes it.

    `dedupe_key` (case, kind, due time, recipient, channel) makes a second scan, or a second
    scheduler, a no-op. In-app notices are delivered when written; SMS wait for the delivery job.
    """

    __tablename__ = "notice"
    __table_args__ = (
        Index("ix_notice_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notice_recipient_id_channel_id", "recipient_id", "channel", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    channel: Mapped[str] = mapped_column(String(8))  # in_app | sms
    kind: Mapped[str] = mapped_column(String(24))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    to_phone: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # SMS: the catalogue template (hotline.notify.templates) and its variables; `body` is the text as rendered.
    template: Mapped[str | None] = mapped_column(String(32))
    params: Mapped[dict | None] = mapped_column(JSON)
    backend: Mapped[str | None] = mapped_column(String(12))  # the gateway that took it
    delivery: Mapped[str | None] = mapped_column(String(12))  # delivered | undelivered (the gateway's receipt)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[User | None] = relationship(lazy="joined")
    case: Mapped[Case | None] = relationship(lazy="joined")


class CaseFlag(db.Model):
    """A 临期 warning or 超期 flag, raised once per case, kind and due time."""

    __tablename__ = "case_flag"
    __table_args__ = (UniqueConstraint("case_id", "kind", "due_at", name="uq_case_flag_case_kind_due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"))
    kind: Mapped[str] = mapped_column(String(24))  # accept_warning | accept_overdue | reply_warning | reply_overdue
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobLease(db.Model):
    """Run lock for scheduler jobs, on PostgreSQL and SQLite alike: one holder until `until`."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsTemplate(db.Model):
    """One entry of the SMS catalogue: the text with {variables}, and the gateway's id for the approved template.

    Rows exist only for templates an admin changed; the rest use the defaults in hotline.notify.templates.
    """

    __tablename__ = "sms_template"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    gateway_id: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SmsOptOut(db.Model):
    """A caller who replied TD: no SMS goes to this number any more."""

    __tablename__ = "sms_opt_out"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(64), default="")  # the inbound message that asked for it
