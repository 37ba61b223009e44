"""Deny by default: every endpoint declares who may use it, or it answers 403."""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import g, has_request_context, request
from flask_login import current_user

PUBLIC = "public"
ANY_USER = "any_user"


def allow(*roles: str) -> Callable:
    """Mark a view as usable by these roles (or PUBLIC / ANY_USER)."""

    def mark(view):
        view._hotline_access = frozenset(roles)
        return view

    return mark


def public(view):
    view._hotline_access = frozenset({PUBLIC})
    return view


def current_actor():
    """The signed-in user of this request: on the API the bearer token's user only (never the browser's
    session cookie), elsewhere the web session's user; else None."""
    if has_request_context() and request.blueprint == "api":
        return getattr(g, "api_user", None)
    user = getattr(g, "api_user", None)
    if user is not None:
        return user
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def rule_of(view) -> frozenset | None:
    target = view
    while target is not None:
        rule = getattr(target, "_hotline_access", None)
        if rule is not None:
            return rule
        target = getattr(target, "__wrapped__", None)
    return None


def permits(rule: frozenset, user) -> bool:
    if PUBLIC in rule:
        return True
    if user is None:
        return False
    if ANY_USER in rule:
        return True
    return user.has_role(*rule)


def safe_local_path(target: str | None) -> str | None:
    """A redirect target (?next=, back=) only when it is a path on this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
