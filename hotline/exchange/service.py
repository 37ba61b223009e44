"""Import the cases the 12351 platform hands down; export the feedback it expects back (docs/exchange.md).

Import is all or nothing, like the ledger import (hotline/reports/importer.py): every line is checked
first and the report lists each problem (row, field, reason); only a file without errors is written, in
the caller's transaction (the door commits). Each new case is registered by the case service's `register`
(the one writer of cases), so the same rules, events, deadline watch and hooks apply as to a phone call.

Idempotent by external id: a line already imported with the same content is skipped and reported; the
same external id with different content is an error (the platform changed a case it already handed down:
a person must look). "Same content" is compared on the line's cleaned values, kept as a digest on the
registration event, so the same case sent as JSON lines and later as .xlsx is still the same.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline import clock
from hotline.auth.models import User
from hotline.cases import service as cases
from hotline.cases.models import CHANNELS, Case, CaseEvent
from hotline.errors import InvalidInput, ServiceError
from hotline.extensions import db
from hotline.reference.models import CaseType, Category
from hotline.reports import vocab
from hotline.text import has_unstorable
from hotline.workdays import service as workdays

MAX_ROWS = 5_000
MAX_BYTES = 20 * 1024 * 1024
EXTERNAL_ID_MAX = 64
EXTERNAL_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._:/-]{0,63}$")
DATE_ONLY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
VIA = "exchange"  # the registration event's `via` for a case handed down

# The import file's fields: (key, Chinese header also read in .xlsx, required). docs/exchange.md.
FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("external_id", "平台编号", True),
    ("received_at", "受理时间", True),
    ("caller_name", "来电人", False),
    ("caller_phone", "来电号码", True),
    ("summary", "诉求摘要", True),
    ("detail", "详细内容", False),
    ("type", "诉求类型", True),
    ("category", "类别", True),
    ("deadline", "办理时限", True),
    ("employer", "单位", False),
    ("region", "地区", False),
    ("channel", "渠道", False),
)
FIELD_KEYS = tuple(key for key, _zh, _req in FIELDS)
REQUIRED = tuple(key for key, _zh, req in FIELDS if req)
# The registration's field names (validate_registration's `fields`) back to the file's.
FROM_REGISTRATION = {"caller.phone": "caller_phone", "caller.name": "caller_name", "caller.employer": "employer",
                     "caller.district": "region", "type": "type", "category": "category", "summary": "summary",
                     "detail": "detail", "channel": "channel"}

# The feedback file's fields, in order (docs/exchange.md).
EXPORT_FIELDS = ("external_id", "case_no", "status", "reply", "reply_method", "replied_at", "closed_at",
                 "closure_result", "merged_into", "survey_result", "survey_resolved", "surveyed_at", "updated_at")
EXPORT_TIMES = ("replied_at", "closed_at", "surveyed_at", "updated_at")


@dataclass
class RowError:
    row: int
    field: str
    reason: str


@dataclass
class Skipped:
    row: int
    external_id: str
    case_no: str | None  # None: the line repeats an earlier line of the same file


@dataclass
class ExchangeReport:
    filename: str
    dry_run: bool
    rows: int = 0
    new: list[str] = field(default_factory=list)  # external ids to register (or registered)
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    imported: dict[str, str] = field(default_factory=dict)  # external id -> case number, once written


class FileProblem(ServiceError):
    """The file as a whole cannot be read (type, encoding, size, header)."""

    status = 422
    code = "invalid"


class ImportConflict(ServiceError):
    status = 409
    code = "conflict"


# ---------------------------------------------------------------- reading the file

def _read_rows(filename: str, data: bytes, report: ExchangeReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as in the file, {field: raw value}) for JSON lines or .xlsx."""
    name = (filename or "").lower()
    if len(data) > MAX_BYTES:
        raise FileProblem(_("The file is too large (at most %(mb)d MB).", mb=MAX_BYTES // 1024 // 1024))
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return _read_jsonl(data, report)
    if name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data, report)
    raise FileProblem(_("Give a JSON lines file (.jsonl) or an Excel file (.xlsx)."))


def _read_jsonl(data: bytes, report: ExchangeReport) -> Iterator[tuple[int, dict[str, Any] | None]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(_("The file is not UTF-8 text.")) from None
    rows: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except ValueError:
            rows.append((number, None))
    return _objects(rows, report)


def _objects(rows: list[tuple[int, Any]], report: ExchangeReport) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """JSON values as lines: objects pass (their unknown keys noted), anything else is None."""
    ignored: set[str] = set()
    out: list[tuple[int, dict[str, Any] | None]] = []
    for number, value in rows:
        if not isinstance(value, dict):
            out.append((number, None))
            continue
        for key in value:
            if key not in FIELD_KEYS and key not in ignored:
                ignored.add(key)
                report.ignored_columns.append(str(key)[:40])
        out.append((number, value))
    return iter(out)


def _read_xlsx(data: bytes, report: ExchangeReport) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    unreadable = FileProblem(_("The file could not be read as an Excel workbook (.xlsx)."))
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001  (zip, XML or format errors: all mean "not a workbook")
        raise unreadable from None
    try:
        # Read now, not lazily while checking: a damaged sheet must be this clear answer, not a 500 later.
        all_rows = [list(values) for values in wb.worksheets[0].iter_rows(values_only=True)]
    except Exception:  # noqa: BLE001
        raise unreadable from None
    finally:
        wb.close()
    if not all_rows:
        raise FileProblem(_("The file is empty."))
    known = {key: key for key in FIELD_KEYS}
    known.update({zh: key for key, zh, _req in FIELDS})
    columns: dict[int, str] = {}
    for index, header in enumerate(all_rows[0]):
        text = re.sub(r"\s+", "", str(header or ""))
        key = known.get(text) or known.get(text.lower())
        if key is None:
            if text:
                report.ignored_columns.append(text[:40])
        elif key in columns.values():
            report.errors.append(RowError(1, key, _("This column appears twice.")))
        else:
            columns[index] = key
    for key in REQUIRED:
        if key not in columns.values():
            report.errors.append(RowError(1, key, _("This column is missing.")))
    if report.errors:
        return iter(())
    return ((number, {key: values[i] for i, key in columns.items() if i < len(values)})
            for number, values in enumerate(all_rows[1:], start=2))


# ---------------------------------------------------------------- checking one line

class _Lookups:
    """Type, category and channel by code or by their Chinese name."""

    def __init__(self) -> None:
        self.types = {}
        for t in db.session.scalars(select(CaseType)):
            self.types[t.code.lower()] = self.types[t.name] = t.code
        self.categories = {}
        for c in db.session.scalars(select(Category)):
            self.categories[c.code.lower()] = self.categories[c.name] = c.code
        self.channels = {c: c for c in CHANNELS}
        self.channels.update({zh: code for code, zh in vocab.CHANNEL_ZH.items()})
        self.channels.update(vocab.CHANNEL_ALIASES)

    @staticmethod
    def find(table: dict[str, str], raw: str) -> str:
        """The code, or the raw value (the registration check then names it unknown)."""
        return table.get(raw.lower() if raw.isascii() else raw, raw)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an Excel number: a phone number typed into a cell
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def _when(value: Any) -> tuple[datetime | None, bool]:
    """(aware moment, whether only a date was given). ISO 8601; without an offset it is local time."""
    tz = clock.local_tz()
    if isinstance(value, datetime):  # an Excel cell
        moment = value if value.tzinfo else value.replace(tzinfo=tz)
        return moment, value.time() == time(0)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=tz), True
    if not isinstance(value, str):
        return None, False
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None, False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        moment.astimezone(timezone.utc)
    except OverflowError:
        return None, False
    return moment, bool(DATE_ONLY_RE.match(text))


def _check_line(number: int, raw: dict[str, Any], look: _Lookups, actor: User | None, now: datetime,
                errors: list[RowError]) -> dict[str, Any] | None:
    """The cleaned values of one line, or None with its problems added to `errors`."""
    found: list[RowError] = []

    def error(key: str, reason: str) -> None:
        found.append(RowError(number, key, reason))

    values = {key: _text(raw.get(key)) if key not in ("received_at", "deadline") else raw.get(key)
              for key in FIELD_KEYS}
    for key in FIELD_KEYS:
        value = values[key]
        if isinstance(value, str) and has_unstorable(value):
            error(key, _("Contains a character that cannot be stored."))
        if key in REQUIRED and (value is None or value == ""):
            error(key, _("Required."))
    external_id = values["external_id"]
    if external_id and not EXTERNAL_ID_RE.match(external_id):
        error("external_id", _("Use at most %(n)d letters, digits, or . _ : / -, starting with a letter or digit.",
                               n=EXTERNAL_ID_MAX))
    received = deadline = None
    if values["received_at"] not in (None, ""):
        received, _date_only = _when(values["received_at"])
        if received is None:
            error("received_at", _("Not a date and time (write e.g. 2026-12-01T09:30:00+08:00)."))
        elif received.astimezone(timezone.utc) > now:
            error("received_at", _("Lies in the future."))
    if values["deadline"] not in (None, ""):
        deadline, date_only = _when(values["deadline"])
        if deadline is None:
            error("deadline", _("Not a date and time (write e.g. 2026-12-01T17:30:00+08:00)."))
        elif date_only:  # a bare date: the end of that working day, as everywhere in the register
            deadline = datetime.combine(deadline.date(), workdays.workday_end(), tzinfo=clock.local_tz())
    if received is not None and deadline is not None and deadline <= received:
        error("deadline", _("Comes before the received time."))
    data: dict[str, Any] = {
        "channel": look.find(look.channels, values["channel"]) if values["channel"] else "hotline",
        "caller": {"phone": values["caller_phone"], "name": values["caller_name"], "employer": values["employer"],
                   "district": values["region"]},
        "type": look.find(look.types, values["type"]) if values["type"] else None,
        "category": look.find(look.categories, values["category"]) if values["category"] else None,
        "summary": values["summary"], "detail": values["detail"],
    }
    already = {e.field for e in found}
    try:
        # The registration's own rules (phone, type, category, lengths): the same check as a phone call's.
        clean = cases.validate_registration(actor, data)
    except InvalidInput as err:
        fields = {FROM_REGISTRATION.get(k, k): reason for k, reason in err.fields.items()}
        fields = {k: v for k, v in fields.items() if k not in already}  # "Required." said once
        if len(err.fields) == 1 and fields:
            fields = {next(iter(fields)): err.message}  # one problem: the full sentence names the value
        for key, reason in fields.items():
            error(key, _naming_the_value(key, data) or reason)
        clean = None
    errors.extend(found)
    if found or clean is None or received is None or deadline is None:
        return None
    received_utc, deadline_utc = received.astimezone(timezone.utc), deadline.astimezone(timezone.utc)
    canonical = {
        "external_id": external_id, "received_at": received_utc.isoformat(), "deadline": deadline_utc.isoformat(),
        "caller_phone": clean["phone"], "caller_name": clean["name"], "employer": clean["employer"],
        "region": clean["district"], "summary": clean["summary"], "detail": clean["detail"],
        "type": clean["case_type"].code, "category": clean["category"].code, "channel": clean["channel"],
    }
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    data["type"], data["category"], data["caller"]["phone"] = canonical["type"], canonical["category"], clean["phone"]
    return {"row": number, "external_id": external_id, "received_at": received_utc, "deadline": deadline_utc,
            "digest": digest, "data": data}


def _naming_the_value(key: str, data: dict[str, Any]) -> str | None:
    """The service's own sentence for a bad phone, type or category (it names the value), when several
    fields of a line are wrong and the registration check gave only short reasons."""
    checks = {"caller_phone": lambda: cases.normalize_phone(data["caller"]["phone"], "caller.phone"),
              "type": lambda: cases.lookup_type(data["type"]),
              "category": lambda: cases.lookup_category(data["category"])}
    if key not in checks:
        return None
    try:
        checks[key]()
    except InvalidInput as err:
        return err.message
    return None


# ---------------------------------------------------------------- the whole file

def _imported_digests(external_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """external id -> (case number, the digest of the line it was imported from)."""
    found: dict[str, tuple[str, str | None]] = {}
    for start in range(0, len(external_ids), 500):
        chunk = external_ids[start:start + 500]
        rows = db.session.execute(
            select(Case.external_id, Case.case_no, CaseEvent.data)
            .join(CaseEvent, (CaseEvent.case_id == Case.id) & (CaseEvent.kind == "register"))
            .where(Case.external_id.in_(chunk)))
        for external_id, case_no, data in rows:
            origin = (data or {}).get("platform") or {}
            found[external_id] = (case_no, origin.get("digest"))
    return found


def check_file(actor: User | None, filename: str, data: bytes, report: ExchangeReport) -> list[dict[str, Any]]:
    """Every line checked; returns the lines to register (those not imported before)."""
    rows = _read_rows(filename, data, report)
    if report.errors:
        return []
    return _check_rows(actor, rows, report)


def _check_rows(actor: User | None, rows: Iterator[tuple[int, dict[str, Any] | None]],
                report: ExchangeReport) -> list[dict[str, Any]]:
    look = _Lookups()
    now = clock.now()
    clean: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, str]] = {}  # external id -> (row, digest) within this file
    for number, raw in rows:
        if raw is None:
            report.rows += 1
            report.errors.append(RowError(number, "", _("Not a JSON object.")))
            continue
        if all(_text(v) == "" for v in raw.values()):
            continue
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.errors.append(RowError(number, "", _("Too many rows: at most %(n)d per file.", n=MAX_ROWS)))
            break
        line = _check_line(number, raw, look, actor, now, report.errors)
        if line is None:
            continue
        earlier = seen.get(line["external_id"])
        if earlier is None:
            seen[line["external_id"]] = (number, line["digest"])
            clean.append(line)
        elif earlier[1] == line["digest"]:
            report.skipped.append(Skipped(number, line["external_id"], None))
        else:
            report.errors.append(RowError(number, "external_id", _(
                "%(id)s repeats row %(row)d with different content.", id=line["external_id"], row=earlier[0])))
    if report.rows == 0 and not report.errors:
        report.errors.append(RowError(1, "", _("The file has no cases.")))
    known = _imported_digests([line["external_id"] for line in clean])
    new = []
    for line in clean:
        existing = known.get(line["external_id"])
        if existing is None:
            new.append(line)
            report.new.append(line["external_id"])
        elif existing[1] == line["digest"]:
            report.skipped.append(Skipped(line["row"], line["external_id"], existing[0]))
        else:
            report.errors.append(RowError(line["row"], "external_id", _(
                "%(id)s was imported before as case %(no)s with different content.",
                id=line["external_id"], no=existing[0])))
    report.errors.sort(key=lambda e: e.row)
    return new


