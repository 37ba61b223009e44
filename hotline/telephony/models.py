"""Telephony tables: the line's settings, every call, the call-back list, inbound SMS and 回访 surveys."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.db_types import UTCDateTime
from hotline.extensions import db

# What became of a call, from the hotline's point of view (Twilio's own CallStatus is kept as well).
CALL_STATUSES = ("ringing", "in_progress", "answered", "abandoned", "voicemail", "missed")
LIVE_STATUSES = ("ringing", "in_progress")
ANONYMOUS = "anonymous"

CALLBACK_STATUSES = ("open", "done")
# Outcomes an operator logs for one call-back attempt; the first three end the entry.
ATTEMPT_OUTCOMES = ("reached", "wrong_number", "no_action", "no_answer")
# Outcomes of a finished entry. The last two are set by the system, not by a call-back.
CALLBACK_OUTCOMES = ("reached", "case", "wrong_number", "no_action", "unreachable", "called_again", "voicemail")

SMS_RESULTS = ("recorded", "duplicate", "unreadable", "no_survey", "refused", "opted_out")
SURVEY_STATUSES = ("pending", "answered", "superseded", "cancelled", "unreached")
SURVEY_CHANNELS = ("sms", "voice")
RECORDING_STATUSES = ("pending", "stored", "failed", "deleted")


class TelephonySettings(db.Model):
    """The line's settings, one row (id 1), edited by admins: office hours, what callers hear and read."""

    __tablename__ = "telephony_settings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    open_time: Mapped[str] = mapped_column(String(5))
    close_time: Mapped[str] = mapped_column(String(5))
    open_days: Mapped[str] = mapped_column(String(16))  # workdays | every_day
    queue_name: Mapped[str] = mapped_column(String(64))
    dial_to: Mapped[str | None] = mapped_column(String(64))  # set: <Dial> this number instead of <Enqueue>
    max_wait_seconds: Mapped[int] = mapped_column(Integer)
    max_message_seconds: Mapped[int] = mapped_column(Integer)
    hold_music_url: Mapped[str] = mapped_column(String(500))
    say_greeting_open: Mapped[str] = mapped_column(Text)
    say_greeting_closed: Mapped[str] = mapped_column(Text)
    say_wait: Mapped[str] = mapped_column(Text)
    say_busy: Mapped[str] = mapped_column(Text)
    say_thanks: Mapped[str] = mapped_column(Text)
    say_no_message: Mapped[str] = mapped_column(Text)
    say_not_operator: Mapped[str] = mapped_column(Text)
    # SMS: the registered signature and the hours when callers get none (texts: the sms_template catalogue).
    sms_signature: Mapped[str] = mapped_column(String(32), default="【苏州市总工会】")
    sms_quiet_start: Mapped[str] = mapped_column(String(5), default="21:00")
    sms_quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    # 回访 by voice: closed cases get an automated call instead of the SMS survey; tries before the worklist.
    voice_survey: Mapped[bool] = mapped_column(Boolean, default=False)
    voice_survey_tries: Mapped[int] = mapped_column(Integer, default=3)
    # The studio hybrid of the station line: a number (+86…) or sip: address that "on air" moves callers to.
    studio_line: Mapped[str | None] = mapped_column(String(64))
    recording_keep_days: Mapped[int] = mapped_column(Integer, default=180)
    survey_reply_days: Mapped[int] = mapped_column(Integer)
    voicemail_type: Mapped[str] = mapped_column(String(16))
    voicemail_category: Mapped[str] = mapped_column(String(32))
    voicemail_sms: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Callback(db.Model):
    """One caller's missed and abandoned calls of one local day: one entry on the call-back list."""

    __tablename__ = "telephony_callback"
    __table_args__ = (
        UniqueConstraint("phone", "day", name="uq_telephony_callback_phone_day"),
        Index("ix_telephony_callback_status_day", "status", "day"),
        Index("ix_telephony_callback_done_at", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str | None] = mapped_column(String(16))
    calls: Mapped[int] = mapped_column(Integer, default=0)
    first_call_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_call_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # 回拨 placed through Twilio: the operator's leg being dialled, and who asked for it.
    dial_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    dial_operator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    dial_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dial_error: Mapped[str | None] = mapped_column(String(300))

    done_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[done_by_id])
    case: Mapped[Case | None] = relationship(lazy="joined")
    attempt_rows: Mapped[list["CallbackAttempt"]] = relationship(order_by="CallbackAttempt.id", lazy="select")


