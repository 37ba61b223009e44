"""The digest editor's forms (templates/digest/index.html, show.html): building a day, and the steps on a
built digest. Every step posts the version the page showed; the service checks each value."""
from __future__ import annotations

from hotline.forms import Form, text as text_field


class BuildForm(Form):
    date = text_field()


class EditorForm(Form):
    """One class for the editor's small forms (each posts some of these fields); `key` names the item a form
    was about, so a refusal re-opens that item."""

    version = text_field(default=None)
    key = text_field()
    title = text_field(default=None)
    text = text_field(default=None)
    allowed = text_field(default=None)
    direction = text_field()
    section = text_field(default=None)
    source = text_field(default=None)
    cleared = text_field(default=None)
    note = text_field()
    number = text_field(default=None)
