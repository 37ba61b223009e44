"""Every route × every role (and anonymous, and an API token of each role): the answer matches the
route's declared rule, forbidden requests change nothing, and no route is left without a rule."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from conftest import csrf_from, get_user
from hotline.auth.access import ANY_USER, PUBLIC, rule_of
from hotline.auth.models import ROLES
from hotline.cases import service
from hotline.cases.signals import Origin
from hotline.extensions import db

SAMPLE = {"case_no": None, "action": "note", "day": "2026-11-30", "code": "legal_aid", "year": "2026",
          "sid": "CA00000000000000000000000000000000", "fmt_name": "xlsx", "step": "start",
          "provider": "aliyun", "kind": "receipts", "token": "not-the-token"}
INT_SAMPLE = "1"
PRINCIPALS = ["anonymous"] + list(ROLES)


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def url_for_rule(rule, case_no: str) -> str:
    def fill(match):
        converter, name = match.group(1), match.group(2)
        if name == "case_no":
            return case_no
        if name in SAMPLE:
            return SAMPLE[name]
        if converter and converter.startswith("int"):
            return INT_SAMPLE
        raise AssertionError(f"no sample value for <{name}> in {rule.rule}: add one to SAMPLE")
    return re.sub(r"<(?:([a-z]+(?:\([^)]*\))?):)?([a-z_]+)>", fill, rule.rule)


def table_counts():
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def allowed(rule_set, principal) -> bool:
    if PUBLIC in rule_set:
        return True
    if principal == "anonymous":
        return False
    return ANY_USER in rule_set or principal in rule_set


def test_every_rule_names_known_roles(app):
    for rule, _method in routes(app):
        declared = rule_of(app.view_functions[rule.endpoint])
        assert declared is not None, f"{rule.rule} declares no access rule"
        assert declared <= set(ROLES) | {PUBLIC, ANY_USER}, f"{rule.rule}: unknown role in {declared}"


SCOPES = ("full", "read", "digest")
# What a `digest` token may read, spelled out here (hotline/web.py holds the rule the app applies).
DIGEST_READS = {"api.get_digest", "api.get_digest_text", "api.get_digest_docx", "api.get_digest_feed",
                "api.get_openapi"}

# Caller data planted in the fixture, and who may read it (hotline/cases/access.py, written down again
# here so that a change to the rule is a change the test sees).
HOTLINE = {"phone": "13612349876", "name": "王秘甲", "detail": "热线细节甲乙丙"}      # hotline call, dept women
RADIO = {"phone": "13700002222", "name": "李听众", "detail": "电台细节丁戊己"}        # radio call-in
SECRET = {"phone": "13900001111", "name": "赵保密", "detail": "保密细节庚辛壬"}       # confidential, by operator2
SECRET_SUMMARY = "保密摘要癸子丑"
READS_CALLER = {
    "hotline": {"operator", "supervisor"},
    "radio": {"operator", "supervisor", "producer"},
    "secret": {"supervisor"},  # works every case; operator2 registered it, women's handlers work it
}
OPENS_SECRET = {"operator", "supervisor", "producer"}  # admins never; legal_aid's handler: not theirs


def leaks(body: str, principal_role: str) -> list[str]:
    """Caller data (and confidential summaries) in an answer that this role may not read."""
    found = []
    for key, caller in (("hotline", HOTLINE), ("radio", RADIO), ("secret", SECRET)):
        if principal_role in READS_CALLER[key]:
            continue
        for what, value in caller.items():
            if value in body:
                found.append(f"{key} {what}")
    if principal_role not in OPENS_SECRET and SECRET_SUMMARY in body:
        found.append("confidential summary")
    return found


@pytest.fixture
def clients(app, users, login):
    """A logged-in web client and an API token of each scope per role, and three cases with callers."""
    from hotline.auth.service import issue_token
    from hotline.telephony import calls as telephony

    web, tokens = {"anonymous": app.test_client()}, {}
    with app.app_context():
        for role in ROLES:
            for scope in SCOPES:
                tokens[(role, scope)] = issue_token(get_user(role), scope=scope)
        telephony.ensure_call({"CallSid": "CAmatrix1", "From": "+86" + HOTLINE["phone"], "To": "+8651212351"},
                              voice=True)
        case = service.register(get_user("operator"), {
            "channel": "hotline", "type": "consult", "category": "wages", "summary": "拖欠工资",
            "caller": {"phone": HOTLINE["phone"], "name": HOTLINE["name"]}, "detail": HOTLINE["detail"],
            "department": "women"}, origin=Origin(call_sid="CAmatrix1"))
        service.register(get_user("producer"), {
            "channel": "radio", "type": "consult", "category": "wages", "summary": "电台来电问加班费",
            "caller": {"phone": RADIO["phone"], "name": RADIO["name"]}, "detail": RADIO["detail"]})
        service.register(get_user("operator2"), {
            "channel": "hotline", "type": "complaint", "category": "wages", "summary": SECRET_SUMMARY,
            "caller": {"phone": SECRET["phone"], "name": SECRET["name"]}, "detail": SECRET["detail"],
            "confidential": True})
        case_no = case.case_no
        db.session.commit()
    for role in ROLES:
        web[role] = login(app.test_client(), role)
    return web, tokens, case_no


def principals_for(url: str) -> list:
    """Web: anonymous and each role's session. API: anonymous, each role's session cookie alone (never
    enough), and each role's token of each scope."""
    if not url.startswith("/api/"):
        return PRINCIPALS
    return (["anonymous"] + [("cookie", role) for role in ROLES]
            + [(role, scope) for role in ROLES for scope in SCOPES])


