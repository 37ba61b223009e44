"""Accounts, passwords, login throttling and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from hotline import clock
from hotline.auth.models import ROLES, ApiToken, LoginAttempt, User, UserRole
from hotline.errors import Forbidden, InvalidInput
from hotline.extensions import db
from hotline.reference.models import Department

PASSWORD_MIN = 10
COMMON_PASSWORDS = {
    "1234567890", "12345678910", "0123456789", "password123", "qwertyuiop", "1q2w3e4r5t", "abcdefghij",
    "password1234", "iloveyou12", "woaini1314", "a123456789", "1qaz2wsx3edc", "11111111111", "88888888888",
    "0000000000", "1111111111", "8888888888", "6666666666", "admin12345", "qwerty1234",
}


def check_password_strength(password: str, username: str = "") -> None:
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(_("The password needs at least %(n)d characters.", n=PASSWORD_MIN),
                           {"password": _("Too short.")})
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4 or (username and username.lower() in password.lower()):
        raise InvalidInput(_("This password is too easy to guess; choose another."), {"password": _("Too common.")})


def create_user(username: str, display_name: str, roles: list[str], password: str,
                department_code: str | None = None, phone: str | None = None) -> User:
    username = (username or "").strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise InvalidInput(_("User names use letters, digits, dot, dash and underscore."), {"username": _("Invalid.")})
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput(_("User %(name)s already exists.", name=username), {"username": _("Taken.")})
    user = User(username=username, display_name=(display_name or username).strip()[:64], password_hash="",
                created_at=clock.now(), active=True, session_epoch=0)
    set_roles(user, roles)
    set_department(user, department_code)
    if phone:
        from hotline.cases.service import normalize_phone

        user.phone = normalize_phone(phone, "phone")
    set_password(user, password)
    db.session.add(user)
    db.session.flush()
    return user


def set_roles(user: User, roles: list[str]) -> None:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise InvalidInput(_("Roles must be among: %(roles)s", roles=", ".join(ROLES)), {"roles": _("Unknown role.")})
    user.role_rows = [UserRole(role=r) for r in sorted(set(roles))]


def set_department(user: User, code: str | None) -> None:
    if not code:
        user.department_id = None
        if "handler" in {r.role for r in user.role_rows}:
            raise InvalidInput(_("A handler must belong to a department."), {"department": _("Required.")})
        return
    dept = db.session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise InvalidInput(_("Unknown department: %(code)s", code=code), {"department": _("Unknown department.")})
    user.department_id = dept.id
    user.department = dept


def set_password(user: User, password: str) -> None:
    check_password_strength(password, user.username)
    user.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    # Logs out every other session of this user.
    user.session_epoch = (user.session_epoch or 0) + 1


def load_session_user(session_id: str) -> User | None:
    try:
        user_id, epoch = (int(x) for x in session_id.split(":"))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return user


def _recent_failures(column, value: str) -> int:
    since = clock.now() - timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])
    return db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            column == value, LoginAttempt.at >= since, LoginAttempt.success.is_(False)
        )
    ) or 0


def authenticate(username: str, password: str, address: str) -> User:
    """Check a login. Too many recent failures for the account or the address refuse it outright.

    Every attempt is recorded; the caller commits even on failure so the record stays.
    """
    username = (username or "").strip()[:64]
    address = (address or "unknown")[:64]
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    if _recent_failures(LoginAttempt.username, username) >= limit or \
            _recent_failures(LoginAttempt.address, address) >= limit * 4:
        db.session.add(LoginAttempt(username=username, address=address, at=clock.now(), success=False, refused=True))
        raise Forbidden(_("Too many failed logins. Wait %(m)d minutes and try again.",
                          m=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"]), code="throttled")
    user = db.session.scalar(select(User).where(User.username == username))
    ok = user is not None and user.active and check_password_hash(user.password_hash, password or "")
    db.session.add(LoginAttempt(username=username, address=address, at=clock.now(), success=ok, refused=False))
    if not ok:
        raise InvalidInput(_("Wrong user name or password."), code="bad_login")
    return user


def issue_token(user: User, days: int | None = None) -> str:
    raw = "hl_" + secrets.token_urlsafe(32)
    now = clock.now()
    days = days or current_app.config["API_TOKEN_DAYS"]
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(raw), created_at=now,
                            expires_at=now + timedelta(days=days)))
    db.session.flush()
    return raw


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def user_for_token(raw: str) -> User | None:
    if not raw or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.revoked_at is not None or token.expires_at <= clock.now():
        return None
    if not token.user.active:
        return None
    return token.user
