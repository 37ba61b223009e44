"""The request body as a JSON object: one reader for the JSON API and the pages' JSON endpoints
(the intake suggestions), so a body too deep, not JSON or not an object is refused alike (400 bad_json)."""
from __future__ import annotations

import json
from typing import Any

from flask import request
from flask_babel import gettext as _

from hotline.errors import ServiceError


class BadJson(ServiceError):
    status = 400
    code = "bad_json"


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, whatever the Content-Type says; else 400 bad_json."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadJson(_("Send a JSON object as the request body."))
    if _nesting(raw) > MAX_DEPTH:
        # Checked on the raw bytes, before the parser recurses into it (a RecursionError is a 500).
        raise BadJson(_("The request body is nested too deeply (at most %(n)d levels).", n=MAX_DEPTH))
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadJson(_("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise BadJson(_("The request body must be a JSON object."))
    return body


MAX_DEPTH = 32  # no operation's body goes deeper than 3


def _nesting(raw: bytes) -> int:
    """The deepest [ / { nesting of a JSON text, brackets inside strings not counted."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0  # cannot be deeper: no need to walk it
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest
