"""POST /api/v1/suggest and the registration form's suggestion panel: one service for both doors.

From the summary (and optional detail, employer, phone) while the operator types: the best knowledge-base
articles, a suggested type, category and department each with a confidence, similar recent cases (same
employer, same topic) the actor may see, and any group-dispute alert. Nothing is saved.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from hotline import clock
from hotline.auth.models import User
from hotline.cases import access
from hotline.cases.models import Case
from hotline.errors import InvalidInput
from hotline.extensions import db
from hotline.knowledge import classify, group, service as kb, text as kt
from hotline.knowledge.employer import normalise
from hotline.knowledge.models import CaseEmployer
from hotline.limits import DETAIL_MAX, SUMMARY_MAX
from hotline.phones import normalize_phone
from hotline.reference.models import CaseType, Category, Department

EMPLOYER_MAX = 128
PHONE_MAX = 40
SIMILAR_DAYS = 90  # same employer
TOPIC_DAYS = 30  # same topic
SIMILAR_LIMIT = 5


def parse(data: dict) -> dict[str, str]:
    return {
        "summary": kb.text_field(data, "summary", _("Summary"), SUMMARY_MAX, required=True),
        "detail": kb.text_field(data, "detail", _("Detail"), DETAIL_MAX),
        "employer": kb.text_field(data, "employer", _("Employer"), EMPLOYER_MAX),
        "phone": kb.text_field(data, "phone", _("Phone"), PHONE_MAX),
    }


def _names(model, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(db.session.execute(select(model.code, model.name).where(model.code.in_(codes))).tuples().all())


def _choices(ranked: list[tuple[str, float]], model) -> dict[str, Any] | None:
    ranked = [(c, conf) for c, conf in ranked if c]
    if not ranked:
        return None
    names = _names(model, [c for c, _conf in ranked])
    ranked = [(c, conf) for c, conf in ranked if c in names]  # codes retired since training are left out
    if not ranked:
        return None
    items = [{"code": c, "name": names[c], "confidence": round(float(conf), 3)} for c, conf in ranked]
    return {**items[0], "alternatives": items[1:]}


def _phone(raw: str) -> str | None:
    if not raw:
        return None
    try:
        return normalize_phone(raw, "phone")
    except InvalidInput:
        raise InvalidInput(_("The phone number is not valid."), {"phone": _("Not a phone number.")}) from None


def similar_cases(actor: User, summary: str, employer_key: str | None, limit: int = SIMILAR_LIMIT) -> list[dict]:
    """Recent cases of the same employer (90 days), then of the same topic (30 days: the summary's most telling
    words), newest first; only cases the actor may list, and confidential ones only for those who work them."""
    now = clock.now()
    base = access.scope(actor, select(Case.id, Case.case_no, Case.summary, Case.status, Category.code,
                                      Case.created_at).join(Category, Category.id == Case.category_id))
    private_ok = access.private_filter_allowed(actor)
    if private_ok is not None:
        base = base.where(private_ok)  # no employer or topic oracle over confidential cases
    found: dict[int, tuple[Any, str]] = {}
    if employer_key:
        ids = select(CaseEmployer.case_id).where(CaseEmployer.employer_key == employer_key,
                                                 CaseEmployer.created_at >= now - timedelta(days=SIMILAR_DAYS))
        for row in db.session.execute(base.where(Case.id.in_(ids)).order_by(Case.id.desc()).limit(limit)):
            found[row.id] = (row, "employer")
    words = kt.key_words(summary, 2)
    if words and len(found) < limit:
        dialect = db.session.get_bind().dialect.name
        since = now - timedelta(days=TOPIC_DAYS)
        # Case numbers grow with time: the first case of the window bounds the walk over the newest cases.
        first_id = db.session.scalar(select(func.min(Case.id)).where(Case.created_at >= since))
        if first_id is not None:
            conds = [func.strpos(Case.summary, w) > 0 if dialect == "postgresql"
                     else Case.summary.contains(w, autoescape=True) for w in words]
            window = base.where(Case.id >= first_id, Case.created_at >= since)
            rows = list(db.session.execute(window.where(*conds).order_by(Case.id.desc()).limit(limit)))
            if not rows and len(conds) > 1:
                rows = list(db.session.execute(window.where(or_(*conds)).order_by(Case.id.desc()).limit(limit)))
            for row in rows:
                found.setdefault(row.id, (row, "topic"))
    return [{"case_no": row.case_no, "summary": row.summary, "status": row.status, "category": row.code,
             "created_at": clock.to_local(row.created_at).isoformat(), "reason": reason}
            for row, reason in list(found.values())[:limit]]


def suggest(actor: User, data: dict) -> dict[str, Any]:
    values = parse(data)
    phone = _phone(values["phone"])
    text_in = values["summary"] + ("。" + values["detail"] if values["detail"] else "")
    notes: list[str] = []
    articles = kb.best_articles(text_in) if kt.has_signal(text_in) else []
    top_category = articles[0][0].category.code if articles and articles[0][0].category else None
    ranked, source = classify.guess(values["summary"] if not values["detail"] else text_in, top_category)
    employer_key = normalise(values["employer"]) if values["employer"] else None
    if values["employer"] and employer_key is None:
        notes.append(_("“%(name)s” names no employer (only a legal form or a place); it is not matched.",
                       name=values["employer"][:40]))
    return {
        "type": _choices(ranked["type"], CaseType),
        "category": _choices(ranked["category"], Category),
        "department": _choices(ranked["department"], Department),
        "source": source,
        "articles": [{"id": a.id, "title": a.title, "answer": a.answer, "legal_basis": a.legal_basis,
                      "category": a.category.code if a.category else None, "score": round(score, 2),
                      "use_count": a.use_count} for a, score in articles],
        "similar_cases": similar_cases(actor, values["summary"], employer_key),
        "group_alert": group.prospective(actor, values["employer"], phone) if employer_key else None,
        "notes": notes,
    }
