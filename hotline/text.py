"""Characters no text field keeps, the one definition every door checks input against.

C0 control characters other than tab, line feed and carriage return; lone UTF-16 surrogates (a JSON body
may spell them as \\ud800 escapes); the non-characters U+FFFE and U+FFFF. PostgreSQL cannot store NUL, neither
database can encode a lone surrogate, and XML 1.0 (.docx, .xlsx, the Atom feed) allows none of them, so a
field holding one would break every export it reaches. The doors refuse them (hotline/web.py for forms,
hotline/api/checks.py for JSON and query strings, the ledger importer for files); the XML writers drop
them (`xml_safe`) from anything stored before.
"""
from __future__ import annotations

import re

UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def has_unstorable(value: str) -> bool:
    return UNSTORABLE.search(value) is not None


def xml_safe(value: str) -> str:
    """The text without the characters XML 1.0 cannot carry."""
    return UNSTORABLE.sub("", value)
