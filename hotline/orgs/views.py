"""The organisations page (administration): the tree an admin manages, new organisations, their settings."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from hotline.auth.access import allow, current_actor
from hotline.errors import ServiceError
from hotline.orgs import service
from hotline.orgs.models import DIGEST_SCOPES

bp = Blueprint("orgs", __name__)


def _page(form=None, error=None, fields=None, status: int = 200):
    actor = current_actor()
    own = service.by_id(actor.org_id)
    return render_template("admin/orgs.html", orgs=service.visible_orgs(actor), own=own, form=form or MultiDict(),
                           error=error, fields=fields or {}, scopes=DIGEST_SCOPES), status


@bp.route("/admin/orgs")
@allow("admin")
def index():
    return _page()


@bp.route("/admin/orgs", methods=["POST"])
@allow("admin")
def create():
    form = request.form
    try:
        org = service.create(current_actor(), form.get("code"), form.get("name"), form.get("parent"))
    except ServiceError as err:
        return _page(form, err.message, err.fields, err.status if err.status >= 400 else 422)
    flash(_("Organisation %(name)s was created.", name=org.name), "ok")
    return redirect(url_for(".index"))


@bp.route("/admin/orgs/<code>", methods=["POST"])
@allow("admin")
def settings(code: str):
    form = request.form
    try:
        org = service.update_settings(current_actor(), code, form.get("delegate_closure"), form.get("digest_scope"))
    except ServiceError as err:
        return _page(None, err.message, err.fields, err.status if err.status >= 400 else 422)
    flash(_("The settings of %(name)s were saved.", name=org.name), "ok")
    return redirect(url_for(".index"))
