"""The audit: who saw a confidential case, and the login record, as the admin page reads them.

Recording. The doors that show a case call record_views() with what they are about to show; it
adds one CaseView per confidential case whose caller or detail this person sees unmasked, to the
request's own session, so the row is committed with the request (hotline/web.py) or not at all:
a page that failed to render showed nothing.

What is recorded, and why only that:
* Confidential cases only. The caller of an ordinary case is, by design, visible to every role that
  may open it; the promise made to a caller who asked for 保密 is that only the people who work the
  case see who called and what they said. "Who saw it" is a question about that promise.
* Unmasked views only. Everyone else gets the masked case (138****5678, 张*, no detail): the same
  summary any colleague sees, nothing the caller asked to keep private. Recording those would bury
  the rows that matter under every list page of every operator, and turn each of their page loads
  into a database write.
* Every door that shows the unmasked parts: the case page (also when it is shown again after a
  refused action), the case list (phone and name in the caller column), the caller's earlier cases
  on the logging page (name, and the details offered for the new case), and the API's case, case
  list and case action answers. Not the answer to POST /cases: that is what the caller just typed.
  Not the handler queue: it shows no caller. Not the 台账 export: it masks every caller.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import select

from hotline import clock
from hotline.audit.models import VIA, CaseView
from hotline.auth.models import LoginAttempt, User
from hotline.cases import access
from hotline.cases.models import Case
from hotline.errors import InvalidInput
from hotline.extensions import db

PAGE_SIZE = 50
OUTCOMES = ("success", "failed", "refused", "locked", "unlocked")


def record_views(actor: User | None, cases: Iterable[Case], via: str) -> int:
    """Record that `actor` is being shown these cases; returns how many rows were added (see above)."""
    if via not in VIA:
        raise ValueError(f"unknown audit channel {via!r}")
    if actor is None:
        return 0
    if has_request_context():
        address = (request.remote_addr or "unknown")[:64]
        page = (request.endpoint or request.path)[:64]
    else:
        address, page = "local", "cli"
    now = clock.now()
    seen: set[int] = set()
    reads = access.private_reader(actor)
    for case in cases:
        if not case.confidential or case.id in seen or not reads(case):
            continue
        seen.add(case.id)
        db.session.add(CaseView(case_id=case.id, user_id=actor.id, at=now, via=via, page=page, address=address))
    return len(seen)


# ---------------------------------------------------------------- reading (the audit page)


@dataclass
class AuditPage:
    rows: list[Any]
    next_before: int | None  # keyset: the id to ask for rows before, or None on the last page


def _clean(raw: Any, max_len: int) -> str | None:
    value = raw.strip() if isinstance(raw, str) else ""
    return value[:max_len] or None


def parse_before(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 18 and int(raw) > 0:
        return int(raw)
    raise InvalidInput(_("The page marker is not valid; start again from the newest entries."),
                       {"before": _("Invalid.")})


def parse_outcome(raw: Any) -> str | None:
    value = _clean(raw, 16)
    if value is None:
        return None
    if value not in OUTCOMES:
        raise InvalidInput(_("Unknown login result: %(v)s", v=value), {"outcome": _("Unknown choice.")})
    return value


def _page(rows: list[Any], limit: int) -> AuditPage:
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, rows[-1].id if more and rows else None)


def case_views(username: Any = None, case_no: Any = None, before: int | None = None,
               limit: int | None = None) -> AuditPage:
    """Views of confidential cases, newest first; optionally of one user and/or one case."""
    limit = limit or PAGE_SIZE
    username, case_no = _clean(username, 64), _clean(case_no, 16)
    stmt = (select(CaseView.id, CaseView.at, CaseView.via, CaseView.page, CaseView.address,
                   User.username, User.display_name, Case.case_no)
            .join(User, User.id == CaseView.user_id).join(Case, Case.id == CaseView.case_id))
    # Filter on the ids so that the (user_id, id) and (case_id, id) indexes serve the page.
    if username is not None:
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            return AuditPage([], None)
        stmt = stmt.where(CaseView.user_id == user_id)
    if case_no is not None:
        case_id = db.session.scalar(select(Case.id).where(Case.case_no == case_no))
        if case_id is None:
            return AuditPage([], None)
        stmt = stmt.where(CaseView.case_id == case_id)
    if before is not None:
        stmt = stmt.where(CaseView.id < before)
    return _page(list(db.session.execute(stmt.order_by(CaseView.id.desc()).limit(limit + 1))), limit)


def login_attempts(username: Any = None, outcome: str | None = None, before: int | None = None,
                   limit: int | None = None) -> AuditPage:
    """Login attempts, newest first: success, wrong password (failed) or refused by the throttle; and the
    locks the throttle started and the unlocks by an administrator (hotline/auth/service.py).

    The user name is the one typed, so attempts on names that do not exist are listed too."""
    limit = limit or PAGE_SIZE
    username = _clean(username, 64)
    stmt = select(LoginAttempt.id, LoginAttempt.at, LoginAttempt.username, LoginAttempt.address,
                  LoginAttempt.success, LoginAttempt.refused, LoginAttempt.kind, LoginAttempt.minutes,
                  User.username.label("actor")).outerjoin(User, User.id == LoginAttempt.actor_id)
    if username is not None:
        stmt = stmt.where(LoginAttempt.username == username)
    attempt = LoginAttempt.kind == "attempt"
    if outcome == "success":
        stmt = stmt.where(attempt, LoginAttempt.success.is_(True))
    elif outcome == "failed":
        stmt = stmt.where(attempt, LoginAttempt.success.is_(False), LoginAttempt.refused.is_not(True))
    elif outcome == "refused":
        stmt = stmt.where(attempt, LoginAttempt.refused.is_(True))
    elif outcome == "locked":
        stmt = stmt.where(LoginAttempt.kind == "lock")
    elif outcome == "unlocked":
        stmt = stmt.where(LoginAttempt.kind == "unlock")
    if before is not None:
        stmt = stmt.where(LoginAttempt.id < before)
    return _page(list(db.session.execute(stmt.order_by(LoginAttempt.id.desc()).limit(limit + 1))), limit)


def login_outcome(row: Any) -> str:
    if row.kind == "lock":
        return "locked"
    if row.kind == "unlock":
        return "unlocked"
    if row.refused:
        return "refused"
    return "success" if row.success else "failed"


def admin_changes(area: Any = None, before: int | None = None, limit: int | None = None) -> AuditPage:
    """The admin change log (hotline/audit/admin_log.py), newest first; optionally of one area."""
    from hotline.audit.admin_log import AREAS
    from hotline.audit.models import AdminChange

    limit = limit or PAGE_SIZE
    area = _clean(area, 24)
    if area is not None and area not in AREAS:
        raise InvalidInput(_("Unknown area: %(v)s", v=area), {"area": _("Unknown choice.")})
    stmt = select(AdminChange)
    if area is not None:
        stmt = stmt.where(AdminChange.area == area)
    if before is not None:
        stmt = stmt.where(AdminChange.id < before)
    return _page(list(db.session.scalars(stmt.order_by(AdminChange.id.desc()).limit(limit + 1))), limit)
