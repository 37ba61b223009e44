"""The 12351 hotline and radio case register."""
from __future__ import annotations

import logging

from flask import Flask, request, session
from flask_login import current_user

from hotline.config import ROOT, load_config
from hotline.extensions import babel, csrf, db, login_manager, migrate

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    # The features are imported in here, not at the top: importing `hotline` (its clock, config or models
    # in a script, a migration or a test) must not pull in every blueprint and its dependencies.
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "hotline" / "static"),
        instance_path=str(ROOT / "instance"),
    )
    from hotline.jsonio import OrjsonProvider

    app.json = OrjsonProvider(app)
    app.config.update(load_config(config))
    from hotline.db_types import RowIdConverter

    app.url_map.converters["int"] = RowIdConverter  # ids beyond the integer column's range: 404, not a crash
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
        app.instance_path and __import__("os").makedirs(app.instance_path, exist_ok=True)

    from hotline import models  # noqa: F401  (registers every table)

    db.init_app(app)
    from hotline import replica

    replica.init_app(app)  # DATABASE_REPLICA_URL: reports and search read from a streaming replica
    from hotline.audit.admin_log import install as install_admin_log

    install_admin_log()  # every change to the administered data is logged (hotline/audit/admin_log.py)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: app.config["HOTLINE_TIMEZONE"])

    with app.app_context():
        _sqlite_pragmas()

    from hotline.auth.service import load_session_user

    login_manager.user_loader(load_session_user)

    from hotline.admin.views import bp as admin_bp
    from hotline.api.views import bp as api_bp
    from hotline.auth.views import bp as auth_bp
    from hotline.cases.views import bp as cases_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    from hotline.orgs.views import bp as orgs_bp

    app.register_blueprint(orgs_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    from hotline.notify.views import bp as notify_bp

    app.register_blueprint(notify_bp)
    from hotline.reports.views import bp as reports_bp
    from hotline.telephony.views import bp as telephony_bp

    app.register_blueprint(telephony_bp)
    app.register_blueprint(reports_bp)
    from hotline.digest.views import bp as digest_bp
    from hotline.radio.views import bp as radio_bp

    app.register_blueprint(radio_bp)
    app.register_blueprint(digest_bp)
    from hotline.audit.views import bp as audit_bp

    app.register_blueprint(audit_bp)
    from hotline.knowledge.views import bp as knowledge_bp, install as install_knowledge

    app.register_blueprint(knowledge_bp)
    install_knowledge(app)
    # Features subscribe to what the case service announces (hotline/cases/signals.py, architecture §8).
    from hotline.knowledge import signals as knowledge_signals
    from hotline.telephony import signals as telephony_signals

    knowledge_signals.connect()
    telephony_signals.connect()
    csrf.exempt(api_bp)  # bearer tokens, never cookies

    from hotline.web import install

    install(app)

    from hotline.cli import register_cli

    register_cli(app)
    return app


def select_locale():
    from flask import current_app, has_request_context

    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = request.args.get("lang")
    languages = current_app.config["LANGUAGES"]
    if wanted in languages:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in languages:
        return session["lang"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _sqlite_pragmas() -> None:
    from sqlalchemy import event

    engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
