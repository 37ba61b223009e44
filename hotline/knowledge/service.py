"""The knowledge base (知识库): writing, reviewing, publishing, versions, search and use.

Supervisors and editors (知识库管理员) write, review and publish; operators, handlers and producers read the
published articles that are valid today. Every save keeps a version. An article without a legal basis cannot
be published. Articles past their valid_to drop out of suggestions and reads and are listed for review.
"""
from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, func, select

from hotline import clock
from hotline.auth.models import User
from hotline.cases import panels
from hotline.cases.models import Case
from hotline.dates import local_iso, parse_date
from hotline.db_helpers import check_version
from hotline.errors import Forbidden, IllegalMove, InvalidInput, NotFound
from hotline.extensions import db
from hotline.knowledge import text as kt
from hotline.knowledge.models import ARTICLE_STATUSES, Article, ArticleUse, ArticleVersion
from hotline.knowledge.seed_data import ARTICLES
from hotline.limits import ANSWER_MAX, QUESTION_MAX, YEAR_MAX, YEAR_MIN
from hotline.reference.models import Category
from hotline.text import has_unstorable

WRITERS = ("supervisor", "editor")
READERS = ("operator", "handler", "producer", "supervisor", "editor")
TITLE_MAX = 120
BASIS_MAX = 1000
QUERY_MAX = 100
FIELDS = ("title", "question", "answer", "category", "legal_basis", "valid_from", "valid_to")


def may_write(actor: User | None) -> bool:
    return actor is not None and actor.has_role(*WRITERS)


def may_read(actor: User | None) -> bool:
    return actor is not None and actor.has_role(*READERS)


def today() -> date:
    return clock.to_local(clock.now()).date()


def is_current(article: Article, day: date | None = None) -> bool:
    day = day or today()
    return (article.status == "published" and (article.valid_from is None or article.valid_from <= day)
            and (article.valid_to is None or article.valid_to >= day))


def is_expired(article: Article, day: date | None = None) -> bool:
    return article.valid_to is not None and article.valid_to < (day or today())


# ---------------------------------------------------------------- input

def text_field(data: dict, name: str, label: str, max_len: int, required: bool = False) -> str:
    """One text field of a JSON or form body: trimmed, storable, required or not, within its length."""
    raw = data.get(name)
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise InvalidInput(_("%(label)s must be text.", label=label), {name: _("Must be text.")})
    value = raw.strip()
    if has_unstorable(value):
        raise InvalidInput(_("%(name)s contains a character that cannot be stored.", name=label),
                           {name: _("Contains a character that cannot be stored.")})
    if required and not value:
        raise InvalidInput(_("Please enter %(label)s.", label=label), {name: _("Required.")})
    if len(value) > max_len:
        raise InvalidInput(_("%(label)s is too long (%(n)d characters, at most %(max)d).", label=label, n=len(value), max=max_len),
                           {name: _("Too long.")})
    return value


def _date(data: dict, name: str, label: str) -> date | None:
    raw = data.get(name)
    if raw in (None, ""):
        return None
    wrong = _("%(field)s must be a date (YYYY-MM-DD).", field=label)
    if not isinstance(raw, str):
        raise InvalidInput(wrong, {name: _("Wrong date format.")})
    return parse_date(raw, name, date(YEAR_MIN, 1, 1), date(YEAR_MAX, 12, 31), wrong=wrong,
                      out_of_range=_("%(field)s is out of range.", field=label))


def _category(code: Any) -> Category | None:
    if code in (None, ""):
        return None
    if not isinstance(code, str):
        raise InvalidInput(_("Unknown category."), {"category": _("Unknown category.")})
    cat = db.session.scalar(select(Category).where(Category.code == code.strip()))
    if cat is None:
        raise InvalidInput(_("Unknown category: %(code)s", code=code[:32]), {"category": _("Unknown category.")})
    return cat


def _parse(data: dict) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": text_field(data, "title", _("Title"), TITLE_MAX, True),
        "question": text_field(data, "question", _("Question"), QUESTION_MAX, True),
        "answer": text_field(data, "answer", _("Answer"), ANSWER_MAX, True),
        "legal_basis": text_field(data, "legal_basis", _("Legal basis"), BASIS_MAX, False),
        "category": _category(data.get("category")),
        "valid_from": _date(data, "valid_from", _("Valid from")),
        "valid_to": _date(data, "valid_to", _("Valid until")),
    }
    if values["valid_from"] and values["valid_to"] and values["valid_to"] < values["valid_from"]:
        raise InvalidInput(_("Valid until must not be before valid from."), {"valid_to": _("Before valid from.")})
    return values


def _require_writer(actor: User) -> None:
    if not may_write(actor):
        raise Forbidden(_("Only supervisors and knowledge-base editors may change articles."))


def snapshot(article: Article) -> dict[str, Any]:
    return {
        "title": article.title, "question": article.question, "answer": article.answer,
        "category": article.category.code if article.category else None, "legal_basis": article.legal_basis,
        "valid_from": article.valid_from.isoformat() if article.valid_from else None,
        "valid_to": article.valid_to.isoformat() if article.valid_to else None,
    }


