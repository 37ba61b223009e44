"""What the case service announces, and where a new case comes from (architecture §8).

The case service is the one writer of cases and case events. Other features react to what it does by
subscribing to these signals in their own package (`hotline/<feature>/signals.py`, imported once by the
application factory), so the case register never imports the features built on it.

Receivers run inside the request's or job's transaction, in no promised order: each must stand on its own.
A receiver of `registering` may refuse the registration by raising a ServiceError; nothing is written then.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blinker import Namespace

_signals = Namespace()

# sender: the acting User or None (the telephony system); kwargs: origin (Origin), data (the raw input).
# Sent after the case's own fields were checked, before anything is written: a receiver may refuse.
registering = _signals.signal("case-registering")
# sender: a new Case, built and not yet written; no kwargs. The case service may write it and its first event in
# one statement, past the session's flush (PostgreSQL). A subscriber that keeps something exact from what the
# session flushes returns True to have this case written through the flush instead.
writing_at_once = _signals.signal("case-writing-at-once")
# sender: the new Case; kwargs: actor, origin, data. Sent once it is written (and dispatched, if asked).
registered = _signals.signal("case-registered")
# sender: the Case; kwargs: actor, action (the ActionSpec name). Sent after the move is written.
moved = _signals.signal("case-moved")

_YES = (True, 1, "1", "on", "true", "yes")


@dataclass(frozen=True)
class Origin:
    """Where a new case comes from, beside its own fields: the call it was logged on, the call-back entry it
    answers, and whether the caller agreed to SMS about it. Doors read these from their input; the case
    service passes them on to the subscribers (telephony links the call and sends the receipt)."""
    call_sid: str | None = None
    callback_id: Any = None  # as typed: telephony says whether it names a known entry
    sms_consent: bool = False

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> "Origin":
        """From a form or an API body: `sms_consent` (the API's name) or `sms_receipt` (the form's checkbox)."""
        if not isinstance(data, dict):
            return cls()
        call_sid, callback_id = data.get("call_sid"), data.get("callback_id")
        return cls(call_sid=call_sid if call_sid not in (None, "") else None,
                   callback_id=callback_id if callback_id not in (None, "") else None,
                   sms_consent=data.get("sms_consent") in _YES or data.get("sms_receipt") in _YES)

    @property
    def links(self) -> bool:
        return self.call_sid is not None or self.callback_id is not None

