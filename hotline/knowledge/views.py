"""The knowledge-base pages (知识库), the registration form's suggestion panel (JSON for its script), proposing
a closed case's answer as an article, and the classifier's accuracy for admins."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from hotline import search
from hotline.auth.access import allow, current_actor
from hotline.cases import access, panels, service as cases
from hotline.errors import InvalidInput, ServiceError
from hotline.extensions import db
from hotline.json_body import json_object
from hotline.knowledge import classify, group, service as kb
from hotline.knowledge.forms import ArticleForm, VersionForm
from hotline.knowledge.models import ARTICLE_STATUSES
from hotline.knowledge.service import READERS, WRITERS
from hotline.knowledge.suggest import suggest as make_suggestion
from hotline.reference.models import Category

bp = Blueprint("knowledge", __name__)


def _categories():
    from sqlalchemy import select

    return list(db.session.scalars(select(Category).where(Category.active.is_(True))
                                   .order_by(Category.sort_order, Category.id)))


@bp.route("/knowledge")
@allow(*READERS)
def index():
    actor = current_actor()
    status = (request.args.get("status") or "").strip() or None
    message, errors = None, {}
    try:
        q = kb.parse_query(request.args.get("q"))
        rows = kb.listing(actor, q, status if kb.may_write(actor) else None, None, 100)
    except InvalidInput as err:
        q, rows, message, errors = None, [], err.message, err.fields
    return render_template("knowledge/list.html", rows=rows, q=request.args.get("q", "")[:100], status=status,
                           statuses=ARTICLE_STATUSES, may_write=kb.may_write(actor),
                           expired=kb.expired_for_review() if kb.may_write(actor) else [],
                           message=message, errors=errors), 422 if message else 200


@bp.route("/knowledge/new", methods=["GET", "POST"])
@allow(*WRITERS)
def new():
    if request.method == "POST":
        form = ArticleForm()
        try:
            article = kb.create(current_actor(), form.article())
        except ServiceError as err:
            db.session.rollback()
            return render_template("knowledge/form.html", article=None, values=form.posted, errors=err.fields,
                                   message=err.message, categories=_categories()), err.status
        flash(_("Article saved as a draft."), "ok")
        return redirect(url_for("knowledge.show", article_id=article.id))
    return render_template("knowledge/form.html", article=None, values={}, errors={}, message=None,
                           categories=_categories())


@bp.route("/knowledge/<int:article_id>")
@allow(*READERS)
def show(article_id: int):
    actor = current_actor()
    article = kb.get(actor, article_id)
    return render_template("knowledge/show.html", article=article, may_write=kb.may_write(actor),
                           expired=kb.is_expired(article))


@bp.route("/knowledge/<int:article_id>/edit", methods=["GET", "POST"])
@allow(*WRITERS)
def edit(article_id: int):
    actor = current_actor()
    article = kb.get(actor, article_id)
    if request.method == "POST":
        form = ArticleForm()
        try:
            version = int(form.version.data or 0)
            kb.update(actor, article, form.article(), version)
        except (ServiceError, ValueError) as err:
            db.session.rollback()
            message = err.message if isinstance(err, ServiceError) else _("Reload the page and try again.")
            return render_template("knowledge/form.html", article=kb.get(actor, article_id), values=form.posted,
                                   errors=getattr(err, "fields", {}), message=message,
                                   categories=_categories()), getattr(err, "status", 422)
        flash(_("New version saved as a draft; review and publish it again."), "ok")
        return redirect(url_for("knowledge.show", article_id=article.id))
    values = kb.snapshot(article)
    return render_template("knowledge/form.html", article=article, values=values, errors={}, message=None,
                           categories=_categories())


def _change_status(article_id: int, step: str):
    actor = current_actor()
    article = kb.get(actor, article_id)
    try:
        version = int(VersionForm().version.data or 0)
    except ValueError:
        version = -1
    try:
        (kb.review if step == "review" else kb.publish)(actor, article, version)
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("knowledge.show", article_id=article_id))
    flash(_("Article marked as reviewed.") if step == "review" else _("Article published."), "ok")
    return redirect(url_for("knowledge.show", article_id=article_id))


@bp.route("/knowledge/<int:article_id>/review", methods=["POST"])
@allow(*WRITERS)
def review(article_id: int):
    return _change_status(article_id, "review")


@bp.route("/knowledge/<int:article_id>/publish", methods=["POST"])
@allow(*WRITERS)
def publish(article_id: int):
    """Refused (with the reason shown) without a legal basis."""
    return _change_status(article_id, "publish")


@bp.route("/cases/<case_no>/propose-article", methods=["POST"])
@allow(*WRITERS)
def propose(case_no: str):
    """A good answer on a closed case → a draft article, in one step."""
    actor = current_actor()
    article = kb.propose_from_case(actor, cases.get_case(actor, case_no))
    flash(_("Draft article made from case %(no)s: add the legal basis, then review and publish it.",
            no=case_no), "ok")
    return redirect(url_for("knowledge.edit", article_id=article.id))


@bp.route("/knowledge/suggest", methods=["POST"])
@allow("operator", "producer", "supervisor")
def suggest():
    """The registration form's suggestion panel (hotline/static/suggest.js): same service as POST /api/v1/suggest."""
    try:
        body = json_object()
        return jsonify(make_suggestion(current_actor(), {k: body.get(k) for k in
                                                         ("summary", "detail", "employer", "phone")}))
    except ServiceError as err:
        db.session.rollback()
        response = jsonify(error={"code": err.code, "message": err.message, "fields": err.fields})
        response.status_code = err.status
        return response


@bp.route("/knowledge/classifier")
@allow("admin", "supervisor", "editor")
def classifier():
    """The suggestion classifier's held-out accuracy (admins)."""
    return render_template("knowledge/classifier.html", record=classify.latest_record(),
                           min_history=classify.MIN_HISTORY)


def _visible_ids(actor, rows) -> set[int]:
    return {c.id for c in rows if access.can_view(actor, c)}


def install(app) -> None:
    """Template helpers for the partials other pages include with one line; in a web process (not in tests,
    not in a `flask …` command: `hotline serve` warms up itself) jieba's dictionary is loaded at start-up.
    A CLI job must not pay for it: the thread's imports (jieba, scikit-learn) held the import lock while the
    job started, and `flask hotline run-job overdue` took 6 s instead of 1 on a loaded machine."""
    import os
    import sys

    if app.config.get("HOTLINE_ENV") != "test" and os.path.basename(sys.argv[0]) != "flask":
        from hotline.reports.hot import warm_up  # jieba and scikit-learn: only where the web process starts

        warm_up()

    from flask_babel import lazy_gettext as _l

    labels = {"draft": _l("Draft"), "reviewed": _l("Reviewed"), "published": _l("Published")}

    def _group_links(case):
        return group.linked_cases(case) if panels.may_have("group_alert", case.id) else (None, [])

    def _case_articles(case):
        return kb.uses_of_case(case) if panels.may_have("knowledge_uses", case.id) else []

    @app.context_processor
    def intake_helpers():
        return {"ARTICLE_STATUS_LABELS": labels, "highlight": search.highlight,
                "SEARCH_CANDIDATES": search.CANDIDATES,
                "visible_case_ids": _visible_ids,
                "group_days": lambda: group.settings()[1].days, "group_links": _group_links,
                "group_alerts": group.recent_alerts, "case_articles": _case_articles, "may_write_articles": kb.may_write}
