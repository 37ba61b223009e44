"""In-app notices (the bell), the short case link used in SMS, and the admins' outbox."""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from hotline.auth.access import ANY_USER, allow, current_actor, public
from hotline.errors import InvalidInput, ServiceError
from hotline.extensions import csrf, db
from hotline.notify import delivery, receipts, service, templates
from hotline.notify.forms import TemplatesForm
from hotline.notify.models import NOTICE_STATUSES, Notice
from hotline.notify.sms import backend_name

bp = Blueprint("notify", __name__)


@bp.route("/notices")
@allow(ANY_USER)
def notices():
    """The list marks what was unread, and opening it reads them: the bell's count clears."""
    actor = current_actor()
    items = service.my_notices(actor)
    unread_ids = {n.id for n in items if n.read_at is None}
    if unread_ids:
        service.mark_read(actor, unread_ids)
    return render_template("notify/notices.html", notices=items, unread_ids=unread_ids)


@bp.route("/notices/read", methods=["POST"])
@allow(ANY_USER)
def mark_read():
    count = service.mark_read(current_actor())
    flash(_("%(n)d notices marked as read.", n=count), "ok")
    return redirect(url_for("notify.notices"))


@bp.route("/c/<case_no>")
@allow(ANY_USER)
def short_link(case_no):
    return redirect(url_for("cases.show", case_no=case_no))


@bp.route("/admin/outbox")
@allow("admin")
def outbox():
    status = request.args.get("status") or None
    if status is not None and status not in NOTICE_STATUSES:
        raise InvalidInput(_("Unknown status: %(v)s", v=status[:20]))
    stmt = select(Notice).where(Notice.channel == "sms")
    if status:
        stmt = stmt.where(Notice.status == status)
    rows = list(db.session.scalars(stmt.order_by(Notice.id.desc()).limit(200)))
    counts = dict(db.session.execute(
        select(Notice.status, func.count()).where(Notice.channel == "sms").group_by(Notice.status)).tuples().all())
    return render_template("notify/outbox.html", rows=rows, counts=counts, status=status,
                           statuses=NOTICE_STATUSES)


@bp.route("/admin/outbox/<int:notice_id>/retry", methods=["POST"])
@allow("admin")
def retry(notice_id):
    delivery.retry(notice_id)
    flash(_("The message will be sent again within a few seconds."), "ok")
    return redirect(url_for("notify.outbox", status=request.args.get("status") or None))


@bp.route("/admin/sms-templates", methods=["GET", "POST"])
@allow("admin")
def sms_templates():
    """The SMS catalogue: each template's text and the gateway's template id."""
    errors: dict[str, str] = {}
    message = None
    status = 200
    values = None
    if request.method == "POST":
        try:
            form = TemplatesForm()
            templates.save(current_actor(), form.submitted())
        except ServiceError as err:
            db.session.rollback()
            errors, message, status, values = err.fields, err.message, err.status, form.posted
        else:
            flash(_("SMS templates saved."), "ok")
            return redirect(url_for("notify.sms_templates"))
    rows = templates.catalogue_rows()
    samples = {}
    for row in rows:
        try:
            samples[row["code"]] = templates.render(row["code"], SAMPLE_PARAMS)
        except templates.TemplateProblem as problem:
            samples[row["code"]] = str(problem)
    return render_template("notify/sms_templates.html", rows=rows, errors=errors, message=message, values=values,
                           samples=samples, signature=templates.signature(), backend=backend_name()), status


SAMPLE_PARAMS = {"case_no": "20261201-0001", "due": "12月8日17:30", "category": "欠薪", "deadline": "答复",
                 "count": 3, "first": "20261201-0001、20261201-0002"}


# ---------------------------------------------------------------- the gateways' pushes

def _token_ok(token: str) -> bool:
    expected = current_app.config.get("HOTLINE_SMS_RECEIPT_TOKEN") or ""
    return bool(expected) and hmac.compare_digest(expected.encode(), (token or "").encode())


@bp.post("/sms/<any(aliyun, tencent):provider>/<kind>/<token>")
@public
@csrf.exempt
def gateway_push(provider: str, kind: str, token: str):
    """Delivery receipts (`kind` receipts) and callers' replies (`kind` replies) pushed by Aliyun or Tencent
    Cloud, as a JSON list. The secret token in the address is the only credential these pushes carry."""
    if not _token_ok(token) or kind not in ("receipts", "replies"):
        return Response("Forbidden\n", 403, mimetype="text/plain")
    items = request.get_json(silent=True)
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return jsonify({"code": 1, "msg": "a JSON list is expected"}), 400
    if kind == "receipts":
        receipts.delivery_reports(provider, items)
    else:
        receipts.replies(provider, items)
    db.session.commit()
    if provider == "tencent":
        return jsonify({"result": 0, "errmsg": "OK"})
    return jsonify({"code": 0, "msg": "成功"})