def _keep_version(article: Article, actor: User | None) -> None:
    db.session.add(ArticleVersion(article=article, version=article.version, status=article.status,
                                  data=snapshot(article), actor_id=actor.id if actor else None, at=clock.now()))


# ---------------------------------------------------------------- writing

def create(actor: User | None, data: dict, *, source_case: Case | None = None, seed_key: str | None = None,
           check_role: bool = True) -> Article:
    if check_role:
        _require_writer(actor)
    values = _parse(data)
    now = clock.now()
    article = Article(title=values["title"], question=values["question"], answer=values["answer"],
                      legal_basis=values["legal_basis"], category=values["category"],
                      valid_from=values["valid_from"], valid_to=values["valid_to"], status="draft", version=1,
                      use_count=0, seed_key=seed_key, source_case_id=source_case.id if source_case else None,
                      created_by_id=actor.id if actor else None, updated_by_id=actor.id if actor else None,
                      created_at=now, updated_at=now)
    db.session.add(article)
    _keep_version(article, actor)
    db.session.flush()
    return article


def update(actor: User, article: Article, data: dict, version: Any) -> Article:
    """Save a new version. A changed text goes back to draft: it is reviewed and published again."""
    _require_writer(actor)
    _check_version(article, version)
    values = _parse(data)
    for name in ("title", "question", "answer", "legal_basis", "category", "valid_from", "valid_to"):
        setattr(article, name, values[name])
    article.version += 1
    article.status = "draft"
    article.reviewed_at = article.published_at = None
    article.updated_at = clock.now()
    article.updated_by_id = actor.id
    _keep_version(article, actor)
    db.session.flush()
    return article


def _check_version(article: Article, version: Any) -> None:
    if version is None:
        return
    # JSON only: "3" or true is not a version (and so stale).
    given = version if isinstance(version, int) and not isinstance(version, bool) else None
    check_version(article, given, _("This article was changed meanwhile; reload it and try again."))


def review(actor: User, article: Article, version: Any = None) -> Article:
    _require_writer(actor)
    _check_version(article, version)
    if article.status != "draft":
        raise IllegalMove(_("Only a draft can be marked as reviewed."))
    article.status = "reviewed"
    article.version += 1
    article.reviewed_at = article.updated_at = clock.now()
    article.updated_by_id = actor.id
    _keep_version(article, actor)
    db.session.flush()
    return article


def publish(actor: User | None, article: Article, version: Any = None, *, check_role: bool = True) -> Article:
    """Publish a draft or reviewed article. Refused without a legal basis (law and article)."""
    if check_role:
        _require_writer(actor)
    _check_version(article, version)
    if article.status == "published":
        raise IllegalMove(_("This article is already published."))
    if not (article.legal_basis or "").strip():
        raise InvalidInput(_("An article without a legal basis cannot be published; name the law and article."),
                           {"legal_basis": _("Required for publishing.")})
    now = clock.now()
    if article.status == "draft":
        article.reviewed_at = now
    article.status = "published"
    article.version += 1
    article.published_at = article.updated_at = now
    article.updated_by_id = actor.id if actor else None
    _keep_version(article, actor)
    db.session.flush()
    return article


def propose_from_case(actor: User, case: Case) -> Article:
    """A good answer on a closed case, proposed as a new article in one step (a draft to be reviewed)."""
    _require_writer(actor)
    if case.status != "closed" or not (case.answer or "").strip():
        raise IllegalMove(_("Only a closed case with an answer can be proposed as an article."))
    data = {"title": case.summary[:TITLE_MAX], "question": case.summary, "answer": case.answer[:ANSWER_MAX],
            "category": case.category.code if case.category else None, "legal_basis": ""}
    return create(actor, data, source_case=case)


# ---------------------------------------------------------------- reading

def get(actor: User, article_id: int) -> Article:
    article = db.session.get(Article, article_id)
    if article is None or not (may_write(actor) or (may_read(actor) and is_current(article))):
        raise NotFound(_("Article %(id)s was not found.", id=article_id))
    return article


def parse_query(raw: str | None) -> str | None:
    q = (raw or "").strip()
    if not q:
        return None
    if len(q) > QUERY_MAX:
        raise InvalidInput(_("The search text is too long (at most 100 characters)."), {"q": _("Too long.")})
    if not kt.has_signal(q):
        raise InvalidInput(_("Search with words or numbers; symbols alone match nothing."),
                           {"q": _("No words to search for.")})
    return q


def listing(actor: User, q: str | None = None, status: str | None = None, category: str | None = None,
            limit: int = 50) -> list[Article]:
    """Articles the actor may read, best match first with a query, else newest first.

    status: draft, reviewed, published or expired (writers only); readers always get the current ones."""
    stmt = select(Article)
    writer = may_write(actor)
    if status not in (None, "", *ARTICLE_STATUSES, "expired"):
        raise InvalidInput(_("Unknown status: %(v)s", v=str(status)[:20]), {"status": _("Unknown status.")})
    if not writer:
        status = "published"
    if status == "expired":
        stmt = stmt.where(Article.valid_to < today())
    elif status:
        stmt = stmt.where(Article.status == status)
    if category:
        cat = _category(category)
        stmt = stmt.where(Article.category_id == cat.id)
    rows = list(db.session.scalars(stmt.order_by(Article.id.desc())))
    if not writer:
        day = today()
        rows = [a for a in rows if is_current(a, day)]
    if q:
        scored = rank(q, rows)
        return [a for a, _s in scored][:limit]
    return rows[:limit]


