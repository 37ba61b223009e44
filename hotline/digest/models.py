"""Digest tables: producers' content items, the digest of each air date with every revision, the settings,
and which cases' employers were cleared for broadcast."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.db_types import UTCDateTime
from hotline.extensions import db

# The producers' sections, in broadcast order; 热线问答 and 今日热线 are built from the case register.
ITEM_SECTIONS = ("union_news", "policy", "jobs")
SECTIONS = ("intro", *ITEM_SECTIONS, "qa", "figures", "outro")
DIGEST_STATUSES = ("draft", "approved", "aired")


class ContentItem(db.Model):
    """A 工会动态, 政策讯息 or 求职求学 item a producer keeps for the digest."""

    __tablename__ = "digest_item"
    __table_args__ = (Index("ix_digest_item_active_valid_from", "active", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer, default=3)  # 1 (highest) … 5
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Terms a producer deliberately kept through the redaction (one a line), and who did it, when.
    allowed_terms: Mapped[str] = mapped_column(Text, default="", server_default="")
    allowed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    allowed_by: Mapped[User | None] = relationship(foreign_keys=[allowed_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def allowed(self) -> list[str]:
        return [t for t in (self.allowed_terms or "").splitlines() if t.strip()]


class Digest(db.Model):
    """The 《职工之声》 digest of one air date. Its content is its latest revision; `version` guards edits."""

    __tablename__ = "digest"

    id: Mapped[int] = mapped_column(primary_key=True)
    air_date: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[str] = mapped_column(String(8), default="draft")
    revision_no: Mapped[int] = mapped_column(Integer, default=1)  # the current revision's number
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    built_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # None: the scheduler
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_revision: Mapped[int | None] = mapped_column(Integer)
    aired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    aired_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    built_by: Mapped[User | None] = relationship(foreign_keys=[built_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    aired_by: Mapped[User | None] = relationship(foreign_keys=[aired_by_id])

    __mapper_args__ = {"version_id_col": version}


class DigestRevision(db.Model):
    """One kept version of a digest's content: items in air order, what was left out and why."""

    __tablename__ = "digest_revision"
    __table_args__ = (UniqueConstraint("digest_id", "number", name="uq_digest_revision_digest_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digest.id"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # build | rebuild | edit | move | drop | restore | add | …
    note: Mapped[str] = mapped_column(String(300), default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    left_out: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    slot_seconds: Mapped[int] = mapped_column(Integer)
    reserve_seconds: Mapped[int] = mapped_column(Integer)
    rate: Mapped[int] = mapped_column(Integer)  # characters per minute
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    created_by: Mapped[User | None] = relationship()


class DigestSettings(db.Model):
    """The broadcast wording and timing (one row, id 1), edited by producers and admins. Chinese content."""

    __tablename__ = "digest_settings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    build_at: Mapped[str] = mapped_column(String(5))  # local HH:MM the scheduler builds the day's digest
    rate: Mapped[int] = mapped_column(Integer)  # 汉字 per minute
    reserve_seconds: Mapped[int] = mapped_column(Integer)  # jingles, station ID, time signal
    qa_days: Mapped[int] = mapped_column(Integer)  # 热线问答 from cases closed in the last N days
    intro: Mapped[str] = mapped_column(Text)
    outro: Mapped[str] = mapped_column(Text)
    title_union_news: Mapped[str] = mapped_column(String(32))
    title_policy: Mapped[str] = mapped_column(String(32))
    title_jobs: Mapped[str] = mapped_column(String(32))
    title_qa: Mapped[str] = mapped_column(String(32))
    title_figures: Mapped[str] = mapped_column(String(32))
    qa_question: Mapped[str] = mapped_column(String(100))
    qa_answer: Mapped[str] = mapped_column(String(100))
    figures_text: Mapped[str] = mapped_column(Text)
    figures_text_none_closed: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class BroadcastClearance(db.Model):
    """A producer's decision that a case's employer may be named on air (the caller and the union agreed)."""

    __tablename__ = "digest_clearance"

    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), primary_key=True)
    employer_cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(300), default="")
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cleared_at: Mapped[datetime] = mapped_column(UTCDateTime)
