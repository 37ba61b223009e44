"""Phone numbers, in one place: read what people type (E.164, default country 86), show them back,
mask them for those who may not read them (who may is hotline/cases/access.py's rule)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import phonenumbers
from flask_babel import gettext as _

from hotline.errors import InvalidInput


def normalize_phone(raw: str | None, field: str = "phone") -> str:
    """Phone numbers to E.164 with default country 86: 138 0000 0000, +86-138…, 0512-6523 0000 all work."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput(_("Please enter the caller's phone number."), {field: _("Required.")})
    cleaned = text.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if not cleaned.lstrip("+").isdigit():
        raise InvalidInput(_("The phone number may contain only digits, spaces, dashes and a leading +."),
                           {field: _("Not a phone number.")})
    try:
        parsed = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(_("%(phone)s is not a valid phone number.", phone=text[:40]),
                           {field: _("Not a valid number.")})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def optional_phone(raw: Any, field: str = "phone") -> str | None:
    """A number that may be left empty: None when blank, else as normalize_phone."""
    text = (raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        return None
    return normalize_phone(text, field)


def display_phone(phone: str | None) -> str:
    """E.164 +86 numbers shown the way callers write and dial them: 13812345678, but 051265230000 for a
    landline (without its trunk 0, +86512… would read as an unknown 11-digit number)."""
    if not phone:
        return ""
    if not phone.startswith("+86"):
        return phone
    return _national(phone)


@lru_cache(maxsize=8192)
def _national(phone: str) -> str:
    """The +86 number in its national form: a pure function of the stored number, so kept per process
    (a 50-row page parsed and formatted every number with phonenumbers: ~0.3 ms a row)."""
    try:
        parsed = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return phone[3:]
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")


def mask_phone(phone: str | None) -> str | None:
    """The number with its middle hidden (138****5678), for readers the need-to-know rule keeps out."""
    if not phone:
        return phone
    digits = phone[3:] if phone.startswith("+86") else phone
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 11 else 2
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]
