"""The OpenAPI 3.1 document of /api/v1, written by hand as a Python dict.

The request schemas here are also what the API door checks every body and query string
against (unknown fields, JSON types: see hotline/api/checks.py), so the document and the
endpoints cannot drift apart. Values (codes, lengths, states, roles, dates) are then checked
by the services, with their own messages; the schemas describe those rules as well, so a
request valid under this document is one the services accept.
"""
from __future__ import annotations

from copy import deepcopy
from typing import Any

from hotline.auth.models import ROLES
from hotline.cases import actions as action_specs, service
from hotline.cases.models import CHANNELS, REPLY_METHODS, STATUSES, SURVEY_RESULTS
from hotline.cases.queries import MAX_LIMIT
from hotline.limits import ANSWER_MAX, DETAIL_MAX, QUESTION_MAX, SUMMARY_MAX, TEXT_MAX, YEAR_MAX, YEAR_MIN
from hotline.seed import TYPES
from hotline.telephony.models import CALL_STATUSES

TYPE_CODES = [code for code, _name, _days in TYPES]
PHONE_CHANNELS = list(service.PHONE_CHANNELS)
OTHER_CHANNELS = [c for c in CHANNELS if c not in service.PHONE_CHANNELS]
# Digits, spaces, dashes, brackets and a leading +; normalised to E.164 (default country 86).
PHONE_PATTERN = action_specs.PHONE_PATTERN
NOT_BLANK = action_specs.NOT_BLANK
CASE_NO_PATTERN = action_specs.CASE_NO_PATTERN
FLAG_VALUES = ["1", "0", "true", "false"]
LANGUAGES = ["zh_Hans_CN", "en"]
DUE_FIRST_YEAR, DUE_LAST_YEAR = YEAR_MIN, YEAR_MAX  # the years the holiday calendar can cover

# The longest texts the services accept (one definition, with the action specs).
NAME_MAX = action_specs.NAME_MAX
EMPLOYER_MAX = action_specs.EMPLOYER_MAX
DISTRICT_MAX = action_specs.DISTRICT_MAX


_text = action_specs.text_schema  # one way to describe a text field


def _flag(description: str) -> dict:
    return {"type": ["boolean", "null"], "default": False, "description": description}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


DATE_TIME = {"type": "string", "format": "date-time"}
DATE_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}

# ---------------------------------------------------------------- request bodies

CALLER_IN = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "description": "The caller. `phone` is required for the channels hotline, radio and voicemail.",
    "properties": {
        "phone": {"type": ["string", "null"], "maxLength": 40, "pattern": PHONE_PATTERN,
                  "description": "Mobile or landline with area code; spaces, dashes, brackets and +86 are "
                                 "accepted and the number is stored in E.164 (default country 86).",
                  "examples": ["138 1234 5678", "+86-138-1234-5678", "0512-65230000"]},
        "name": _text(NAME_MAX),
        "employer": _text(EMPLOYER_MAX),
        "district": _text(DISTRICT_MAX),
    },
}

CASE_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "category", "summary"],
    "properties": {
        "channel": {"type": ["string", "null"], "enum": [*CHANNELS, None], "default": "hotline"},
        "type": {"type": "string", "enum": TYPE_CODES},
        "category": {"type": "string", "minLength": 1, "description": "A category code from GET /reference.",
                     "examples": ["wages"]},
        "caller": CALLER_IN,
        "summary": _text(SUMMARY_MAX, required=True),
        "detail": _text(DETAIL_MAX),
        "urgent": _flag("Reply due by the end of this working day (or the next one after hours)."),
        "confidential": _flag("保密: caller and detail hidden from those who do not work the case."),
        "broadcast_ok": _flag("The caller agreed that the question may be aired, anonymised. "
                              "Not together with confidential."),
        "resolved_on_call": _flag("即时办结: closed on the call; `answer` is then required and the case "
                                  "is not dispatched."),
        "answer": _text(TEXT_MAX, description="The answer given on the call (with resolved_on_call)."),
        "sms_consent": _flag("The caller agreed to SMS about the case (receipt with the case number, reply notice, "
                             "回访 survey), as the form's checkbox. Only mobile numbers get SMS."),
        "department": {"type": ["string", "null"],
                       "description": "Dispatch at once to this department (code from GET /reference); "
                                      "dispatching is for operators (a producer gets 403).",
                       "examples": ["legal_aid"]},
        "handler": {"type": ["string", "null"],
                    "description": "User name of a handler of `department` (only together with department)."},
    },
    "allOf": [
        {   # the phone is required on the telephone channels (hotline is the default channel)
            "if": {"required": ["channel"], "properties": {"channel": {"enum": OTHER_CHANNELS}}},
            "else": {"required": ["caller"],
                     "properties": {"caller": {"type": "object", "required": ["phone"],
                                               "properties": {"phone": {"type": "string"}}}}},
        },
        {   # closed on the call: an answer, no dispatch
            "if": {"required": ["resolved_on_call"], "properties": {"resolved_on_call": {"const": True}}},
            "then": {"required": ["answer"],
                     "properties": {"answer": {"type": "string", "minLength": 1, "pattern": NOT_BLANK},
                                    "department": {"enum": [None, ""]}}},
        },
        {   # a handler only with a department
            "if": {"required": ["handler"], "properties": {"handler": {"type": "string", "minLength": 1}}},
            "then": {"required": ["department"], "properties": {"department": {"type": "string", "minLength": 1}}},
        },
        {   # confidential cases are never cleared for broadcast
            "not": {"required": ["confidential", "broadcast_ok"],
                    "properties": {"confidential": {"const": True}, "broadcast_ok": {"const": True}}},
        },
    ],
    "examples": [{
        "channel": "hotline", "type": "consult", "category": "wages",
        "caller": {"phone": "138 1234 5678", "name": "王建国"},
        "summary": "公司拖欠工资三个月，询问如何维权", "urgent": False,
    }],
}

VERSION = {"type": "integer", "minimum": 1,
           "description": "The `version` of the case as last read; a stale one gets 409 stale_version."}


def _action_body(spec: action_specs.ActionSpec) -> dict:
    body = {
        "type": "object",
        "additionalProperties": False,
        "required": ["version", *spec.required],
        "properties": {"version": VERSION, **{p.name: p.schema for p in spec.params}},
        "description": spec.description,
    }
    if spec.any_of:
        body["anyOf"] = [{"required": [name]} for name in spec.any_of]
    return body


