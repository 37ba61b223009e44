"""Template helpers: local times, labels, masking, the signed-in actor."""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import flask_babel
from flask import Flask, current_app, g, has_app_context, request
from flask_babel import get_locale, lazy_gettext as _l
from markupsafe import Markup, escape

from hotline import clock, phones
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
    "supervisor": _l("Supervisor"), "admin": _l("Administrator"), "editor": _l("Knowledge-base editor"),
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


WEEKDAY_LABELS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
                  _l("Sunday"))
CLOCK_LABELS = {"accept": _l("Accept"), "reply": _l("Reply")}  # the running clock, in tables


class Translated(str):
    """A label translated for this request. Like the lazy string it stands for, templates print it as it is
    (its __html__ is itself: the catalogue is trusted text)."""
    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def label(lazy: Any) -> Any:
    """A lazy label (_l) translated once per request and catalogue: a 50-row table looks up the same few
    labels (status, clock, weekday) hundreds of times, each through Flask-Babel's full look-up."""
    if not has_app_context() or not isinstance(lazy, flask_babel.LazyString):
        return lazy
    _, translations, done_labels = _held()
    key = id(lazy)
    done = done_labels.get(key)
    if done is None:
        if lazy._func is flask_babel.gettext and len(lazy._args) == 1 and not lazy._kwargs:
            done = Translated(translations.ugettext(lazy._args[0]))
        else:
            done = Translated(str(lazy))
        done_labels[key] = done
    return done


class RequestLabels(Mapping):
    """A table of lazy labels (code → _l(...)) whose look-ups go through label(): what templates get."""
    __slots__ = ("_labels",)

    def __init__(self, labels: Mapping) -> None:
        self._labels = labels

    def __getitem__(self, key: Any) -> Any:
        return label(self._labels[key])

    def __iter__(self) -> Iterator:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """flask_babel.ngettext through the request's catalogue (_translations)."""
    variables.setdefault("num", num)
    return _translations().ungettext(singular, plural, num) % variables


def local_day_time(value: datetime | None, this_year: int | None = None) -> str:
    """A deadline as people say it: weekday, date (year only when not this year) and time: 周一 12-07 17:30.
    `this_year`: the local year now, when the caller knows it (a table, once for its rows)."""
    if value is None:
        return ""
    moment = clock.to_local(value)
    fmt = "%m-%d %H:%M" if moment.year == (this_year or clock.local_now().year) else "%Y-%m-%d %H:%M"
    return f"{label(WEEKDAY_LABELS[moment.weekday()])} {moment.strftime(fmt)}"


