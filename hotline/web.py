"""Request plumbing shared by every door: access check, the single commit point, headers, template helpers."""
from __future__ import annotations

from flask import Flask, Response, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import force_locale, gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from hotline.auth.access import current_actor, permits, public, rule_of
from hotline.errors import ServiceError
from hotline.text import has_unstorable
from hotline.extensions import db


def is_api() -> bool:
    return request.blueprint == "api"


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message}}
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
            from hotline.auth.service import user_for_token

            header = request.headers.get("Authorization", "")
            if header.startswith("Bearer "):
                g.api_user = user_for_token(header[7:].strip())
                if g.api_user is None:
                    return api_error(401, "unauthorized", _("The API token is wrong, expired or revoked."))
        if rule is None:
            # Deny by default: a route that declares no rule is closed.
            current_app.logger.error("endpoint %s declares no access rule", request.endpoint)
            return (api_error(403, "forbidden", _("Not allowed.")) if is_api()
                    else (render_template("error.html", code=403, message=_("Not allowed.")), 403))
        actor = current_actor()
        if permits(rule, actor):
            return None
        if actor is None:
            if is_api():
                return api_error(401, "unauthorized", _("Send an API token: Authorization: Bearer <token>."))
            return redirect(url_for("auth.login", next=request.full_path))
        if is_api():
            return api_error(403, "forbidden", _("Your role may not do this."))
        return render_template("error.html", code=403, message=_("Your role may not use this page.")), 403

    @app.after_request
    def single_commit_point(response):
        # One transaction per request: committed only when the request succeeded.
        if response.status_code < 400 and not g.get("rolled_back_for_error"):
            try:
                g.committing = True  # a lost connection now may or may not have committed
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                if is_api():
                    # api_error gives (response, status); an after_request hook returns the response itself.
                    response, status = api_error(409, "stale_version",
                                                 _("The case was changed by someone else meanwhile."))
                    response.status_code = status
                else:
                    raise
        else:
            db.session.rollback()
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
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


def unavailable(err: OperationalError):
    """The database is down or restarting (or the statement was a deadlock victim): 503 and Retry-After,
    not a 500. Built without the database: no page layout (it reads the user and the bell), and the
    language from the URL or the session, not from the user's account."""
    current_app.logger.warning("database unavailable for %s %s: %s", request.method, request.path,
                               (str(getattr(err, "orig", err)).strip().splitlines() or [""])[0][:200])
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the connection is gone; the pool replaces it on the next checkout)
        db.session.invalidate()
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
