"""In-app notices (the bell), the short case link used in SMS, and the admins' outbox."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from hotline.auth.access import ANY_USER, allow, current_actor
from hotline.errors import InvalidInput
from hotline.extensions import db
from hotline.notify import delivery, service
from hotline.notify.models import NOTICE_STATUSES, Notice

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
        select(Notice.status, func.count()).where(Notice.channel == "sms").group_by(Notice.status)).all())
    return render_template("notify/outbox.html", rows=rows, counts=counts, status=status,
                           statuses=NOTICE_STATUSES)


@bp.route("/admin/outbox/<int:notice_id>/retry", methods=["POST"])
@allow("admin")
def retry(notice_id):
    delivery.retry(notice_id)
    flash(_("The message will be sent again within a few seconds."), "ok")
    return redirect(url_for("notify.outbox", status=request.args.get("status") or None))
