"""Telephony (Twilio): webhooks, calls, the call-back list, voicemail cases, caller SMS and 回访 surveys.

See docs/telephony.md for the set-up and hotline/telephony/views.py for the doors."""