class CallbackAttempt(db.Model):
    __tablename__ = "telephony_callback_attempt"
    __table_args__ = (Index("ix_telephony_callback_attempt_callback_id_id", "callback_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("telephony_callback.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")

    operator: Mapped[User | None] = relationship(lazy="joined")


class Call(db.Model):
    """One call (CallSid unique): Twilio's retries find the row and change nothing."""

    __tablename__ = "telephony_call"
    __table_args__ = (
        Index("ix_telephony_call_started_at", "started_at"),
        Index("ix_telephony_call_status_started_at", "status", "started_at"),
        Index("ix_telephony_call_from_phone_started_at", "from_phone", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(12))  # inbound | agent (an operator's leg that dequeues)
    from_phone: Mapped[str] = mapped_column(String(20))  # E.164, or "anonymous"
    from_raw: Mapped[str] = mapped_column(String(64), default="")
    to_phone: Mapped[str | None] = mapped_column(String(64))
    route: Mapped[str | None] = mapped_column(String(12))  # queue | dial | voicemail
    status: Mapped[str] = mapped_column(String(12))
    twilio_status: Mapped[str | None] = mapped_column(String(16))
    unknown: Mapped[bool] = mapped_column(Boolean, default=False)  # first heard of from a status callback
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_source: Mapped[str | None] = mapped_column(String(8))  # twilio | operator
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wait_seconds: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    queue_result: Mapped[str | None] = mapped_column(String(16))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("telephony_callback.id"), index=True)
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str | None] = mapped_column(String(500))
    recording_seconds: Mapped[int | None] = mapped_column(Integer)
    case_noted: Mapped[bool] = mapped_column(Boolean, default=False)  # the call's figures are on the case
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    operator: Mapped[User | None] = relationship(lazy="joined")
    case: Mapped[Case | None] = relationship(lazy="joined")
    callback: Mapped[Callback | None] = relationship(lazy="select")


class SurveyRequest(db.Model):
    """A 回访 survey SMS sent after closure; one per case and closure round (a reopened case is asked again)."""

    __tablename__ = "telephony_survey"
    __table_args__ = (
        UniqueConstraint("case_id", "round", name="uq_telephony_survey_case_round"),
        Index("ix_telephony_survey_phone_status", "phone", "status", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"))
    round: Mapped[int] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))
    result: Mapped[str | None] = mapped_column(String(24))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 回访 by voice: the automated call's tries, the call in progress, and when to try next.
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    tries: Mapped[int] = mapped_column(Integer, default=0)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))

    case: Mapped[Case] = relationship(lazy="joined")


class InboundSms(db.Model):
    """An SMS a caller sent to the hotline number (MessageSid unique)."""

    __tablename__ = "telephony_sms"
    __table_args__ = (
        Index("ix_telephony_sms_attention", "needs_attention", "id",
              postgresql_where=text("needs_attention"), sqlite_where=text("needs_attention")),
        Index("ix_telephony_sms_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(String(20))
    from_raw: Mapped[str] = mapped_column(String(64), default="")
    to_phone: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(String(12))
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("telephony_survey.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"))
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    case: Mapped[Case | None] = relationship(lazy="joined")
    handled_by: Mapped[User | None] = relationship(lazy="joined")


class SmsConsent(db.Model):
    """The caller agreed to SMS about this case: receipt, reply notice, 回访 survey."""

    __tablename__ = "telephony_sms_consent"

    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), primary_key=True, autoincrement=False)
    phone: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(16))


class Recording(db.Model):
    """A call's recording kept by the hotline: downloaded from Twilio with the account's credentials, stored,
    played through an authorised route, deleted after the keeping period."""

    __tablename__ = "telephony_recording"
    __table_args__ = (Index("ix_telephony_recording_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("telephony_call.id"), unique=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    source_url: Mapped[str] = mapped_column(String(500))
    seconds: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))  # pending | stored | failed | deleted
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    path: Mapped[str | None] = mapped_column(String(300))  # key in the store
    content_type: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    call: Mapped[Call] = relationship(lazy="joined")
