"""The digest doors for producers: the day's 《职工之声》 editor, versions and their comparison, the pull
formats (printable page, .txt, .json, .docx, Atom feed), content items and the broadcast settings.

The station's systems pull the same formats with an API token under /api/v1/digests (hotline/api/views.py).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from hotline import clock
from hotline.auth.access import allow, current_actor
from hotline.digest import builder, formats, service, settings as digest_settings
from hotline.digest.forms import BuildForm, EditorForm, ItemForm, SettingsForm
from hotline.digest.models import ITEM_SECTIONS
from hotline.digest.responses import atom_response, docx_response, text_response
from hotline.errors import IllegalMove, ServiceError, StaleVersion
from hotline.extensions import db
from hotline.redact import KIND_LABELS_ZH

bp = Blueprint("digest", __name__)
PRODUCERS = ("producer",)
READERS = ("producer", "supervisor")

SECTION_LABELS = {
    "intro": _l("Intro"), "union_news": _l("Union news"), "policy": _l("Policy"), "jobs": _l("Jobs and study"),
    "qa": _l("Hotline Q&A"), "figures": _l("Today on the hotline"), "outro": _l("Outro"),
}
DIGEST_STATUS_LABELS = {"draft": _l("Draft"), "approved": _l("Approved"), "aired": _l("Aired")}
REASON_LABELS = {"over_slot": _l("Does not fit the slot"), "dropped": _l("Dropped by a producer")}
REVISION_KIND_LABELS = {
    "build": _l("Built"), "rebuild": _l("Rebuilt"), "edit": _l("Item edited"), "move": _l("Item moved"),
    "drop": _l("Item dropped"), "restore": _l("Item restored"), "add": _l("Item added"),
    "restore_version": _l("Earlier version restored"), "clearance": _l("Employer clearance changed"),
}


@bp.context_processor
def labels() -> dict[str, Any]:
    return {"SECTION_LABELS": SECTION_LABELS, "DIGEST_STATUS_LABELS": DIGEST_STATUS_LABELS,
            "REASON_LABELS": REASON_LABELS, "REVISION_KIND_LABELS": REVISION_KIND_LABELS, "mmss": builder.mmss,
            "ANSWER_RULE": builder.ANSWER_RULE, "KIND_LABELS_ZH": KIND_LABELS_ZH}


def _day(raw: str):
    return service.parse_day(raw)


# ---------------------------------------------------------------- index and building

@bp.get("/digest")
@allow(*READERS)
def index():
    today = clock.local_now().date()
    return render_template("digest/index.html", digests=service.recent_digests(), today=today,
                           today_digest=service.get_digest(today), settings=digest_settings.get(), errors={})


@bp.post("/digest/build")
@allow(*PRODUCERS)
def build():
    """Build any past or future date on demand; a date already built is opened, not built again."""
    try:
        day = _day(BuildForm().date.data or "")
    except ServiceError as err:
        db.session.rollback()
        return render_template("digest/index.html", digests=service.recent_digests(),
                               today=clock.local_now().date(), today_digest=None, settings=digest_settings.get(),
                               errors=err.fields, message=err.message), err.status
    digest, built = service.build(day, current_actor())
    if built:
        flash(_("The digest of %(day)s was built.", day=day.isoformat()), "ok")
    else:
        flash(_("The digest of %(day)s was already built; use Rebuild to build it afresh.", day=day.isoformat()),
              "warn")
    return redirect(url_for("digest.show", day=day.isoformat()))


@bp.get("/digest/<day>")
@allow(*READERS)
def show(day: str):
    digest = service.require_digest(_day(day))
    return _render_editor(digest)


def _render_editor(digest, status: int = 200, message: str | None = None, errors=None, values=None,
                   failed: str | None = None, stale: bool = False):
    v = service.view(digest)
    return render_template("digest/show.html", v=v, digest=digest, message=message, errors=errors or {},
                           values=values or {}, failed=failed, stale=stale, sections=ITEM_SECTIONS,
                           history=service.revisions(digest)[:12]), status


def _act(day: str, what: str, fn):
    form = EditorForm()
    digest = service.require_digest(_day(day))
    try:
        fn(digest)
    except ServiceError as err:
        db.session.rollback()
        digest = service.require_digest(_day(day))
        return _render_editor(digest, status=err.status, message=err.message, errors=err.fields,
                              values=form.posted, failed=form.key.data or what,
                              stale=isinstance(err, StaleVersion))
    anchor = form.key.data
    return redirect(url_for("digest.show", day=day) + (f"#i-{anchor.replace(':', '-')}" if anchor else ""))


@bp.post("/digest/<day>/rebuild")
@allow(*PRODUCERS)
def rebuild(day: str):
    def do(digest):
        service.rebuild(digest, current_actor(), EditorForm().version.data)
        flash(_("Rebuilt as version %(n)d; the edited version stays in the history.", n=digest.revision_no), "ok")
    return _act(day, "rebuild", do)


@bp.post("/digest/<day>/items/edit")
@allow(*PRODUCERS)
def edit_item(day: str):
    f = EditorForm()
    return _act(day, "edit", lambda d: _flash_changes(service.edit_item(
        d, current_actor(), f.version.data, f.key.data, f.title.data, f.text.data, f.allowed.data)))


def _flash_changes(rev) -> None:
    """After an edit or an addition: what the redaction changed, for the producer to see (once)."""
    changes = getattr(rev, "redaction_changes", None)
    if changes:
        flash(redaction_summary(changes), "warn")


def redaction_summary(changes) -> str:
    rows = []
    for c in changes:
        c = c if isinstance(c, dict) else c.__dict__
        label = KIND_LABELS_ZH.get(c["kind"], c["kind"])
        rows.append(f"{label}“{c['found']}”→" + (f"“{c['spoken']}”" if c["spoken"] else _("removed")))
    return _("Personal details were removed before saving: %(list)s", list="；".join(rows))


@bp.post("/digest/<day>/items/move")
@allow(*PRODUCERS)
def move_item(day: str):
    f = EditorForm()
    return _act(day, "move", lambda d: service.move_item(d, current_actor(), f.version.data, f.key.data,
                                                         f.direction.data))


@bp.post("/digest/<day>/items/drop")
@allow(*PRODUCERS)
def drop_item(day: str):
    f = EditorForm()
    return _act(day, "drop", lambda d: service.drop_item(d, current_actor(), f.version.data, f.key.data))


@bp.post("/digest/<day>/items/restore")
@allow(*PRODUCERS)
def restore_item(day: str):
    f = EditorForm()
    return _act(day, "restore", lambda d: service.restore_item(d, current_actor(), f.version.data,
                                                               f.key.data))


@bp.post("/digest/<day>/items/add")
@allow(*PRODUCERS)
def add_item(day: str):
    f = EditorForm()
    return _act(day, "add", lambda d: _flash_changes(service.add_item(
        d, current_actor(), f.version.data, f.section.data, f.title.data, f.text.data, f.source.data)))


@bp.post("/digest/<day>/items/clearance")
@allow(*PRODUCERS)
def clearance(day: str):
    f = EditorForm()
    return _act(day, "clearance", lambda d: service.clear_employer(
        d, current_actor(), f.version.data, f.key.data, f.cleared.data == "1", f.note.data))


@bp.post("/digest/<day>/approve")
@allow(*PRODUCERS)
def approve(day: str):
    def do(digest):
        service.approve(digest, current_actor(), EditorForm().version.data)
        flash(_("Version %(n)d approved for air.", n=digest.revision_no), "ok")
    return _act(day, "approve", do)


@bp.post("/digest/<day>/aired")
@allow(*PRODUCERS)
def aired(day: str):
    def do(digest):
        service.mark_aired(digest, current_actor(), EditorForm().version.data)
        flash(_("Marked as aired."), "ok")
    return _act(day, "aired", do)


@bp.post("/digest/<day>/versions/restore")
@allow(*PRODUCERS)
def restore_version(day: str):
    f = EditorForm()
    return _act(day, "restore_version", lambda d: service.restore_revision(d, current_actor(), f.version.data,
                                                                           f.number.data))


# ---------------------------------------------------------------- versions

@bp.get("/digest/<day>/versions")
@allow(*READERS)
def versions(day: str):
    digest = service.require_digest(_day(day))
    rows = service.revisions(digest)
    seconds = {r.number: builder.measure(r.items, r.rate, service.titles(), r.reserve_seconds)["total_seconds"]
               for r in rows}
    return render_template("digest/versions.html", digest=digest, rows=rows, seconds=seconds)


@bp.get("/digest/<day>/compare")
@allow(*READERS)
def compare(day: str):
    digest = service.require_digest(_day(day))
    try:
        a = int(request.args.get("a") or max(digest.revision_no - 1, 1))
        b = int(request.args.get("b") or digest.revision_no)
    except ValueError:
        return render_template("error.html", code=422, message=_("Choose two versions to compare.")), 422
    return render_template("digest/compare.html", digest=digest, c=service.compare(digest, a, b),
                           numbers=[r.number for r in service.revisions(digest)])


# ---------------------------------------------------------------- pull formats (session; tokens: /api/v1)

def _pull_view(day: str, draft_ok: bool = False):
    """The approved version; a draft is refused (409) with a clear message. Only the printable page
    (draft_ok) shows a producer the version being worked on, marked 草稿: files leave the building, so
    .txt, .json and .docx carry approved scripts only."""
    digest = service.require_digest(_day(day))
    actor = current_actor()
    if draft_ok and actor is not None and actor.has_role("producer"):
        return service.view(digest)
    return service.approved_view(digest)


def _refused(err: ServiceError):
    db.session.rollback()
    return render_template("error.html", code=err.status, message=err.message), err.status


@bp.get("/digest/<day>/print")
@allow(*READERS)
def print_page(day: str):
    try:
        v = _pull_view(day, draft_ok=True)
    except IllegalMove as err:
        return _refused(err)
    return render_template("digest/print.html", v=v, headline=formats.headline(v))


@bp.get("/digest/<day>.txt")
@allow(*READERS)
def as_text(day: str):
    try:
        return text_response(_pull_view(day))
    except IllegalMove as err:
        return _refused(err)


@bp.get("/digest/<day>.json")
@allow(*READERS)
def as_json(day: str):
    try:
        return jsonify(formats.to_dict(_pull_view(day)))
    except IllegalMove as err:
        return jsonify(error={"code": err.code, "message": err.message}), err.status


@bp.get("/digest/<day>.docx")
@allow(*READERS)
def as_docx(day: str):
    try:
        return docx_response(_pull_view(day))
    except IllegalMove as err:
        return _refused(err)


@bp.get("/digest/feed.atom")
@allow(*READERS)
def feed():
    return atom_response(url_for("digest.feed", _external=True),
                         lambda d: url_for("digest.as_text", day=d.isoformat(), _external=True))


# ---------------------------------------------------------------- content items

@bp.get("/digest/items")
@allow(*READERS)
def items():
    section = request.args.get("section") or None
    show_what = request.args.get("show") or "current"
    if show_what not in ("current", "archived", "all"):
        show_what = "current"
    return render_template("digest/items.html", rows=service.list_items(section, show_what), section=section,
                           show=show_what, sections=ITEM_SECTIONS, today=clock.local_now().date(),
                           chars=builder.chars)


@bp.route("/digest/items/new", methods=["GET", "POST"])
@allow(*PRODUCERS)
def new_item():
    if request.method == "POST":
        form = ItemForm()
        try:
            item = service.save_item(current_actor(), form.submitted())
        except ServiceError as err:
            db.session.rollback()
            return render_template("digest/item_form.html", item=None, values=form.posted, errors=err.fields,
                                   message=err.message, sections=ITEM_SECTIONS), err.status
        flash(_("Item “%(title)s” saved.", title=item.title), "ok")
        if getattr(item, "redaction_changes", None):
            flash(redaction_summary(item.redaction_changes), "warn")
        return redirect(url_for("digest.items", section=item.section))
    values = {"section": request.args.get("section") or "union_news", "priority": "3",
              "valid_from": clock.local_now().date().isoformat(), "active": "1"}
    return render_template("digest/item_form.html", item=None, values=values, errors={}, message=None,
                           sections=ITEM_SECTIONS)


@bp.route("/digest/items/<int:item_id>", methods=["GET", "POST"])
@allow(*PRODUCERS)
def edit_content_item(item_id: int):
    item = service.get_item(item_id)
    if request.method == "POST":
        form = ItemForm()
        try:
            item = service.save_item(current_actor(), form.submitted(), item)
        except ServiceError as err:
            db.session.rollback()
            item = service.get_item(item_id)
            return render_template("digest/item_form.html", item=item, values=form.posted, errors=err.fields,
                                   message=err.message, sections=ITEM_SECTIONS,
                                   stale=isinstance(err, StaleVersion)), err.status
        flash(_("Item “%(title)s” saved.", title=item.title), "ok")
        if getattr(item, "redaction_changes", None):
            flash(redaction_summary(item.redaction_changes), "warn")
        return redirect(url_for("digest.items", section=item.section))
    values = {"section": item.section, "title": item.title, "body": item.body, "source": item.source,
              "valid_from": item.valid_from.isoformat(), "valid_to": item.valid_to.isoformat() if item.valid_to else "",
              "priority": str(item.priority), "active": "1" if item.active else "", "version": item.version,
              "allowed_terms": item.allowed_terms or ""}
    return render_template("digest/item_form.html", item=item, values=values, errors={}, message=None,
                           sections=ITEM_SECTIONS)


# ---------------------------------------------------------------- settings

@bp.route("/digest/settings", methods=["GET", "POST"])
@allow(*PRODUCERS, "admin")
def settings_page():
    row = digest_settings.get()
    if request.method == "POST":
        form = SettingsForm()
        try:
            digest_settings.update(current_actor(), form.submitted())
        except ServiceError as err:
            db.session.rollback()
            row = digest_settings.get()
            return render_template("digest/settings.html", s=row, values=form.posted, errors=err.fields,
                                   message=err.message), err.status
        flash(_("Digest settings saved. They apply to the next build."), "ok")
        return redirect(url_for("digest.settings_page"))
    values = {k: getattr(row, k) for k in digest_settings.DEFAULTS}
    values["version"] = row.version
    return render_template("digest/settings.html", s=row, values=values, errors={}, message=None)