# One body per lifecycle action, from the action specs (hotline/cases/actions.py).
ACTION_BODIES: dict[str, dict] = {name: _action_body(spec) for name, spec in action_specs.SPECS.items()}
assert set(ACTION_BODIES) == set(service.MOVES), "every lifecycle action needs a documented body"


def _schema_name(action: str) -> str:
    return "".join(part.title() for part in action.split("_")) + "Body"


# ---------------------------------------------------------------- query parameters

LANG_PARAM = {"name": "lang", "in": "query", "required": False,
              "description": "Language of the messages (default Simplified Chinese).",
              "schema": {"type": "string", "enum": LANGUAGES}}


def _q(name: str, schema: dict, description: str = "", required: bool = False) -> dict:
    param = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        param["description"] = description
    return param


LIST_PARAMS = [
    _q("status", {"type": "string", "enum": [*STATUSES, "open"]}, "`open`: registered, assigned or accepted."),
    _q("overdue", {"type": "string", "enum": FLAG_VALUES}),
    _q("type", {"type": "string", "enum": TYPE_CODES}),
    _q("category", {"type": "string"}, "Category code."),
    _q("department", {"type": "string"}, "Department code."),
    _q("org", {"type": "string"}, "Organisation code: the cases its subtree owns (within what the caller sees)."),
    _q("handler", {"type": "string"}, "Handler user name."),
    _q("channel", {"type": "string", "enum": list(CHANNELS)}),
    _q("phone", {"type": "string", "pattern": PHONE_PATTERN}, "Caller phone, any accepted spelling."),
    _q("q", {"type": "string", "maxLength": 100},
       "Words (separated by spaces, each must occur) in the summary, detail, answer or employer, and for "
       "operators, supervisors and handlers the caller's name; or a case number. Detail, employer and name count "
       "only on cases whose private parts you may see. With q the items are the newest 400 matches, best match "
       "first, and next_cursor pages through that ranking."),
    _q("from", {"type": "string", "format": "date"}, "First local registration date (YYYY-MM-DD)."),
    _q("to", {"type": "string", "format": "date"}, "Last local registration date (YYYY-MM-DD), inclusive."),
    _q("cursor", {"type": "string"}, "`next_cursor` of the previous page."),
    _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}),
    _q("sort", {"type": "string", "enum": ["new", "due"], "default": "new"},
       "`new`: newest first; `due`: the running deadline first (acceptance while dispatched, else the reply), "
       "cases with no running clock last."),
    # The reports' drill-down filters: each selects the cases one figure counts (GET /reports/kpis).
    _q("on_time", {"type": "string", "enum": FLAG_VALUES},
       "1: replied (or closed on the call, or merged) by the reply deadline; 0: after it."),
    _q("on_call", {"type": "string", "enum": FLAG_VALUES}, "1: closed on the call (即时办结)."),
    _q("reopened", {"type": "string", "enum": FLAG_VALUES}, "1: reopened at least once."),
    _q("survey", {"type": "string", "enum": [*SURVEY_RESULTS, "reached", "positive", "none", "attempted"]},
       "A survey result; `reached`: satisfied, basically satisfied or dissatisfied (contacted); `positive`: "
       "satisfied or basically satisfied; `none`: no result or unreachable; `attempted`: any result."),
    _q("resolved", {"type": "string", "enum": FLAG_VALUES}, "回访: 1 the caller said solved, 0 not solved."),
    _q("escalated", {"type": "string", "enum": FLAG_VALUES}, "1: escalated (督办)."),
    _q("urgent", {"type": "string", "enum": FLAG_VALUES}, "1: urgent."),
    _q("review", {"type": "string", "enum": ["pending"]},
       "pending: dissatisfied or unresolved 回访 waiting for a supervisor's review."),
    _q("extension", {"type": "string", "enum": ["pending"]}, "pending: an extension request waits for a decision."),
    _q("return", {"type": "string", "enum": ["pending"]}, "pending: a 退回 waits for the centre's review."),
    _q("closed_from", {"type": "string", "format": "date"}, "First local closing date (YYYY-MM-DD)."),
    _q("closed_to", {"type": "string", "format": "date"}, "Last local closing date (YYYY-MM-DD), inclusive."),
]

KPI_GROUPINGS = ["category", "type", "department", "handler", "channel", "org"]
KPI_PARAMS = [
    _q("from", {"type": "string", "format": "date"},
       "First local registration date (YYYY-MM-DD); with `to`. Without both: this month up to today."),
    _q("to", {"type": "string", "format": "date"}, "Last local registration date (YYYY-MM-DD), inclusive."),
    _q("by", {"type": "string", "enum": KPI_GROUPINGS}, "Also give the figures per group; `org`: one row per "
       "organisation of the subtree, each counting its own cases and those of every organisation below it."),
    _q("org", {"type": "string", "minLength": 1}, "Organisation code (GET /reference): the figures of the cases "
       "its subtree owns. Default: the caller's organisation. Another organisation's figures: 403."),
]

DUE_PARAMS = [
    _q("start", {"type": "string", "format": "date-time"},
       f"Registration time, ISO 8601 (without an offset: local time), in the years {DUE_FIRST_YEAR}–"
       f"{DUE_LAST_YEAR}. A `+` of the offset sent unencoded (read as a space) is understood.", required=True),
    _q("type", {"type": "string", "enum": TYPE_CODES}, required=True),
    _q("category", {"type": "string"}, "Category code; its own reply limit, if any, wins over the type's."),
    _q("urgent", {"type": "string", "enum": FLAG_VALUES}),
]

CALL_PARAMS = [
    _q("date", {"type": "string", "format": "date"}, "Local day (YYYY-MM-DD) the calls came in; default today."),
]

# ---------------------------------------------------------------- intake help (知识库, suggestions)

