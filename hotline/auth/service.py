"""Accounts, passwords, login throttling and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
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
    user = db.session.get(User, user_id, options=[joinedload(User.role_rows)])  # roles in the same query
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
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(raw))
        .options(joinedload(ApiToken.user).joinedload(User.role_rows))  # user and roles in one query
    ).unique().scalar_one_or_none()
    if token is None or token.revoked_at is not None or token.expires_at <= clock.now():
        return None
    if not token.user.active:
        return None
    return token.user


# ---------------------------------------------------------------- user administration (admin pages)


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.username)))


def get_user(user_id: int) -> User:
    from hotline.errors import NotFound

    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("User not found."))
    return user


def _admin_display_name(display_name: str | None, username: str) -> str:
    name = (display_name or "").strip() or (username or "").strip()
    if len(name) > 64:
        raise InvalidInput(_("The display name is too long: at most %(max)d characters.", max=64),
                           {"display_name": _("At most %(max)d characters.", max=64)})
    return name


def _admin_department(code: str | None, current: User | None = None) -> str | None:
    """A department chosen on the admin pages must exist and be active (a user may keep an inactive one)."""
    code = (code or "").strip() or None
    if code is None:
        return None
    dept = db.session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise InvalidInput(_("Unknown department: %(code)s", code=code[:40]), {"department": _("Unknown department.")})
    if not dept.active and (current is None or current.department_id != dept.id):
        raise InvalidInput(_("The department %(name)s is no longer active.", name=dept.name),
                           {"department": _("Inactive.")})
    return code


def admin_create_user(username: str, display_name: str | None, roles: list[str], password: str,
                      department_code: str | None = None, phone: str | None = None) -> User:
    """An administrator creates an account; a handler must be given a department."""
    name = _admin_display_name(display_name, username)
    code = _admin_department(department_code)
    return create_user(username, name, roles, password, code, (phone or "").strip() or None)


def update_user(actor: User, user: User, *, display_name: str | None, roles: list[str],
                department_code: str | None, phone: str | None, active: bool) -> User:
    """Change roles, department, phone and whether the account is active.

    Administrators cannot remove their own admin role or deactivate themselves,
    so the register always keeps an administrator who can sign in.
    """
    if user.id == actor.id and ("admin" not in roles or not active):
        raise InvalidInput(_("You cannot remove your own administrator role or deactivate your own account."),
                           {"roles": _("Keep the administrator role.")})
    user.display_name = _admin_display_name(display_name, user.username)
    code = _admin_department(department_code, user)
    set_roles(user, roles)
    set_department(user, code)
    phone = (phone or "").strip()
    if phone:
        from hotline.cases.service import normalize_phone

        user.phone = normalize_phone(phone, "phone")
    else:
        user.phone = None
    if user.active and not active:
        # Logs out every session of a deactivated user; API tokens stop working too.
        user.session_epoch = (user.session_epoch or 0) + 1
    user.active = bool(active)
    db.session.flush()
    return user


def reset_password(actor: User, user: User, password: str) -> None:
    """An administrator sets a new password; every session of that user is logged out."""
    set_password(user, password or "")
    db.session.flush()
