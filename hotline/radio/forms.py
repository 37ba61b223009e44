"""The radio desk's small forms (templates/radio/*.html). The radio case form is in hotline/cases/forms.py
(the same case fields as the logging page)."""
from __future__ import annotations

from hotline.forms import Form, text


class CallInStepForm(Form):
    """A move of a call-in on the console, and the step forms of an episode."""

    version = text(default=None)
    reason = text()
    screen_now = text(default=None)
    outside_ok = text(default=None)


class PlanEpisodeForm(Form):
    programme_id = text(default=None)
    air_date = text(default=None)
    topic = text(default=None)
    guests = text(default=None)
    open = text(default=None)