KB_DATE = {"type": ["string", "null"], "format": "date", "description": f"YYYY-MM-DD, years {YEAR_MIN}–{YEAR_MAX}."}
ARTICLE_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "question", "answer"],
    "description": "A new article, saved as a draft (supervisor, editor). Publishing needs `legal_basis`.",
    "properties": {
        "title": _text(120, required=True),
        "question": _text(QUESTION_MAX, required=True, description="The question as callers ask it."),
        "answer": _text(ANSWER_MAX, required=True, description="The answer operators give (fills a case's answer)."),
        "category": {"type": ["string", "null"], "description": "Category code from GET /reference.",
                     "examples": ["wages"]},
        "legal_basis": _text(1000, description="Law and article, e.g. 《劳动法》第四十四条."),
        "valid_from": KB_DATE,
        "valid_to": {**KB_DATE, "description": "Last day the article holds; after it, it is listed for review "
                                               "and no longer suggested."},
    },
    "examples": [{"title": "加班费怎么计算", "question": "加班费按什么标准？", "answer": "工作日延长工作时间支付150%……",
                  "category": "wages", "legal_basis": "《中华人民共和国劳动法》第四十四条"}],
}
PUBLISH_BODY = {
    "type": "object",
    "additionalProperties": False,
    "description": "Publish a draft or reviewed article (supervisor, editor); refused without a legal basis.",
    "properties": {"version": {"type": ["integer", "null"], "minimum": 1,
                               "description": "The article's version as last read; a stale one gets 409."}},
}
SUGGEST_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary"],
    "description": "What the operator has typed so far. Nothing is saved.",
    "properties": {
        "summary": _text(SUMMARY_MAX, required=True),
        "detail": _text(DETAIL_MAX),
        "employer": _text(EMPLOYER_MAX, description="The caller's employer, any spelling (恒力纺织有限公司 = 恒力纺织)."),
        "phone": {"type": ["string", "null"], "maxLength": 40, "pattern": r"^\s*(\+?[0-9 ()-]*[0-9][0-9 ()-]*)?\s*$",
                  "description": "The caller's phone (tells callers apart for the group alert)."},
    },
    "examples": [{"summary": "恒力纺织拖欠工资三个月", "employer": "恒力纺织有限公司", "phone": "13812345678"}],
}
KB_LIST_PARAMS = [
    _q("q", {"type": "string", "maxLength": 100}, "Words to look for; symbols alone are refused (422)."),
    _q("status", {"type": "string", "enum": ["draft", "reviewed", "published", "expired"]},
       "Writers only (supervisor, editor); readers always get the published, valid articles."),
    _q("category", {"type": "string"}, "Category code."),
    _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}),
]

# The 12351 platform's cases as JSON (docs/exchange.md): each line is checked by the exchange service, which
# names every problem as lines[i].field, so the line objects' own fields are not listed here.
EXCHANGE_IMPORT_BODY = {
    "type": "object", "additionalProperties": False, "required": ["lines"],
    "description": "Cases handed down by the 12351 platform: all registered or none (docs/exchange.md).",
    "properties": {
        "lines": {"type": "array", "minItems": 1, "maxItems": 5000, "items": {"type": "object"},
                  "description": "One object per case with the import file's fields: external_id, received_at, "
                                 "caller_name, caller_phone, summary, detail, type, category, deadline, employer, "
                                 "region, channel."},
        "dry_run": {"type": "boolean", "description": "Check and report only; nothing is saved."},
    },
    "examples": [{"lines": [{"external_id": "JS-12351-20261130-000101", "received_at": "2026-11-30T08:41:00+08:00",
                             "caller_phone": "13812345678", "summary": "公司拖欠三个月工资", "type": "consult",
                             "category": "wages", "deadline": "2026-12-01T17:30:00+08:00"}], "dry_run": True}],
}
EXCHANGE_REPORT = {
    "type": "object", "additionalProperties": False,
    "required": ["dry_run", "rows", "new", "skipped", "imported", "ignored_fields"],
    "properties": {
        "dry_run": {"type": "boolean"},
        "rows": {"type": "integer", "minimum": 0},
        "new": {"type": "array", "items": {"type": "string"}, "description": "External ids not imported before."},
        "skipped": {"type": "array", "description": "Lines imported before with the same content.", "items": {
            "type": "object", "additionalProperties": False, "required": ["line", "external_id", "case_no"],
            "properties": {"line": {"type": "integer", "minimum": 0, "description": "Index in lines."},
                           "external_id": {"type": "string"},
                           "case_no": {"type": ["string", "null"],
                                       "description": "null: it repeats an earlier line of the same request."}}}},
        "imported": {"type": "array", "description": "The cases registered (empty on a dry run).", "items": {
            "type": "object", "additionalProperties": False, "required": ["external_id", "case_no"],
            "properties": {"external_id": {"type": "string"}, "case_no": {"type": "string"}}}},
        "ignored_fields": {"type": "array", "items": {"type": "string"}},
    },
}

# operationId -> the query parameters it accepts (besides lang); anything else is refused with 422.
QUERY_PARAMS: dict[str, list[dict]] = {
    "get_reference": [],
    "create_case": [],
    "list_cases": LIST_PARAMS,
    "report_kpis": KPI_PARAMS,
    "get_case": [],
    "workday_due": DUE_PARAMS,
    "get_openapi": [],
    "list_calls": CALL_PARAMS,
    "list_notices": [],
    "get_digest": [],
    "get_digest_text": [],
    "get_digest_docx": [],
    "get_digest_feed": [],
    **{f"case_{action}": [] for action in ACTION_BODIES},
    "list_knowledge": KB_LIST_PARAMS,
    "create_knowledge": [],
    "get_knowledge": [],
    "publish_knowledge": [],
    "suggest": [],
    "exchange_import": [],
}


INTAKE_BODIES = {"create_knowledge": ARTICLE_CREATE, "publish_knowledge": PUBLISH_BODY, "suggest": SUGGEST_BODY}


def query_names(operation_id: str) -> set[str]:
    return {p["name"] for p in QUERY_PARAMS[operation_id]} | {"lang"}


def query_needs_value(operation_id: str) -> set[str]:
    """Parameters whose documented values (a date, a number, one of a list) cannot be empty."""
    out = set()
    for param in QUERY_PARAMS[operation_id]:
        schema = param["schema"]
        if "format" in schema or schema.get("type") == "integer" or "" not in schema.get("enum", [""]):
            out.add(param["name"])
    return out


