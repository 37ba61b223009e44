"""The JSON API fuzzed from its own OpenAPI document (schemathesis, in-process over WSGI).

Every operation of /api/v1/openapi.json gets requests generated from its schema, valid ones (positive) and
ones the document refuses (negative), sent with a real bearer token: first of an account that holds the
operator, supervisor, producer and handler roles (it can do nearly everything), then of a handler of
another department (who may see little). For every answer:

- no 5xx (`not_a_server_error`), the status is documented, the Content-Type is the documented one and the
  body matches the documented schema;
- a request the document refuses is refused (`negative_data_rejection`: a 4xx, never a 2xx);
- a read (GET) and a refused request change no table (row counts and case versions stay the same).

After the run the database holds no garbage: every case still satisfies the model's rules (tests/hostile.py
`case_problems`: valid status and codes, phone in E.164, trimmed text within its limits and without
unstorable characters, fields consistent with the status, a timeline that replays to the status, one
version step per move).

Random case numbers would only ever meet 404, so the generated requests are steered: most use the number
of a real case (in every state), most lifecycle bodies carry the case's current version, and create/assign
bodies often name real categories, departments and handlers. Negative requests are only steered where the
change keeps them exactly as invalid as generated. Budgets are bounded and the runs derandomized, so CI
is reproducible and each backend takes well under a minute (HOTLINE_FUZZ_SCALE multiplies the examples).
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
import schemathesis
from hypothesis import given, strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from conftest import PASSWORD, get_user
from hostile import case_problems, fingerprint, fuzz_settings
from hotline.auth.models import User
from hotline.auth.service import create_user, issue_token
from hotline.cases import service as cases
from hotline.cases.models import Case
from hotline.digest import service as digests
from hotline.extensions import db
from hotline.radio import schedule
from hotline.reference.models import Category, Department

DAY = date(2026, 11, 30)  # the conftest clock's day: the seeded digest's air date
CASE_NO = re.compile(r"^[0-9]{8}-[0-9]{4,}$")
# Examples per operation: (positive, negative). 25 operations × 2 roles; see the module docstring.
BUDGETS = {"fuzzer": (16, 8), "other_handler": (5, 3)}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _register(operator, **extra):
    body = {"channel": "hotline", "type": "consult", "category": "wages", "summary": "公司拖欠工资三个月",
            "caller": {"phone": "13812345678", "name": "王建国"}, **extra}
    return cases.register(operator, body, via="api")


def _move(case, who, action, **params):
    return cases.perform(get_user(who), case, action, case.version, params)


def seed(app):
    """A case in every state (and both departments), a built and approved digest, the radio schedule."""
    with app.app_context():
        create_user("fuzzer", "Fuzzer", ["operator", "supervisor", "producer", "handler"], PASSWORD, "legal_aid")
        op = get_user("operator")
        _register(op)  # registered
        _register(op, channel="letter", caller={"name": "<b>无电话</b>"}, confidential=True, detail="保密内容")
        _register(op, department="legal_aid", handler="handler")  # assigned
        _register(op, department="legal_aid", handler="fuzzer", urgent=True)  # assigned to the fuzzer
        _register(op, department="women")  # the other handler's department
        _move(_register(op, department="legal_aid", handler="fuzzer"), "fuzzer", "accept")  # accepted
        extension = _register(op, department="legal_aid", handler="fuzzer")
        _move(extension, "fuzzer", "extend", reply_due_at="2026-12-21T17:30:00+08:00", reason="材料未齐")
        replied = _register(op, department="legal_aid", handler="fuzzer")
        _move(replied, "fuzzer", "accept")
        _move(replied, "fuzzer", "reply", content="已电话答复")
        closed = _register(op, department="women", broadcast_ok=True)
        _move(closed, "other_handler", "accept")
        _move(closed, "other_handler", "reply", content="可以申请劳动仲裁")
        _move(closed, "operator", "close")
        _register(op, channel="radio", resolved_on_call=True, answer="直播中已答复", broadcast_ok=True)
        schedule.ensure_defaults()
        digest, _built = digests.build(DAY, get_user("producer"))
        digests.approve(digest, get_user("producer"), digest.version)
        db.session.commit()


def _is_date(value) -> bool:
    try:
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)) is not None and bool(date.fromisoformat(value))
    except ValueError:
        return False


class Steering:
    """Draws that point generated requests at real rows, read afresh from the database each time."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            self.categories = list(db.session.scalars(select(Category.code)))
            self.departments = list(db.session.scalars(select(Department.code)))
            self.handlers = list(db.session.scalars(select(User.username)))

    def case_numbers(self) -> list[str]:
        with self.app.app_context():
            numbers = list(db.session.scalars(select(Case.case_no).order_by(Case.id)))
            db.session.rollback()
        return numbers

    def version_of(self, case_no: str) -> int | None:
        with self.app.app_context():
            version = db.session.scalar(select(Case.version).where(Case.case_no == case_no))
            db.session.rollback()
        return version

    def steer(self, case, data, negative: bool) -> None:
        """Change the generated case in place; a negative one only where that keeps it as invalid as it was."""
        path = case.path_parameters or {}
        known = self.case_numbers()
        if "case_no" in path and CASE_NO.match(str(path["case_no"])) and data.draw(st.integers(0, 9)) < 8:
            path["case_no"] = data.draw(st.sampled_from(known))
        if "day" in path and _is_date(path["day"]) and data.draw(st.booleans()):
            path["day"] = DAY.isoformat()
        body = case.body if isinstance(case.body, dict) else None
        if body is None:
            return
        version = body.get("version")
        if "case_no" in path and isinstance(version, int) and not isinstance(version, bool) and version >= 1 \
                and data.draw(st.integers(0, 9)) < 8:
            body["version"] = self.version_of(path["case_no"]) or version
        if negative:
            return
        if isinstance(body.get("category"), str) and data.draw(st.integers(0, 9)) < 7:
            body["category"] = data.draw(st.sampled_from(self.categories))
        if isinstance(body.get("department"), str) and body["department"] and data.draw(st.integers(0, 9)) < 7:
            body["department"] = data.draw(st.sampled_from(self.departments))
        if isinstance(body.get("handler"), str) and body["handler"] and data.draw(st.integers(0, 9)) < 7:
            body["handler"] = data.draw(st.sampled_from(self.handlers))
        if isinstance(body.get("into"), str) and data.draw(st.booleans()):
            body["into"] = data.draw(st.sampled_from(known))


