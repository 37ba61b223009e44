"""Sending SMS: Twilio's REST client when configured, else a log backend."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

log = logging.getLogger("hotline.sms")

# Twilio error codes that no retry will fix (invalid or unreachable number, opted out, …).
PERMANENT_TWILIO_CODES = {21211, 21212, 21408, 21606, 21610, 21612, 21614, 21617, 30003, 30004, 30005, 30006}


class SmsError(Exception):
    def __init__(self, message: str, retryable: bool, code: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.code = code


@dataclass
class LogSender:
    """No Twilio credentials: the message is logged; the outbox still records it."""

    def send(self, to: str, body: str) -> str:
        log.info("SMS (log backend) to %s: %s", to, body)
        return "log"


class TwilioSender:
    def __init__(self, client, from_number: str | None, messaging_service_sid: str | None):
        self.client = client
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid

    def send(self, to: str, body: str) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        kwargs = {"to": to, "body": body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            # Rate limits, time-outs and Twilio's own faults pass; a refused number does not.
            retryable = (exc.status in (408, 429) or exc.status >= 500) and exc.code not in PERMANENT_TWILIO_CODES
            raise SmsError(f"Twilio {exc.status} {exc.code or ''}: {exc.msg}".strip(), retryable, exc.code) from exc
        except TwilioException as exc:
            raise SmsError(f"Twilio: {exc}", True) from exc
        except OSError as exc:  # network down
            raise SmsError(f"network: {exc}", True) from exc
        return message.sid


def twilio_client():
    """The real twilio Client; tests hand it a recording http_client through app.extensions."""
    from twilio.rest import Client

    cfg = current_app.config
    return Client(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"],
                  http_client=current_app.extensions.get("twilio_http_client"))


def get_sender():
    cfg = current_app.config
    if cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN") and (
            cfg.get("TWILIO_FROM") or cfg.get("TWILIO_MESSAGING_SERVICE_SID")):
        return TwilioSender(twilio_client(), cfg.get("TWILIO_FROM"), cfg.get("TWILIO_MESSAGING_SERVICE_SID"))
    return LogSender()