def body_schema(operation_id: str) -> dict:
    """The request body schema of an operation, self-contained (no $ref), as the door checks it."""
    if operation_id == "create_case":
        return CASE_CREATE
    if operation_id in INTAKE_BODIES:
        return INTAKE_BODIES[operation_id]
    if operation_id == "exchange_import":
        return EXCHANGE_IMPORT_BODY
    return ACTION_BODIES[operation_id.removeprefix("case_")]


# ---------------------------------------------------------------- responses

CODE_NAME = {
    "type": "object", "additionalProperties": False, "required": ["code", "name"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
}

ERROR = {
    "type": "object",
    "additionalProperties": False,
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "examples": [
                "bad_json", "unauthorized", "forbidden", "not_found", "illegal_move", "stale_version", "invalid"]},
            "message": {"type": "string", "description": "For people, in the request's language."},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Field (dotted path, e.g. caller.phone) -> what is wrong with it."},
        },
    }},
}

CALLER_OUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["phone", "name"],
    "description": "On a confidential case, for those who do not work it: phone and name masked "
                   "(138****5678, 王*), employer and district left out.",
    "properties": {
        "phone": {"type": ["string", "null"], "description": "E.164, e.g. +8613812345678, or masked."},
        "name": {"type": ["string", "null"]},
        "employer": {"type": ["string", "null"]},
        "district": {"type": ["string", "null"]},
    },
}

EVENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "at", "actor", "data"],
    "properties": {
        "kind": {"type": "string", "examples": ["register", "assign", "accept", "reply", "close", "note"]},
        "at": DATE_TIME,
        "actor": {"type": ["string", "null"], "description": "User name; null for the system."},
        "data": {"type": "object", "description": "What changed: before/after, reason, content …"},
    },
}

_CASE_PROPS = {
    "case_no": {"type": "string", "pattern": CASE_NO_PATTERN, "examples": ["20261130-0001"]},
    "status": {"type": "string", "enum": list(STATUSES)},
    "channel": {"type": "string", "enum": list(CHANNELS)},
    "type": {"type": "string", "enum": TYPE_CODES},
    "category": {"type": "string"},
    "caller": _ref("Caller"),
    "summary": {"type": "string"},
    "detail": {"type": ["string", "null"], "description": "null where the role may not see it."},
    "answer": {"type": ["string", "null"]},
    "reply_method": {"type": ["string", "null"], "enum": [*REPLY_METHODS, None]},
    "urgent": {"type": "boolean"},
    "confidential": {"type": "boolean"},
    "broadcast_ok": {"type": "boolean"},
    "resolved_on_call": {"type": "boolean"},
    "department": {"type": ["string", "null"]},
    "org": {"type": "string", "description": "The organisation that owns the case now (GET /reference)."},
    "registered_org": {"type": "string", "description": "The organisation that registered it (closes it "
                                                         "and does the 回访 unless it delegates both)."},
    "sent_up": {**DATE_TIME_OR_NULL, "description": "上报: asked the parent organisation to take it back at this "
                                                    "time, waiting for its review."},
    "handler": {"type": ["string", "null"]},
    "accept_due_at": DATE_TIME_OR_NULL,
    "reply_due_at": DATE_TIME,
    "due_uncertain": {"type": "boolean",
                      "description": "A deadline was counted through a year the calendar does not cover yet."},
    "overdue": {"type": "boolean"},
    "escalated": {"type": "boolean"},
    "extension_requested": {**DATE_TIME_OR_NULL, "description": "The deadline asked for, while waiting."},
    "merged_into": {"type": ["string", "null"]},
    "survey_result": {"type": ["string", "null"], "enum": [*SURVEY_RESULTS, None]},
    "survey_resolved": {"type": ["boolean", "null"],
                        "description": "回访: the caller said the problem was solved (true) or not (false)."},
    "review_pending": {"type": "boolean",
                       "description": "Dissatisfied or unresolved 回访 waiting for a supervisor's review."},
    "return_requested": {**DATE_TIME_OR_NULL,
                         "description": "退回 asked for at this time, waiting for the centre's review."},
    "return_reason": {"type": ["string", "null"]},
    "created_at": DATE_TIME,
    "replied_at": DATE_TIME_OR_NULL,
    "closed_at": DATE_TIME_OR_NULL,
    "external_id": {"type": ["string", "null"],
                    "description": "The 12351 platform's id of a case it handed down (docs/exchange.md); else null."},
    "version": {"type": "integer", "minimum": 1},
}

CASE_ITEM = {
    "type": "object",
    "additionalProperties": False,
    "required": list(_CASE_PROPS),
    "properties": _CASE_PROPS,
}

CASE = {
    "type": "object",
    "additionalProperties": False,
    "required": [*_CASE_PROPS, "events"],
    "properties": {**_CASE_PROPS, "events": {"type": "array", "items": _ref("Event")}},
}

CASE_LIST = {
    "type": "object", "additionalProperties": False, "required": ["items", "next_cursor"],
    "properties": {"items": {"type": "array", "items": _ref("CaseItem")},
                   "next_cursor": {"type": ["string", "null"], "description": "null on the last page."}},
}

_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_COUNT = {"type": "integer", "minimum": 0}
_KPI_PROPS = {
    "registered": {**_COUNT, "description": "受理量: cases registered in the period (local dates)."},
    "closed": {**_COUNT, "description": "Of those, closed now."},
    "closure_rate": {**_RATE, "description": "办结率: closed / registered."},
    "on_time_rate": {**_RATE, "description": "按时办结率: closed cases replied (or closed on the call, or merged) "
                                            "by the reply deadline / closed."},
    "overdue_open": {**_COUNT, "description": "超期 now: open cases past their running deadline (acceptance while "
                     "dispatched, else the reply) now, whenever registered, not only in the period; per group "
                     "the same. The dashboard card, board and table show this same figure."},
    "first_contact_rate": {**_RATE, "description": "即时办结率: closed on the call / registered."},
    "survey_rate": {**_RATE, "description": "回访率: closed cases whose survey reached the caller / closed."},
    "satisfaction_rate": {**_RATE, "description": "满意率: (satisfied + basically satisfied) / surveyed."},
    "reopen_rate": {**_RATE, "description": "重办率: reopened at least once / closed."},
    "answer_rate": {**_RATE, "description": "接通率: answered / inbound calls (totals only; null without "
                                           "call figures)."},
    "response_rate": {**_RATE, "description": "响应率: 回访 contacted (surveyed) / 回访 attempted (closed cases with "
                                             "any survey result, unreachable included)."},
    "resolution_rate": {**_RATE, "description": "解决率: closed cases whose caller said the problem was solved / "
                                               "回访 contacted."},
    "on_time": _COUNT, "closed_on_call": _COUNT, "surveyed": _COUNT, "satisfied": _COUNT, "reopened": _COUNT,
    "attempted": _COUNT, "resolved": _COUNT,
    "avg_reply_hours": {"type": ["number", "null"], "minimum": 0,
                        "description": "平均答复时长: mean hours from registration to reply, over replied cases not "
                                       "closed on the call."},
}
_CALLS = {"type": ["object", "null"], "description": "Telephony's figures for the period; null until there are any.",
          "properties": {k: {"type": ["integer", "null"]} for k in ("inbound", "answered", "answered_within_15s",
                                                                     "abandoned", "callbacks_done")}}