def expired_for_review() -> list[Article]:
    """Published articles past their valid_to: out of suggestions until renewed."""
    return list(db.session.scalars(select(Article).where(Article.status == "published", Article.valid_to < today())
                                   .order_by(Article.valid_to)))


# ---------------------------------------------------------------- matching

@dataclass
class _Doc:
    article_id: int
    version: int
    counts: Counter
    length: int


_index_lock = threading.Lock()
_docs: dict[tuple[int, int], _Doc] = {}


def _doc(article: Article) -> _Doc:
    key = (article.id, article.version)
    with _index_lock:
        doc = _docs.get(key)
    if doc is None:
        # Title and question say what the article answers: they weigh twice the answer.
        feats = (kt.features(article.title) + kt.features(article.question)) * 2 + kt.features(article.answer)
        doc = _Doc(article.id, article.version, Counter(feats), len(feats))
        with _index_lock:
            if len(_docs) > 5000:
                _docs.clear()
            _docs[key] = doc
    return doc


def rank(q: str, articles: list[Article], k1: float = 1.2, b: float = 0.75) -> list[tuple[Article, float]]:
    """BM25 over words and character pairs; only articles sharing something with the query."""
    terms = set(kt.features(q))
    if not terms or not articles:
        return []
    docs = [_doc(a) for a in articles]
    avg = sum(d.length for d in docs) / len(docs) or 1
    n = len(docs)
    df = {t: sum(1 for d in docs if t in d.counts) for t in terms}
    out = []
    for article, doc in zip(articles, docs):
        score = 0.0
        for t in terms:
            tf = doc.counts.get(t, 0)
            if not tf:
                continue
            idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
            weight = 1.0 if not t.startswith("#") else 0.5
            score += weight * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc.length / avg))
        if score > 0:
            out.append((article, score))
    out.sort(key=lambda pair: (-pair[1], pair[0].id))
    return out


def current_articles() -> list[Article]:
    day = today()
    rows = db.session.scalars(select(Article).where(Article.status == "published").order_by(Article.id))
    return [a for a in rows if is_current(a, day)]


def best_articles(q: str, limit: int = 3, min_score: float = 1.0) -> list[tuple[Article, float]]:
    return [(a, s) for a, s in rank(q, current_articles()) if s >= min_score][:limit]


def record_use(actor: User | None, article_id: Any, case: Case) -> bool:
    """使用此答复: link the article to the case it answered and count the use (once per case)."""
    try:
        article_id = int(article_id)
    except (TypeError, ValueError):
        return False
    article = db.session.get(Article, article_id) if 0 < article_id < 2**31 else None
    if article is None or not is_current(article):
        return False
    exists = db.session.scalar(select(func.count()).select_from(ArticleUse).where(
        ArticleUse.article_id == article.id, ArticleUse.case_id == case.id))
    if exists:
        return False
    db.session.add(ArticleUse(article_id=article.id, case_id=case.id, user_id=actor.id if actor else None,
                              at=clock.now()))
    article.use_count = (article.use_count or 0) + 1
    db.session.flush()
    return True


panels.register("knowledge_uses", lambda case_id, _reader: exists().where(ArticleUse.case_id == case_id))


def uses_of_case(case: Case) -> list[ArticleUse]:
    return list(db.session.scalars(select(ArticleUse).where(ArticleUse.case_id == case.id)))


def to_dict(article: Article, *, full: bool = True) -> dict[str, Any]:
    out = {
        "id": article.id, "title": article.title, "question": article.question, "answer": article.answer,
        "category": article.category.code if article.category else None, "legal_basis": article.legal_basis,
        "valid_from": article.valid_from.isoformat() if article.valid_from else None,
        "valid_to": article.valid_to.isoformat() if article.valid_to else None,
        "status": article.status, "expired": is_expired(article), "version": article.version,
        "use_count": article.use_count, "updated_at": local_iso(article.updated_at),
        "published_at": local_iso(article.published_at),
    }
    if full:
        out["source_case"] = article.source_case.case_no if article.source_case else None
    return out


def seed_articles() -> int:
    """The first articles (hotline/knowledge/seed_data.py), published; idempotent on their key."""
    known = set(db.session.scalars(select(Article.seed_key).where(Article.seed_key.is_not(None))))
    added = 0
    for key, category, title, question, answer, basis in ARTICLES:
        if key in known:
            continue
        article = create(None, {"title": title, "question": question, "answer": answer, "category": category,
                                "legal_basis": basis}, seed_key=key, check_role=False)
        publish(None, article, check_role=False)
        added += 1
    return added
