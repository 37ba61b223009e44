"""A recording HTTP client for the real twilio Client: it keeps every request and answers like Twilio."""
from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from twilio.http import HttpClient
from twilio.http.response import Response


class RecordingHttpClient(HttpClient):
    def __init__(self, answers: list[tuple[int, dict]] | None = None):
        super().__init__(logging.getLogger("twilio.recording"), is_async=False)
        self.requests: list[dict] = []
        self.answers = list(answers or [])

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {}), "auth": auth})
        if self.answers:
            status, body = self.answers.pop(0)
        elif "/Calls" in uri:  # a call placed or updated
            sid = uri.rsplit("/", 1)[-1].removesuffix(".json")
            sid = sid if sid.startswith("CA") else f"CA{len(self.requests):032d}"
            status, body = (200 if method == "POST" and sid in uri else 201), {
                "sid": sid, "status": "in-progress" if sid in uri else "queued", "to": (data or {}).get("To")}
        else:
            status, body = 201, {"sid": f"SM{len(self.requests):032d}", "status": "queued",
                                 "to": (data or {}).get("To"), "body": (data or {}).get("Body")}
        return Response(status, json.dumps(body))


def twilio_error(status: int, code: int, message: str) -> tuple[int, dict]:
    return status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}
