"""Whose number a telephony page shows in full, masked or as withheld (the rule is hotline/cases/access.py).
"""
from __future__ import annotations

from flask_babel import gettext as _

from hotline import phones
from hotline.audit.service import record_views
from hotline.auth.models import User
from hotline.cases import access
from hotline.cases.models import Case
from hotline.telephony.models import ANONYMOUS


def may_see_numbers(actor: User) -> bool:
    """Operators call people back and supervisors check them; everyone else sees masked numbers."""
    return access.sees_numbers_without_case(actor)


def visible_phone(actor: User, phone: str, case: Case | None = None) -> str | None:
    """The caller's full number if this person may see it, else None. A call, call-back or SMS that
    belongs to a confidential case shows the number only to those who work that case, as the case page does."""
    if phone == ANONYMOUS:
        return None
    return phone if access.caller_number_visible(actor, case) else None


def shown_number(actor: User, phone: str, case: Case | None = None) -> str:
    """The number as a page shows it: in full (as operators type it), masked, or "withheld"."""
    if phone == ANONYMOUS:
        return _("Withheld number")
    full = visible_phone(actor, phone, case)
    return phones.display_phone(full) if full else phones.mask_phone(phone)


def record_number_views(actor: User, cases, via: str) -> None:
    """The audit (hotline/audit): whoever is shown a confidential case's caller number saw its caller."""
    if may_see_numbers(actor):
        record_views(actor, [case for case in cases if case is not None], via)
