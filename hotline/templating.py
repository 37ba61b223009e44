"""Template helpers: local times, labels, masking, the signed-in actor."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app
from flask_babel import get_locale, lazy_gettext as _l

from hotline import clock
from hotline.auth.access import current_actor
from hotline.cases import access
from hotline.cases.actions import EVENT_LABELS as ACTION_EVENT_LABELS

CHANNEL_LABELS = {
    "hotline": _l("12351 hotline"), "radio": _l("Radio call-in"), "voicemail": _l("Voicemail"),
    "walk_in": _l("Walk-in visit"), "letter": _l("Letter"), "online": _l("Online"),
}
STATUS_LABELS = {
    "registered": _l("Registered"), "assigned": _l("Dispatched"), "accepted": _l("Accepted"),
    "replied": _l("Replied"), "closed": _l("Closed"),
}
ROLE_LABELS = {
    "operator": _l("Operator"), "handler": _l("Handler"), "producer": _l("Producer"),
    "supervisor": _l("Supervisor"), "admin": _l("Administrator"),
}
SURVEY_LABELS = {
    "satisfied": _l("Satisfied"), "basically_satisfied": _l("Basically satisfied"),
    "dissatisfied": _l("Dissatisfied"), "unreachable": _l("Unreachable"),
}
REPLY_METHOD_LABELS = {
    "phone": _l("Phone"), "sms": _l("SMS"), "letter": _l("Letter"), "visit": _l("Visit"), "other": _l("Other"),
}
# Events the lifecycle actions write come with their specs (hotline/cases/actions.py); these are the others.
EVENT_LABELS = {
    "register": _l("Registered"), "due_soon": _l("Deadline near"), "overdue": _l("Overdue"),
    "call": _l("Phone call"),
    **ACTION_EVENT_LABELS,
}


NOTICE_KIND_LABELS = {
    "dispatched": _l("Dispatched"), "warning": _l("Due soon"), "overdue": _l("Overdue"), "reminder": _l("Reminder"),
    "escalated": _l("Escalated"), "extension_request": _l("Extension requested"),
    "extension_decision": _l("Extension decided"), "review": _l("Review needed"), "reopened": _l("Reopened"),
    "return_request": _l("Return to review"), "return_refused": _l("Return refused"),
}
NOTICE_STATUS_LABELS = {
    "pending": _l("Pending"), "sending": _l("Sending"), "sent": _l("Sent"), "failed": _l("Failed"),
    "unknown": _l("Unconfirmed"), "rejected": _l("Refused (template)"), "opted_out": _l("Opted out"),
}
DELIVERY_LABELS = {"delivered": _l("Delivered"), "undelivered": _l("Not delivered")}


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return clock.to_local(value).strftime(fmt)


def install(app: Flask) -> None:
    app.jinja_env.filters["local"] = local_dt
    app.jinja_env.filters["mask_phone"] = access.mask_phone
    app.jinja_env.filters["mask_name"] = access.mask_name
    app.jinja_env.filters["show_phone"] = access.display_phone

    @app.context_processor
    def helpers():
        actor = current_actor()
        calendar_gaps = []
        if actor is not None and actor.has_role("admin"):
            from hotline.workdays.service import uncovered_years_ahead

            calendar_gaps = uncovered_years_ahead()
        unread = 0
        if actor is not None:
            from hotline.notify.service import unread_count

            unread = unread_count(actor)
        return {
            "calendar_gaps": calendar_gaps,
            "unread_notices": unread,
            "NOTICE_KIND_LABELS": NOTICE_KIND_LABELS,
            "NOTICE_STATUS_LABELS": NOTICE_STATUS_LABELS, "DELIVERY_LABELS": DELIVERY_LABELS,
            "actor": actor,
            "now": clock.now(),
            "CHANNEL_LABELS": CHANNEL_LABELS,
            "STATUS_LABELS": STATUS_LABELS,
            "ROLE_LABELS": ROLE_LABELS,
            "SURVEY_LABELS": SURVEY_LABELS,
            "REPLY_METHOD_LABELS": REPLY_METHOD_LABELS,
            "EVENT_LABELS": EVENT_LABELS,
            "html_lang": "zh-CN" if str(get_locale()).startswith("zh") else "en",
            "languages": current_app.config["LANGUAGES"],
        }
