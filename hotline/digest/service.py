"""The digest use cases: build once per date, rebuild on request, edit, reorder, drop, restore, add,
approve, mark aired; every content change is a new kept revision; content items; clearances.

Services flush; the door (view, API, job, CLI) commits. A stale `version` is refused with 409, so two
producers editing the same digest never overwrite each other.
"""
from __future__ import annotations

import difflib
import re
import uuid
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hotline import clock
from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.dates import parse_date
from hotline.db_helpers import check_version, flush_or_stale, get_or_404, insert_ignore
from hotline.db_types import MAX_ID
from hotline.digest import builder, settings as digest_settings
from hotline.digest.models import (
    ITEM_SECTIONS,
    SECTIONS,
    BroadcastClearance,
    ContentItem,
    Digest,
    DigestRevision,
)
from hotline.errors import IllegalMove, InvalidInput, NotFound
from hotline.extensions import db
from hotline.radio import schedule
from hotline.redact import Change, redact_detail

DEFAULT_SLOT_SECONDS = 15 * 60
TITLE_MAX = 200
BODY_MAX = 5000
SOURCE_MAX = 200


# ---------------------------------------------------------------- reading

FIRST_YEAR, LAST_YEAR = 2000, 2099  # air dates; 0001-01-01 or 9999-12-31 would overflow the date arithmetic


def parse_day(raw: Any, field: str = "date") -> date:
    return parse_date(raw, field, date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31),
                      out_of_range=_("The date must lie between the years %(first)d and %(last)d.",
                                     first=FIRST_YEAR, last=LAST_YEAR))


def get_digest(day: date) -> Digest | None:
    return db.session.scalar(select(Digest).where(Digest.air_date == day))


def require_digest(day: date) -> Digest:
    digest = get_digest(day)
    if digest is None:
        raise NotFound(_("There is no digest for %(day)s yet.", day=day.isoformat()))
    return digest


def revision(digest: Digest, number: int | None = None) -> DigestRevision:
    number = digest.revision_no if number is None else number
    row = db.session.scalar(select(DigestRevision).where(DigestRevision.digest_id == digest.id,
                                                         DigestRevision.number == number)) \
        if 1 <= number <= MAX_ID else None  # a number beyond the column's range fails the query itself
    if row is None:
        raise NotFound(_("Version %(n)s of this digest was not found.", n=number))
    return row


def revisions(digest: Digest) -> list[DigestRevision]:
    return list(db.session.scalars(select(DigestRevision).where(DigestRevision.digest_id == digest.id)
                                   .order_by(DigestRevision.number.desc())))


def titles() -> dict[str, str]:
    settings = digest_settings.get()
    return {s: digest_settings.section_title(settings, s) for s in SECTIONS}


def view(digest: Digest, rev: DigestRevision | None = None) -> dict[str, Any]:
    """Everything a page, the API and the pull formats show of one revision."""
    rev = rev or revision(digest)
    names = titles()
    measured = builder.measure(rev.items, rev.rate, names, rev.reserve_seconds)
    left_out = [{**item, "chars": builder.chars(item["text"]),
                 "seconds": builder.seconds_for(builder.chars(item["text"]), rev.rate)} for item in rev.left_out]
    slot = builder.Slot(rev.slot_seconds, rev.reserve_seconds, rev.rate)
    return {"digest": digest, "revision": rev, "items": measured["items"], "left_out": left_out,
            "total_seconds": measured["total_seconds"], "reading_seconds": measured["reading_seconds"],
            "chars": measured["chars"], "slot_seconds": rev.slot_seconds, "reserve_seconds": rev.reserve_seconds,
            "rate": rev.rate, "budget_chars": slot.reading_chars,
            "over_seconds": measured["total_seconds"] - rev.slot_seconds, "titles": names}


def approved_view(digest: Digest) -> dict[str, Any]:
    """What leaves for the station (API, feeds, and the pull formats for anyone but a producer): the
    approved version only. A draft is refused with 409 and a clear message; it never leaves."""
    if digest.status not in ("approved", "aired") or not digest.approved_revision:
        raise IllegalMove(_("The digest of %(day)s is not approved yet; only approved scripts are given out.",
                            day=digest.air_date.isoformat()), code="not_approved")
    return view(digest, revision(digest, digest.approved_revision))


# ---------------------------------------------------------------- building

