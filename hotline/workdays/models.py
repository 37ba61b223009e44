"""The working-day calendar: exceptions to Monday–Friday, per covered year."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db_types import UTCDateTime
from hotline.extensions import db


class CalendarYear(db.Model):
    """A year whose holidays and make-up days have been entered."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(32))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarDay(db.Model):
    """A day that differs from the Monday–Friday rule: a weekday holiday or a weekend make-up day (调休上班)."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(64), default="")
