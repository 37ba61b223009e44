"""The knowledge base (知识库), its kept versions and uses; employer keys and group-dispute clusters;
the trained suggestion classifier."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.db_types import UTCDateTime
from hotline.extensions import db
from hotline.reference.models import Category

ARTICLE_STATUSES = ("draft", "reviewed", "published")


class Article(db.Model):
    """One answer to a common question, with its legal basis. Only published, unexpired ones are suggested."""

    __tablename__ = "knowledge_article"
    __table_args__ = (Index("ix_knowledge_article_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    # The seed's own key (idempotent `hotline seed`); null for articles written in the application.
    seed_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    source_case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category | None] = relationship(lazy="joined")
    source_case: Mapped[Case | None] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    versions: Mapped[list["ArticleVersion"]] = relationship(order_by="ArticleVersion.version", lazy="select",
                                                            back_populates="article")


class ArticleVersion(db.Model):
    """Each saved state of an article, kept (append-only)."""

    __tablename__ = "knowledge_article_version"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_article.id"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    article: Mapped[Article] = relationship(back_populates="versions")
    actor: Mapped[User | None] = relationship(lazy="joined")


class ArticleUse(db.Model):
    """An answer taken from an article (使用此答复) on a case."""

    __tablename__ = "knowledge_use"
    __table_args__ = (UniqueConstraint("article_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_article.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    article: Mapped[Article] = relationship(lazy="joined")


class CaseEmployer(db.Model):
    """The normalised employer of a case (恒力纺织有限公司 = 恒力纺织 = 吴江恒力纺织公司 → 恒力纺织)."""

    __tablename__ = "case_employer"
    __table_args__ = (Index("ix_case_employer_key_created_at", "employer_key", "created_at"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), primary_key=True)
    employer_key: Mapped[str] = mapped_column(String(128))
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupAlert(db.Model):
    """群体性预警: cases of several callers naming one employer within the window. One per cluster; it grows."""

    __tablename__ = "group_alert"
    __table_args__ = (Index("ix_group_alert_employer_key_last_at", "employer_key", "last_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_key: Mapped[str] = mapped_column(String(128))
    employer_name: Mapped[str] = mapped_column(String(128))
    callers: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    members: Mapped[list["GroupAlertCase"]] = relationship(order_by="GroupAlertCase.case_id", lazy="select")


class GroupAlertCase(db.Model):
    __tablename__ = "group_alert_case"

    alert_id: Mapped[int] = mapped_column(ForeignKey("group_alert.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), primary_key=True, index=True)

    case: Mapped[Case] = relationship(lazy="joined")


class ClassifierModel(db.Model):
    """A trained suggestion classifier (pickled scikit-learn pipelines) and its held-out accuracy."""

    __tablename__ = "classifier_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    train_cases: Mapped[int] = mapped_column(Integer)
    test_cases: Mapped[int] = mapped_column(Integer)
    # {"type": {"top1": .., "top3": ..}, "category": …, "department": …}
    accuracy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