@pytest.fixture
def world(app, users):
    seed(app)
    tokens = {}
    with app.app_context():
        for username in BUDGETS:
            tokens[username] = issue_token(get_user(username))
        db.session.commit()
    assert not case_problems_in(app), "the seeded cases already break a rule"
    return tokens


def case_problems_in(app) -> list[str]:
    with app.app_context():
        return case_problems()


def snapshot(app):
    with app.app_context():
        return fingerprint()


@pytest.mark.parametrize("role", list(BUDGETS))
def test_api_fuzzed_from_its_openapi_document(app, world, backend_name, role, capsys):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 answer the checks see, not a test error
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.generation.update(with_security_parameters=False)  # the token is ours: sent below
    headers = {"Authorization": f"Bearer {world[role]}"}
    steering = Steering(app)
    positive, negative = BUDGETS[role]
    statuses: Counter = Counter()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25, [op.label for op in operations]

    for operation in operations:
        for mode, examples in ((GenerationMode.POSITIVE, positive), (GenerationMode.NEGATIVE, negative)):
            is_negative = mode is GenerationMode.NEGATIVE

            @fuzz_settings(examples)
            @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
            def run(case, data):
                steering.steer(case, data, is_negative)
                before = snapshot(app)
                response = case.call(headers=headers)
                statuses[f"{operation.method.upper()} {response.status_code}"] += 1
                checks = CHECKS + ([negative_data_rejection] if is_negative else [])
                case.validate_response(response, checks=checks, headers=headers)
                if operation.method.upper() == "GET" or response.status_code >= 400:
                    after = snapshot(app)
                    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
                    assert not changed, (f"{operation.label} answered {response.status_code} but changed {changed}"
                                         f"\n{case.as_curl_command(headers=headers)}")

            try:
                run()
            except BaseException as err:  # hypothesis shrinks to the smallest example; collect and go on
                if isinstance(err, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.label} [{mode.value}]: {getattr(err, 'message', None) or err}")

    sent = sum(statuses.values())
    with capsys.disabled():
        print(f"\n[fuzz-api] {backend_name}/{role}: {sent} requests over {len(operations)} operations; "
              f"{dict(sorted(statuses.items()))}; {len(failures)} failing operation(s)")
    problems = case_problems_in(app)
    assert not failures, "\n\n".join(failures)
    assert not problems, "\n".join(problems)
    with app.app_context():
        assert db.session.scalar(select(Case.id).limit(1)) is not None


