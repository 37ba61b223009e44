"""The case form's fields as a registration (the same dict shape as the API's POST /cases), shared by the
hotline's case form (hotline/cases/views.py) and the radio's (hotline/radio/views.py)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OUTCOMES = ("register", "close", "dispatch")


def _value(form: Mapping[str, str], name: str) -> str | None:
    return (form.get(name) or "").strip() or None


def registration_from_form(form: Mapping[str, str], outcome: str) -> dict[str, Any]:
    """`outcome`: close (answered on the call: the answer is read), dispatch (the department and handler are
    read) or register. The service checks the values; the channel is the door's to set."""
    data: dict[str, Any] = {
        "type": _value(form, "type"),
        "category": _value(form, "category"),
        "caller": {"phone": form.get("phone", ""), "name": form.get("caller_name", ""),
                   "employer": form.get("caller_employer", ""), "district": form.get("caller_district", "")},
        "summary": form.get("summary", ""),
        "detail": form.get("detail", ""),
        "urgent": "urgent" in form,
        "confidential": "confidential" in form,
        "broadcast_ok": "broadcast_ok" in form,
        "resolved_on_call": outcome == "close",
    }
    if outcome == "close":
        data["answer"] = form.get("answer", "")
    if outcome == "dispatch":
        data["department"] = _value(form, "department")
        data["handler"] = _value(form, "handler")
    return data
