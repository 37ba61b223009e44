"""The badges and the deadline a case shows in every table row and at the top of its page, as HTML.

Written here rather than as template macros: a 50-row table called four macros a row, and a Jinja macro
call (a new context, its arguments checked) cost more than the HTML it made; the deadline cell alone was
two fifths of a queue table's time. Every value is escaped with markupsafe.escape (in C: Markup.format is
slower than the macros were); the labels are the request's translations (hotline.templating.label).
Templates call them as globals, registered by hotline/cases/views.py.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from hotline import clock
from hotline.templating import CLOCK_LABELS, STATUS_LABELS, label, left_words, local_day_time
from hotline.workdays.service import running_deadline

DUE_LABELS = {"overdue": _l("Overdue"), "due_soon": _l("Due soon"), "ok": _l("On time")}
FLAG_LABELS = (("urgent", _l("Urgent")), ("confidential", _l("Confidential")), ("escalated", _l("Escalated")),
               ("extension_due_at", _l("Extension requested")))
_FLAG_CLASSES = {"urgent": "urgent", "confidential": "confidential", "escalated": "escalated",
                 "extension_due_at": "extension"}

_NONE = Markup('<span class="muted">—</span>')


def status_badge(case) -> Markup:
    return Markup(f'<span class="badge status {escape(case.status)}">{escape(label(STATUS_LABELS[case.status]))}'
                  '</span>')


def due_badge(state: str | None) -> Markup:
    """Overdue or due soon (views._row's "due", or one deadline's state); nothing when on time."""
    if state not in ("overdue", "due_soon"):
        return Markup("")
    return Markup(f'<span class="badge {state}">{escape(label(DUE_LABELS[state]))}</span>')


def flag_badges(case) -> Markup:
    """Urgent, confidential, escalated, extension requested: those that apply, separated by a space."""
    return Markup(" ".join(f'<span class="badge {_FLAG_CLASSES[attr]}">{escape(label(text))}</span>'
                           for attr, text in FLAG_LABELS if getattr(case, attr)))


def _clock(name: str) -> str:
    return f'<span class="clock">{escape(label(CLOCK_LABELS[name]))}</span> '


def deadline(case, with_clock: bool = True, now: datetime | None = None, this_year: int | None = None) -> Markup:
    """The deadline whose clock is running (签收 while dispatched, 答复 otherwise) as people say it:
    周一 12-07 17:30 · 剩1个工作日. Replied and closed cases show their reply deadline greyed; a case closed
    on the call has none. A table passes its one `now` (and its local year) for all its rows."""
    d = running_deadline(case, now)
    if d is not None:
        local = clock.to_local(d.at)
        return Markup(f'<span class="deadline {d.state}" data-deadline="{d.clock}">'
                      f'{_clock(d.clock) if with_clock else ""}'
                      f'<time datetime="{local.strftime("%Y-%m-%dT%H:%M")}">'
                      f'{escape(local_day_time(local, this_year))}</time> · '
                      f'<span class="left">{escape(left_words(d))}</span></span>')
    if case.resolved_on_call or not case.reply_due_at:
        return _NONE
    return Markup(f'<span class="muted deadline done">{_clock("reply") if with_clock else ""}'
                  f'{escape(local_day_time(case.reply_due_at, this_year))}</span>')
