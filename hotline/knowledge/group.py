"""群体性预警: at least N different callers naming one employer within the window (settings
HOTLINE_GROUP_CALLERS, default 3, and HOTLINE_GROUP_DAYS, default 14) make one alert for supervisors.

The alert is one per cluster: a later case of the same employer within the window of the cluster's last case
joins it (the cluster grows, no second notice); a case after a quiet window starts a new cluster. Callers are
told apart by their phone; a case without a phone counts as a caller of its own.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, select, text

from hotline import clock
from hotline.cases import access, panels
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.knowledge.employer import normalise
from hotline.knowledge.models import CaseEmployer, GroupAlert, GroupAlertCase
from hotline.notify import service as notify


def settings() -> tuple[int, timedelta]:
    cfg = current_app.config
    return int(cfg.get("HOTLINE_GROUP_CALLERS", 3)), timedelta(days=int(cfg.get("HOTLINE_GROUP_DAYS", 14)))


def _callers(rows) -> int:
    return len({r.caller_phone or f"case:{r.case_id}" for r in rows})


def window_rows(key: str, since: datetime) -> list[CaseEmployer]:
    return list(db.session.scalars(select(CaseEmployer).where(CaseEmployer.employer_key == key,
                                                              CaseEmployer.created_at >= since)
                                   .order_by(CaseEmployer.created_at)))


def active_alert(key: str, since: datetime) -> GroupAlert | None:
    return db.session.scalar(select(GroupAlert).where(GroupAlert.employer_key == key, GroupAlert.last_at >= since)
                             .order_by(GroupAlert.id.desc()).limit(1))


def after_register(case: Case) -> GroupAlert | None:
    """Record the case's employer; open or grow the cluster; tell supervisors once per cluster."""
    key = normalise(case.caller_employer)
    if key is None or case.merged_into_id is not None:
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        # Two cases of one employer registered at the same moment: one opens the cluster, the other joins it.
        # (SQLite writes one transaction at a time anyway.)
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": "group:" + key})
    db.session.add(CaseEmployer(case_id=case.id, employer_key=key, caller_phone=case.caller_phone,
                                created_at=case.created_at))
    db.session.flush()
    threshold, window = settings()
    since = case.created_at - window
    alert = active_alert(key, since)
    if alert is None:
        rows = window_rows(key, since)
        if _callers(rows) < threshold:
            return None
        alert = GroupAlert(employer_key=key, employer_name=case.caller_employer[:128], callers=0, cases=0,
                           first_at=rows[0].created_at, last_at=case.created_at, created_at=clock.now())
        db.session.add(alert)
        db.session.flush()
        members = rows
        new = True
    else:
        members = [r for r in window_rows(key, since)]
        new = False
    known = set(db.session.scalars(select(GroupAlertCase.case_id).where(GroupAlertCase.alert_id == alert.id)))
    for row in members:
        if row.case_id not in known:
            db.session.add(GroupAlertCase(alert_id=alert.id, case_id=row.case_id))
            known.add(row.case_id)
    db.session.flush()
    all_rows = list(db.session.scalars(select(CaseEmployer).join(
        GroupAlertCase, GroupAlertCase.case_id == CaseEmployer.case_id).where(GroupAlertCase.alert_id == alert.id)))
    alert.cases = len(all_rows)
    alert.callers = _callers(all_rows)
    alert.last_at = max(alert.last_at, case.created_at)
    db.session.flush()
    if new:
        _notify(alert, case)
    return alert


def _notify(alert: GroupAlert, case: Case) -> None:
    threshold, window = settings()
    body = _("Possible group dispute: %(n)d callers named %(employer)s within %(days)d days (latest case %(no)s).",
             n=alert.callers, employer=alert.employer_name, days=window.days, no=case.case_no)
    for supervisor in notify.supervisors():
        notify.enqueue(supervisor, "group_dispute", f"group:{alert.id}", body, case)


panels.register("group_alert", lambda case_id, _reader: exists().where(GroupAlertCase.case_id == case_id))


def alert_of_case(case: Case) -> GroupAlert | None:
    return db.session.scalar(select(GroupAlert).join(GroupAlertCase).where(GroupAlertCase.case_id == case.id)
                             .order_by(GroupAlert.id.desc()).limit(1))


def linked_cases(case: Case) -> tuple[GroupAlert | None, list[Case]]:
    """The cluster the case belongs to and its other cases (newest first)."""
    alert = alert_of_case(case)
    if alert is None:
        return None, []
    others = list(db.session.scalars(select(Case).join(GroupAlertCase, GroupAlertCase.case_id == Case.id)
                                     .where(GroupAlertCase.alert_id == alert.id, Case.id != case.id)
                                     .order_by(Case.id.desc())))
    return alert, others


def recent_alerts(days: int = 30, limit: int = 10) -> list[GroupAlert]:
    since = clock.now() - timedelta(days=days)
    return list(db.session.scalars(select(GroupAlert).where(GroupAlert.last_at >= since)
                                   .order_by(GroupAlert.last_at.desc()).limit(limit)))


def prospective(actor, employer: str | None, phone: str | None) -> dict | None:
    """For the suggestion panel: the cluster this employer is in, or the one this call would start."""
    key = normalise(employer)
    if key is None:
        return None
    threshold, window = settings()
    since = clock.now() - window
    alert = active_alert(key, since)
    rows = window_rows(key, since)
    phones = {r.caller_phone or f"case:{r.case_id}" for r in rows}
    callers_with_this = len(phones | ({phone} if phone else {"new"}))
    if alert is None and callers_with_this < threshold:
        return None
    case_ids = [r.case_id for r in rows]
    numbers = []
    if case_ids:  # the numbers of the cases the actor may open (the count covers them all)
        stmt = access.scope(actor, select(Case.case_no)).where(Case.id.in_(case_ids))
        private_ok = access.private_filter_allowed(actor)
        if private_ok is not None:
            stmt = stmt.where(private_ok)
        numbers = list(db.session.scalars(stmt.order_by(Case.id.desc()).limit(20)))
    return {
        "employer": alert.employer_name if alert else employer.strip()[:128],
        "employer_key": key,
        "alert_id": alert.id if alert else None,
        "callers": len(phones),
        "callers_with_this_call": callers_with_this,
        "cases": numbers,
        "days": window.days,
        "threshold": threshold,
        "message": _("%(n)d other callers named this employer within %(days)d days: a possible group dispute.", n=len(phones - ({phone} if phone else set())), days=window.days),
    }