def _slot() -> tuple[builder.Slot, Any]:
    settings = digest_settings.get()
    programme = schedule.programme_of_kind("digest")
    seconds = schedule.slot_seconds(programme) if programme else DEFAULT_SLOT_SECONDS
    return builder.Slot(seconds, settings.reserve_seconds, settings.rate), programme


def _new_revision(digest: Digest, kind: str, actor: User | None, items: list[dict], left_out: list[dict],
                  slot: builder.Slot, note: str = "") -> DigestRevision:
    rev = DigestRevision(digest_id=digest.id, number=digest.revision_no, kind=kind, note=note[:300], items=items,
                         left_out=left_out, slot_seconds=slot.slot_seconds, reserve_seconds=slot.reserve_seconds,
                         rate=slot.rate, created_at=clock.now(), created_by_id=actor.id if actor else None)
    db.session.add(rev)
    return rev


def build(day: date, actor: User | None = None) -> tuple[Digest, bool]:
    """The digest of `day`, built now if it is not there yet. Returns (digest, built_now). Idempotent:
    a second call, or a second scheduler, finds it built (the air date is unique)."""
    existing = get_digest(day)
    if existing is not None:
        return existing, False
    slot, _programme = _slot()
    now = clock.now()
    items, left_out = builder.build_content(day, now, slot)
    # INSERT … ON CONFLICT DO NOTHING on the unique air date: a second builder finds it there.
    if not insert_ignore(Digest, [dict(air_date=day, status="draft", revision_no=1, built_at=now,
                                        built_by_id=actor.id if actor else None, updated_at=now, version=1)]):
        return get_digest(day), False
    digest = get_digest(day)
    _new_revision(digest, "build", actor, items, left_out, slot)
    db.session.flush()
    return digest, True


def _check_version(digest: Digest, version: Any) -> None:
    check_version(digest, version,
                  lambda: _("The digest was changed meanwhile (by %(who)s, now version %(n)d). Reload it to see "
                            "the change, then make yours again.", who=digest_changed_by(digest), n=digest.revision_no),
                  missing=_("The digest version is missing; reload the page and try again."))


def digest_changed_by(digest: Digest) -> str:
    rev = db.session.scalar(select(DigestRevision).where(DigestRevision.digest_id == digest.id)
                            .order_by(DigestRevision.number.desc()).limit(1))
    if digest.aired_by is not None and digest.status == "aired":
        return digest.aired_by.display_name
    if digest.approved_by is not None and digest.status == "approved":
        return digest.approved_by.display_name
    if rev is not None and rev.created_by is not None:
        return rev.created_by.display_name
    return _("the scheduler")


def _flush(digest: Digest) -> None:
    flush_or_stale(_("The digest was changed by someone else meanwhile. Reload it and try again."))


def _change(digest: Digest, actor: User, version: Any, kind: str, items: list[dict], left_out: list[dict],
            note: str = "") -> DigestRevision:
    """One content change: a new revision, the digest back to draft (it must be approved again)."""
    if digest.status == "aired":
        raise IllegalMove(_("This digest has been aired; it is kept as it went out and cannot be changed."))
    _check_version(digest, version)
    current = revision(digest)
    slot = builder.Slot(current.slot_seconds, current.reserve_seconds, current.rate)
    digest.revision_no += 1
    digest.status = "draft"
    digest.approved_at = None
    digest.approved_by_id = None
    digest.approved_revision = None
    digest.updated_at = clock.now()
    rev = _new_revision(digest, kind, actor, items, left_out, slot, note)
    _flush(digest)
    return rev


def rebuild(digest: Digest, actor: User, version: Any) -> DigestRevision:
    """Build the date afresh as a new revision; the edited one stays in the history (and can be restored)."""
    slot, _programme = _slot()
    items, left_out = builder.build_content(digest.air_date, clock.now(), slot)
    if digest.status == "aired":
        raise IllegalMove(_("This digest has been aired; it is kept as it went out and cannot be changed."))
    _check_version(digest, version)
    digest.revision_no += 1
    digest.status = "draft"
    digest.approved_at = digest.approved_by_id = digest.approved_revision = None
    digest.updated_at = clock.now()
    digest.built_at = clock.now()
    digest.built_by_id = actor.id if actor else None
    rev = _new_revision(digest, "rebuild", actor, items, left_out, slot,
                        note=_("Rebuilt; version %(n)d keeps the previous content.", n=digest.revision_no - 1))
    _flush(digest)
    return rev


