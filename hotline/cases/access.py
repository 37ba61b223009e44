"""Who may see what of a case. The one place for object-level rules."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select, and_, false, or_

from hotline.auth.models import User
from hotline.cases.models import Case

# THE need-to-know rule, written once; every door (pages, API, exports, search, phone look-up, call log,
# call-back and SMS lists, the audit) asks these functions and nothing else.
#
# - Operators and supervisors open every case. Supervisors read every caller; operators read the callers
#   of ordinary cases, and of confidential ones they registered themselves.
# - Handlers open and read their departments' cases, confidential ones included: they work them.
# - Producers open every case (summaries feed the digest) but read callers only of their programmes'
#   radio call-ins (channel "radio"), not of hotline calls.
# - Administrators administer: they open ordinary cases with the caller masked, and never a confidential one.
# - Numbers not tied to a case (a call or a call-back with no case yet): operators and supervisors, who
#   call people back.
# A user with several roles gets the union.
#
# On top of that, THE organisation rule (hotline/orgs/), also written once, here: a user sees the cases
# owned by her organisation or any organisation below it, and those her subtree registered; a sibling
# organisation's cases are "not found". A user of the root organisation sees every case. Every list,
# search, export, report, notice and digest query goes through org_ids / org_condition / in_org.
OPENS_EVERY_CASE = ("operator", "supervisor", "producer")
RADIO_CHANNEL = "radio"


def org_ids(actor: User) -> frozenset[int] | None:
    """The organisations whose cases the actor may see; None: every one (the root's users)."""
    from hotline.orgs import service as orgs

    org_id = getattr(actor, "org_id", None)
    if org_id is None or orgs.is_root(org_id):
        return None
    return orgs.subtree_ids(org_id)


def in_org(actor: User, org_id: int | None, registered_org_id: int | None) -> bool:
    """The organisation rule for one case, given its owning and registering organisations."""
    return _in_ids(org_ids(actor), org_id, registered_org_id)


def _in_ids(ids: frozenset[int] | None, org_id: int | None, registered_org_id: int | None) -> bool:
    return ids is None or org_id in ids or registered_org_id in ids


def org_condition(actor: User, owner=None, registrar=None):
    """The organisation rule in SQL (None: no restriction). `owner`/`registrar` default to the case's columns."""
    return ids_condition(org_ids(actor), owner, registrar)


def ids_condition(ids: frozenset[int] | None, owner=None, registrar=None):
    """The organisation rule for a set of organisations (a subtree): owned by one, or registered by one."""
    if ids is None:
        return None
    owner = Case.org_id if owner is None else owner
    registrar = Case.registered_org_id if registrar is None else registrar
    if not ids:
        return false()
    # The second branch says registrar <> owner so the small partial index on registered_org_id serves it.
    return or_(owner.in_(sorted(ids)), and_(registrar.in_(sorted(ids)), registrar != owner))


def _department_worked(actor: User) -> int | None:
    """The department whose cases the actor works: a handler's own, else None."""
    return actor.department_id if actor.has_role("handler") else None


def works_in_department(actor: User, case: Case) -> bool:
    department = _department_worked(actor)
    return department is not None and department == case.department_id


def can_view(actor: User, case: Case) -> bool:
    if not in_org(actor, case.org_id, case.registered_org_id):
        return False
    if actor.has_role(*OPENS_EVERY_CASE) or works_in_department(actor, case):
        return True
    return actor.has_role("admin") and not case.confidential


def _case_worker(actor: User) -> Callable[[Case], bool]:
    """works_the_case for one actor, what it asks of the actor looked up once."""
    supervisor = actor.has_role("supervisor")
    department = _department_worked(actor)
    me = actor.id

    def works(case: Case) -> bool:
        return (supervisor or (department is not None and department == case.department_id)
                or (case.registered_by_id is not None and case.registered_by_id == me))
    return works


def works_the_case(actor: User, case: Case) -> bool:
    """People who work this case see its confidential parts: its department, supervisors, the registering person."""
    return _case_worker(actor)(case)


def private_reader(actor: User) -> Callable[[Case], bool]:
    """can_see_private for the many cases of one table or list answer: what the rule asks of the actor (roles,
    department, organisations) looked up once, not once a case (a 50-row table asked 150 times)."""
    ids = org_ids(actor)
    works = _case_worker(actor)
    operator = actor.has_role("operator")
    producer = actor.has_role("producer")

    def reads(case: Case) -> bool:
        if not _in_ids(ids, case.org_id, case.registered_org_id):
            return False  # e.g. a call of another organisation's case on the call log
        if works(case):
            return True
        if case.confidential:
            return False
        return operator or (producer and case.channel == RADIO_CHANNEL)
    return reads


def can_see_private(actor: User, case: Case) -> bool:
    """Whether this person reads the caller (number, name, employer, district) and the detail of the case."""
    return private_reader(actor)(case)


def sees_numbers_without_case(actor: User) -> bool:
    """A caller's number on a call or call-back that no case covers yet: those who call people back."""
    return actor.has_role("operator", "supervisor")


def caller_number_visible(actor: User, case: Case | None) -> bool:
    """The telephony pages (calls, call-backs, SMS): the number of a call that became a case follows the
    case's rule; one without a case is for operators and supervisors only."""
    if not sees_numbers_without_case(actor):
        return False
    return case is None or can_see_private(actor, case)


def scope(actor: User, stmt: Select) -> Select:
    """Restrict a case query to what the actor may list (the SQL form of can_view)."""
    org = org_condition(actor)
    if org is not None:
        stmt = stmt.where(org)
    if actor.has_role(*OPENS_EVERY_CASE):
        return stmt
    conds = []
    if actor.has_role("handler") and actor.department_id is not None:
        conds.append(Case.department_id == actor.department_id)
    if actor.has_role("admin"):
        conds.append(Case.confidential.is_(False))
    return stmt.where(or_(*conds)) if conds else stmt.where(false())


def private_filter_allowed(actor: User):
    """SQL condition for rows whose private parts (phone, detail) the actor may search in (the SQL form of
    can_see_private); None when that is every row."""
    if actor.has_role("supervisor"):
        return None
    conds = [Case.registered_by_id == actor.id]
    if actor.has_role("handler") and actor.department_id is not None:
        conds.append(Case.department_id == actor.department_id)
    if actor.has_role("operator"):
        conds.append(Case.confidential.is_(False))
    elif actor.has_role("producer"):
        conds.append(and_(Case.confidential.is_(False), Case.channel == RADIO_CHANNEL))
    return or_(*conds)


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    # One star whatever the length: the mask should not tell how long the name is.
    return name[0] + "*"
