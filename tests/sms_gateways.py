"""Local HTTP stand-ins for Aliyun SMS (dysmsapi, RPC style), Tencent Cloud SMS (API 3.0, JSON) and S3, speaking
each provider's wire format, so the official SDKs run unchanged against 127.0.0.1.

Each stand-in keeps every request it got (`requests`) and answers from `answers` (a list of
(status, body) pairs, used in order) or, when that is empty, with the provider's success answer.
`down` makes it answer 503 like an outage.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        status, body = self.server.stand_in.answer(self.path, dict(self.headers), raw)
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", self.server.stand_in.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST


class StandIn:
    content_type = "application/json;charset=utf-8"

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []
        self.down = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.stand_in = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, headers: dict, raw: str) -> tuple[int, dict]:
        request = self.parse(path, headers, raw)
        self.requests.append(request)
        if self.down:
            return 503, self.outage()
        if self.answers:
            return self.answers.pop(0)
        return 200, self.success(request, len(self.requests))


class AliyunStandIn(StandIn):
    """dysmsapi 2017-05-25 SendSms: RPC style, parameters in the query string and form body, JSON answer."""

    def parse(self, path, headers, raw):
        query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        lower = {k.lower(): v for k, v in headers.items()}
        return {"action": lower.get("x-acs-action"), "version": lower.get("x-acs-version"),
                "params": {**query, **form}, "authorization": lower.get("authorization")}

    def success(self, request, n):
        return {"Code": "OK", "Message": "OK", "BizId": f"90000{n:05d}^0", "RequestId": f"REQ-{n}"}

    def outage(self):
        return {"Code": "ServiceUnavailable", "Message": "The request has failed due to a temporary failure of the server.",
                "RequestId": "REQ-down"}

    @staticmethod
    def refuse(code: str, message: str) -> tuple[int, dict]:
        return 200, {"Code": code, "Message": message, "RequestId": "REQ-refused"}


class TencentStandIn(StandIn):
    """sms 2021-01-11 SendSms: API 3.0, a JSON body, the action in X-TC-Action, TC3-HMAC-SHA256 signed."""

    content_type = "application/json"

    def parse(self, path, headers, raw):
        lower = {k.lower(): v for k, v in headers.items()}
        return {"action": lower.get("x-tc-action"), "version": lower.get("x-tc-version"),
                "params": json.loads(raw or "{}"), "authorization": lower.get("authorization")}

    def success(self, request, n):
        phones = request["params"].get("PhoneNumberSet") or []
        return {"Response": {"SendStatusSet": [
            {"SerialNo": f"2028:{n:010d}", "PhoneNumber": phone, "Fee": 1, "SessionContext": "", "Code": "Ok",
             "Message": "send success", "IsoCode": "CN"} for phone in phones], "RequestId": f"req-{n}"}}

    def outage(self):
        return {"Response": {"Error": {"Code": "InternalError.Timeout", "Message": "timeout"}, "RequestId": "down"}}

    @staticmethod
    def refuse(code: str, message: str) -> tuple[int, dict]:
        return 200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "refused"}}

    @staticmethod
    def refuse_number(phone: str, code: str, message: str) -> tuple[int, dict]:
        return 200, {"Response": {"SendStatusSet": [{"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "Code": code,
                                                     "Message": message, "IsoCode": "CN"}], "RequestId": "x"}}


class S3StandIn:
    """S3's REST wire format, path-style (/bucket/key): PutObject, GetObject, DeleteObject, kept in memory."""

    def __init__(self, bucket: str = "hotline"):
        self.bucket = bucket
        self.objects: dict[str, tuple[str, bytes]] = {}
        self.requests: list[dict] = []
        self.down = False
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: bytes = b"", content_type: str = "application/xml", headers=None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _key(self) -> str | None:
                path = urlsplit(self.path).path
                prefix = f"/{stand_in.bucket}/"
                return path[len(prefix):] if path.startswith(prefix) else None

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stand_in.requests.append({"method": self.command, "path": self.path,
                                          "authorization": self.headers.get("Authorization")})
                if stand_in.down:
                    return self._answer(503, b"<Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>")
                key = self._key()
                if key is None:
                    return self._answer(404, b"<Error><Code>NoSuchBucket</Code><Message>no bucket</Message></Error>")
                if self.command == "PUT":
                    stand_in.objects[key] = (self.headers.get("Content-Type") or "binary/octet-stream", body)
                    return self._answer(200, headers={"ETag": '"0"'})
                if self.command == "DELETE":
                    stand_in.objects.pop(key, None)
                    return self._answer(204)
                if key not in stand_in.objects:
                    return self._answer(404, b"<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>")
                content_type, data = stand_in.objects[key]
                return self._answer(200, data, content_type, {"ETag": '"0"'})

            do_GET = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
