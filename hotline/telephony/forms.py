"""The telephony pages' small forms (templates/telephony/callbacks.html, sms.html)."""
from __future__ import annotations

from hotline.forms import Form, fields_form, text
from hotline.telephony import settings as line_settings


class CallbackAttemptForm(Form):
    outcome = text()
    note = text()


class SmsHandleForm(Form):
    result = text(default=None)  # a survey answer read from the SMS; anything else means none


# The line's settings (templates/telephony/settings.html), with the service's spoken texts.
SettingsForm = fields_form("SettingsForm", (
    "open_time", "close_time", "sms_quiet_start", "sms_quiet_end", "open_days", "queue_name", "dial_to",
    "max_wait_seconds", "max_message_seconds", "survey_reply_days", "voice_survey_tries", "recording_keep_days",
    "studio_line", "voice_survey", "hold_music_url", "sms_signature", "voicemail_type", "voicemail_category",
    "voicemail_sms", *line_settings.TEXT_FIELDS))