def _find(items: list[dict], key: str) -> int:
    for index, item in enumerate(items):
        if item["key"] == key:
            return index
    raise NotFound(_("This item is no longer in the digest; reload the page."))


def _text(value: Any, field: str, label: str, max_len: int, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise InvalidInput(_("%(label)s must be text.", label=label), {field: _("Must be text.")})
    if required and not value:
        raise InvalidInput(_("%(label)s is required.", label=label), {field: _("Required.")})
    if len(value) > max_len:
        raise InvalidInput(_("%(label)s is too long (%(n)d characters, at most %(max)d).", label=label,
                             n=len(value), max=max_len), {field: _("At most %(max)d characters.", max=max_len)})
    return value


def _case_of(item: dict) -> Case | None:
    case_id = (item.get("ref") or {}).get("case_id")
    return db.session.get(Case, case_id) if case_id else None


def parse_terms(raw: Any) -> list[str]:
    """Terms a producer keeps through the redaction: one a line (or separated by 、 , ，)."""
    if not isinstance(raw, str):
        return []
    terms = [t.strip() for t in re.split(r"[\n、,，;；]+", raw) if t.strip()]
    return list(dict.fromkeys(t[:60] for t in terms))[:20]


def air_text(item: dict | None, title: str, text: str, allow: list[str]) -> tuple[str, str, list[Change]]:
    """An item's title and text as they may be read on air (hotline/redact.py), with what was changed.
    A 热线问答 item is redacted with what its case knows about the caller."""
    case = _case_of(item) if item else None
    names, employers, cleared = [], [], False
    if case is not None:
        names, employers = [case.caller_name], [case.caller_employer]
        cleared = bool((item.get("ref") or {}).get("employer_cleared"))
    t = redact_detail(title, names=names, employers=employers, employer_cleared=cleared, allow=allow)
    x = redact_detail(text, names=names, employers=employers, employer_cleared=cleared, allow=allow)
    return t.text, x.text, t.changes + x.changes


def _kinds(changes: list[Change]) -> list[dict[str, str]]:
    """What the item keeps of its redaction: the kinds and the spoken forms, never what was removed."""
    return [{"kind": c.kind, "spoken": c.spoken} for c in changes]


def _empty_after_redaction(field: str) -> InvalidInput:
    return InvalidInput(_("Nothing would be left to read once personal details are removed; nothing was saved. "
                          "Write the item without names, numbers or addresses."),
                        {field: _("Empty after removing personal details.")})


def edit_item(digest: Digest, actor: User, version: Any, key: str, title: Any, text: Any,
              allowed: Any = None) -> DigestRevision:
    """Change an item's title and text; whatever is typed goes through the redaction again. Terms the
    producer deliberately keeps (`allowed`) are stored with the item and named in the version's note."""
    rev = revision(digest)
    items = [dict(i) for i in rev.items]
    index = _find(items, key)
    raw_title = _text(title, "title", _("Title"), TITLE_MAX, required=False) or items[index]["title"]
    raw_text = _text(text, "text", _("Text"), BODY_MAX)
    allow = parse_terms(allowed) if allowed is not None else list(items[index].get("allowed") or [])
    new_title, new_text, changes = air_text(items[index], raw_title, raw_text, allow)
    if not new_text.strip():
        raise _empty_after_redaction("text")
    if new_text == items[index]["text"] and new_title == items[index]["title"] \
            and allow == list(items[index].get("allowed") or []):
        raise InvalidInput(_("Nothing was changed."), {"text": _("Unchanged.")})
    newly_kept = [t for t in allow if t not in (items[index].get("allowed") or [])]
    items[index] = {**items[index], "title": new_title or items[index]["title"], "text": new_text, "edited": True,
                    "allowed": allow, "redacted": _kinds(changes)}
    note = items[index]["title"]
    if newly_kept:
        note = _("Kept as written: %(terms)s", terms="、".join(newly_kept)) + " · " + note
    new_rev = _change(digest, actor, version, "edit", items, rev.left_out, note=note)
    new_rev.redaction_changes = changes  # not stored (it holds what was removed): shown once to the editor
    return new_rev


def move_item(digest: Digest, actor: User, version: Any, key: str, direction: str) -> DigestRevision:
    """Move an item one place up or down within its section (intro and outro stay where they are)."""
    rev = revision(digest)
    items = [dict(i) for i in rev.items]
    index = _find(items, key)
    if direction not in ("up", "down"):
        raise InvalidInput(_("Move up or down."), {"direction": _("Unknown direction.")})
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items) or items[other]["section"] != items[index]["section"] or \
            items[index]["section"] in ("intro", "outro"):
        raise IllegalMove(_("The item is already at the %(end)s of its section.",
                            end=_("top") if direction == "up" else _("bottom")))
    items[index], items[other] = items[other], items[index]
    return _change(digest, actor, version, "move", items, rev.left_out, note=items[other]["title"])


