"""The `calls` job (`flask hotline reconcile-calls`, hotline/cli.py): calls still live long after they began lost their final status
callback; Twilio's REST API says how they ended.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select
from twilio.base.exceptions import TwilioException, TwilioRestException

from hotline import clock
from hotline.extensions import db
from hotline.notify.sms import twilio_client
from hotline.telephony.calls import FINAL_TWILIO_STATUSES, status_changed
from hotline.telephony.models import Call

STALE_AFTER = timedelta(minutes=30)  # the `calls` job asks Twilio about live calls older than this


def reconcile(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """The `calls` job: calls still live long after they began lost their final status callback (our
    server was down, a proxy dropped it). Ask Twilio's REST API how each ended, so that a missed call
    still reaches the call-back list. Commits per call: each lookup is its own small transaction."""
    cfg = current_app.config
    stats = {"checked": 0, "ended": 0, "failed": 0}
    if not (cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN")):
        return stats
    now = now or clock.now()
    stale = list(db.session.scalars(select(Call.call_sid).where(
        Call.direction == "inbound", Call.ended_at.is_(None), Call.started_at < now - STALE_AFTER)
        .order_by(Call.started_at, Call.id).limit(limit)))
    client = twilio_client() if stale else None
    for sid in stale:
        try:
            remote = client.calls(sid).fetch()
        except TwilioRestException as exc:
            if exc.status != 404:
                stats["failed"] += 1
                continue
            status_changed({"CallSid": sid, "CallStatus": "failed"})  # Twilio has no such call
            stats["ended"] += 1
        except (TwilioException, OSError):
            stats["failed"] += 1
            break  # Twilio unreachable: try again next run
        else:
            stats["checked"] += 1
            if remote.status in FINAL_TWILIO_STATUSES:
                ended = remote.end_time.astimezone(timezone.utc) if remote.end_time else None
                status_changed({"CallSid": sid, "CallStatus": remote.status, "CallDuration": remote.duration},
                               ended_at=ended)
                stats["ended"] += 1
        db.session.commit()
    return stats