def import_file(actor: User | None, filename: str, data: bytes, dry_run: bool) -> ExchangeReport:
    """Check the file; unless it is a dry run or has errors, register its new cases (flushed, not committed).
    The cases belong to the importing user's organisation (hotline/orgs/), as any case she registers."""
    report = ExchangeReport(filename=filename, dry_run=dry_run)
    new = check_file(actor, filename, data, report)
    return _register_all(actor, new, report)


def import_lines(actor: User | None, lines: Any, dry_run: bool) -> ExchangeReport:
    """The same for lines sent as a JSON list (the API door); row n is lines[n - 1]."""
    report = ExchangeReport(filename="api", dry_run=dry_run)
    if not isinstance(lines, list) or not lines:
        raise InvalidInput(_("Send the cases as a non-empty list in lines."), {"lines": _("Required.")})
    if len(lines) > MAX_ROWS:
        raise InvalidInput(_("Too many rows: at most %(n)d per file.", n=MAX_ROWS), {"lines": _("Too many.")})
    new = _check_rows(actor, _objects(list(enumerate(lines, start=1)), report), report)
    return _register_all(actor, new, report)


def _register_all(actor: User | None, new: list[dict[str, Any]], report: ExchangeReport) -> ExchangeReport:
    if report.errors or report.dry_run:
        return report
    filename = report.filename
    for line in new:
        case = _register(actor, line, filename)
        report.imported[line["external_id"]] = case.case_no
    return report