def drop_item(digest: Digest, actor: User, version: Any, key: str) -> DigestRevision:
    rev = revision(digest)
    items = [dict(i) for i in rev.items]
    index = _find(items, key)
    if items[index]["section"] in ("intro", "outro"):
        raise IllegalMove(_("The intro and the outro stay; edit their text instead."))
    dropped = items.pop(index)
    left_out = [{**dropped, "reason": "dropped", "over_seconds": 0}, *rev.left_out]
    return _change(digest, actor, version, "drop", items, left_out, note=dropped["title"])


def restore_item(digest: Digest, actor: User, version: Any, key: str) -> DigestRevision:
    """Bring a left-out item back, at the end of its section (the running time may then exceed the slot)."""
    rev = revision(digest)
    left_out = [dict(i) for i in rev.left_out]
    index = _find(left_out, key)
    item = {k: v for k, v in left_out.pop(index).items() if k not in ("reason", "over_seconds")}
    items = [dict(i) for i in rev.items]
    items.insert(_insert_at(items, item["section"]), item)
    return _change(digest, actor, version, "restore", items, left_out, note=item["title"])


def _insert_at(items: list[dict], section: str) -> int:
    rank = builder.section_order(section)
    position = len(items)
    for index, existing in enumerate(items):
        if builder.section_order(existing["section"]) > rank:
            position = index
            break
    return position


def add_item(digest: Digest, actor: User, version: Any, section: Any, title: Any, text: Any,
             source: Any = "") -> DigestRevision:
    """A producer's own item, written for this digest only, at the end of its section."""
    if section not in (*ITEM_SECTIONS, "qa", "figures"):
        raise InvalidInput(_("Choose the section."), {"section": _("Unknown section.")})
    raw_title = _text(title, "title", _("Title"), TITLE_MAX)
    raw_text = _text(text, "text", _("Text"), BODY_MAX)
    new_title, new_text, changes = air_text(None, raw_title, raw_text, [])
    if not new_text.strip():
        raise _empty_after_redaction("text")
    if not new_title.strip():
        raise _empty_after_redaction("title")
    item = {"key": f"add:{uuid.uuid4().hex[:10]}", "section": section, "title": new_title, "text": new_text,
            "source": _text(source, "source", _("Source"), SOURCE_MAX, required=False),
            "priority": 3, "ref": {}, "edited": True, "redacted": _kinds(changes)}
    rev = revision(digest)
    items = [dict(i) for i in rev.items]
    items.insert(_insert_at(items, section), item)
    new_rev = _change(digest, actor, version, "add", items, rev.left_out, note=item["title"])
    new_rev.redaction_changes = changes
    return new_rev


def restore_revision(digest: Digest, actor: User, version: Any, number: Any) -> DigestRevision:
    try:
        old = revision(digest, int(number))
    except (TypeError, ValueError):
        raise InvalidInput(_("Choose a version."), {"number": _("Required.")}) from None
    return _change(digest, actor, version, "restore_version", [dict(i) for i in old.items],
                   [dict(i) for i in old.left_out], note=_("Content of version %(n)d.", n=old.number))


def clear_employer(digest: Digest, actor: User, version: Any, key: str, cleared: bool, note: str = "") -> DigestRevision:
    """Record that a case's employer may (or may not) be named on air, and redo its 热线问答 text."""
    rev = revision(digest)
    items = [dict(i) for i in rev.items]
    index = _find(items, key)
    case = _case_of(items[index])
    if case is None:
        raise IllegalMove(_("Only 热线问答 items come from a case."))
    row = db.session.get(BroadcastClearance, case.id)
    if row is None:
        row = BroadcastClearance(case_id=case.id, cleared_at=clock.now())
        db.session.add(row)
    row.employer_cleared = cleared
    row.note = (note or "")[:300]
    row.cleared_by_id = actor.id
    row.cleared_at = clock.now()
    fresh = builder.qa_item(digest_settings.get(), case, cleared)
    items[index] = {**fresh, "key": items[index]["key"]}
    return _change(digest, actor, version, "clearance", items, rev.left_out, note=fresh["title"])