KPIS = {
    "type": "object", "additionalProperties": False, "required": ["from", "to", "by", "totals", "groups"],
    "description": "Rates are 0..1, or null when their denominator is 0. The same numbers as the reports page "
                   "and the Excel export; each count is what the case list shows with the matching filters.",
    "properties": {
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "by": {"type": ["string", "null"], "enum": [*KPI_GROUPINGS, None]},
        "org": {"type": "string", "description": "The organisation whose subtree the figures cover."},
        "totals": {"type": "object", "additionalProperties": False, "required": [*_KPI_PROPS, "calls"],
                   "properties": {**_KPI_PROPS, "calls": _CALLS}},
        "groups": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["key", "label", *_KPI_PROPS],
            "properties": {"key": {"type": ["string", "null"],
                                   "description": "Code (category, type, department, channel, org) or user name "
                                                  "(handler); null for cases without a department or handler."},
                           "label": {"type": "string"}, **_KPI_PROPS}}},
    },
}

REFERENCE = {
    "type": "object", "additionalProperties": False,
    "required": ["channels", "types", "categories", "departments", "organisations"],
    "properties": {
        **{k: {"type": "array", "items": _ref("CodeName")} for k in ("channels", "types", "categories")},
        "departments": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["code", "name", "org"],
            "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                           "org": {"type": "string", "description": "The organisation it belongs to."}}}},
        "organisations": {"type": "array", "description": "The organisation tree, root first.", "items": {
            "type": "object", "additionalProperties": False, "required": ["code", "name", "parent"],
            "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                           "parent": {"type": ["string", "null"], "description": "null for the root."}}}},
    },
}

DUE = {
    "type": "object", "additionalProperties": False, "required": ["due_at", "uncertain"],
    "properties": {"due_at": DATE_TIME,
                   "uncertain": {"type": "boolean",
                                 "description": "Counted Monday–Friday through a year the calendar lacks."}},
}


CALL = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sid", "from", "status", "started_at", "answered_at", "ended_at", "wait_seconds", "talk_seconds",
                 "operator", "case_no"],
    "properties": {
        "sid": {"type": "string", "description": "Twilio's CallSid.", "examples": ["CA0123456789abcdef0123456789abcdef"]},
        "from": {"type": "string", "description": "The caller, E.164 (+8613812345678), `anonymous` when withheld; "
                                                  "masked (138****5678) for roles other than operator and supervisor."},
        "status": {"type": "string", "enum": list(CALL_STATUSES),
                   "description": "ringing: waiting for an operator; in_progress: talking; answered: an operator "
                                  "took it; abandoned: the caller hung up while waiting; voicemail: a message was "
                                  "left; missed: nobody answered and no message was left."},
        "started_at": DATE_TIME,
        "answered_at": DATE_TIME_OR_NULL,
        "ended_at": DATE_TIME_OR_NULL,
        "wait_seconds": {"type": ["integer", "null"], "minimum": 0,
                         "description": "Time in the queue until an operator answered (or the caller gave up)."},
        "talk_seconds": {"type": ["integer", "null"], "minimum": 0},
        "operator": {"type": ["string", "null"], "description": "User name of the operator who took the call."},
        "case_no": {"type": ["string", "null"], "description": "The case logged for the call (or its voicemail)."},
    },
}

NOTICE = {
    "type": "object", "additionalProperties": False, "required": ["kind", "case_no", "text", "created_at", "read"],
    "properties": {
        "kind": {"type": "string", "examples": ["dispatched", "escalated", "extension_request", "extension_decision",
                                                "review", "reopened", "return_request", "return_refused",
                                                "warning", "overdue", "reminder"]},
        "case_no": {"type": ["string", "null"], "description": "The case it is about (null for a daily reminder)."},
        "text": {"type": "string"},
        "created_at": DATE_TIME,
        "read": {"type": "boolean"},
    },
}
NOTICE_LIST = {"type": "object", "additionalProperties": False, "required": ["items"],
               "properties": {"items": {"type": "array", "items": _ref("Notice"),
                                        "description": "Newest first, at most 100."}}}

CALL_LIST = {
    "type": "object", "additionalProperties": False, "required": ["date", "items"],
    "properties": {"date": {"type": "string", "format": "date"}, "items": {"type": "array", "items": _ref("Call")}},
}

DIGEST_SECTIONS = ["intro", "union_news", "policy", "jobs", "qa", "figures", "outro"]

DIGEST_ITEM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["section", "heading", "title", "text", "source", "chars", "seconds", "starts_at"],
    "properties": {
        "section": {"type": "string", "enum": DIGEST_SECTIONS,
                    "description": "intro; 工会动态 union_news; 政策讯息 policy; 求职求学 jobs; 热线问答 qa; "
                                   "今日热线 figures; outro."},
        "heading": {"type": "string", "description": "The section title read before the section's first item "
                                                     "(empty for the others)."},
        "title": {"type": "string"},
        "text": {"type": "string", "description": "What the announcer reads. 热线问答 texts are anonymised "
                                                  "(138****5678, 王*, no employer unless cleared)."},
        "source": {"type": "string"},
        "chars": {"type": "integer", "minimum": 0, "description": "Characters read (white space not counted)."},
        "seconds": {"type": "integer", "minimum": 0,
                    "description": "Reading time of the heading and the text at the digest's rate."},
        "starts_at": {"type": "integer", "minimum": 0, "description": "Running time at which the item starts."},
    },
}

