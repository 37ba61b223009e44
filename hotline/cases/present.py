"""A case as the API shows it, with the caller masked or omitted where the role may not see it."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hotline import clock, phones
from hotline.auth.models import User
from hotline.cases import access, queries
from hotline.cases.deadlines import is_overdue
from hotline.cases.models import Case
from hotline.dates import local_iso
from hotline.reference import lookup
from hotline.reference.models import Category, Department


class _Request:
    """What every case of one answer shares: the local zone, the time now, the organisations' codes and the
    categories' and departments' codes (from the held copies: a list's cases are loaded without them; one made
    since this request read the stamp is read from the case), worked out once per answer rather than once per
    case (a list answer converts some 400 moments)."""

    def __init__(self) -> None:
        self.zone = clock.local_tz()
        self.now = clock.now()
        self.codes: dict[int | None, str | None] = {None: None}
        self.category_codes = lookup.mapping(Category, "id", "code")
        self.department_codes = lookup.mapping(Department, "id", "code")

    def iso(self, value: datetime | None) -> str | None:
        return local_iso(value, self.zone)

    def org_code(self, org_id: int | None) -> str | None:
        if org_id not in self.codes:
            from hotline.orgs import service as orgs

            org = orgs.by_id(org_id)
            self.codes[org_id] = org.code if org else None
        return self.codes[org_id]


def cases_to_dicts(actor: User, cases: Iterable[Case]) -> list[dict[str, Any]]:
    """A list of cases as the API lists them (case_to_dict without the events)."""
    shared = _Request()
    reads = access.private_reader(actor)
    return [case_to_dict(actor, case, with_events=False, shared=shared, private=reads(case)) for case in cases]


def case_to_dict(actor: User, case: Case, with_events: bool = True, shared: _Request | None = None,
                 private: bool | None = None) -> dict[str, Any]:
    """`private`: whether the actor reads the caller, when a list has asked (access.private_reader)."""
    shared = shared or _Request()
    iso, org_code = shared.iso, shared.org_code
    if private is None:
        private = access.can_see_private(actor, case)
    if private:
        caller = {"phone": case.caller_phone, "name": case.caller_name,
                  "employer": case.caller_employer, "district": case.caller_district}
    else:
        caller = {"phone": phones.mask_phone(case.caller_phone), "name": access.mask_name(case.caller_name)}
    out: dict[str, Any] = {
        "case_no": case.case_no,
        "status": case.status,
        "channel": case.channel,
        "type": case.type_code,
        "category": shared.category_codes.get(case.category_id) or case.category.code,
        "caller": caller,
        "summary": case.summary,
        "detail": case.detail if private else None,
        "answer": case.answer,
        "reply_method": case.reply_method,
        "urgent": case.urgent,
        "confidential": case.confidential,
        "broadcast_ok": case.broadcast_ok,
        "resolved_on_call": case.resolved_on_call,
        "department": (shared.department_codes.get(case.department_id) or case.department.code
                       if case.department_id else None),
        "org": org_code(case.org_id),
        "registered_org": org_code(case.registered_org_id),
        "sent_up": iso(case.up_requested_at),
        "handler": case.handler.username if case.handler else None,
        "accept_due_at": iso(case.accept_due_at),
        "reply_due_at": iso(case.reply_due_at),
        "due_uncertain": case.due_uncertain,
        "overdue": is_overdue(case, shared.now),
        "escalated": case.escalated,
        "extension_requested": iso(case.extension_due_at),
        "merged_into": case.merged_into.case_no if case.merged_into_id else None,
        "survey_result": case.survey_result,
        "survey_resolved": case.survey_resolved,
        "review_pending": case.review_pending,
        "return_requested": iso(case.return_requested_at),
        "return_reason": case.return_reason,
        "created_at": iso(case.created_at),
        "replied_at": iso(case.replied_at),
        "closed_at": iso(case.closed_at),
        "external_id": case.external_id,
        "version": case.version,
    }
    if with_events:
        queries.load_events(case)  # with the actors' names only, unless already read
        out["events"] = [
            {"kind": e.kind, "at": iso(e.at), "actor": e.actor.username if e.actor else None,
             "data": _event_data(e.data, private)}
            for e in case.events
        ]
    return out


# What only those who may see the caller read in an event: the caller, the detail, and a correction's
# before/after of those fields.
PRIVATE_EVENT_KEYS = frozenset({"caller", "detail", "caller_name", "caller_phone", "caller_employer",
                                "caller_district"})


def public_event_data(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k not in PRIVATE_EVENT_KEYS}
    for part in ("before", "after"):
        if isinstance(out.get(part), dict):
            out[part] = {k: v for k, v in out[part].items() if k not in PRIVATE_EVENT_KEYS}
    return out


def _event_data(data: dict[str, Any], private: bool) -> dict[str, Any]:
    return data if private else public_event_data(data)