def left_words(deadline) -> str:
    """Working time left or passed: 剩1个工作日, 剩3小时, 已超期2个工作日 (hotline.workdays.service.Deadline)."""
    if deadline is None:
        return ""
    n = deadline.workdays
    if deadline.overdue:
        if n:
            return ngettext("%(num)d working day overdue", "%(num)d working days overdue", n)
        if deadline.minutes >= 60:
            return ngettext("%(num)d hour overdue", "%(num)d hours overdue", deadline.minutes // 60)
        return ngettext("%(num)d minute overdue", "%(num)d minutes overdue", max(1, deadline.minutes))
    if n:
        return ngettext("%(num)d working day left", "%(num)d working days left", n)
    if deadline.minutes >= 60:
        return ngettext("%(num)d hour left", "%(num)d hours left", deadline.minutes // 60)
    return ngettext("%(num)d minute left", "%(num)d minutes left", max(1, deadline.minutes))


_URL = re.compile(r"https?://[^\s<>\"'，。；）]+")


def link_urls(text: str | None) -> Markup:
    """Free text with its web addresses as short links: a recording is 收听录音, not a raw URL."""
    if not text:
        return Markup("")
    out, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0)
        label = _l("Listen to the recording") if "/Recordings/" in url else _l("Open the link")
        out.append(escape(text[last:match.start()]))
        out.append(Markup('<a href="{0}" rel="noopener noreferrer" target="_blank">{1}</a>').format(url, label))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


COLON = _l("%(label)s:")


def colon(text) -> str:
    """A label followed by the colon of the page's language: 原因： in Chinese, Reason: in English."""
    # Both through label(): a lazy label formatted into the pattern would be looked up in full by Flask-Babel
    # (the case timeline prints ~45 of them).
    return str(label(COLON)) % {"label": label(text)}  # as flask_babel.gettext formats it


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return clock.to_local(value).strftime(fmt)


def _held() -> tuple[Any, Any, dict]:
    """(locale, catalogue, translated labels) of the request, found once per request and locale.
    Flask-Babel looks the catalogue up again on every _() of a template (several context look-ups and
    the locale's name each time): a 50-row case table makes ~300 such calls. The check here is one
    context look-up: the locale Flask-Babel holds for this request is still the one the catalogue was
    found for (force_locale() sets another object, and puts the old one back after)."""
    state = g._get_current_object().__dict__
    held = state.get("_hotline_translations")
    if held is not None:
        babel_ctx = state.get("_flask_babel")
        if babel_ctx is not None and getattr(babel_ctx, "babel_locale", None) is held[0]:
            return held
    locale = get_locale()
    if held is None or held[0] is not locale:
        held = state["_hotline_translations"] = (locale, flask_babel.get_translations(), {})
    return held


def _translations():
    """The request's catalogue (see _held)."""
    if not has_app_context():
        return flask_babel.get_translations()
    return _held()[1]


# What templates see of the label tables: the same codes, each label translated once per request.
_NOTICE_KIND, _NOTICE_STATUS, _DELIVERY = (RequestLabels(NOTICE_KIND_LABELS), RequestLabels(NOTICE_STATUS_LABELS),
                                           RequestLabels(DELIVERY_LABELS))
_CHANNEL, _STATUS, _ROLE = RequestLabels(CHANNEL_LABELS), RequestLabels(STATUS_LABELS), RequestLabels(ROLE_LABELS)
_SURVEY, _REPLY_METHOD = RequestLabels(SURVEY_LABELS), RequestLabels(REPLY_METHOD_LABELS)
_EVENT, _CLOCK = RequestLabels(EVENT_LABELS), RequestLabels(CLOCK_LABELS)
_LABEL_TABLES = {
    "NOTICE_KIND_LABELS": _NOTICE_KIND, "NOTICE_STATUS_LABELS": _NOTICE_STATUS, "DELIVERY_LABELS": _DELIVERY,
    "CHANNEL_LABELS": _CHANNEL, "STATUS_LABELS": _STATUS, "ROLE_LABELS": _ROLE, "SURVEY_LABELS": _SURVEY,
    "REPLY_METHOD_LABELS": _REPLY_METHOD, "EVENT_LABELS": _EVENT, "CLOCK_LABELS": _CLOCK,
    "WEEKDAY_NAMES": WEEKDAY_LABELS,
}


# The form helpers a page calls once per field or option (a list's filters: ~90 calls), in Python: a Jinja macro
# call costs several times the HTML it makes. Every value is escaped (errors may be lazy labels or Markup).
def field_error(errors: Mapping | None, name: str) -> Markup:
    """The error beside a field, with the id aria_invalid() points at; nothing when the field is fine."""
    if not errors or not errors.get(name):
        return Markup("")
    return Markup(f'<span class="field-error" id="err-{escape(name)}">{escape(errors[name])}</span>')


def aria_invalid(errors: Mapping | None, name: str, hint: str = "") -> Markup:
    """A field's attributes: marked invalid when it has an error, described by its error and/or its hint."""
    bad = bool(errors and errors.get(name))
    out = ' aria-invalid="true"' if bad else ""
    if bad or hint:
        described = " ".join(part for part in (str(escape(hint)), f"err-{escape(name)}" if bad else "") if part)
        out += f' aria-describedby="{described}"'
    return Markup(out)


def form_option(value: Any, text: Any, selected: Any) -> Markup:
    return Markup(f'<option value="{escape(value)}"{" selected" if selected else ""}>{escape(text)}</option>')


def handler_options(handlers: Any, selected: Any, with_department: bool = False) -> Markup:
    """The <option>s of a handler select (queries.form_reference's handlers): each tagged with its department's
    code, which app.js uses to show only the chosen department's handlers. A city's 200 handlers made a
    Jinja loop the slowest part of the case list's filters."""
    parts = []
    key = "_option_with_department" if with_department else "_option"
    for h in handlers:
        # The escaped halves of the option, kept on the held row (the same between requests while the reference
        # copy lasts): written once by whichever request comes first, the same text whoever writes it.
        halves = getattr(h, key, None)
        if halves is None:
            dept = h.department
            name = str(escape(h.display_name))
            if with_department and dept is not None:
                name = f"{name} · {escape(dept.name)}"
            halves = (f'<option value="{escape(h.username)}" data-dept="{escape(dept.code) if dept else ""}"',
                      f">{name}</option>")
            setattr(h, key, halves)
        parts.append(halves[0] + (" selected" if selected == h.username else "") + halves[1])
    return Markup("".join(parts))


def install(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(field_error=field_error, aria_invalid=aria_invalid, form_option=form_option,
                                  handler_options=handler_options, main_nav=main_nav)
    app.jinja_env.filters["local"] = local_dt
    app.jinja_env.filters["day_time"] = local_day_time
    app.jinja_env.filters["left_words"] = left_words
    app.jinja_env.filters["colon"] = colon
    app.jinja_env.filters["link_urls"] = link_urls

    from hotline.workdays.service import running_deadline, time_left

    app.jinja_env.filters["running_deadline"] = running_deadline
    app.jinja_env.filters["time_left"] = time_left
    app.jinja_env.filters["mask_phone"] = phones.mask_phone
    app.jinja_env.filters["mask_name"] = access.mask_name
    app.jinja_env.filters["show_phone"] = phones.display_phone

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
            "actor": actor,
            "now": clock.now(),
            **_LABEL_TABLES,
            "html_lang": "zh-CN" if str(get_locale()).startswith("zh") else "en",
            "languages": current_app.config["LANGUAGES"],
        }


class _Roles:
    """What the menu may ask of the signed-in person: her roles, nothing else (the menu is shared)."""
    __slots__ = ("_roles",)

    def __init__(self, roles: frozenset[str]) -> None:
        self._roles = roles

    def has_role(self, *roles: str) -> bool:
        return not self._roles.isdisjoint(roles)


def main_nav(actor: Any) -> Markup:
    """The menu's links (templates/_nav.html): the same for everyone with the same roles in the same language,
    so made once per process for each (a page asked ten role questions and ten labels for it)."""
    kept = current_app.extensions.setdefault("hotline.main_nav", {})
    roles = frozenset(actor.roles)
    key = (roles, str(get_locale()), request.script_root)
    nav = kept.get(key)
    if nav is None:
        nav = kept[key] = render_part("_nav.html", actor=_Roles(roles))
    return nav


def render_part(template: str, **context: Any) -> Markup:
    """A piece of a page rendered on its own, to be kept (cases/views.filter_form): with the label tables but
    not the context processors, which the page's own render runs (they read the bell's count, once a request)."""
    return Markup(current_app.jinja_env.get_template(template).render(**_LABEL_TABLES, **context))