def role_of(principal) -> str | None:
    if principal == "anonymous":
        return None
    return principal[1] if principal[0] == "cookie" else (principal if isinstance(principal, str) else principal[0])


def permitted_for(rule_set, endpoint: str, method: str, principal) -> bool:
    if PUBLIC in rule_set:
        return True
    if principal == "anonymous" or (isinstance(principal, tuple) and principal[0] == "cookie"):
        return False
    role = role_of(principal)
    if not (ANY_USER in rule_set or role in rule_set):
        return False
    if isinstance(principal, tuple):
        scope = principal[1]
        if scope in ("read", "digest") and method != "GET":
            return False
        if scope == "digest" and endpoint not in DIGEST_READS:
            return False
    return True


def request(web, tokens, principal, rule, method, url):
    api = url.startswith("/api/")
    if api:
        if isinstance(principal, tuple) and principal[0] == "cookie":
            client, headers = web[principal[1]], {}  # the browser's session, no token
        else:
            client = web["anonymous"]
            headers = {"Authorization": f"Bearer {tokens[principal]}"} if principal != "anonymous" else {}
        return client.open(url, method=method, headers=headers, json={} if method == "POST" else None)
    client = web[principal]
    data = None
    if method == "POST":
        token = csrf_from(client.get("/login" if principal == "anonymous" else "/notices").get_data(as_text=True))
        data = {"csrf_token": token}
    return client.open(url, method=method, data=data)


def test_route_matrix(app, clients):
    web, tokens, case_no = clients
    forbidden, permitted = [], []
    for rule, method in routes(app):
        declared = rule_of(app.view_functions[rule.endpoint])
        url = url_for_rule(rule, case_no)
        for principal in principals_for(url):
            ok = permitted_for(declared, rule.endpoint, method, principal)
            (permitted if ok else forbidden).append((rule, method, url, principal))
    with app.app_context():
        before = table_counts()
    problems = []
    for rule, method, url, principal in forbidden:
        resp = request(web, tokens, principal, rule, method, url)
        if url.startswith("/api/"):
            unauthenticated = principal == "anonymous" or principal[0] == "cookie"
            ok = resp.status_code == (401 if unauthenticated else 403)
        elif principal == "anonymous":
            ok = resp.status_code == 302 and "/login" in resp.headers.get("Location", "")
        else:
            ok = resp.status_code == 403
        if not ok:
            problems.append(f"{principal} {method} {url} -> {resp.status_code} (should be refused)")
    with app.app_context():
        # The login page records nothing for these; refused requests change nothing at all.
        assert table_counts() == before
    # Logging out ends the session the other requests use, revoking a token ends that token: do them last.
    permitted.sort(key=lambda item: 2 if item[2] == "/logout" else 1 if item[2].endswith("/revoke") else 0)
    for rule, method, url, principal in permitted:
        resp = request(web, tokens, principal, rule, method, url)
        refused = resp.status_code in (401, 403) or (
            resp.status_code == 302 and "/login" in resp.headers.get("Location", ""))
        public = PUBLIC in rule_of(app.view_functions[rule.endpoint])
        if resp.status_code >= 500 or (refused and not public and rule.rule not in ("/login", "/logout")):
            problems.append(f"{principal} {method} {url} -> {resp.status_code} (should be let in)")
        role = role_of(principal)
        if role is not None and resp.status_code < 400:
            # The need-to-know rule, on every route the role may use: no caller it may not read.
            leaked = leaks(resp.get_data().decode("utf-8", "replace"), role)
            if leaked:
                problems.append(f"{principal} {method} {url} shows {', '.join(leaked)}")
    print(f"route x principal matrix: {len(forbidden) + len(permitted)} requests "
          f"({len(forbidden)} refused, {len(permitted)} let in)")
    assert problems == [], "\n".join(problems)
    assert len(forbidden) > 550 and len(permitted) > 350


