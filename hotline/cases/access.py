"""Who may see what of a case. The one place for object-level rules."""
from __future__ import annotations

import phonenumbers
from sqlalchemy import Select, false, or_

from hotline.auth.models import User
from hotline.cases.models import Case

# Roles that see every case (subject to confidentiality).
WIDE_ROLES = ("operator", "supervisor", "admin", "producer")


def works_in_department(actor: User, case: Case) -> bool:
    return (
        actor.has_role("handler")
        and actor.department_id is not None
        and actor.department_id == case.department_id
    )


def can_view(actor: User, case: Case) -> bool:
    if actor.has_role(*WIDE_ROLES):
        return True
    return works_in_department(actor, case)


def works_the_case(actor: User, case: Case) -> bool:
    """People who work this case see its confidential parts: its department, supervisors, the registering person."""
    if actor.has_role("supervisor", "admin"):
        return True
    if works_in_department(actor, case):
        return True
    return case.registered_by_id == actor.id


def can_see_private(actor: User, case: Case) -> bool:
    return not case.confidential or works_the_case(actor, case)


def scope(actor: User, stmt: Select) -> Select:
    """Restrict a case query to what the actor may list."""
    if actor.has_role(*WIDE_ROLES):
        return stmt
    if actor.has_role("handler") and actor.department_id is not None:
        return stmt.where(Case.department_id == actor.department_id)
    return stmt.where(false())


def private_filter_allowed(actor: User):
    """SQL condition for rows whose private parts (phone, detail) the actor may search in."""
    if actor.has_role("supervisor", "admin"):
        return None
    conds = [Case.confidential.is_(False), Case.registered_by_id == actor.id]
    if actor.has_role("handler") and actor.department_id is not None:
        conds.append(Case.department_id == actor.department_id)
    return or_(*conds)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone[3:] if phone.startswith("+86") else phone
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 11 else 2
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    # One star whatever the length: the mask should not tell how long the name is.
    return name[0] + "*"


def display_phone(phone: str | None) -> str:
    """E.164 +86 numbers shown the way callers write and dial them: 13812345678, but 051265230000 for a
    landline (without its trunk 0, +86512… would read as an unknown 11-digit number)."""
    if not phone:
        return ""
    if not phone.startswith("+86"):
        return phone
    try:
        parsed = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return phone[3:]
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")