def error_fields(report: ExchangeReport) -> dict[str, str]:
    """The report's problems as the API's `fields`: lines[i].field -> reason (i counts from 0)."""
    out: dict[str, str] = {}
    for e in report.errors:
        key = f"lines[{e.row - 1}]" + (f".{e.field}" if e.field else "")
        out[key] = f"{out[key]} {e.reason}" if key in out else e.reason
    return out


def api_report(report: ExchangeReport) -> dict[str, Any]:
    return {"dry_run": report.dry_run, "rows": report.rows, "new": report.new,
            "skipped": [{"line": s.row - 1, "external_id": s.external_id, "case_no": s.case_no}
                        for s in report.skipped],
            "imported": [{"external_id": k, "case_no": v} for k, v in report.imported.items()],
            "ignored_fields": report.ignored_columns}


def _register(actor: User | None, line: dict[str, Any], filename: str) -> Case:
    origin = {"external_id": line["external_id"], "received_at": line["received_at"].isoformat(),
              "deadline": line["deadline"].isoformat(), "digest": line["digest"], "file": filename[:120]}
    try:
        # The case belongs to the importing user's organisation (the root without a user), as any registration.
        return cases.register(actor, dict(line["data"]), via=VIA, external_id=line["external_id"],
                              due_by=line["deadline"], platform=origin)
    except IntegrityError:
        # Another import registered the same external id meanwhile (the unique key caught it).
        raise ImportConflict(_("%(id)s was imported by someone else meanwhile; run the import again.",
                               id=line["external_id"])) from None


