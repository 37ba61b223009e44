"""Accounts, passwords, login throttling and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from hotline import clock
from hotline.auth.models import ROLES, TOKEN_SCOPES, ApiToken, LoginAttempt, User, UserRole, UserSession
from hotline.db_helpers import get_or_404
from hotline.errors import Forbidden, InvalidInput, NotFound
from hotline.extensions import db
from hotline.phones import normalize_phone
from hotline.reference import lookup
from hotline.reference.models import Department

PASSWORD_MIN = 10
# zxcvbn's score: 3 is "safely unguessable" (about 10^8 guesses or more); 2 and below are refused.
PASSWORD_MIN_SCORE = 3


def check_password_strength(password: str, username: str = "", display_name: str = "") -> None:
    """At least PASSWORD_MIN characters, a zxcvbn score of 3 or more, and none of the patterns that
    Chinese users favour and zxcvbn's English lists miss (hotline/auth/patterns.py)."""
    from zxcvbn import zxcvbn

    from hotline.auth.patterns import chinese_pattern

    password = password or ""
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(_("The password needs at least %(n)d characters.", n=PASSWORD_MIN),
                           {"password": _("Too short.")})
    too_easy = InvalidInput(_("This password is too easy to guess; choose another."), {"password": _("Too common.")})
    if username and username.lower() in password.lower():
        raise too_easy
    if chinese_pattern(password):
        raise too_easy
    # zxcvbn's cost grows with the length; beyond 100 characters the first 100 decide.
    if zxcvbn(password[:100], user_inputs=[x for x in (username, display_name, "12351", "hotline") if x])[
            "score"] < PASSWORD_MIN_SCORE:
        raise too_easy


def create_user(username: str, display_name: str, roles: list[str], password: str,
                department_code: str | None = None, phone: str | None = None, org_code: str | None = None) -> User:
    from hotline.orgs import service as orgs

    # The organisation first: an unknown one is refused before anything is built.
    org = orgs.lookup(org_code) if org_code not in (None, "") else orgs.root()
    username = (username or "").strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise InvalidInput(_("User names use letters, digits, dot, dash and underscore."), {"username": _("Invalid.")})
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput(_("User %(name)s already exists.", name=username), {"username": _("Taken.")})
    user = User(username=username, display_name=(display_name or username).strip()[:64], password_hash="",
                created_at=clock.now(), active=True, session_epoch=0, org_id=org.id)
    set_roles(user, roles)
    set_department(user, department_code)
    if phone:
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
    if user.org_id is not None and dept.org_id != user.org_id:
        raise InvalidInput(_("%(dept)s belongs to another organisation.", dept=dept.name),
                           {"department": _("Another organisation's department.")})
    user.department_id = dept.id
    user.department = dept


def set_password(user: User, password: str, reason: str = "password") -> None:
    """A new password: every session and every API token of this user ends (a new session for the
    person who changed it is the door's business)."""
    check_password_strength(password, user.username, user.display_name)
    user.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    user.session_epoch = (user.session_epoch or 0) + 1
    if user.id is not None:
        end_sessions(user, reason)
        revoke_tokens(user, reason)