DIGEST_LEFT_OUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["section", "title", "chars", "seconds", "reason", "reason_text"],
    "properties": {
        "section": {"type": "string", "enum": DIGEST_SECTIONS},
        "title": {"type": "string"},
        "chars": {"type": "integer", "minimum": 0},
        "seconds": {"type": "integer", "minimum": 0},
        "reason": {"type": "string", "enum": ["over_slot", "dropped"],
                   "description": "over_slot: it did not fit the slot after the items of higher priority; "
                                  "dropped: a producer took it out."},
        "reason_text": {"type": "string", "description": "The reason in Chinese, for the station's screens."},
    },
}

DIGEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["date", "status", "version", "slot_seconds", "total_seconds", "items", "left_out"],
    "properties": {
        "date": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": ["draft", "approved", "aired"]},
        "version": {"type": "integer", "minimum": 1, "description": "Number of the current kept version."},
        "approved_version": {"type": ["integer", "null"], "description": "The version approved for air, if any."},
        "slot_seconds": {"type": "integer", "description": "Length of the programme's slot (15 minutes)."},
        "total_seconds": {"type": "integer",
                          "description": "Running time: the items' reading time plus the reserve for jingles."},
        "reserve_seconds": {"type": "integer"},
        "rate": {"type": "integer", "description": "Reading rate, characters per minute (default 250)."},
        "chars": {"type": "integer"},
        "built_at": DATE_TIME,
        "approved_at": DATE_TIME_OR_NULL,
        "aired_at": DATE_TIME_OR_NULL,
        "items": {"type": "array", "items": _ref("DigestItem"), "description": "In broadcast order."},
        "left_out": {"type": "array", "items": _ref("DigestLeftOut")},
    },
}

_ARTICLE_PROPS = {
    "id": {"type": "integer", "minimum": 1},
    "title": {"type": "string"},
    "question": {"type": "string"},
    "answer": {"type": "string"},
    "category": {"type": ["string", "null"]},
    "legal_basis": {"type": "string"},
    "valid_from": {"type": ["string", "null"], "format": "date"},
    "valid_to": {"type": ["string", "null"], "format": "date"},
    "status": {"type": "string", "enum": ["draft", "reviewed", "published"]},
    "expired": {"type": "boolean", "description": "Past valid_to: not suggested, listed for review."},
    "version": {"type": "integer", "minimum": 1, "description": "Every save keeps a version."},
    "use_count": {"type": "integer", "minimum": 0, "description": "Cases answered with it (使用此答复)."},
    "updated_at": DATE_TIME,
    "published_at": DATE_TIME_OR_NULL,
}
ARTICLE = {
    "type": "object", "additionalProperties": False, "required": [*_ARTICLE_PROPS, "source_case"],
    "properties": {**_ARTICLE_PROPS, "source_case": {"type": ["string", "null"],
                                                      "description": "The closed case it was proposed from."}},
}
ARTICLE_LIST = {
    "type": "object", "additionalProperties": False, "required": ["items"],
    "properties": {"items": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                                        "required": list(_ARTICLE_PROPS),
                                                        "properties": _ARTICLE_PROPS}}},
}
_CHOICE_PROPS = {"code": {"type": "string"}, "name": {"type": "string"},
                 "confidence": {"type": "number", "minimum": 0, "maximum": 1}}
_CHOICE_ITEM = {"type": "object", "additionalProperties": False, "required": list(_CHOICE_PROPS),
                "properties": _CHOICE_PROPS}
_SUGGESTED = {
    "type": ["object", "null"], "additionalProperties": False, "required": [*_CHOICE_PROPS, "alternatives"],
    "properties": {**_CHOICE_PROPS, "alternatives": {"type": "array", "items": _CHOICE_ITEM,
                                                     "description": "The next best, up to two."}},
}
SUGGESTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "category", "department", "source", "articles", "similar_cases", "group_alert", "notes"],
    "properties": {
        "type": _SUGGESTED, "category": _SUGGESTED, "department": _SUGGESTED,
        "source": {"type": "string", "enum": ["model", "keywords"],
                   "description": "model: learnt from closed cases; keywords: too little history yet."},
        "articles": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "title", "answer", "legal_basis", "category", "score", "use_count"],
            "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "answer": {"type": "string"},
                           "legal_basis": {"type": "string"}, "category": {"type": ["string", "null"]},
                           "score": {"type": "number"}, "use_count": {"type": "integer", "minimum": 0}}}},
        "similar_cases": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["case_no", "summary", "status", "category", "created_at", "reason"],
            "properties": {"case_no": {"type": "string"}, "summary": {"type": "string"},
                           "status": {"type": "string", "enum": list(STATUSES)}, "category": {"type": "string"},
                           "created_at": DATE_TIME,
                           "reason": {"type": "string", "enum": ["employer", "topic"]}}}},
        "group_alert": {
            "type": ["object", "null"], "additionalProperties": False,
            "description": "null, or the group dispute (群体性) this employer is in or this call would start.",
            "required": ["employer", "employer_key", "alert_id", "callers", "callers_with_this_call", "cases", "days",
                         "threshold", "message"],
            "properties": {"employer": {"type": "string"}, "employer_key": {"type": "string"},
                           "alert_id": {"type": ["integer", "null"]}, "callers": {"type": "integer"},
                           "callers_with_this_call": {"type": "integer"},
                           "cases": {"type": "array", "items": {"type": "string"}},
                           "days": {"type": "integer"}, "threshold": {"type": "integer"},
                           "message": {"type": "string"}}},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}
