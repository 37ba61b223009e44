"""Errors the services raise; every door turns them into its own answer (page message or JSON)."""
from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class InvalidInput(ServiceError):
    status = 422
    code = "invalid"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class IllegalMove(ServiceError):
    status = 409
    code = "illegal_move"


class StaleVersion(ServiceError):
    status = 409
    code = "stale_version"
