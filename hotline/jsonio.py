"""JSON responses through orjson.

Serialising a case with 20 events took 0.44 ms with the standard library and 0.03 ms with orjson; a
100-row list page 3.6 ms against 0.15 ms (measured in process on this machine, load average ~11).
The output keeps Flask's rules: keys sorted, dates and anything orjson does not know go through
Flask's own conversion (datetimes as HTTP dates, dataclasses, Decimal and UUID as text). Non-ASCII
text is written as UTF-8 rather than \\u escapes; both are the same JSON.
"""
from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS)


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # Flask's response() asks for compact separators, which is what orjson writes; a caller asking for
        # indent or other options gets the standard library, as before.
        if kwargs and kwargs != {"separators": (",", ":")}:
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
        except TypeError:  # e.g. an integer beyond 64 bits: the standard library takes it
            return super().dumps(obj, **kwargs)
