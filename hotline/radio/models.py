"""Radio tables: the programme schedule (programmes and their episodes) and the live call-in queue."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.db_types import UTCDateTime
from hotline.extensions import db

PROGRAMME_KINDS = ("live", "digest")  # live call-in show; the daily digest read on air
EPISODE_STATUSES = ("planned", "live", "ended")
CALLIN_STATUSES = ("ringing", "screening", "ready", "on_air", "done", "dropped")
WAITING_STATUSES = ("ringing", "screening", "ready")


class Programme(db.Model):
    """A programme on the station's schedule: when it airs is data (weekdays and times), not code."""

    __tablename__ = "radio_programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    station: Mapped[str] = mapped_column(String(64), default="")
    # ISO weekdays it airs on, e.g. "6" (Saturday) or "1234567" (daily).
    weekdays: Mapped[str] = mapped_column(String(7))
    start_time: Mapped[str] = mapped_column(String(5))  # local HH:MM
    end_time: Mapped[str] = mapped_column(String(5))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The organisation that runs it (hotline/orgs/): its digest draws from that organisation's cases.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), default=1, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}


class Episode(db.Model):
    """One airing of a programme on one local date."""

    __tablename__ = "radio_episode"
    __table_args__ = (UniqueConstraint("programme_id", "air_date", name="uq_radio_episode_programme_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("radio_programme.id"))
    air_date: Mapped[date] = mapped_column(Date, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    topic: Mapped[str] = mapped_column(String(200), default="")
    guests: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(8), default="planned")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    programme: Mapped[Programme] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class CallIn(db.Model):
    """One listener's call into a live episode: ringing → screening → ready → on air → done, or dropped."""

    __tablename__ = "radio_callin"
    __table_args__ = (
        Index("ix_radio_callin_episode_id_status", "episode_id", "status"),
        Index("ix_radio_callin_phone_id", "phone", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("radio_episode.id"))
    status: Mapped[str] = mapped_column(String(12))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164; None when withheld
    name: Mapped[str] = mapped_column(String(64), default="")
    area: Mapped[str] = mapped_column(String(64), default="")
    topic: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Order of the ready list: the smallest goes on air next ("set next" gives it the smallest).
    queue_pos: Mapped[int] = mapped_column(Integer, default=0)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)  # from Twilio, when routed through it
    drop_reason: Mapped[str] = mapped_column(String(200), default="")
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_air_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The station line (Twilio): the call update a move asks for (screen | on_air | drop | end), until Twilio
    # has taken it; a failed REST call stays here, shown on the console and retried by the `radio_line` job.
    line_action: Mapped[str | None] = mapped_column(String(8))
    line_error: Mapped[str | None] = mapped_column(String(300))
    line_attempts: Mapped[int] = mapped_column(Integer, default=0)
    line_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # whose phone screens it
    producer_sid: Mapped[str | None] = mapped_column(String(64))  # the producer's leg while screening

    episode: Mapped[Episode] = relationship()
    case: Mapped[Case | None] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __mapper_args__ = {"version_id_col": version}