# ---------------------------------------------------------------- feedback for the platform

def parse_since(raw: str) -> datetime:
    """A local date (its start) or an ISO date and time."""
    moment, _date_only = _when(raw)
    if moment is None:
        raise InvalidInput(_("%(value)s is not a date (use e.g. 2026-12-01).", value=str(raw)[:40]),
                           {"since": _("Wrong date format.")})
    return moment.astimezone(timezone.utc)


def closure_result(case: Case) -> str | None:
    """closed (办结), merged (并单: closed as a duplicate of another case), or None while open or replied."""
    if case.status != "closed":
        return None
    return "merged" if case.merged_into_id is not None else "closed"


def feedback(since: datetime) -> list[dict[str, Any]]:
    """One record per case the platform handed down that changed at or after `since`, oldest change first."""
    rows = db.session.scalars(
        select(Case).where(Case.external_id.is_not(None), Case.updated_at >= since)
        .order_by(Case.updated_at, Case.id))
    out = []
    for case in rows:
        out.append({
            "external_id": case.external_id, "case_no": case.case_no, "status": case.status,
            "reply": case.answer, "reply_method": case.reply_method,
            "replied_at": case.replied_at, "closed_at": case.closed_at, "closure_result": closure_result(case),
            "merged_into": case.merged_into.case_no if case.merged_into else None,
            "survey_result": case.survey_result, "survey_resolved": case.survey_resolved,
            "surveyed_at": case.surveyed_at, "updated_at": case.updated_at,
        })
    return out


def _local_iso(value: datetime | None) -> str | None:
    return clock.to_local(value).isoformat() if value else None


def feedback_jsonl(records: list[dict[str, Any]]) -> bytes:
    lines = []
    for record in records:
        out = {k: (_local_iso(v) if k in EXPORT_TIMES else v) for k, v in record.items()}
        lines.append(json.dumps(out, ensure_ascii=False))
    return ("\n".join(lines) + "\n" if lines else "").encode("utf-8")


def feedback_xlsx(records: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "feedback"
    ws.append(list(EXPORT_FIELDS))
    for record in records:
        row = []
        for key in EXPORT_FIELDS:
            value = record[key]
            if key in EXPORT_TIMES and value is not None:
                value = clock.to_local(value).replace(tzinfo=None)  # Excel has no time zones: local time
            row.append(value)
        ws.append(row)
    for cells in ws.iter_cols(min_row=2):
        for cell in cells:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
