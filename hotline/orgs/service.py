"""The organisation tree and its rules: who belongs where, which organisations a user's work covers.

Services flush; the door commits. The tree is small (tens of organisations), so a subtree is read
once per request and kept on flask.g.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.errors import Forbidden, InvalidInput, NotFound
from hotline.extensions import db
from hotline.orgs.models import DIGEST_SCOPES, ROOT_ID, Organisation
from hotline.reference.fields import clean_code, clean_flag, clean_name

log = logging.getLogger("hotline.orgs")

ROOT_CODE = "city"
ROOT_NAME = "苏州市总工会职工援助中心（12351）"


# ---------------------------------------------------------------- reading

def _cache() -> dict:
    if not has_app_context():
        return {}
    if "_hotline_orgs" not in g:
        g._hotline_orgs = {}
    return g._hotline_orgs


def all_orgs() -> list[Organisation]:
    cache = _cache()
    if "all" not in cache:
        cache["all"] = list(db.session.scalars(select(Organisation).order_by(Organisation.path)))
    return list(cache["all"])


def by_id(org_id: int | None) -> Organisation | None:
    """One organisation, kept for the request: the session's identity map holds objects weakly, and the
    visibility rule asks for the same few organisations once per case shown."""
    if org_id is None:
        return None
    cache = _cache()
    key = ("org", org_id)
    if key not in cache:
        cache[key] = db.session.get(Organisation, org_id)
    return cache[key]


def keep(org: Organisation) -> None:
    """An organisation read together with something else (the API token's user, hotline/auth/service.py),
    kept for the request as by_id keeps it: the visibility rule then asks the database nothing more."""
    _cache().setdefault(("org", org.id), org)


def root() -> Organisation:
    org = db.session.get(Organisation, ROOT_ID)
    if org is None:
        org = db.session.scalar(select(Organisation).where(Organisation.parent_id.is_(None)).order_by(Organisation.id))
    if org is None:
        raise NotFound(_("The root organisation is missing; run hotline seed."))
    return org


def lookup(code: Any, field: str = "org") -> Organisation:
    """An organisation named in input; unknown → InvalidInput (nothing is saved)."""
    org = db.session.scalar(select(Organisation).where(Organisation.code == code)) if isinstance(code, str) else None
    if org is None:
        raise InvalidInput(_("Unknown organisation: %(code)s", code=str(code)[:40]), {field: _("Unknown organisation.")})
    return org


def subtree_ids(org_id: int | None) -> frozenset[int]:
    """The organisation and every organisation below it."""
    if org_id is None:
        return frozenset()
    cache = _cache()
    key = ("subtree", org_id)
    if key not in cache:
        org = by_id(org_id)
        if org is None:
            cache[key] = frozenset()
        else:
            cache[key] = frozenset(db.session.scalars(
                select(Organisation.id).where(Organisation.path.startswith(org.path, autoescape=True))))
    return cache[key]


def is_root(org_id: int | None) -> bool:
    org = by_id(org_id)
    return org is not None and org.parent_id is None


def covers(org_id: int | None, other_id: int | None) -> bool:
    """Whether `other_id` is `org_id` or below it."""
    return other_id is not None and other_id in subtree_ids(org_id)


def chain(org: Organisation) -> list[Organisation]:
    """From the root down to `org`."""
    ids = [int(x) for x in org.path.strip("/").split("/") if x]
    found = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def children(org: Organisation) -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).where(Organisation.parent_id == org.id, Organisation.active.is_(True))
                                   .order_by(Organisation.sort_order, Organisation.id)))


def visible_orgs(actor) -> list[Organisation]:
    """The organisations a user's work covers: her own and those below it."""
    ids = subtree_ids(getattr(actor, "org_id", None))
    return [o for o in all_orgs() if o.id in ids]


def check_covers(actor, org: Organisation) -> None:
    """An organisation's users (its admin included) act within its subtree only."""
    if actor is not None and not covers(actor.org_id, org.id):
        raise Forbidden(_("%(org)s is outside your organisation.", org=org.name))


# ---------------------------------------------------------------- changing

def ensure_root() -> int:
    """The city's 12351 centre at the root (the migration creates it; a database built otherwise gets it here)."""
    if db.session.scalar(select(Organisation.id).where(Organisation.parent_id.is_(None))) is not None:
        return 0
    db.session.add(Organisation(id=ROOT_ID, code=ROOT_CODE, name=ROOT_NAME, parent_id=None, path=f"/{ROOT_ID}/",
                                active=True, sort_order=0, delegate_closure=False, digest_scope="subtree"))
    db.session.flush()
    return 1


def create(actor, code: Any, name: Any, parent_code: Any = None) -> Organisation:
    """A new organisation under `parent_code` (default: the root). An admin adds only within her subtree."""
    code, name = clean_code(code), clean_name(name)
    parent = lookup(parent_code, "parent") if parent_code not in (None, "") else root()
    check_covers(actor, parent)
    if db.session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise InvalidInput(_("An organisation with the code %(code)s already exists. Nothing was saved.", code=code),
                           {"code": _("Taken.")})
    org = Organisation(code=code, name=name, parent_id=parent.id, path="", active=True,
                       sort_order=len(children(parent)), delegate_closure=False, digest_scope="subtree")
    db.session.add(org)
    db.session.flush()  # the id makes the path
    org.path = f"{parent.path}{org.id}/"
    db.session.flush()
    _cache().clear()
    log.info("organisation %s created under %s", code, parent.code)
    return org


def update_settings(actor, code: Any, delegate_closure: Any, digest_scope: Any) -> Organisation:
    org = lookup(code)
    check_covers(actor, org)
    if digest_scope not in DIGEST_SCOPES:
        raise InvalidInput(_("Unknown digest scope: %(s)s", s=str(digest_scope)[:20]), {"digest_scope": _("Unknown.")})
    org.delegate_closure = clean_flag(delegate_closure)
    org.digest_scope = digest_scope
    db.session.flush()
    return org


def as_reference(org: Organisation, by_id_map: dict[int, Organisation]) -> dict[str, Any]:
    parent = by_id_map.get(org.parent_id) if org.parent_id else None
    return {"code": org.code, "name": org.name, "parent": parent.code if parent else None}
