"""Every change to the administered data lands in the append-only admin_change log, with before and after.

One hook on the ORM flush, so no door (admin pages, CLI, API) and no service can change users and roles,
departments, types, categories and their time limits, the holiday calendar, telephony or digest settings
without a row here. Secrets are never copied: a new password or token shows as "changed".
On PostgreSQL a trigger refuses UPDATE and DELETE on the log (see the migration adding it).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import g, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from hotline import clock

# model class name -> (area, how to name the record, columns to leave out, columns whose value is secret)
WATCHED: dict[str, tuple[str, Any, tuple[str, ...], tuple[str, ...]]] = {
    "User": ("users", lambda o: o.username, ("session_epoch", "created_at", "locale"), ("password_hash",)),
    "ApiToken": ("tokens", lambda o: f"{_username(o.user_id)}#{o.id or ''}", ("created_at",), ("token_hash",)),
    "Department": ("departments", lambda o: o.code, (), ()),
    "CaseType": ("types", lambda o: o.code, (), ()),
    "Category": ("categories", lambda o: o.code, (), ()),
    "CalendarYear": ("calendar", lambda o: str(o.year), ("entered_at",), ()),
    "CalendarDay": ("calendar", lambda o: o.day.isoformat() if o.day else "", (), ()),
    "TelephonySettings": ("telephony", lambda o: "settings", ("updated_at", "updated_by_id"), ()),
    "DigestSettings": ("digest", lambda o: "settings", ("updated_at", "updated_by_id", "version"), ()),
}
AREAS = ("users", "tokens", "departments", "types", "categories", "calendar", "telephony", "digest")
SECRET = "(changed)"


def _username(user_id: int | None) -> str:
    from hotline.auth.models import User

    if user_id is None:
        return "?"
    session = _current_session
    user = session.identity_map.get((User, (user_id,), None)) if session is not None else None
    return user.username if user is not None else str(user_id)


_current_session: Session | None = None


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _actor_id() -> int | None:
    """The signed-in user, read without a query (the hook runs inside a flush)."""
    if not has_request_context():
        return None
    user = g.get("api_user") or g.get("_login_user")
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def _values(obj, skip: tuple[str, ...], secret: tuple[str, ...], which: str) -> dict[str, Any]:
    state = inspect(obj)
    out = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in skip or key == "id":
            continue
        hist = state.attrs[key].history
        if which == "before":
            value = hist.deleted[0] if hist.deleted else (hist.unchanged[0] if hist.unchanged else None)
        else:
            value = getattr(obj, key)
        out[key] = SECRET if key in secret and value is not None else _plain(value)
    return out


def _role_change(obj) -> tuple[list[str], list[str]] | None:
    """A user's roles before and after, when the role collection changed."""
    state = inspect(obj)
    if "role_rows" not in state.mapper.relationships:
        return None
    hist = state.attrs["role_rows"].history
    if not hist.has_changes():
        return None
    before = sorted({r.role for r in (*hist.unchanged, *hist.deleted)})
    after = sorted({r.role for r in (*hist.unchanged, *hist.added)})
    return (before, after) if before != after else None


def _changes(session: Session, _ctx, _instances) -> None:
    from hotline.audit.models import AdminChange

    global _current_session
    _current_session = session
    rows = []
    try:
        for action, objs in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
            for obj in list(objs):
                spec = WATCHED.get(type(obj).__name__)
                if spec is None:
                    continue
                area, name, skip, secret = spec
                if action == "update":
                    state = inspect(obj)
                    changed = [a.key for a in state.mapper.column_attrs
                               if a.key not in skip and state.attrs[a.key].history.has_changes()]
                    before = _values(obj, skip, secret, "before")
                    after = _values(obj, skip, secret, "after")
                    before = {k: before[k] for k in changed}
                    after = {k: after[k] for k in changed}
                    roles = _role_change(obj)
                    if roles:
                        before["roles"], after["roles"] = roles
                    if not after:
                        continue
                elif action == "create":
                    before, after = None, _values(obj, skip, secret, "after")
                    if "role_rows" in inspect(obj).mapper.relationships:
                        after["roles"] = sorted(r.role for r in obj.role_rows)
                else:
                    before, after = _values(obj, skip, secret, "before"), None
                rows.append(AdminChange(at=clock.now(), actor_id=_actor_id(), area=area, action=action,
                                        target=str(name(obj))[:128], before=before, after=after))
    finally:
        _current_session = None
    for row in rows:
        session.add(row)


_installed = False


def install() -> None:
    global _installed
    if not _installed:
        event.listen(Session, "before_flush", _changes)
        _installed = True