def approve(digest: Digest, actor: User, version: Any) -> Digest:
    if digest.status != "draft":
        raise IllegalMove(_("Only a draft can be approved; this digest is %(status)s.",
                            status=status_label(digest.status)))
    _check_version(digest, version)
    digest.status = "approved"
    digest.approved_at = clock.now()
    digest.approved_by_id = actor.id
    digest.approved_revision = digest.revision_no
    digest.updated_at = clock.now()
    _flush(digest)
    return digest


def mark_aired(digest: Digest, actor: User, version: Any) -> Digest:
    if digest.status != "approved":
        raise IllegalMove(_("Approve the digest before marking it aired."))
    _check_version(digest, version)
    digest.status = "aired"
    digest.aired_at = clock.now()
    digest.aired_by_id = actor.id
    digest.updated_at = clock.now()
    _flush(digest)
    return digest


def status_label(status: str) -> str:
    return {"draft": _("draft"), "approved": _("approved"), "aired": _("aired")}.get(status, status)


def recent_digests(limit: int = 30) -> list[Digest]:
    return list(db.session.scalars(select(Digest).order_by(Digest.air_date.desc()).limit(limit)))


def approved_digests(limit: int = 20) -> list[Digest]:
    return list(db.session.scalars(select(Digest).where(Digest.status.in_(("approved", "aired")))
                                   .order_by(Digest.air_date.desc()).limit(limit)))


# ---------------------------------------------------------------- comparing versions

def compare(digest: Digest, a: int, b: int) -> dict[str, Any]:
    """What changed from version a to version b: items added, removed, moved, and text changes."""
    old, new = revision(digest, a), revision(digest, b)
    old_items = {i["key"]: i for i in old.items}
    new_items = {i["key"]: i for i in new.items}
    rows: list[dict[str, Any]] = []
    for item in new.items:
        before = old_items.get(item["key"])
        if before is None:
            rows.append({"kind": "added", "item": item, "diff": None})
        elif before["text"] != item["text"] or before["title"] != item["title"]:
            rows.append({"kind": "changed", "item": item, "diff": text_diff(before["text"], item["text"]),
                         "old_title": before["title"]})
        else:
            rows.append({"kind": "same", "item": item, "diff": None})
    removed = [i for i in old.items if i["key"] not in new_items]
    old_order = [k for k in (i["key"] for i in old.items) if k in new_items]
    new_order = [k for k in (i["key"] for i in new.items) if k in old_items]
    names = titles()
    old_m = builder.measure(old.items, old.rate, names, old.reserve_seconds)
    new_m = builder.measure(new.items, new.rate, names, new.reserve_seconds)
    return {"a": old, "b": new, "rows": rows, "removed": removed, "reordered": old_order != new_order,
            "seconds_a": old_m["total_seconds"], "seconds_b": new_m["total_seconds"]}


