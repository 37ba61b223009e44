"""Request plumbing shared by every door: access check, the single commit point, headers, template helpers."""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import force_locale, gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from hotline.auth.access import current_actor, permits, public, rule_of
from hotline.errors import ServiceError
from hotline.extensions import db
from hotline.text import has_unstorable

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# What a token of the `digest` scope may read: the approved digests (hotline/digest decides which are).
DIGEST_ENDPOINTS = frozenset({"api.get_digest", "api.get_digest_text", "api.get_digest_docx",
                              "api.get_digest_feed", "api.get_openapi"})


def is_api() -> bool:
    return request.blueprint == "api"


def scope_refusal(scope: str | None, endpoint: str, method: str) -> str | None:
    """Why a token of this scope may not make this request (None: it may). `full` does all its user's
    role may; `read` only reads (GET), within the role; `digest` reads the approved digests, nothing else."""
    if scope in (None, "full"):
        return None
    if method not in ("GET", "HEAD"):
        return _("This API token may only read.")
    if scope == "digest" and endpoint not in DIGEST_ENDPOINTS:
        return _("This API token may only read the approved digests.")
    return None


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    body: dict[str, dict[str, Any]] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def install(app: Flask) -> None:
    @app.before_request
    def check_access():
        if request.endpoint is None:
            return None  # 404 follows
        view = current_app.view_functions.get(request.endpoint)
        rule = rule_of(view)
        if not is_api() and not getattr(view, "signed_webhook", False) and any(
                has_unstorable(value) for source in (request.args, request.form)
                for values in source.listvalues() for value in values):
            # PostgreSQL cannot store (or even compare with) NUL, nor XML exports control characters
            # (hotline/text.py): refuse them at the door, in forms and in page addresses alike, rather than
            # fail in the database or in a .docx, .xlsx or feed later.
            return render_template("error.html", code=400,
                                   message=_("The form contains a character that cannot be stored.")), 400
        if rule is None and (request.endpoint == "static" or request.endpoint.endswith(".static")):
            return None  # stylesheets and scripts are public files (no rule can be declared on Flask's view)
        if is_api():
            # Bearer tokens only: the browser's session cookie opens no API door (it carries no CSRF
            # token, and a cross-site text/plain POST would carry it).
            from hotline.auth.service import token_for

            g.api_user, g.api_scope = None, None
            header = request.headers.get("Authorization", "")
            if header.startswith("Bearer "):
                token = token_for(header[7:].strip())
                if token is None:
                    return api_error(401, "unauthorized", _("The API token is wrong, expired or revoked."))
                if token in db.session.dirty:  # its last use, noted at most once a minute
                    g.token_use = (token.id, token.last_used_at)
                g.api_user, g.api_scope = token.user, token.scope
        if rule is None:
            # Deny by default: a route that declares no rule is closed.
            current_app.logger.error("endpoint %s declares no access rule", request.endpoint)
            return (api_error(403, "forbidden", _("Not allowed.")) if is_api()
                    else (render_template("error.html", code=403, message=_("Not allowed.")), 403))
        actor = current_actor()
        if not permits(rule, actor):
            if actor is None:
                if is_api():
                    return api_error(401, "unauthorized", _("Send an API token: Authorization: Bearer <token>."))
                return redirect(url_for("auth.login", next=request.full_path))
            if is_api():
                return api_error(403, "forbidden", _("Your role may not do this."))
            return render_template("error.html", code=403, message=_("Your role may not use this page.")), 403
        if is_api():
            refused = scope_refusal(g.api_scope, request.endpoint, request.method)
            if refused:
                return api_error(403, "token_scope", refused)
            if request.method in WRITE_METHODS and request.mimetype != "application/json":
                return api_error(415, "unsupported_media_type",
                                 _("Send the request body as JSON, with Content-Type: application/json."))
        return None

    @app.after_request
    def single_commit_point(response):
        # One transaction per request: committed only when the request succeeded.
        if response.status_code < 400 and not g.get("rolled_back_for_error"):
            try:
                g.committing = True  # a lost connection now may or may not have committed
                # The request's last statement: nothing reads its objects after it, so expiring each of them
                # (a list page's 50 cases and their handlers) would be work for nothing.
                session = db.session()
                session.expire_on_commit = False
                try:
                    db.session.commit()
                finally:
                    session.expire_on_commit = True
            except StaleDataError:
                db.session.rollback()
                keep_token_use()
                if is_api():
                    # api_error gives (response, status); an after_request hook returns the response itself.
                    response, status = api_error(409, "stale_version",
                                                 _("The case was changed by someone else meanwhile."))
                    response.status_code = status
                else:
                    raise
        else:
            db.session.rollback()
            keep_token_use()
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static" and not (request.endpoint or "").endswith(".static"):
            # Case pages, lists and API answers hold callers' data: no browser or proxy keeps a copy
            # (a shared workstation's back button or disk cache would show them to the next person).
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        return response

    @app.errorhandler(ServiceError)
    def service_error(err: ServiceError):
        db.session.rollback()
        if is_api():
            return api_error(err.status, err.code, err.message, err.fields)
        return render_template("error.html", code=err.status, message=err.message), err.status

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        db.session.rollback()
        return render_template("error.html", code=400,
                               message=_("The form expired or was not sent from this site. Reload the page and try again.")), 400

    @app.errorhandler(404)
    def not_found(err):
        if request.path.startswith("/api/"):
            return api_error(404, "not_found", _("Not found."))
        return render_template("error.html", code=404, message=_("Page not found.")), 404

    @app.errorhandler(413)
    def too_large(err):
        db.session.rollback()
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        message = _("The request is too large (at most %(mb)d MB).", mb=max(1, limit // (1024 * 1024)))
        if request.path.startswith("/api/"):
            return api_error(413, "too_large", message)
        return render_template("error.html", code=413, message=message), 413

    @app.errorhandler(405)
    def not_allowed(err):
        if request.path.startswith("/api/"):
            return api_error(405, "method_not_allowed", _("Method not allowed."))
        return render_template("error.html", code=405, message=_("Method not allowed.")), 405

    @app.errorhandler(OperationalError)
    def database_unavailable(err):
        return unavailable(err)

    @app.get("/healthz")
    @public
    def healthz():
        # For the proxy and monitoring (docs/deploy.md): 200 when this process and the database answer,
        # 503 (the handler above) when the database does not.
        db.session.execute(text("SELECT 1"))
        return jsonify(status="ok")

    @app.errorhandler(500)
    def server_error(err):
        if isinstance(getattr(err, "original_exception", None), OperationalError):
            return unavailable(err.original_exception)  # raised by the commit in single_commit_point
        db.session.rollback()
        if request.path.startswith("/api/"):
            return api_error(500, "server_error", _("Internal error; nothing was saved."))
        return render_template("error.html", code=500, message=_("Internal error; nothing was saved.")), 500

    from hotline import templating

    templating.install(app)


def keep_token_use() -> None:
    """A request that failed still used its token: its last use is saved on its own (best effort: the
    admin page's "last used" is information, never a reason to fail the answer)."""
    noted = g.pop("token_use", None)
    if noted is None:
        return
    from sqlalchemy import update

    from hotline.auth.models import ApiToken

    try:
        db.session.execute(update(ApiToken).where(ApiToken.id == noted[0]).values(last_used_at=noted[1]))
        db.session.commit()
    except Exception:  # noqa: BLE001
        db.session.rollback()
        current_app.logger.warning("could not note the last use of API token %s", noted[0])


def unavailable(err: OperationalError):
    """The database is down or restarting (or the statement was a deadlock victim): 503 and Retry-After,
    not a 500. Built without the database: no page layout (it reads the user and the bell), and the
    language from the URL or the session, not from the user's account."""
    current_app.logger.warning("database unavailable for %s %s: %s", request.method, request.path,
                               (str(getattr(err, "orig", err)).strip().splitlines() or [""])[0][:200])
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the connection is gone; the pool replaces it on the next checkout)
        db.session().invalidate()  # the Session behind the scoped proxy
    languages = current_app.config["LANGUAGES"]
    lang = next((x for x in (request.args.get("lang"), session.get("lang")) if x in languages),
                current_app.config["BABEL_DEFAULT_LOCALE"])
    with force_locale(lang):
        if g.get("committing"):
            message = _("The database connection was lost while saving: check whether your change was saved "
                        "before you send it again.")
        else:
            message = _("The database is not available just now; nothing was saved. Please try again in a "
                        "moment.")
    if is_api():
        response, status = api_error(503, "unavailable", message)
    else:
        html = (f'<!doctype html><html lang="{"zh-CN" if lang.startswith("zh") else "en"}"><meta charset="utf-8">'
                f'<title>503</title><h1>503</h1><p role="alert">{escape(message)}</p></html>')
        response, status = Response(html, mimetype="text/html"), 503
    response.status_code = status
    response.headers["Retry-After"] = "5"
    return response
