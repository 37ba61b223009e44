"""/api/v1/openapi.json describes every API route, and describes what the endpoints really accept.

Requests built from the documented schemas succeed; requests the schemas refuse are refused by the
endpoints (422 with the field named, nothing saved); every answer matches its documented schema.
"""
from __future__ import annotations

import re
from copy import deepcopy

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select

from hotline.api import openapi
from hotline.auth.models import ROLES
from hotline.cases import service
from hotline.cases.models import CHANNELS, REPLY_METHODS, STATUSES, SURVEY_RESULTS, Case, CaseEvent
from hotline.extensions import db
from hotline.seed import TYPES
from conftest import PASSWORD

PREFIX = "/api/v1"
DOC_URI = "urn:hotline:openapi"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def doc(app):
    resp = app.test_client().get(PREFIX + "/openapi.json")
    assert resp.status_code == 200 and resp.content_type.startswith("application/json")
    return resp.get_json()


def validator(doc, pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` in the document, with its $refs resolved."""
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{DOC_URI}#{pointer}"}, registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_of(doc, name: str) -> dict:
    return doc["components"]["schemas"][name]


def walk(node, found=None):
    """Every dict inside the document."""
    found = [] if found is None else found
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            walk(value, found)
    elif isinstance(node, list):
        for value in node:
            walk(value, found)
    return found


def resolve(doc, ref: str):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


# ---------------------------------------------------------------- the document itself

def test_document_looks_like_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1.")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"] == [{"url": PREFIX}]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearerAuth"][
            "description"]}
    assert doc["security"] == [{"bearerAuth": []}]
    operation_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith("/") and not path.startswith(PREFIX)
        template_params = set(re.findall(r"{([^}]+)}", path))
        for method, op in item.items():
            assert method in HTTP_METHODS
            operation_ids.append(op["operationId"])
            assert op["summary"] and op["responses"]
            params = [resolve(doc, p["$ref"]) if "$ref" in p else p for p in op.get("parameters", [])]
            assert {p["name"] for p in params if p["in"] == "path"} == template_params, path
            for p in params:
                assert p["in"] in ("path", "query") and "schema" in p
                assert p["required"] is True or p["in"] == "query"
            for status, response in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status)
                response = resolve(doc, response["$ref"]) if "$ref" in response else response
                assert response["description"]
                if int(status) >= 400:
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            if method == "post":
                assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            if op["operationId"] != "get_openapi":
                assert "401" in op["responses"], op["operationId"]
    assert len(operation_ids) == len(set(operation_ids))
    assert doc["paths"]["/openapi.json"]["get"]["security"] == []


def test_every_ref_resolves_and_every_schema_is_valid_json_schema(doc):
    for node in walk(doc):
        if "$ref" in node:
            assert resolve(doc, node["$ref"]) is not None
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    for node in walk(doc["paths"]):
        if "schema" in node and isinstance(node["schema"], dict):
            Draft202012Validator.check_schema(node["schema"])


def _route_paths(app) -> set[tuple[str, str]]:
    """(documented-style path, method) for every API route; <action> stands for each lifecycle action."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        assert rule.endpoint.startswith("api."), rule.endpoint
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len(PREFIX):])
        expanded = [path.replace("{action}", a) for a in service.MOVES] if "{action}" in path else [path]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.update((p, method.lower()) for p in expanded)
    return found


def test_every_api_route_is_documented_and_nothing_else(app, doc):
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    routes = _route_paths(app)
    assert routes, "no API routes found"
    assert routes - documented == set(), "routes missing from openapi.json"
    assert documented - routes == set(), "documented paths without a route"


def test_every_documented_path_reaches_its_view(app, doc):
    adapter = app.url_map.bind("localhost")
    for path, item in doc["paths"].items():
        concrete = path.replace("{case_no}", "20261130-0001").replace("{article_id}", "1")
        for method in item:
            endpoint, args = adapter.match(PREFIX + concrete, method=method.upper())
            assert endpoint.startswith("api."), (path, endpoint)
            if "action" in args:
                assert path.endswith("/" + args["action"])


def test_enums_come_from_the_model_constants(doc):
    schemas = doc["components"]["schemas"]
    types = [code for code, _name, _days in TYPES]
    create = schemas["CaseCreate"]["properties"]
    assert create["channel"]["enum"] == [*CHANNELS, None]
    assert create["type"]["enum"] == types
    assert create["category"]["type"] == "string" and "enum" not in create["category"]
    assert "enum" not in create["department"]
    assert schemas["Case"]["properties"]["status"]["enum"] == list(STATUSES)
    assert schemas["SurveyBody"]["properties"]["result"]["enum"] == list(SURVEY_RESULTS)
    assert schemas["ReplyBody"]["properties"]["method"]["enum"] == [*REPLY_METHODS, None]
    actions = [p.rsplit("/", 1)[1] for p in doc["paths"] if p.startswith("/cases/{case_no}/")]
    assert sorted(actions) == sorted(service.MOVES)
    assert create["summary"]["maxLength"] == service.SUMMARY_MAX
    assert create["detail"]["maxLength"] == service.DETAIL_MAX
    for role in ROLES:
        assert role in doc["info"]["description"]


def test_list_items_are_cases_without_events(doc):
    schemas = doc["components"]["schemas"]
    assert set(schemas["Case"]["properties"]) - set(schemas["CaseItem"]["properties"]) == {"events"}


# ---------------------------------------------------------------- requests built from the schemas

FILLER = "测"


def sample(schema: dict, *, full: bool, overrides: dict | None = None, path: str = ""):
    """A value valid under `schema`: required fields only, or every field with texts at their longest."""
    overrides = overrides or {}
    if path in overrides:
        return overrides[path]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    kind = next(k for k in kinds if k != "null")
    if kind == "object":
        props = schema.get("properties", {})
        keys = list(props) if full else schema.get("required", [])
        if not full and schema.get("anyOf"):  # at least one of several fields: the first
            keys = [*keys, *schema["anyOf"][0]["required"]]
        return {k: sample(props[k], full=full, overrides=overrides, path=f"{path}.{k}" if path else k) for k in keys}
    if kind == "string":
        if "examples" in schema:
            return schema["examples"][0]
        if schema.get("format") == "date-time":
            return "2026-12-09T17:30:00+08:00"
        return FILLER * (schema["maxLength"] if full and "maxLength" in schema else 2)
    if kind == "boolean":
        return False
    if kind == "integer":
        return schema.get("minimum", 1)
    raise AssertionError(f"no sample for {schema}")


def wrong_type_value(schema: dict):
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    for value, kind in ((12345, "integer"), ("text", "string"), (True, "boolean"), ({"a": 1}, "object"),
                        ([1], "array")):
        if kind not in kinds and not (kind == "integer" and "number" in kinds):
            return value
    raise AssertionError(schema)


@pytest.fixture
def saved(app):
    def count():
        with app.app_context():
            return (db.session.scalar(select(func.count()).select_from(Case)),
                    db.session.scalar(select(func.count()).select_from(CaseEvent)),
                    tuple(db.session.scalars(select(Case.version).order_by(Case.id))))

    return count


class DocClient:
    """Sends API requests, checking each body against the documented request schema and each
    answer against the documented response of its status code."""

    def __init__(self, doc, api, username):
        self.doc, self.client = doc, api(username)

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        bare = path.split("?")[0]
        for template, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"{[^}]+}", "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
            if re.match(pattern, bare) and method in item:
                return template, item[method]
        raise AssertionError(f"{method} {path} is not documented")

    def check_response(self, op: dict, resp) -> dict:
        status = str(resp.status_code)
        assert status in op["responses"], f"{op['operationId']} answered an undocumented {status}"
        response = op["responses"][status]
        if "$ref" in response:
            response = resolve(self.doc, response["$ref"])
        body = resp.get_json()
        schema = response["content"]["application/json"]["schema"]
        pointer = schema["$ref"][1:] if "$ref" in schema else None
        if pointer:
            errors = list(validator(self.doc, pointer).iter_errors(body))
            assert not errors, f"{op['operationId']} {status}: {errors[0].message} at {list(errors[0].absolute_path)}"
        return body

    def post(self, path: str, body: dict, *, valid: bool = True):
        template, op = self.operation("post", path)
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        is_valid = validator(self.doc, ref[1:]).is_valid(body)
        assert is_valid == valid, f"the test meant a {'valid' if valid else 'invalid'} body for {template}: {body}"
        resp = self.client.post(path, json=body)
        return resp, self.check_response(op, resp)

    def get(self, path: str, **query):
        _template, op = self.operation("get", path)
        resp = self.client.get(path, query_string=query)
        return resp, self.check_response(op, resp)


def test_minimal_and_full_requests_from_the_schema_register_cases(doc, api, saved):
    create = schema_of(doc, "CaseCreate")
    client = DocClient(doc, api, "operator")
    bodies = []
    for channel in CHANNELS:
        body = {**sample(create, full=False), "channel": channel}
        if channel in service.PHONE_CHANNELS:
            body["caller"] = {"phone": create["properties"]["caller"]["properties"]["phone"]["examples"][0]}
        bodies.append(body)
    for type_code in create["properties"]["type"]["enum"]:
        bodies.append({**bodies[0], "type": type_code})
    full = sample(create, full=True, overrides={"handler": "handler"})
    assert len(full["summary"]) == service.SUMMARY_MAX and len(full["detail"]) == service.DETAIL_MAX
    bodies.append(full)
    bodies.append({**full, "department": None, "handler": None, "resolved_on_call": True, "urgent": True})
    bodies.append({**full, "confidential": True, "broadcast_ok": False, "department": "", "handler": None})
    bodies.append(create["examples"][0])
    for phone in create["properties"]["caller"]["properties"]["phone"]["examples"]:
        bodies.append({**bodies[0], "caller": {"phone": phone, "name": None, "employer": None, "district": None}})
    for number, body in enumerate(bodies, start=1):
        resp, case = client.post("/cases", body)
        assert resp.status_code == 201, (body, case)
        assert case["case_no"] == f"20261130-{number:04d}"
    assert saved()[0] == len(bodies)


def test_requests_the_schema_refuses_are_refused(doc, api, saved):
    """For every field: a wrong JSON type, an unknown name, a text too long, a value outside its enum."""
    create = schema_of(doc, "CaseCreate")
    full = sample(create, full=True, overrides={"handler": "handler"})
    client = DocClient(doc, api, "operator")
    cases: list[tuple[dict, str]] = []
    fields = [(k, s) for k, s in create["properties"].items()]
    fields += [(f"caller.{k}", s) for k, s in create["properties"]["caller"]["properties"].items()]

    def put(body, dotted, value):
        body = deepcopy(body)
        if "." in dotted:
            outer, inner = dotted.split(".")
            body[outer][inner] = value
        else:
            body[dotted] = value
        return body

    for dotted, schema in fields:
        cases.append((put(full, dotted, wrong_type_value(schema)), dotted))
        if "maxLength" in schema:
            too_long = ("1" if dotted == "caller.phone" else FILLER) * (schema["maxLength"] + 1)
            cases.append((put(full, dotted, too_long), dotted))
        if "enum" in schema:
            cases.append((put(full, dotted, "zzz"), dotted))
    cases.append(({**full, "source": "web"}, "source"))
    cases.append((put(full, "caller.gender", "女"), "caller.gender"))
    cases.append(({k: v for k, v in full.items() if k != "summary"}, "summary"))
    cases.append(({**full, "summary": " "}, "summary"))
    cases.append(({**full, "resolved_on_call": True, "department": None, "handler": None, "answer": None}, "answer"))
    cases.append(({**full, "resolved_on_call": True, "answer": "答复"}, "department"))
    cases.append(({**full, "confidential": True, "broadcast_ok": True}, "broadcast_ok"))
    cases.append(({**full, "department": None}, "department"))  # handler without department
    cases.append(({**full, "channel": "hotline", "caller": {"name": "王"}}, "caller.phone"))
    before = saved()
    for body, field in cases:
        resp, error = client.post("/cases", body, valid=False)
        assert resp.status_code == 422, (field, body)
        assert field in error["error"]["fields"], (field, error)
    assert saved() == before


def _case_in(api, state: str) -> dict:
    """A case in `state`, dispatched to legal_aid/handler where that matters."""
    client = api("operator")
    body = {"type": "consult", "category": "wages", "summary": "询问欠薪", "caller": {"phone": "13812345678"}}
    if state not in ("registered", "handed_down", "sent_up"):
        body.update(department="legal_aid", handler="handler")
    case = client.post("/cases", json=body).get_json()
    steps = {"assigned": [], "accepted": [("handler", "accept", {})],
             "replied": [("handler", "accept", {}), ("handler", "reply", {"content": "已答复"})],
             "closed": [("handler", "accept", {}), ("handler", "reply", {"content": "已答复"}),
                        ("operator", "close", {})],
             "extension": [("handler", "extend", {"reply_due_at": "2026-12-09T17:30:00+08:00", "reason": "延期"})],
             "returned": [("handler", "return", {"reason": "不属本部门"})],
             "review": [("handler", "accept", {}), ("handler", "reply", {"content": "已答复"}),
                        ("operator", "close", {}), ("operator", "survey", {"result": "dissatisfied"})],
             "registered": [],
             # 下派 to 吴江 (a child of the root), and 吴江 asking to send it back up
             "handed_down": [("operator", "transfer", {"org": "wujiang"})],
             "sent_up": [("operator", "transfer", {"org": "wujiang"}), ("wj_operator", "send_up", {"reason": "非本级"})],
             }[state]
    for username, action, params in steps:
        resp = api(username).post(f"/cases/{case['case_no']}/{action}", json={"version": case["version"], **params})
        assert resp.status_code == 200, resp.get_json()
        case = resp.get_json()
    return case


# action -> (state the case must be in, who does it, fields the schema cannot invent)
ACTION_SETUP = {
    "assign": ("registered", "operator", {"department": "legal_aid", "handler": "handler"}),
    "reassign": ("assigned", "supervisor", {"department": "legal_aid", "handler": "handler_b"}),
    "accept": ("assigned", "handler", {}),
    "return": ("accepted", "handler", {}),
    "reply": ("accepted", "handler", {}),
    "extend": ("accepted", "handler", {}),
    "approve_extension": ("extension", "supervisor", {}),
    "reject_extension": ("extension", "supervisor", {}),
    "escalate": ("assigned", "supervisor", {}),
    "merge": ("accepted", "operator", {"into": "20261130-0001"}),
    "close": ("replied", "operator", {}),
    "reopen": ("closed", "supervisor", {}),
    "survey": ("closed", "operator", {}),
    "note": ("accepted", "handler", {}),
    "accept_return": ("returned", "operator", {}),
    "refuse_return": ("returned", "supervisor", {}),
    "review": ("review", "supervisor", {"decision": "reopen"}),
    "edit": ("registered", "operator", {"caller.phone": "13812345678", "confidential": False,
                                        "broadcast_ok": False}),
    "transfer": ("registered", "operator", {"org": "wujiang"}),
    "send_up": ("handed_down", "wj_operator", {}),
    "accept_up": ("sent_up", "operator", {}),
    "refuse_up": ("sent_up", "supervisor", {}),
}


@pytest.fixture
def wujiang(app, users):
    """A child organisation of the root with an operator, for the organisation moves."""
    from hotline.auth.service import create_user
    from hotline.orgs import service as orgs

    with app.app_context():
        orgs.create(None, "wujiang", "吴江区总工会")
        create_user("wj_operator", "吴江接线员", ["operator"], PASSWORD, org_code="wujiang")
        db.session.commit()


def test_every_action_is_set_up_here():
    assert set(ACTION_SETUP) == set(service.MOVES)


@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
@pytest.mark.parametrize("action", list(service.MOVES))
def test_action_requests_from_the_schema_succeed(doc, api, wujiang, action, full):
    state, username, overrides = ACTION_SETUP[action]
    _case_in(api, "registered")  # 20261130-0001: a merge target
    case = _case_in(api, state)
    body_schema = schema_of(doc, openapi._schema_name(action))
    body = sample(body_schema, full=full, overrides={**overrides, "version": case["version"]})
    resp, result = DocClient(doc, api, username).post(f"/cases/{case['case_no']}/{action}", body)
    assert resp.status_code == 200, result
    assert result["events"][-1]["actor"] == username


@pytest.mark.parametrize("action", list(service.MOVES))
def test_action_bodies_outside_the_schema_are_refused(doc, api, wujiang, saved, action):
    state, username, overrides = ACTION_SETUP[action]
    _case_in(api, "registered")
    case = _case_in(api, state)
    body_schema = schema_of(doc, openapi._schema_name(action))
    good = sample(body_schema, full=True, overrides={**overrides, "version": case["version"]})
    client = DocClient(doc, api, username)
    before = saved()
    bad = [({**good, "comment": "x"}, "comment")]
    bad += [({**good, name: wrong_type_value(schema)}, name) for name, schema in body_schema["properties"].items()]
    bad += [({k: v for k, v in good.items() if k != name}, name) for name in body_schema["required"]]
    for body, field in bad:
        resp, error = client.post(f"/cases/{case['case_no']}/{action}", body, valid=False)
        assert resp.status_code == 422, (action, field, error)
        assert field in error["error"]["fields"], (action, field, error)
    assert saved() == before


# ---------------------------------------------------------------- answers match the documented responses

def test_every_answer_matches_its_documented_schema(doc, api, app):
    op = DocClient(doc, api, "operator")
    sup = DocClient(doc, api, "supervisor")
    handler = DocClient(doc, api, "handler")
    resp, _ = op.get("/reference")
    assert resp.status_code == 200
    resp, case = op.post("/cases", {"type": "consult", "category": "wages", "summary": "欠薪",
                                    "caller": {"phone": "13812345678", "name": "王建国"}, "confidential": True,
                                    "detail": "保密"})
    assert resp.status_code == 201
    DocClient(doc, api, "producer").get(f"/cases/{case['case_no']}")  # masked caller fits the schema too
    resp, page = sup.get("/cases", status="open", limit="1", overdue="0", type="consult", category="wages",
                         channel="hotline", phone="13812345678", q="欠薪", **{"from": "2026-11-30"},
                         to="2026-11-30")
    assert [c["case_no"] for c in page["items"]] == [case["case_no"]]
    op.post("/cases", {"type": "help", "category": "hardship", "summary": "帮扶", "channel": "letter"})
    resp, page = sup.get("/cases", limit="1")
    assert page["next_cursor"]
    resp, due = op.get("/workdays/due", start="2026-12-31T09:00:00+08:00", type="help", category="hardship",
                       urgent="0")
    assert due == {"due_at": "2027-01-07T17:30:00+08:00", "uncertain": True}
    # error answers, each with a documented status
    assert op.post("/cases", {"summary": ""}, valid=False)[0].status_code == 422
    assert sup.post("/cases", {"type": "consult", "category": "wages", "summary": "x",
                               "caller": {"phone": "13812345678"}})[0].status_code == 403
    assert sup.get("/cases/20261130-0999")[0].status_code == 404
    assert sup.post(f"/cases/{case['case_no']}/close", {"version": case["version"]})[0].status_code == 409
    assert sup.post(f"/cases/{case['case_no']}/escalate", {"version": 999})[0].status_code == 409
    assert handler.post(f"/cases/{case['case_no']}/accept", {"version": case["version"]})[0].status_code == 404
    assert sup.get("/cases", bogus="1")[0].status_code == 422
    assert op.get("/workdays/due", start="soon", type="consult")[0].status_code == 422
    resp = app.test_client().get(PREFIX + "/cases")
    DocClient(doc, api, "operator").check_response(doc["paths"]["/cases"]["get"], resp)
    assert resp.status_code == 401
    raw = api("operator")
    resp = raw.client.post(PREFIX + "/cases", data="{", content_type="application/json", headers=raw.headers)
    DocClient(doc, api, "operator").check_response(doc["paths"]["/cases"]["post"], resp)
    assert resp.status_code == 400


@pytest.mark.parametrize("operation_id", sorted(openapi.QUERY_PARAMS))
def test_undocumented_query_parameters_are_refused(doc, api, saved, operation_id):
    [(template, method)] = [(t, m) for t, item in doc["paths"].items() for m, op in item.items()
                            if op["operationId"] == operation_id]
    case = _case_in(api, "registered")
    path = PREFIX + template.replace("{case_no}", case["case_no"]).replace("{article_id}", "1") + "?utm_source=x"
    client = api("operator" if operation_id in ("create_case", "exchange_import") else "supervisor")
    before = saved()
    resp = client.client.open(path, method=method.upper(), headers=client.headers,
                              json={"version": case["version"]} if method == "post" else None)
    assert resp.status_code == 422, resp.get_json()
    assert "utm_source" in resp.get_json()["error"]["fields"]
    assert saved() == before
    documented = [p["name"] for p in doc["paths"][template][method]["parameters"]
                  if "name" in p and p["in"] == "query"]  # path parameters (case_no, day) are not query ones
    assert openapi.query_names(operation_id) == set(documented) | {"lang"}
