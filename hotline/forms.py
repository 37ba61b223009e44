"""The one way an HTML page takes a form: WTForms classes (Flask-WTF) over the names the browser posts.

A page's form class lists its fields; the view builds it from the request, reads typed values from it and
hands the service the dict the API would send. The rules themselves stay in the services (the API shares
them), so a form checks only what the page alone knows (e.g. "dispatch needs a department"); its messages
and the service's are shown together (`all_at_once`). Templates render the inputs by hand with the macros
in templates/_forms.html and show the posted values again (`Form.posted`).

CSRF stays with CSRFProtect, which guards every POST in one place (hotline/__init__.py), so these forms
carry no token of their own.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import request
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import ValidationError

from hotline.errors import InvalidInput

__all__ = ["Form", "ValidationError", "all_at_once", "fields_form", "flag", "many", "strip", "text", "text_or_none"]


class Form(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every POST before the view runs

    # Messages for a page check when it is the only problem on the page ({field: message}); beside the field
    # the validator's own (shorter) message is shown.
    alone: dict[str, Any] = {}

    def __init__(self, formdata: MultiDict | None = None, **kwargs: Any) -> None:
        # The posted form (and its files) only, as the views read request.form before: Flask-WTF's default
        # would also take a JSON body as the form, and the HTML doors do not take JSON.
        if formdata is None:
            formdata = CombinedMultiDict((request.files, request.form)) if request.files else request.form
        super().__init__(formdata=formdata, **kwargs)

    @property
    def posted(self) -> MultiDict:
        """What the browser sent, to show again in the inputs after a refusal."""
        return request.form

    def submitted(self) -> MultiDict:
        """The declared fields the browser sent, every value as posted, and nothing else: for the services
        that read a whole settings form and word each field's problem themselves."""
        return MultiDict([(field.name, value) for field in self for value in (field.raw_data or ())])

    def page_errors(self) -> dict[str, tuple[str, str]]:
        """The page's own checks: {field: (message beside the field, message on its own)}."""
        self.validate()
        return {name: (str(errors[0]), str(self.alone.get(name, errors[0])))
                for name, errors in self.errors.items() if errors}


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def text(name: str | None = None, default: str | None = "", **kwargs) -> StringField:
    """Text as posted (`default` when the field is absent: "", or None where the service tells the two apart)."""
    return StringField(default=default, name=name, **kwargs)


def many(name: str | None = None, **kwargs) -> SelectMultipleField:
    """Every value posted under the name (a group of checkboxes); the service checks them."""
    return SelectMultipleField(name=name, validate_choice=False, **kwargs)


def text_or_none(name: str | None = None, **kwargs) -> StringField:
    """Trimmed text, None when absent or blank (optional references: a call id, an article)."""
    return StringField(default=None, name=name, filters=[strip, lambda v: v or None], **kwargs)


def flag(name: str | None = None, **kwargs) -> BooleanField:
    """A checkbox: true when the browser sent the field at all (whatever its value), as before."""
    return BooleanField(default=False, false_values=(), name=name, **kwargs)


def fields_form(name: str, names: Iterable[str], lists: Iterable[str] = (), base: type[Form] | None = None) -> type:
    """A form class with a text field (None when absent) for each name and a list field for each of `lists`:
    for forms whose field names come from a service's own table (settings texts, SMS templates)."""
    attrs: dict[str, Any] = {n: text(name=n, default=None) for n in names}
    attrs.update({n: many(name=n) for n in lists})
    # A field's attribute may not be a Python name (reply_days-consult); WTForms posts it under `name`.
    attrs = {(k if k.isidentifier() else "f_" + k.replace("-", "_")): v for k, v in attrs.items()}
    return type(name, (base or Form,), attrs)


def all_at_once(page: dict[str, tuple[str, str]], service_check: Callable[[], object]) -> None:
    """Every missing or wrong field at once: the page's own checks and the service's together.

    One problem is said as the service (or the page) words it; several get one count above the form and a
    message beside each field. Raises InvalidInput, or returns when all is well.
    """
    checked: dict[str, str] = {}
    alone = None
    try:
        service_check()
    except InvalidInput as err:
        checked, alone = err.fields, err.message
    fields = {**checked, **{k: v[0] for k, v in page.items() if k not in checked}}
    if len(fields) == 1:
        raise InvalidInput(alone if checked else next(iter(page.values()))[1], fields)
    if fields:
        raise InvalidInput(ngettext("%(num)d field needs correcting; it is marked below.",
                                    "%(num)d fields need correcting; they are marked below.",
                                    len(fields)), fields)

