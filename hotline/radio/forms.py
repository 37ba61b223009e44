"""The radio desk's small forms (templates/radio/*.html). The radio case form is in hotline/cases/forms.py
(the same case fields as the logging page)."""
from __future__ import annotations

from hotline.forms import Form, fields_form, text
from hotline.radio.service import FIELD_MAX


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


# A call-in's screening notes (added by a producer or edited on the console): the phone and the service's
# text fields; a field the page did not send stays as it is.
CallInForm = fields_form("CallInForm", ("phone", *FIELD_MAX), base=CallInStepForm)

# A programme of the schedule (templates/radio/_programme_form.html): the days it airs on are checkboxes.
ProgrammeForm = fields_form("ProgrammeForm", ("code", "name", "kind", "start_time", "end_time", "version", "station",
                                              "description", "active"), lists=("weekdays",))