# ---------------------------------------------------------------- sessions (server side)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start_session(user: User, address: str) -> str:
    """A new server-side session; returns the random id the signed cookie carries."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(UserSession(token_hash=_digest(raw), user_id=user.id, created_at=now, last_seen_at=now,
                               address=(address or "")[:64]))
    db.session.flush()
    user.session_token = raw
    return raw


def _session_row(raw: str) -> UserSession | None:
    if not isinstance(raw, str) or not raw or len(raw) > 100:
        return None
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == _digest(raw)))


# Per-user figures a web page shows on every page, read in the session's own statement instead of one statement
# each: name -> a scalar subquery given the user's id column. Higher features register them (the bell's count,
# hotline/notify/service.py); the value waits in flask.g for the first session_extra() of the request.
_SESSION_EXTRAS: dict[str, Callable[[Any], Any]] = {}
_EXTRAS_KEY = "_hotline_session_extras"
_session_statement: tuple[tuple[str, ...], Any] | None = None
_token_statement: Any = None


def add_to_session_statement(name: str, subquery_for_user: Callable[[Any], Any]) -> None:
    _SESSION_EXTRAS[name] = subquery_for_user


def session_extra(name: str, user_id: int) -> Any | None:
    """The value the session statement read for this user, once (later calls get None and ask themselves)."""
    if not has_request_context():
        return None
    held = g.get(_EXTRAS_KEY)
    if not held or held[0] != user_id or name not in held[1]:
        return None
    return held[1].pop(name)


def forget_session_extra(name: str) -> None:
    """A write in this request changed what the value counted."""
    held = g.get(_EXTRAS_KEY) if has_request_context() else None
    if held:
        held[1].pop(name, None)


def load_session_user(raw: str) -> User | None:
    """Flask-Login's user loader: the user of a live session, else None (the session ends here when it
    has been idle too long or has reached its lifetime)."""
    if not isinstance(raw, str) or not raw or len(raw) > 100:
        return None
    from hotline.orgs import service as orgs
    from hotline.orgs.models import Organisation

    # One statement: the session, its user, the user's roles and organisation (a page asked three before;
    # every page about a case asks the visibility rule which organisation the user belongs to).
    # The reference tables' stamp comes along (hotline/reference/lookup.py: copies held between requests).
    global _session_statement
    extras = tuple(_SESSION_EXTRAS)
    if _session_statement is None or _session_statement[0] != extras:  # built once: every page runs it
        _session_statement = (extras, select(
            UserSession, User, Organisation, lookup.stamp_column(),
            *(_SESSION_EXTRAS[name](UserSession.user_id).label(name) for name in extras))
            .outerjoin(User, User.id == UserSession.user_id)
            .outerjoin(Organisation, Organisation.id == User.org_id)
            .where(UserSession.token_hash == bindparam("token_hash")).options(joinedload(User.role_rows)))
    found = db.session.execute(_session_statement[1], {"token_hash": _digest(raw)}).unique().first()
    if found is None:
        return None
    row, user, org, stamp = found[:4]
    if row.ended_at is not None:
        return None
    now = clock.now()
    cfg = current_app.config
    if now - row.last_seen_at >= timedelta(hours=cfg["SESSION_IDLE_HOURS"]):
        _end(row, "idle", now)
        db.session.commit()  # ended even though this request goes no further
        return None
    if now - row.created_at >= timedelta(hours=cfg["SESSION_LIFETIME_HOURS"]):
        _end(row, "lifetime", now)
        db.session.commit()
        return None
    if user is None or not user.active:
        return None
    if org is not None:
        orgs.keep(org)
    if now - row.last_seen_at >= timedelta(seconds=60):  # one write a minute at most, not one a request
        row.last_seen_at = now
    user.session_token = raw
    lookup.note_stamp(stamp)
    if extras:
        setattr(g, _EXTRAS_KEY, (user.id, dict(zip(extras, found[4:]))))
    return user


def _end(row: UserSession, reason: str, now=None) -> None:
    row.ended_at = now or clock.now()
    row.ended_reason = reason


def end_session(raw: str | None, reason: str = "logout") -> None:
    row = _session_row(raw) if raw else None
    if row is not None and row.ended_at is None:
        _end(row, reason)
        db.session.flush()


def end_sessions(user: User, reason: str) -> int:
    """End every live session of this user; returns how many."""
    rows = list(db.session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                             UserSession.ended_at.is_(None))))
    now = clock.now()
    for row in rows:
        _end(row, reason, now)
    db.session.flush()
    return len(rows)


# ---------------------------------------------------------------- login throttling


def _dummy_hash() -> str:
    """A hash of the same kind as real ones: an unknown user name costs what a wrong password costs."""
    cfg = current_app.config
    cached = cfg.get("_HOTLINE_DUMMY_HASH")
    if cached is None or not cached.startswith(cfg["PASSWORD_HASH_METHOD"].split(":")[0]):
        cached = generate_password_hash(secrets.token_hex(16), method=cfg["PASSWORD_HASH_METHOD"])
        cfg["_HOTLINE_DUMMY_HASH"] = cached
    return cached


def _failures(*conds) -> tuple[int, object]:
    """Counted failures matching conds since the last success or unlock that resets them, within the
    window: (count, time of the newest one). Refused attempts are never counted."""
    cfg = current_app.config
    since = clock.now() - timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"])
    row = db.session.execute(select(func.count(), func.max(LoginAttempt.at)).where(
        *conds, LoginAttempt.kind == "attempt", LoginAttempt.success.is_(False),
        LoginAttempt.refused.is_(False), LoginAttempt.at >= since)).one()
    return row[0] or 0, row[1]


def _last(*conds):
    return db.session.scalar(select(func.max(LoginAttempt.at)).where(*conds))


def _lock_minutes(failures: int, limit: int) -> int:
    """Progressive back-off: the limit-th failure locks for LOGIN_LOCK_MINUTES, each further one doubles it."""
    cfg = current_app.config
    if failures < limit:
        return 0
    return min(cfg["LOGIN_LOCK_MINUTES"] * 2 ** min(failures - limit, 20), cfg["LOGIN_LOCK_MAX_MINUTES"])


def _pair_state(username: str, address: str):
    reset = _last(LoginAttempt.kind.in_(("attempt", "unlock")), or_(
        and_(LoginAttempt.kind == "attempt", LoginAttempt.success.is_(True), LoginAttempt.username == username,
             LoginAttempt.address == address),
        and_(LoginAttempt.kind == "unlock", LoginAttempt.username == username)))
    conds = [LoginAttempt.username == username, LoginAttempt.address == address]
    if reset is not None:
        conds.append(LoginAttempt.at > reset)
    return _failures(*conds)


def _address_state(address: str):
    reset = _last(LoginAttempt.kind == "unlock", LoginAttempt.address == address)
    conds = [LoginAttempt.address == address]
    if reset is not None:
        conds.append(LoginAttempt.at > reset)
    return _failures(*conds)


def locked_until(username: str, address: str):
    """When this account may next be tried from this address (None: now). Two counters: failures of
    this account from this address, and failures of any account from this address. A stranger failing
    from elsewhere never locks the owner out of her own desk."""
    cfg = current_app.config
    until = None
    for (count, newest), limit in ((_pair_state(username, address), cfg["LOGIN_MAX_FAILURES"]),
                                   (_address_state(address), cfg["LOGIN_ADDRESS_MAX_FAILURES"])):
        minutes = _lock_minutes(count, limit)
        if minutes and newest is not None:
            end = newest + timedelta(minutes=minutes)
            if end > clock.now() and (until is None or end > until):
                until = end
    return until


def authenticate(username: str, password: str, address: str) -> User:
    """Check a login; every attempt is recorded (the caller commits even on failure).

    A locked (account, address) pair or address is refused without checking the password; refused
    attempts do not count. A failure that reaches a limit records the lock it starts (the audit page)."""
    username = (username or "").strip()[:64]
    address = (address or "unknown")[:64]
    now = clock.now()
    until = locked_until(username, address)
    if until is not None:
        db.session.add(LoginAttempt(username=username, address=address, at=now, success=False, refused=True,
                                    kind="attempt"))
        wait = max(1, -(-int((until - now).total_seconds()) // 60))
        raise Forbidden(_("Too many failed logins from here. Wait %(m)d minutes and try again, or ask an "
                          "administrator to unlock the account.", m=wait), code="throttled")
    user = db.session.scalar(select(User).where(User.username == username))
    # The same hash work whether or not the user exists: the answer's timing tells nothing.
    hashed = user.password_hash if user is not None else _dummy_hash()
    ok = check_password_hash(hashed, password or "") and user is not None and user.active
    db.session.add(LoginAttempt(username=username, address=address, at=now, success=ok, refused=False,
                                kind="attempt"))
    if not ok:
        db.session.flush()
        cfg = current_app.config
        for (count, _newest), limit, who in ((_pair_state(username, address), cfg["LOGIN_MAX_FAILURES"], username),
                                             (_address_state(address), cfg["LOGIN_ADDRESS_MAX_FAILURES"], "")):
            minutes = _lock_minutes(count, limit)
            if minutes:
                db.session.add(LoginAttempt(username=who, address=address, at=now, success=False, refused=False,
                                            kind="lock", minutes=minutes))
        raise InvalidInput(_("Wrong user name or password."), code="bad_login")
    return user


def unlock(actor: User | None, username: str | None = None, address: str | None = None) -> None:
    """An administrator lifts the locks of an account (from every address) or of an address."""
    username = (username or "").strip()[:64]
    address = (address or "").strip()[:64]
    if not username and not address:
        raise InvalidInput(_("Name the account or the address to unlock."), {"username": _("Required.")})
    db.session.add(LoginAttempt(username=username, address=address, at=clock.now(), success=False,
                                refused=False, kind="unlock", actor_id=actor.id if actor else None))
    db.session.flush()


def locks(limit: int = 50) -> list[dict]:
    """Locks in force now: account from an address, or a whole address (the admin users page)."""
    since = clock.now() - timedelta(minutes=current_app.config["LOCK_LIST_MINUTES"])
    rows = db.session.execute(select(LoginAttempt.username, LoginAttempt.address).where(
        LoginAttempt.kind == "lock", LoginAttempt.at >= since).distinct().limit(limit)).all()
    out = []
    for username, address in rows:
        until = locked_until(username, address) if username else None
        if not username:
            count, newest = _address_state(address)
            minutes = _lock_minutes(count, current_app.config["LOGIN_ADDRESS_MAX_FAILURES"])
            until = newest + timedelta(minutes=minutes) if minutes and newest is not None else None
            if until is not None and until <= clock.now():
                until = None
        if until is not None:
            out.append({"username": username, "address": address, "until": until})
    return out


# ---------------------------------------------------------------- API tokens


def parse_token_days(days) -> int:
    if days is None or days == "":
        return current_app.config["API_TOKEN_DAYS"]
    try:
        value = int(days)
    except (TypeError, ValueError):
        raise InvalidInput(_("days must be a whole number from 1 to 3650."), {"days": _("Not a number.")}) from None
    if not 1 <= value <= 3650:
        raise InvalidInput(_("days must be a whole number from 1 to 3650."), {"days": _("Out of range.")})
    return value


def issue_token(user: User, days: int | str | None = None, scope: str = "full") -> str:
    """A new API token for the user; the raw token is returned once and only its digest kept."""
    if scope not in TOKEN_SCOPES:
        raise InvalidInput(_("The scope must be one of: %(s)s", s=", ".join(TOKEN_SCOPES)), {"scope": _("Unknown.")})
    if not user.active:
        raise InvalidInput(_("The account %(name)s is deactivated.", name=user.username), {"user": _("Inactive.")})
    days = parse_token_days(days)
    raw = "hl_" + secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(raw), scope=scope, created_at=now,
                            expires_at=now + timedelta(days=days)))
    db.session.flush()
    return raw


def token_for(raw: str) -> ApiToken | None:
    """The live token behind this bearer value (its last use noted), else None."""
    if not raw or len(raw) > 200:
        return None
    from hotline.orgs import service as orgs
    from hotline.orgs.models import Organisation

    # The token, its user, the user's roles and organisation in one query: every API answer about a case
    # asks the visibility rule which organisation the caller belongs to (hotline/cases/access.py).
    global _token_statement
    if _token_statement is None:  # built once: every API request runs it
        _token_statement = (
            select(ApiToken, Organisation, lookup.stamp_column()).join(ApiToken.user)
            .outerjoin(Organisation, Organisation.id == User.org_id)
            .where(ApiToken.token_hash == bindparam("token_hash"))
            .options(contains_eager(ApiToken.user).joinedload(User.role_rows)))
    row = db.session.execute(_token_statement, {"token_hash": _digest(raw)}).unique().first()
    token, org = (row[0], row[1]) if row is not None else (None, None)
    if row is not None:
        lookup.note_stamp(row[2])
    now = clock.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if org is not None:
        orgs.keep(org)
    if not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= timedelta(seconds=60):
        token.last_used_at = now
    return token


def list_tokens(username: str | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).join(ApiToken.user)
    if username:
        stmt = stmt.where(User.username == username)
    return list(db.session.scalars(stmt.order_by(ApiToken.id.desc())))


def token_state(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= clock.now() else "active"


def revoke_token(token_id) -> ApiToken:
    token = get_or_404(ApiToken, token_id, _("No API token with id %(id)s.", id=str(token_id)[:20]))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.revoked_reason = "revoked"
        db.session.flush()
    return token


def revoke_tokens(user: User, reason: str) -> int:
    rows = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                          ApiToken.revoked_at.is_(None))))
    now = clock.now()
    for row in rows:
        row.revoked_at, row.revoked_reason = now, reason
    db.session.flush()
    return len(rows)


# ---------------------------------------------------------------- user administration (admin pages)


def list_users(actor: User | None = None) -> list[User]:
    """Every account, or (given the administrator) those of her organisation's subtree."""
    stmt = select(User).order_by(User.active.desc(), User.username)
    if actor is not None:
        from hotline.orgs import service as orgs

        stmt = stmt.where(User.org_id.in_(sorted(orgs.subtree_ids(actor.org_id))))
    return list(db.session.scalars(stmt))


