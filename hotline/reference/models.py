"""Reference data: departments, the five demand types, categories."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db


class Department(db.Model):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # The department head also receives 超期 notices and the morning reminder for the department.
    head_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", use_alter=True))
    # The organisation it belongs to (hotline/orgs/); 1 is the root, the city's 12351 centre.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True, default=1,
                                        server_default=text("1"))


class CaseType(db.Model):
    """One of the five 12351 demand types and its default reply limit in working days."""

    __tablename__ = "case_type"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    reply_days: Mapped[int] = mapped_column(Integer)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # 督办 by the clock: the scheduler escalates a case this many working days past its reply deadline.
    escalate_after_days: Mapped[int] = mapped_column(Integer, default=3, server_default=text("3"))


class Category(db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # Overrides the type's reply limit when set.
    reply_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class ReferenceStamp(db.Model):
    """One row (id 1) whose stamp changes, by trigger, with every write to the tables that
    hotline/reference/lookup.py keeps in memory (migration f2a4c6e8b0d1 lists them)."""

    __tablename__ = "reference_stamp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    stamp: Mapped[int] = mapped_column(BigInteger)
