"""Administration pages: users and roles, departments, types, categories, the holiday calendar.

Every view is for administrators only. A view parses the form, calls one
service function and redirects with a message; a refused change re-renders
the page with the reason and status 422, so the commit point saves nothing.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from hotline import clock
from hotline.admin import forms, service
from hotline.auth import service as users_service
from hotline.auth.access import allow, current_actor, safe_local_path
from hotline.auth.models import ROLES, TOKEN_SCOPES
from hotline.errors import NotFound, ServiceError
from hotline.orgs import service as orgs
from hotline.workdays import service as workdays

bp = Blueprint("admin", __name__)

EMPTY: MultiDict = MultiDict()


def _org_choices() -> dict:
    """The organisations an admin manages (hotline/orgs/): hers and those below it."""
    visible = orgs.visible_orgs(current_actor())
    return {"orgs": visible, "org_names": {o.id: o.name for o in visible}}


def _failed(err: ServiceError) -> dict:
    return {"error": err.message, "fields": err.fields or {}}


def _status(err: ServiceError) -> int:
    return err.status if err.status >= 400 else 422


# ---------------------------------------------------------------- overview


@bp.route("")
@allow("admin")
def index():
    covered = workdays.covered_years()
    return render_template(
        "admin/index.html",
        covered=covered,
        gaps=workdays.uncovered_years_ahead(),
        today=clock.local_now().date(),
        user_count=len(users_service.list_users(current_actor())),
        department_count=len(service.departments(current_actor())),
        category_count=len(service.categories()),
    )


# ---------------------------------------------------------------- users


def _users_page(form=EMPTY, error=None, fields=None):
    return render_template("admin/users.html", users=users_service.list_users(current_actor()), roles=ROLES,
                           departments=service.departments(current_actor()), form=form, error=error, fields=fields or {},
                           **_org_choices())


@bp.route("/users")
@allow("admin")
def users():
    return _users_page()


@bp.route("/users", methods=["POST"])
@allow("admin")
def create_user():
    form = forms.NewUserForm()
    try:
        user = users_service.admin_create_user(form.username.data, password=form.password.data,
                                               org_code=form.org.data, actor=current_actor(), **form.account())
    except ServiceError as err:
        return _users_page(form.posted, **_failed(err)), _status(err)
    flash(_("User %(name)s was created. They can log in now.", name=user.username), "ok")
    return redirect(url_for(".users"))


def _user_page(user, form=None, error=None, fields=None, password_error=None):
    return render_template("admin/user_edit.html", user=user, roles=ROLES, departments=service.departments(current_actor()),
                           form=form, error=error, fields=fields or {}, password_error=password_error,
                           is_self=user.id == current_actor().id)


@bp.route("/users/<int:user_id>")
@allow("admin")
def edit_user(user_id: int):
    return _user_page(users_service.get_user(user_id, current_actor()))


@bp.route("/users/<int:user_id>", methods=["POST"])
@allow("admin")
def update_user(user_id: int):
    user = users_service.get_user(user_id, current_actor())
    form = forms.EditUserForm()
    try:
        users_service.update_user(current_actor(), user, active=form.active.data == "1", **form.account())
    except ServiceError as err:
        return _user_page(user, form.posted, **_failed(err)), _status(err)
    flash(_("The account of %(name)s was saved.", name=user.username), "ok")
    return redirect(url_for(".users"))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@allow("admin")
def reset_password(user_id: int):
    user = users_service.get_user(user_id, current_actor())
    try:
        users_service.reset_password(current_actor(), user, forms.PasswordResetForm().password.data)
    except ServiceError as err:
        return _user_page(user, password_error=err.message), _status(err)
    actor = current_actor()
    if user.id == actor.id:  # one's own reset ended this session too: keep this browser signed in
        from flask_login import login_user

        users_service.start_session(user, request.remote_addr or "")
        login_user(user)
    flash(_("The password of %(name)s was reset. Their sessions were logged out and their API tokens revoked.",
            name=user.username), "ok")
    return redirect(url_for(".edit_user", user_id=user.id))


# ---------------------------------------------------------------- API tokens and login locks


SCOPE_LABELS = {"full": _l("Full"), "read": _l("Read only"), "digest": _l("Digests only")}
TOKEN_STATE_LABELS = {"active": _l("Active"), "expired": _l("Expired"), "revoked": _l("Revoked")}


def _tokens_page(new_token=None, error=None, fields=None, form=EMPTY, status=200):
    who = (request.args.get("user") or "").strip()[:64] or None
    return render_template("admin/tokens.html", tokens=users_service.list_tokens(who), who=who,
                           users=[u for u in users_service.list_users(current_actor()) if u.active],
                           scopes=TOKEN_SCOPES, state=users_service.token_state, new_token=new_token,
                           locks=users_service.locks(), form=form, error=error, fields=fields or {},
                           default_days=current_app.config["API_TOKEN_DAYS"], SCOPE_LABELS=SCOPE_LABELS,
                           TOKEN_STATE_LABELS=TOKEN_STATE_LABELS), status


@bp.route("/tokens")
@allow("admin")
def tokens():
    return _tokens_page()


@bp.route("/tokens", methods=["POST"])
@allow("admin")
def issue_token():
    form = forms.TokenForm()
    try:
        user = users_service.user_by_name(form.username.data)
        raw = users_service.issue_token(user, form.days.data, form.scope.data)
    except ServiceError as err:
        return _tokens_page(form=form.posted, status=_status(err), **_failed(err))
    # Shown on this answer only (never flashed: the cookie would carry it); only its digest is kept.
    return _tokens_page(new_token={"user": user.username, "token": raw, "scope": form.scope.data})


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@allow("admin")
def revoke_token(token_id: int):
    token = users_service.revoke_token(token_id)
    flash(_("API token %(id)d of %(name)s was revoked.", id=token.id, name=token.user.username), "ok")
    return redirect(url_for(".tokens"))


@bp.route("/unlock", methods=["POST"])
@allow("admin")
def unlock():
    form = forms.UnlockForm()
    try:
        users_service.unlock(current_actor(), form.username.data, form.address.data)
    except ServiceError as err:
        return _tokens_page(status=_status(err), **_failed(err))
    flash(_("Login unlocked."), "ok")
    return redirect(_safe_back(form.back.data) or url_for(".tokens"))


def _safe_back(target: str | None) -> str | None:
    return safe_local_path(target)


# ---------------------------------------------------------------- departments


def _departments_page(form=EMPTY, error=None, fields=None):
    return render_template("admin/departments.html", departments=service.departments(current_actor()),
                           members=service.department_users(), form=form, error=error, fields=fields or {},
                           **_org_choices())


@bp.route("/departments")
@allow("admin")
def departments():
    return _departments_page()


@bp.route("/departments", methods=["POST"])
@allow("admin")
def create_department():
    form = forms.DepartmentForm()
    try:
        dept = service.create_department(form.code.data, form.name.data, form.sort_order.data, form.org.data,
                                         actor=current_actor())
    except ServiceError as err:
        return _departments_page(form.posted, **_failed(err)), _status(err)
    flash(_("Department %(name)s was created.", name=dept.name), "ok")
    return redirect(url_for(".departments"))


@bp.route("/departments/<code>")
@allow("admin")
def edit_department(code: str):
    dept = service.get_department(code, current_actor())
    return render_template("admin/department_edit.html", dept=dept, form=None, error=None, fields={},
                           members=service.department_members(dept))


@bp.route("/departments/<code>", methods=["POST"])
@allow("admin")
def update_department(code: str):
    form = forms.DepartmentForm()
    try:
        dept = service.update_department(code, form.name.data, form.active.data, form.sort_order.data,
                                         form.head.data, actor=current_actor())
    except ServiceError as err:
        dept = service.get_department(code, current_actor())
        return render_template("admin/department_edit.html", dept=dept, form=form.posted,
                               members=service.department_members(dept), **_failed(err)), _status(err)
    flash(_("Department %(name)s was saved.", name=dept.name), "ok")
    return redirect(url_for(".departments"))


# ---------------------------------------------------------------- types


def _types_page(form=None, error=None, fields=None):
    now = clock.now()
    types = service.case_types()
    examples = {t.code: workdays.reply_due(now, t.reply_days) for t in types}
    return render_template("admin/types.html", types=types, examples=examples, form=form, error=error,
                           fields=fields or {})


@bp.route("/types")
@allow("admin")
def types():
    return _types_page()


@bp.route("/types", methods=["POST"])
@allow("admin")
def update_types():
    form = forms.TypesForm()
    try:
        changed = service.update_type_limits(form.limits(), form.escalate_after())
    except ServiceError as err:
        return _types_page(form.posted, **_failed(err)), _status(err)
    if changed:
        flash(_("Reply limits saved. New cases get the new limits; existing deadlines stay as they are."), "ok")
    else:
        flash(_("Nothing was changed."), "ok")
    return redirect(url_for(".types"))


# ---------------------------------------------------------------- categories


def _categories_page(form=EMPTY, error=None, fields=None):
    return render_template("admin/categories.html", categories=service.categories(), types=service.case_types(),
                           form=form, error=error, fields=fields or {})


@bp.route("/categories")
@allow("admin")
def categories():
    return _categories_page()


@bp.route("/categories", methods=["POST"])
@allow("admin")
def create_category():
    form = forms.CategoryForm()
    try:
        row = service.create_category(form.code.data, form.name.data, form.reply_days.data, form.sort_order.data)
    except ServiceError as err:
        return _categories_page(form.posted, **_failed(err)), _status(err)
    flash(_("Category %(name)s was created.", name=row.name), "ok")
    return redirect(url_for(".categories"))


@bp.route("/categories/<code>")
@allow("admin")
def edit_category(code: str):
    return render_template("admin/category_edit.html", category=service.get_category(code), form=None,
                           error=None, fields={})


@bp.route("/categories/<code>", methods=["POST"])
@allow("admin")
def update_category(code: str):
    form = forms.CategoryForm()
    try:
        row = service.update_category(code, form.name.data, form.reply_days.data, form.active.data,
                                      form.sort_order.data)
    except ServiceError as err:
        return render_template("admin/category_edit.html", category=service.get_category(code), form=form.posted,
                               **_failed(err)), _status(err)
    flash(_("Category %(name)s was saved.", name=row.name), "ok")
    return redirect(url_for(".categories"))


# ---------------------------------------------------------------- calendar


def _calendar_page(form=EMPTY, error=None, fields=None, status=200):
    check, check_error = None, None
    if request.args.get("check_day"):
        try:
            check = service.deadline_check(request.args.get("check_day"), request.args.get("check_time"),
                                           request.args.get("check_type"), request.args.get("check_category"))
        except ServiceError as err:
            check_error = err.message
            status = max(status, 422)
    return render_template(
        "admin/calendar.html",
        years=service.year_summaries(),
        gaps=workdays.uncovered_years_ahead(),
        suggested=service.suggested_year(),
        types=service.case_types(),
        categories=service.categories(),
        check=check,
        check_error=check_error,
        form=form,
        error=error,
        fields=fields or {},
    ), status


@bp.route("/calendar")
@allow("admin")
def calendar():
    return _calendar_page()


@bp.route("/calendar", methods=["POST"])
@allow("admin")
def enter_year():
    form = forms.YearForm()
    try:
        result = service.enter_year(form.year.data, form.holidays.data, form.makeup_days.data, form.replace.data)
    except ServiceError as err:
        origin = form.origin.data
        if origin.isdigit() and service.YEAR_MIN <= int(origin) <= service.YEAR_MAX:
            return _year_page(int(origin), form.posted, **_failed(err)), _status(err)
        return _calendar_page(form.posted, **_failed(err), status=_status(err))
    flash(_("%(year)d was entered: %(h)d weekday holidays and %(m)d make-up working days.",
            year=result.year, h=result.holidays, m=result.makeup_days), "ok")
    if result.skipped_weekends:
        flash(_("Saturdays and Sundays in the holiday list are days off anyway and were not stored: %(days)s.",
                days=", ".join(d.isoformat() for d in result.skipped_weekends)), "warn")
    return redirect(url_for(".calendar_year", year=result.year))


def _year_page(year: int, form=None, error=None, fields=None, mark_form=None, mark_error=None):
    if not service.YEAR_MIN <= year <= service.YEAR_MAX:
        raise NotFound(_("There is no calendar for %(year)d.", year=year))
    covered = year in workdays.covered_years()
    summary = next((y for y in service.year_summaries() if y.year == year), None)
    holidays_text, makeup_text = service.year_lines(year) if covered else ("", "")
    return render_template(
        "admin/calendar_year.html",
        year=year,
        covered=covered,
        summary=summary,
        months=service.month_grid(year),
        exceptions=workdays.year_exceptions(year),
        holidays_text=holidays_text,
        makeup_text=makeup_text,
        form=form,
        error=error,
        fields=fields or {},
        mark_form=mark_form or EMPTY,
        mark_error=mark_error,
        today=clock.local_now().date(),
        weekday_name=service.weekday_name,
    )


@bp.route("/calendar/<int:year>")
@allow("admin")
def calendar_year(year: int):
    return _year_page(year)


@bp.route("/calendar/<int:year>/day", methods=["POST"])
@allow("admin")
def mark_day(year: int):
    form = forms.MarkDayForm()
    try:
        day, kind = service.mark_day(form.day.data, form.kind.data, form.note.data)
    except ServiceError as err:
        return _year_page(year, mark_form=form.posted, mark_error=err.message), _status(err)
    label = {"holiday": _("a holiday"), "makeup": _("a make-up working day"),
             "normal": _("a normal day (Monday to Friday rule)")}[kind]
    flash(_("%(day)s is now %(kind)s.", day=day.isoformat(), kind=label), "ok")
    return redirect(url_for(".calendar_year", year=day.year))
