"""Checks of the codes, names and yes/no fields that reference data and organisations share: the admin pages
(hotline/admin/service.py) and the organisation tree (hotline/orgs/service.py) take them from here."""
from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _

from hotline.errors import InvalidInput

CODE_RE = re.compile(r"^[a-z0-9_]+$")
CODE_MAX = 32
NAME_MAX = 64


def clean_code(raw: Any, field_name: str = "code") -> str:
    code = (raw or "").strip() if isinstance(raw, str) else ""
    if not code:
        raise InvalidInput(_("Please enter a code."), {field_name: _("Required.")})
    if len(code) > CODE_MAX or not CODE_RE.match(code):
        raise InvalidInput(
            _("The code %(code)s is not valid: use at most %(max)d lowercase letters, digits and underscores.",
              code=code[:40], max=CODE_MAX),
            {field_name: _("Lowercase letters, digits and underscores only.")},
        )
    return code


def clean_name(raw: Any, field_name: str = "name") -> str:
    name = (raw or "").strip() if isinstance(raw, str) else ""
    if not name:
        raise InvalidInput(_("Please enter a name."), {field_name: _("Required.")})
    if len(name) > NAME_MAX:
        raise InvalidInput(_("The name is too long: at most %(max)d characters.", max=NAME_MAX),
                           {field_name: _("At most %(max)d characters.", max=NAME_MAX)})
    return name


def clean_flag(raw: Any) -> bool:
    return raw in (True, "1", "on", "true", "yes")