def user_by_name(username) -> User:
    from hotline.errors import NotFound

    name = (username or "").strip()[:64] if isinstance(username, str) else ""
    user = db.session.scalar(select(User).where(User.username == name)) if name else None
    if user is None:
        raise NotFound(_("No user %(name)s.", name=name or "-"))
    return user


def get_user(user_id: int, actor: User | None = None) -> User:
    """A user by id; with `actor`, only within her organisation's subtree (another gets 404, as a stranger)."""
    from hotline.orgs import service as orgs  # orgs reads users: imported when used, not at start-up

    user = get_or_404(User, user_id, _("User not found."))
    if actor is not None and not orgs.covers(actor.org_id, user.org_id):
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
                      department_code: str | None = None, phone: str | None = None, org_code: str | None = None,
                      actor: User | None = None) -> User:
    """An administrator creates an account in her organisation's subtree; a handler must be given a department."""
    from hotline.orgs import service as orgs

    org = orgs.lookup(org_code) if org_code not in (None, "") else (
        orgs.by_id(actor.org_id) if actor is not None else orgs.root())
    orgs.check_covers(actor, org)
    name = _admin_display_name(display_name, username)
    code = _admin_department(department_code)
    return create_user(username, name, roles, password, code, (phone or "").strip() or None, org.code)


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
        user.phone = normalize_phone(phone, "phone")
    else:
        user.phone = None
    if user.active and not active:
        # Logs out every session of a deactivated user; API tokens stop working too.
        user.session_epoch = (user.session_epoch or 0) + 1
        end_sessions(user, "deactivated")
        revoke_tokens(user, "deactivated")
    user.active = bool(active)
    db.session.flush()
    return user


def reset_password(actor: User, user: User, password: str) -> None:
    """An administrator sets a new password; every session and API token of that user ends."""
    set_password(user, password or "", reason="reset")
    db.session.flush()
