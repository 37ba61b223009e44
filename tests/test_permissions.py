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


@pytest.fixture
def clients(app, users, login):
    """A logged-in web client and an API token per role."""
    from hotline.auth.service import issue_token

    web, tokens = {"anonymous": app.test_client()}, {}
    with app.app_context():
        for role in ROLES:
            tokens[role] = issue_token(get_user(role))
        case = service.register(get_user("operator"), {
            "channel": "hotline", "type": "consult", "category": "wages", "summary": "拖欠工资",
            "caller": {"phone": "13812345678"}, "department": "women"})
        case_no = case.case_no
        db.session.commit()
    for role in ROLES:
        web[role] = login(app.test_client(), role)
    tokens["anonymous"] = None
    return web, tokens, case_no


def request(web, tokens, principal, rule, method, url):
    api = url.startswith("/api/")
    if api:
        client = web["anonymous"]
        headers = {"Authorization": f"Bearer {tokens[principal]}"} if tokens[principal] else {}
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
        for principal in PRINCIPALS:
            (permitted if allowed(declared, principal) else forbidden).append((rule, method, url, principal))
    with app.app_context():
        before = table_counts()
    problems = []
    for rule, method, url, principal in forbidden:
        resp = request(web, tokens, principal, rule, method, url)
        if url.startswith("/api/"):
            expected = {401} if principal == "anonymous" else {403}
            ok = resp.status_code in expected
        elif principal == "anonymous":
            ok = resp.status_code == 302 and "/login" in resp.headers.get("Location", "")
        else:
            ok = resp.status_code == 403
        if not ok:
            problems.append(f"{principal} {method} {url} -> {resp.status_code} (should be refused)")
    with app.app_context():
        # The login page records nothing for these; refused requests change nothing at all.
        assert table_counts() == before
    # Logging out ends the session the other requests use: do it last.
    permitted.sort(key=lambda item: item[2] == "/logout")
    for rule, method, url, principal in permitted:
        resp = request(web, tokens, principal, rule, method, url)
        refused = resp.status_code in (401, 403) or (
            resp.status_code == 302 and "/login" in resp.headers.get("Location", ""))
        public = PUBLIC in rule_of(app.view_functions[rule.endpoint])
        if resp.status_code >= 500 or (refused and not public and rule.rule not in ("/login", "/logout")):
            problems.append(f"{principal} {method} {url} -> {resp.status_code} (should be let in)")
    assert problems == [], "\n".join(problems)
    assert len(forbidden) > 300 and len(permitted) > 100


# Routes whose rule is a decision rather than a consequence: the matrix above checks that each route
# answers as it declares; this checks the declaration itself.
EXPECTED_RULES = {
    "audit.index": {"admin"},  # 审计日志: who saw which confidential case, and the logins (hotline/audit/views.py)
}


def test_declared_rules_of_sensitive_routes(app):
    declared = {rule.endpoint: rule_of(app.view_functions[rule.endpoint]) for rule, _method in routes(app)}
    for endpoint, roles in EXPECTED_RULES.items():
        assert declared.get(endpoint) == roles, f"{endpoint} declares {declared.get(endpoint)}, expected {roles}"
