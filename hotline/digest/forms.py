"""The digest editor's forms (templates/digest/index.html, show.html): building a day, and the steps on a
built digest. Every step posts the version the page showed; the service checks each value."""
from __future__ import annotations

from hotline.digest import settings as digest_settings
from hotline.forms import Form, fields_form, text as text_field


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


# A content item (templates/digest/item_form.html); `active` left out means active.
ItemForm = fields_form("ItemForm", ("version", "section", "title", "body", "source", "valid_from", "valid_to",
                                    "priority", "allowed_terms", "active"))

# The digest settings (templates/digest/settings.html): the numbers, then the service's texts and titles.
SettingsForm = fields_form("SettingsForm", ("version", "build_at", "rate", "reserve_seconds", "qa_days",
                                            *digest_settings.TEXT_FIELDS, *digest_settings.SHORT_FIELDS))