ARTICLE_ID_PARAM = {"name": "article_id", "in": "path", "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}
KB_ROLES_READ = " (operator, handler, producer, supervisor, editor)"

DIGEST_DATE_PARAM = {"name": "day", "in": "path", "required": True, "description": "Air date, YYYY-MM-DD.",
                     "schema": {"type": "string", "format": "date"}}
DIGEST_ROLES = " (producer, supervisor; the station's systems use a token of such an account)."


def _digest_operation(operation_id: str, summary: str, content_type: str, schema: dict, description: str,
                      with_day: bool = True) -> dict:
    params = _params(operation_id, DIGEST_DATE_PARAM) if with_day else _params(operation_id)
    return {"get": {
        "operationId": operation_id, "tags": ["digests"], "summary": summary + DIGEST_ROLES,
        "parameters": params,
        "responses": {"200": {"description": description, "content": {content_type: {"schema": schema}}},
                      **_errors("Unauthorized", "Forbidden", "NotFound", "Invalid",
                                *(("NotApproved",) if with_day else ()))},
    }}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


ERROR_RESPONSES = {
    "BadJson": _error("The body is not a JSON object (code bad_json)."),
    "Unauthorized": _error("No token, or a wrong, expired or revoked one (code unauthorized)."),
    "Forbidden": _error("Your role may not do this (code forbidden), or the token's scope does not allow it "
                        "(code token_scope: a `read` token only reads, a `digest` token only reads digests)."),
    "UnsupportedMediaType": _error("A write must send its body as `Content-Type: application/json` "
                                   "(code unsupported_media_type)."),
    "NotFound": _error("No such case, or not one you may see; or no such action (code not_found)."),
    "Conflict": _error("Stale version (stale_version) or a move not allowed from the case's status "
                       "(illegal_move)."),
    "Invalid": _error("A field is missing, unknown, of the wrong type or has a wrong value (code invalid); "
                      "`fields` says which."),
    "NotApproved": _error("The digest of that date is a draft, not approved yet (code not_approved): only "
                          "approved scripts are given out."),
}


def _errors(*names: str) -> dict:
    status = {"BadJson": "400", "Unauthorized": "401", "Forbidden": "403", "NotFound": "404",
              "Conflict": "409", "NotApproved": "409", "Invalid": "422", "UnsupportedMediaType": "415"}
    return {status[n]: {"$ref": f"#/components/responses/{n}"} for n in names}


def _params(operation_id: str, *path_params: dict) -> list[dict]:
    return [*path_params, *QUERY_PARAMS[operation_id], {"$ref": "#/components/parameters/lang"}]


CASE_NO_PARAM = {"name": "case_no", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": CASE_NO_PATTERN}, "examples": {
                     "first": {"value": "20261130-0001"}}}


def _action_operation(action: str) -> dict:
    body = ACTION_BODIES[action]
    return {"post": {
        "operationId": f"case_{action}",
        "tags": ["lifecycle"],
        "summary": body["description"],
        "parameters": _params(f"case_{action}", CASE_NO_PARAM),
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": _ref(_schema_name(action))}}},
        "responses": {"200": _json(_ref("Case"), "The case after the move."),
                      **_errors("BadJson", "Unauthorized", "Forbidden", "NotFound", "Conflict", "Invalid",
                                "UnsupportedMediaType")},
    }}


