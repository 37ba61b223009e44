"""Login, logout, password change, language switch."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from hotline.auth import service
from hotline.auth.access import ANY_USER, allow, public, safe_local_path
from hotline.auth.forms import LoginForm, PasswordForm
from hotline.errors import ServiceError
from hotline.extensions import db

bp = Blueprint("auth", __name__)


def home_for(user) -> str:
    if user.has_role("operator"):
        return url_for("cases.new_case")
    if user.has_role("handler"):
        return url_for("cases.queue")
    if user.has_role("supervisor"):
        return url_for("reports.dashboard")  # the figures they are judged on (统计报表)
    if user.roles == {"editor"}:
        return url_for("knowledge.index")  # 知识库管理员
    return url_for("cases.list_cases")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = service.authenticate(form.username.data, form.password.data, request.remote_addr or "")
            except ServiceError as err:
                db.session.commit()  # keep the record of the failed attempt
                return render_template("auth/login.html", form=form, error=err.message), (
                    429 if err.code == "throttled" else 401)
            lang = session.get("lang")
            session.clear()  # a fresh session at login; only the chosen language survives
            if lang:
                session["lang"] = lang
            service.start_session(user, request.remote_addr or "")
            login_user(user)
            return redirect(safe_local_path(request.args.get("next")) or home_for(user))
        return render_template("auth/login.html", form=form, error=_("Please fill in user name and password.")), 422
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return render_template("auth/login.html", form=form, error=None)


@bp.route("/logout", methods=["POST"])
@allow(ANY_USER)
def logout():
    # Ended on the server: a copy of the cookie taken before logout opens nothing afterwards.
    service.end_session(getattr(current_user, "session_token", None), "logout")
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/")
@allow(ANY_USER)
def index():
    return redirect(home_for(current_user))


@bp.route("/account/password", methods=["GET", "POST"])
@allow(ANY_USER)
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not check_password_hash(user.password_hash, form.current.data):
            return render_template("auth/password.html", form=form, error=_("The current password is wrong.")), 422
        try:
            service.set_password(user, form.new.data)
        except ServiceError as err:
            return render_template("auth/password.html", form=form, error=err.message), 422
        # Every session and API token of this user ended with the old password; this browser gets a new one.
        service.start_session(user, request.remote_addr or "")
        login_user(user)
        flash(_("Password changed. Other sessions were logged out and your API tokens revoked."), "ok")
        return redirect(home_for(user))
    return render_template("auth/password.html", form=form, error=None)