def text_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Character-level diff (Chinese has no spaces between words): [(op, text)], op in = + -."""
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("=", old[i1:i2]))
        else:
            if i2 > i1:
                out.append(("-", old[i1:i2]))
            if j2 > j1:
                out.append(("+", new[j1:j2]))
    return out


# ---------------------------------------------------------------- content items

def list_items(section: str | None = None, show: str = "current") -> list[ContentItem]:
    today = clock.local_now().date()
    stmt = select(ContentItem).order_by(ContentItem.section, ContentItem.priority, ContentItem.valid_from.desc(),
                                        ContentItem.id.desc())
    if section in ITEM_SECTIONS:
        stmt = stmt.where(ContentItem.section == section)
    if show == "current":
        stmt = stmt.where(ContentItem.active.is_(True),
                          (ContentItem.valid_to.is_(None)) | (ContentItem.valid_to >= today))
    elif show == "archived":
        stmt = stmt.where((ContentItem.active.is_(False)) | (ContentItem.valid_to < today))
    return list(db.session.scalars(stmt))


def get_item(item_id: Any) -> ContentItem:
    return get_or_404(ContentItem, item_id, _("This item was not found."))


def save_item(actor: User, form: dict[str, Any], item: ContentItem | None = None) -> ContentItem:
    """Create or change a content item; the whole form is refused with field messages (nothing half-saved)."""
    errors: dict[str, str] = {}
    if item is not None:
        check_version(item, form.get("version"), _("The item was changed by someone else meanwhile. Reload it to "
                                                   "see their change, then make yours again."))
    section = (form.get("section") or "").strip()
    if section not in ITEM_SECTIONS:
        errors["section"] = _("Choose the section.")
    values: dict[str, Any] = {}
    for name, _label, limit, required in (("title", _("Title"), TITLE_MAX, True), ("body", _("Text"), BODY_MAX, True),
                                         ("source", _("Source"), SOURCE_MAX, False)):
        value = (form.get(name) or "").strip()
        if required and not value:
            errors[name] = _("Required.")
        elif len(value) > limit:
            errors[name] = _("At most %(max)d characters.", max=limit)
        values[name] = value
    dates: dict[str, date | None] = {}
    for name in ("valid_from", "valid_to"):
        raw = (form.get(name) or "").strip()
        if not raw:
            dates[name] = None
            if name == "valid_from":
                errors[name] = _("Required.")
            continue
        try:
            dates[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Use YYYY-MM-DD.")
    if dates.get("valid_from") and dates.get("valid_to") and dates["valid_to"] < dates["valid_from"]:
        errors["valid_to"] = _("The end must not be before the start.")
    try:
        priority = int((form.get("priority") or "").strip())
        if not 1 <= priority <= 5:
            raise ValueError
    except ValueError:
        errors["priority"] = _("From 1 (highest) to 5.")
        priority = 3
    allow = parse_terms(form.get("allowed_terms"))
    changes: list[Change] = []
    if not errors:
        title_r = redact_detail(values["title"], allow=allow)
        body_r = redact_detail(values["body"], allow=allow)
        changes = title_r.changes + body_r.changes
        if not body_r.text.strip():
            errors["body"] = _("Empty after removing personal details.")
        if not title_r.text.strip():
            errors["title"] = _("Empty after removing personal details.")
        values["title"], values["body"] = title_r.text, body_r.text
    if errors:
        if set(errors.values()) == {_("Empty after removing personal details.")}:
            raise _empty_after_redaction(next(iter(errors)))
        raise InvalidInput(_("The item was not saved; see the marked fields."), errors)
    now = clock.now()
    if item is None:
        item = ContentItem(created_by_id=actor.id if actor else None, created_at=now, version=1)
        db.session.add(item)
    item.section = section
    item.title = values["title"]
    item.body = values["body"]
    item.source = values["source"]
    item.valid_from = dates["valid_from"]
    item.valid_to = dates["valid_to"]
    item.priority = priority
    item.active = form.get("active", "1") in ("1", "on", "true", True)
    item.updated_at = now
    if "\n".join(allow) != (item.allowed_terms or ""):  # a deliberate act: who kept which terms, when
        item.allowed_terms = "\n".join(allow)
        item.allowed_by_id = actor.id if actor else None
        item.allowed_at = now
    item.redaction_changes = changes  # not stored: shown once to the producer who saved
    flush_or_stale(_("The item was changed by someone else meanwhile. Reload it and try again."))
    return item


# ---------------------------------------------------------------- the scheduler's build

def scheduled(moment: datetime | None = None) -> dict[str, Any]:
    """The job: build today's digest once, at or after the build time, while the slot has not passed.
    Run at start-up too, so a build missed while the server was down is caught up."""
    now = moment or clock.now()
    local = clock.to_local(now)
    day = local.date()
    settings = digest_settings.get()
    programme = schedule.programme_of_kind("digest")
    if programme is not None and not schedule.airs_on(programme, day):
        return {"built": 0, "skipped": "no_programme_today"}
    if local.time() < digest_settings.build_time(settings):
        return {"built": 0, "skipped": "before_build_time"}
    if programme is not None and now >= schedule.slot_of(programme, day)[1]:
        return {"built": 0, "skipped": "slot_passed"}
    _digest, built = build(day, None)
    return {"built": int(built)}


def build_for_cli(day: date | None) -> dict[str, Any]:
    """`hotline run-job digest [--date]`: build that date (today by default) if not built yet."""
    if day is None:
        day = clock.local_now().date()
    digest, built = build(day, None)
    return {"date": day.isoformat(), "built": int(built), "version": digest.revision_no, "status": digest.status}