# Routes whose rule is a decision rather than a consequence: the matrix above checks that each route
# answers as it declares; this checks the declaration itself.
EXPECTED_RULES = {
    "audit.index": {"admin"},  # 审计日志: who saw which confidential case, and the logins (hotline/audit/views.py)
}


def test_declared_rules_of_sensitive_routes(app):
    declared = {rule.endpoint: rule_of(app.view_functions[rule.endpoint]) for rule, _method in routes(app)}
    for endpoint, roles in EXPECTED_RULES.items():
        assert declared.get(endpoint) == roles, f"{endpoint} declares {declared.get(endpoint)}, expected {roles}"


# ---------------------------------------------------------------- organisation scope (hotline/orgs/)

WUJIANG = {"summary": "吴江独有摘要寅卯辰", "phone": "13962500001", "name": "沈吴江", "detail": "吴江细节巳午未"}


@pytest.fixture
def sibling_clients(app, users, login):
    """吴江区总工会 and 太仓市总工会 under the root: a case of 吴江's, and a 太仓 user of every role."""
    from hotline.admin.service import create_department
    from hotline.auth.service import create_user, issue_token
    from hotline.orgs import service as orgs

    with app.app_context():
        orgs.create(None, "wujiang", "吴江区总工会")
        orgs.create(None, "taicang", "太仓市总工会")
        create_department("tc_rights", "权益保障部", None, "taicang")
        create_user("wj_op", "吴江接线员", ["operator"], "correct-horse-battery", org_code="wujiang")
        tokens = {}
        for role in ROLES:
            create_user(f"tc_{role}", f"太仓{role}", [role], "correct-horse-battery",
                        "tc_rights" if role == "handler" else None, org_code="taicang")
            tokens[role] = issue_token(get_user(f"tc_{role}"))
        case = service.register(get_user("wj_op"), {
            "channel": "radio", "type": "consult", "category": "wages", "summary": WUJIANG["summary"],
            "caller": {"phone": WUJIANG["phone"], "name": WUJIANG["name"]}, "detail": WUJIANG["detail"]})
        case_no = case.case_no
        db.session.commit()
    web = {role: login(app.test_client(), f"tc_{role}") for role in ROLES}
    return web, tokens, case_no


def test_route_matrix_org_scope(app, sibling_clients):
    """Every route a role may use, by that role in a sibling organisation: the other organisation's case
    is not found (404) on its own routes, appears in no answer, and a POST to it changes nothing."""
    web, tokens, case_no = sibling_clients
    def case_state():
        from hotline.cases.models import Case, CaseEvent

        return (db.session.execute(select(Case.__table__)).all(),
                db.session.scalar(select(func.count()).select_from(CaseEvent)))

    with app.app_context():
        before = case_state()
    problems, checked = [], 0
    for rule, method in routes(app):
        declared = rule_of(app.view_functions[rule.endpoint])
        url = url_for_rule(rule, case_no)
        on_case = "<case_no>" in rule.rule
        if method == "POST" and not on_case:
            continue  # other POSTs change the principal's own things; the matrix above covers them
        if rule.rule in ("/logout",):
            continue
        for role in ROLES:
            if not (ANY_USER in declared or role in declared):
                continue
            if url.startswith("/api/"):
                resp = web["operator"].open(url, method=method, json={} if method == "POST" else None,
                                            headers={"Authorization": f"Bearer {tokens[role]}"})
            else:
                data = None
                if method == "POST":
                    data = {"csrf_token": csrf_from(web[role].get("/notices").get_data(as_text=True))}
                resp = web[role].open(url, method=method, data=data)
            checked += 1
            body = resp.get_data().decode("utf-8", "replace")
            if resp.status_code >= 500:
                problems.append(f"tc_{role} {method} {url} -> {resp.status_code}")
            short_link = rule.rule == "/c/<case_no>" and resp.status_code == 302  # the SMS link: a redirect only
            if on_case and resp.status_code not in (403, 404) and not short_link:
                problems.append(f"tc_{role} {method} {url} -> {resp.status_code} (should be not found)")
            shown = [k for k, v in WUJIANG.items() if v in body]
            if shown and resp.status_code < 400:
                problems.append(f"tc_{role} {method} {url} shows 吴江's {', '.join(shown)}")
    with app.app_context():
        assert case_state() == before  # settings rows made on first read aside, the case and its timeline stand
    print(f"organisation scope: {checked} requests")
    assert problems == [], "\n".join(problems)
    assert checked > 200
