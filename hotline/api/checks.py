"""The API door's parsing: JSON bodies and query strings, checked against the OpenAPI document.

Only the shape is checked here (a JSON object, no field the document does not list, the JSON
type of each field); every value rule lives in the services, which answer with their own messages.
"""
from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _

from hotline.api import openapi
from hotline.errors import InvalidInput
from hotline.json_body import json_object
from hotline.text import has_unstorable


def checked_body(operation_id: str) -> dict[str, Any]:
    body = json_object()
    unknown: list[str] = []
    wrong: dict[str, str] = {}
    _check(body, openapi.body_schema(operation_id), "", unknown, wrong)
    if unknown:
        raise InvalidInput(_("Unknown field: %(name)s", name=unknown[0]),
                           {**{name: _("Not accepted here.") for name in unknown}, **wrong})
    if wrong:
        name, problem = next(iter(wrong.items()))
        raise InvalidInput(_("%(name)s: %(problem)s", name=name, problem=problem), wrong)
    return body


def check_query(operation_id: str) -> None:
    """Refuse query parameters the operation does not document (a typo would silently match everything)."""
    allowed = openapi.query_names(operation_id)
    unknown = [name for name in request.args if name not in allowed]
    if unknown:
        raise InvalidInput(_("Unknown query parameter: %(name)s", name=_printable(unknown[0])),
                           {_printable(name): _("Not accepted here.") for name in unknown})
    # `?closed_from=` is not a date: the pages' filter forms send empty fields, the API says what is wrong.
    empty = sorted(name for name, value in request.args.items(multi=True)
                   if not value.strip() and name in openapi.query_needs_value(operation_id))
    if empty:
        raise InvalidInput(_("%(name)s is empty: give a value or leave the parameter out.", name=empty[0]),
                           {name: _("Empty.") for name in empty})
    unstorable = [name for name, value in request.args.items(multi=True) if has_unstorable(value)]
    if unstorable:  # hotline/text.py; NUL would even fail the query on PostgreSQL
        raise InvalidInput(_("%(name)s contains a character that cannot be stored.", name=unstorable[0]),
                           {name: _("Contains a character that cannot be stored.") for name in unstorable})
    # A documented choice sent empty (overdue=) is no choice: the filter would quietly match everything.
    choices = {p["name"]: p["schema"]["enum"] for p in openapi.QUERY_PARAMS[operation_id] if "enum" in p["schema"]}
    empty = [name for name, value in request.args.items(multi=True) if name in choices and not value.strip()]
    if empty:
        raise InvalidInput(_("%(name)s: choose one of %(choices)s.", name=empty[0],
                             choices=", ".join(choices[empty[0]])), {name: _("Required.") for name in empty})
    # The document lists the languages; the locale selector would quietly ignore any other value.
    wrong_lang = [value for value in request.args.getlist("lang") if value not in openapi.LANGUAGES]
    if wrong_lang:
        raise InvalidInput(_("Unknown language: %(code)s", code=_printable(wrong_lang[0])[:20]),
                           {"lang": _("Unknown language.")})


def _printable(name: str) -> str:
    return name[:64].replace("\x00", "\ufffd")


def _kind_label(kinds: list[str]) -> str:
    labels = {
        "string": _("text"), "boolean": _("true or false"), "integer": _("a whole number"),
        "number": _("a number"), "object": _("an object"), "array": _("a list"), "null": _("null"),
    }
    return _(" or ").join(labels[k] for k in kinds)


def _type_ok(value: Any, kinds: list[str]) -> bool:
    for kind in kinds:
        if kind == "null" and value is None:
            return True
        if kind == "boolean" and isinstance(value, bool):
            return True
        if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if kind == "string" and isinstance(value, str):
            return True
        if kind == "object" and isinstance(value, dict):
            return True
        if kind == "array" and isinstance(value, list):
            return True
    return False


def _check(value: Any, schema: dict, path: str, unknown: list[str], wrong: dict[str, str]) -> None:
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if isinstance(value, str) and has_unstorable(value):  # hotline/text.py: NUL, a lone \ud800 escape …
            wrong[path or "body"] = _("Contains a character that cannot be stored.")
            return
        if not _type_ok(value, kinds):
            wrong[path or "body"] = _("Must be %(kind)s.", kind=_kind_label(kinds))
            return
    if not isinstance(value, dict) or "properties" not in schema:
        return
    properties = schema["properties"]
    for key, item in value.items():
        where = f"{path}.{key}" if path else str(key)
        if key in properties:
            _check(item, properties[key], where, unknown, wrong)
        elif schema.get("additionalProperties") is False:
            unknown.append(_printable(where))
