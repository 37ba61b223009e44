"""Twilio's webhooks, shared by every door Twilio calls (the hotline line, the station line, SMS): the
signature check, the character rule and our public URLs.

Each webhook checks X-Twilio-Signature with twilio's RequestValidator and the auth token before it reads
anything: a forged, unsigned or re-parametrised request gets 403 and nothing is stored (the rest of the
rules: hotline/telephony/views.py).
"""
from __future__ import annotations

import logging
from functools import wraps
from typing import Any

from flask import Response, current_app, request, url_for
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator

from hotline.auth.access import public
from hotline.config import instance_secret
from hotline.errors import InvalidInput
from hotline.extensions import csrf, db
from hotline.text import xml_safe

try:  # twilio ≥ 9.10 names the algorithm of webhooks signed with a shared key
    from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, get_signature_algorithm
except ImportError:  # pragma: no cover
    SIGNATURE_SETTINGS_HEADER, get_signature_algorithm = None, None

log = logging.getLogger("hotline.telephony")


def dev_signing_token() -> str:
    """Development and test without a Twilio account: this installation's own random secret
    (instance/twilio_signing_token), never a fixed one anybody could read in the source."""
    return instance_secret("twilio_signing_token")


def signing_token() -> str | None:
    cfg = current_app.config
    if cfg.get("TWILIO_AUTH_TOKEN"):
        return cfg["TWILIO_AUTH_TOKEN"]
    if cfg.get("HOTLINE_ENV") in ("development", "test"):
        return dev_signing_token()
    return None


def signed_url() -> str:
    """The URL Twilio signed: the configured public base + path and query, else this request's URL."""
    base = current_app.config.get("HOTLINE_PUBLIC_URL")
    if not base:
        return request.url
    url = base.rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def public_url(endpoint: str, **values: Any) -> str:
    """Absolute URL of one of our endpoints, as Twilio should call it (and sign it)."""
    base = current_app.config.get("HOTLINE_PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)[len(request.script_root):]
    return url_for(endpoint, _external=True, **values)


def signature_ok() -> bool:
    token = signing_token()
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not token:
        log.error("webhook %s refused: TWILIO_AUTH_TOKEN is not set", request.path)
        return False
    if not signature:
        return False
    algorithm = None
    if get_signature_algorithm is not None:
        algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    return RequestValidator(token).validate(signed_url(), request.form, signature, algorithm)


def webhook(view):
    """Public (Twilio is no user), CSRF-exempt, and refused with 403 unless Twilio signed it."""

    @wraps(view)
    def checked(*args, **kwargs):
        if not signature_ok():
            log.warning("webhook %s refused: bad or missing %s", request.path, SIGNATURE_HEADER)
            return Response("Forbidden: the request is not signed by Twilio.\n", 403, mimetype="text/plain")
        try:
            return view(*args, **kwargs)
        except InvalidInput as err:  # a required field is missing: say so (to Twilio's debugger), store nothing
            db.session.rollback()
            return Response("Bad request: missing " + ", ".join(err.fields) + "\n", 400, mimetype="text/plain")

    csrf.exempt(checked)
    checked.signed_webhook = True  # type: ignore[attr-defined]  # hotline/web.py: not refused for odd characters; webhook_params() drops them
    return public(checked)


def webhook_params() -> dict[str, str]:
    """Twilio's fields without the characters no text field keeps. A caller's SMS is never refused for
    them (Twilio would not resend it): they are dropped, after the signature was checked on the raw form."""
    return {key: xml_safe(value) for key, value in request.form.to_dict(flat=True).items()}