def _build() -> dict:
    schemas = {
        "Kpis": KPIS,
        "Error": ERROR, "CodeName": CODE_NAME, "Reference": REFERENCE, "Caller": CALLER_OUT, "Event": EVENT,
        "Case": CASE, "CaseItem": CASE_ITEM, "CaseList": CASE_LIST, "Due": DUE, "CaseCreate": CASE_CREATE,
        "Call": CALL, "CallList": CALL_LIST, "Notice": NOTICE, "NoticeList": NOTICE_LIST,
        "Digest": DIGEST, "DigestItem": DIGEST_ITEM, "DigestLeftOut": DIGEST_LEFT_OUT,
        "Article": ARTICLE, "ArticleList": ARTICLE_LIST, "ArticleCreate": ARTICLE_CREATE,
        "PublishBody": PUBLISH_BODY, "SuggestBody": SUGGEST_BODY, "Suggestion": SUGGESTION,
        "ExchangeImport": EXCHANGE_IMPORT_BODY, "ExchangeReport": EXCHANGE_REPORT,
        **{_schema_name(a): body for a, body in ACTION_BODIES.items()},
    }
    paths: dict[str, Any] = {
        "/reference": {"get": {
            "operationId": "get_reference", "tags": ["reference"],
            "summary": "Codes and names of channels, types, categories and departments (any role).",
            "parameters": _params("get_reference"),
            "responses": {"200": _json(_ref("Reference"), "The lists, in display order."),
                          **_errors("Unauthorized", "Invalid")},
        }},
        "/cases": {
            "get": {
                "operationId": "list_cases", "tags": ["cases"],
                "summary": "Cases the caller may see, newest first, with filters and keyset pagination.",
                "parameters": _params("list_cases"),
                "responses": {"200": _json(_ref("CaseList"), "One page (cases without events)."),
                              **_errors("Unauthorized", "Invalid")},
            },
            "post": {
                "operationId": "create_case", "tags": ["cases"],
                "summary": "Register a case (operator, producer); may close it on the call or dispatch it.",
                "parameters": _params("create_case"),
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CaseCreate")}}},
                "responses": {
                    "201": {**_json(_ref("Case"), "The new case."),
                            "headers": {"Location": {"schema": {"type": "string"},
                                                     "description": "URL of the new case."}}},
                    **_errors("BadJson", "Unauthorized", "Forbidden", "Invalid", "UnsupportedMediaType"),
                },
            },
        },
        "/cases/{case_no}": {"get": {
            "operationId": "get_case", "tags": ["cases"],
            "summary": "One case with its timeline.",
            "parameters": _params("get_case", CASE_NO_PARAM),
            "responses": {"200": _json(_ref("Case"), "The case."),
                          **_errors("Unauthorized", "NotFound", "Invalid")},
        }},
        **{f"/cases/{{case_no}}/{action}": _action_operation(action) for action in ACTION_BODIES},
        "/reports/kpis": {"get": {
            "operationId": "report_kpis", "tags": ["reports"],
            "summary": "The supervisors' figures (architecture §5) for a period, in total and per group "
                       "(supervisor, admin).",
            "parameters": _params("report_kpis"),
            "responses": {"200": _json(_ref("Kpis"), "The figures."),
                          **_errors("Unauthorized", "Forbidden", "Invalid")},
        }},
        "/workdays/due": {"get": {
            "operationId": "workday_due", "tags": ["workdays"],
            "summary": "The reply deadline a case registered at `start` would be given.",
            "parameters": _params("workday_due"),
            "responses": {"200": _json(_ref("Due"), "The deadline."),
                          **_errors("Unauthorized", "Invalid")},
        }},
        "/notices": {"get": {
            "operationId": "list_notices", "tags": ["notices"],
            "summary": "Your own in-app notices, newest first (any role): the same as the 通知 page.",
            "parameters": _params("list_notices"),
            "responses": {"200": _json(_ref("NoticeList"), "Your notices."),
                          **_errors("Unauthorized", "Invalid")},
        }},
        "/calls": {"get": {
            "operationId": "list_calls", "tags": ["calls"],
            "summary": "The hotline calls of one day, oldest first (operator, supervisor, admin).",
            "parameters": _params("list_calls"),
            "responses": {"200": _json(_ref("CallList"), "The day's calls."),
                          **_errors("Unauthorized", "Forbidden", "Invalid")},
        }},
        "/digests/{day}": _digest_operation(
            "get_digest", "The 《职工之声》 digest of one air date: items, reading times, what was left out",
            "application/json", _ref("Digest"), "The digest's approved version (a draft is never given out)."),
        "/digests/{day}.txt": _digest_operation(
            "get_digest_text", "The same approved digest as plain text, the announcer's script", "text/plain",
            {"type": "string"}, "UTF-8 text: headline, running time, each item with its start time."),
        "/digests/{day}.docx": _digest_operation(
            "get_digest_docx", "The same approved digest as a Word document (A4, zh-CN) in large type",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            {"type": "string", "contentEncoding": "binary"}, "The .docx file."),
        "/digests/feed.atom": _digest_operation(
            "get_digest_feed", "Atom feed of the approved and aired digests, newest first", "application/atom+xml",
            {"type": "string"}, "Atom 1.0; each entry carries the text and links the .txt.", with_day=False),
        "/knowledge": {
            "get": {
                "operationId": "list_knowledge", "tags": ["knowledge"],
                "summary": "Knowledge-base articles (知识库), best match first with q" + KB_ROLES_READ + ".",
                "parameters": _params("list_knowledge"),
                "responses": {"200": _json(_ref("ArticleList"), "Up to `limit` articles."),
                              **_errors("Unauthorized", "Forbidden", "Invalid")},
            },
            "post": {
                "operationId": "create_knowledge", "tags": ["knowledge"],
                "summary": "Write a new article, saved as a draft (supervisor, editor).",
                "parameters": _params("create_knowledge"),
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("ArticleCreate")}}},
                "responses": {"201": {**_json(_ref("Article"), "The new draft."),
                                      "headers": {"Location": {"schema": {"type": "string"},
                                                               "description": "URL of the article."}}},
                              **_errors("BadJson", "Unauthorized", "Forbidden", "Invalid")},
            },
        },
        "/knowledge/{article_id}": {"get": {
            "operationId": "get_knowledge", "tags": ["knowledge"],
            "summary": "One article; readers see published, valid ones only" + KB_ROLES_READ + ".",
            "parameters": _params("get_knowledge", ARTICLE_ID_PARAM),
            "responses": {"200": _json(_ref("Article"), "The article."),
                          **_errors("Unauthorized", "Forbidden", "NotFound", "Invalid")},
        }},
        "/knowledge/{article_id}/publish": {"post": {
            "operationId": "publish_knowledge", "tags": ["knowledge"],
            "summary": "Publish an article (supervisor, editor); 422 without a legal basis.",
            "parameters": _params("publish_knowledge", ARTICLE_ID_PARAM),
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("PublishBody")}}},
            "responses": {"200": _json(_ref("Article"), "The published article."),
                          **_errors("BadJson", "Unauthorized", "Forbidden", "NotFound", "Conflict", "Invalid")},
        }},
        "/suggest": {"post": {
            "operationId": "suggest", "tags": ["knowledge"],
            "summary": "Suggestions while a call is logged: type, category, department, articles, similar cases, "
                       "group alert (operator, producer, supervisor, handler). Nothing is saved.",
            "parameters": _params("suggest"),
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("SuggestBody")}}},
            "responses": {"200": _json(_ref("Suggestion"), "The suggestions; the operator decides."),
                          **_errors("BadJson", "Unauthorized", "Forbidden", "Invalid")},
        }},
        "/exchange/import": {"post": {
            "operationId": "exchange_import", "tags": ["exchange"],
            "summary": "Register the cases the 12351 platform handed down (operator): checked first, all or none; "
                       "a line imported before with the same content is skipped (docs/exchange.md). On any bad "
                       "line: 422, nothing saved, `fields` names each problem as lines[i].field.",
            "parameters": _params("exchange_import"),
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ExchangeImport")}}},
            "responses": {"200": _json(_ref("ExchangeReport"), "What was (or, on a dry run, would be) registered."),
                          **_errors("BadJson", "Unauthorized", "Forbidden", "Conflict", "Invalid",
                                    "UnsupportedMediaType")},
        }},
        "/openapi.json": {"get": {
            "operationId": "get_openapi", "tags": ["meta"], "security": [],
            "summary": "This document (no token needed).",
            "parameters": _params("get_openapi"),
            "responses": {"200": {"description": "OpenAPI 3.1 document.",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
    }
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "12351 hotline case register API",
            "version": "1.0.0",
            "description": (
                "The case register of the trade-union worker hotline 12351. Send `Authorization: Bearer "
                "<token>` (`flask --app wsgi hotline token NAME [--days N] [--scope full|read|digest]`); the "
                "browser's session cookie is not accepted here. Writes send `Content-Type: application/json`. "
                "A `read` token makes GET requests only, within its user's role; a `digest` token reads the "
                "approved digests and nothing else. Times are ISO 8601 with the local offset. "
                "Errors are `{\"error\": {\"code\", \"message\", \"fields\"?}}`. Bodies and query strings "
                "are checked against this document: a field or parameter it does not list is refused with "
                "422. Roles: " + ", ".join(ROLES) + "."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": t} for t in ("reference", "cases", "lifecycle", "notices", "workdays", "calls", "digests",
                                       "knowledge", "exchange", "meta")],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API token from `hotline token NAME` "
                                                              "or the admin page 管理 → 接口令牌."}},
            "parameters": {"lang": LANG_PARAM},
            "responses": ERROR_RESPONSES,
            "schemas": schemas,
        },
    }


def document() -> dict:
    """A fresh copy of the document (callers may not change the shared schemas)."""
    return deepcopy(_DOCUMENT)


_DOCUMENT = _build()
