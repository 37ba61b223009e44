"""The telephony pages' small forms (templates/telephony/callbacks.html, sms.html)."""
from __future__ import annotations

from hotline.forms import Form, text


class CallbackAttemptForm(Form):
    outcome = text()
    note = text()


class SmsHandleForm(Form):
    result = text(default=None)  # a survey answer read from the SMS; anything else means none