# ---------------------------------------------------------------- what the fuzzing found (regressions)

LONE_SURROGATE = "\\ud800"  # as a JSON body spells it: valid JSON, text neither database can encode


def _raw_post(client, path, raw_json, headers):
    return client.post("/api/v1" + path, data=raw_json.encode(), headers={**headers, "Content-Type": "application/json"})


def test_lone_surrogates_in_json_bodies_are_refused_not_a_crash(app, world):
    """json.loads turns "\\ud800" into a lone surrogate; storing it raised UnicodeEncodeError (500) on both
    databases, in every text and code field. Now 422 naming the field, and nothing saved."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client, headers = app.test_client(), {"Authorization": f"Bearer {world['fuzzer']}"}
    base = {"type": '"consult"', "category": '"wages"', "summary": '"x"', "caller": '{"phone": "13812345678"}'}
    fields = {"summary": None, "detail": None, "answer": None, "category": None, "type": None,
              "department": None, "handler": None, "caller.name": None, "caller.employer": None}
    with app.app_context():
        before = fingerprint()
    for field in fields:
        body = dict(base)
        value = f'"a{LONE_SURROGATE}b"'
        if field.startswith("caller."):
            body["caller"] = '{"phone": "13812345678", "%s": %s}' % (field.split(".")[1], value)
        else:
            body[field] = value
            if field == "handler":
                body["department"] = '"legal_aid"'
        raw = "{" + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}"
        resp = _raw_post(client, "/cases", raw, headers)
        assert resp.status_code == 422, (field, resp.get_data(as_text=True)[:300])
        assert field in resp.get_json()["error"]["fields"], resp.get_json()
    with app.app_context():
        number = db.session.scalar(select(Case.case_no).where(Case.status == "accepted"))
        version = db.session.scalar(select(Case.version).where(Case.case_no == number))
    for action, raw in (("note", '{"version": %d, "text": "x%sy"}'), ("merge", '{"version": %d, "into": "%s"}')):
        resp = _raw_post(client, f"/cases/{number}/{action}", raw % (version, LONE_SURROGATE), headers)
        assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    resp = _raw_post(client, "/cases", '{"type": "consult", "category": "wages", "summary": "x\\u0007y", '
                                      '"caller": {"phone": "13812345678"}}', headers)
    assert resp.status_code == 422 and "summary" in resp.get_json()["error"]["fields"]  # a BEL: unstorable too
    with app.app_context():
        assert fingerprint() == before


def test_a_forged_cursor_beyond_the_id_range_is_refused(app, world):
    """A cursor is base64 JSON the client sends back; {"id": 10**30} crashed the query (500) on both databases."""
    import base64
    import json

    client, headers = app.test_client(), {"Authorization": f"Bearer {world['fuzzer']}"}
    app.config["PROPAGATE_EXCEPTIONS"] = False
    for value in (10**30, 2**31, -1):
        cursor = base64.urlsafe_b64encode(json.dumps({"id": value}).encode()).decode().rstrip("=")
        resp = client.get("/api/v1/cases", query_string={"cursor": cursor}, headers=headers)
        assert resp.status_code == 422 and "cursor" in resp.get_json()["error"]["fields"], value


def test_the_language_parameter_is_checked_like_every_other(app, world):
    """The document lists lang as zh_Hans_CN or en; any other value was silently accepted."""
    client, headers = app.test_client(), {"Authorization": f"Bearer {world['fuzzer']}"}
    assert client.get("/api/v1/reference?lang=en", headers=headers).status_code == 200
    resp = client.get("/api/v1/reference?lang=fr", headers=headers)
    assert resp.status_code == 422 and list(resp.get_json()["error"]["fields"]) == ["lang"]
    assert resp.get_json()["error"]["message"] in ("Unknown language: fr", "未知的语言：fr")


def test_merging_settles_a_waiting_extension_request(app, world):
    """Found by the fuzzer: a case merged while its extension request waited stayed closed with the request
    pending (the "Extension requested" badge on a closed case, forever)."""
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.extension_due_at.is_not(None)))
        target = db.session.scalar(select(Case).where(Case.status == "registered").order_by(Case.id))
        cases.perform(get_user("operator"), case, "merge", case.version, {"into": target.case_no})
        db.session.commit()
        assert (case.status, case.extension_due_at, case.extension_reason) == ("closed", None, None)
        assert case_problems() == []
