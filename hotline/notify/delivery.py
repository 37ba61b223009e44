"""The delivery job: pending SMS out of the outbox, with retries and backoff.

At-most-once: a notice is marked `sending` and committed before Twilio is called. If the
process dies between Twilio's answer and the commit that records it, the notice stays
`sending`; after SENDING_TIMEOUT it is marked `unknown` and shown to admins, never resent
on its own (a worker should not get the same SMS twice). An admin can retry it.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from hotline import clock
from hotline.db_helpers import changed_rows
from hotline.errors import IllegalMove, NotFound
from hotline.extensions import db
from hotline.notify import templates
from hotline.notify.models import Notice, SmsOptOut
from hotline.notify.sms import Outgoing, SmsError, get_sender

MAX_ATTEMPTS = 6
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
SENDING_TIMEOUT = timedelta(minutes=5)
BATCH = 50


def backoff(attempts: int) -> timedelta:
    return min(BASE_BACKOFF * (2 ** max(0, attempts - 1)), MAX_BACKOFF)


def deliver_pending(limit: int = BATCH) -> dict[str, int]:
    """Send what is due. Commits per notice: each send is its own small transaction."""
    now = clock.now()
    stats = {"sent": 0, "retry": 0, "failed": 0, "unknown": 0}
    extra = {"rejected": 0, "held": 0, "opted_out": 0}  # reported only when something was
    stats["unknown"] = changed_rows(
        update(Notice).where(Notice.status == "sending", Notice.next_attempt_at < now - SENDING_TIMEOUT)
        .values(status="unknown", last_error="process stopped while sending; delivery not confirmed")
    )
    db.session.commit()
    quiet = templates.quiet_until(now)
    if quiet is not None:
        # Callers get nothing in the quiet hours: what came due (a retry, a backlog) waits for the morning.
        extra["held"] = changed_rows(
            update(Notice).where(Notice.status == "pending", Notice.next_attempt_at <= now,
                                 Notice.channel == "sms", Notice.recipient_id.is_(None))
            .values(next_attempt_at=quiet))
        db.session.commit()
    due = list(db.session.scalars(
        select(Notice.id).where(Notice.status == "pending", Notice.next_attempt_at <= now)
        .order_by(Notice.next_attempt_at, Notice.id).limit(limit)))
    sender = get_sender() if due else None
    catalogue = templates.Catalogue() if due else None
    for notice_id in due:
        claimed = changed_rows(
            update(Notice).where(Notice.id == notice_id, Notice.status == "pending")
            .values(status="sending", attempts=Notice.attempts + 1, next_attempt_at=clock.now())
        )
        db.session.commit()
        if not claimed:
            continue  # another delivery process took it
        notice = db.session.get(Notice, notice_id)
        notice.backend = sender.name
        if notice.recipient_id is None and db.session.get(SmsOptOut, notice.to_phone) is not None:
            notice.status, notice.last_error = "opted_out", "the caller opted out (TD)"
            extra["opted_out"] += 1
            db.session.commit()
            continue
        try:
            message = _outgoing(notice, catalogue)
        except templates.TemplateProblem as problem:
            notice.status, notice.last_error = "rejected", str(problem)[:500]
            extra["rejected"] += 1
            db.session.commit()
            continue
        try:
            provider_id = sender.send(message)
        except SmsError as err:
            notice.last_error = str(err)[:500]
            if err.rejected:
                notice.status = "rejected"
                extra["rejected"] += 1
            elif err.retryable and notice.attempts < MAX_ATTEMPTS:
                notice.status = "pending"
                notice.next_attempt_at = clock.now() + backoff(notice.attempts)
                stats["retry"] += 1
            else:
                notice.status = "failed"
                stats["failed"] += 1
        else:
            notice.status = "sent"
            notice.provider_id = provider_id[:64]
            notice.sent_at = clock.now()
            notice.last_error = None
            stats["sent"] += 1
        db.session.commit()
    stats.update({key: value for key, value in extra.items() if value})
    return stats


def _outgoing(notice: Notice, catalogue: templates.Catalogue) -> Outgoing:
    """The message as the gateway needs it, rendered from the catalogue as it is now (an admin may have
    fixed a template since the notice was written)."""
    if not notice.template:  # written before the catalogue: its text as it was
        if templates.URL_RE.search(notice.body or ""):
            raise templates.TemplateProblem("no template; the old text contains a web address")
        return Outgoing(notice.to_phone, "", "", {}, (), notice.body, catalogue.signature)
    body = catalogue.render(notice.template, notice.params)
    notice.body = body
    return Outgoing(notice.to_phone, notice.template, catalogue.entry(notice.template)[1], dict(notice.params or {}),
                    templates.CATALOGUE[notice.template].variables, body, catalogue.signature)


def retry(notice_id: int) -> Notice:
    """An admin sends a failed or unknown notice again."""
    from flask_babel import gettext as _

    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.channel != "sms":
        raise NotFound(_("Notice not found."))
    if notice.status not in ("failed", "unknown", "rejected"):
        raise IllegalMove(_("Only failed or unconfirmed notices can be retried."))
    notice.status = "pending"
    notice.next_attempt_at = clock.now()
    notice.attempts = 0
    notice.last_error = None
    db.session.flush()
    return notice
