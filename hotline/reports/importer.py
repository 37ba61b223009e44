"""Import an existing 台账 (Excel or CSV) of historical cases, with their own numbers and dates.

All or nothing: every row is checked first and the report lists each problem (row, column, reason);
only a file without errors is written, in the caller's transaction (the door commits). A case whose
number is already in the register is left alone, so running the same file twice adds nothing.

Each imported case gets its historical timestamps and the events of its history (registered,
dispatched, replied, closed, surveyed) at those times, marked `via: import`.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hotline import clock
from hotline.auth.models import User
from hotline.cases import service as cases
from hotline.cases.deadlines import reply_days_for
from hotline.cases.models import CHANNELS, OPEN_STATUSES, STATUSES, SURVEY_RESULTS, Case
from hotline.errors import InvalidInput, ServiceError
from hotline.extensions import db
from hotline.limits import DETAIL_MAX, SUMMARY_MAX, TEXT_MAX
from hotline.phones import normalize_phone
from hotline.reference.models import CaseType, Category, Department
from hotline.reports import vocab
from hotline.text import has_unstorable
from hotline.workdays import service as workdays

MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
MAX_SHOWN_ERRORS = 1000
CASE_NO_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,15}$")
DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                     r"(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.\d+)?)?)?$")

# key -> the headers read for it (the ledger's own first); compared without spaces, case-insensitive.
HEADERS: dict[str, tuple[str, ...]] = {
    "case_no": ("工单编号", "编号", "工单号", "case_no"),
    "created_at": ("登记时间", "受理时间", "来电时间", "created_at"),
    "channel": ("渠道", "来源", "channel"),
    "caller_name": ("来电人", "姓名", "caller_name"),
    "caller_phone": ("电话", "来电号码", "联系电话", "phone", "caller_phone"),
    "type": ("诉求类型", "类型", "type"),
    "category": ("类别", "问题分类", "分类", "category"),
    "summary": ("诉求摘要", "摘要", "summary"),
    "detail": ("详细内容", "detail"),
    "department": ("承办部门", "department"),
    "handler": ("承办人", "handler"),
    "accept_due_at": ("签收时限", "签收期限", "accept_due_at"),
    "reply_due_at": ("答复时限", "答复期限", "reply_due_at"),
    "replied_at": ("答复时间", "replied_at"),
    "answer": ("答复内容", "answer"),
    "closed_at": ("办结时间", "closed_at"),
    "status": ("状态", "status"),
    "resolved_on_call": ("即时办结", "resolved_on_call"),
    "survey_result": ("回访结果", "survey_result"),
    "surveyed_at": ("回访时间", "surveyed_at"),
    "reopen_count": ("重办次数", "reopen_count"),
    "urgent": ("紧急", "urgent"),
}
REQUIRED = ("case_no", "created_at", "type", "category", "summary")
EXPORT_ONLY = ("是否按时", "on_time")  # computed by the export; read and ignored
YES_WORDS = {"是", "y", "yes", "true", "1", "√", "✓"}
NO_WORDS = {"否", "n", "no", "false", "0", ""}


@dataclass
class RowError:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class ImportReport:
    filename: str
    dry_run: bool
    rows: int = 0
    new: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    imported: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "dry_run": self.dry_run, "rows": self.rows, "new": len(self.new),
                "existing": len(self.existing), "imported": self.imported,
                "errors": [e.as_dict() for e in self.errors], "ignored_columns": self.ignored_columns}


class FileProblem(ServiceError):
    """The file as a whole cannot be read (type, encoding, size, header)."""

    status = 422
    code = "invalid"


# ---------------------------------------------------------------- reading the file

def _norm_header(text: Any) -> str:
    return re.sub(r"\s+", "", str(text or "")).lower()


def _cell_text(value: Any) -> Any:
    """Strings stripped; whole floats (Excel numbers) as integers; datetimes kept."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def read_table(filename: str, data: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """(header, iterator of (row number as in the file, values)) for .xlsx or .csv."""
    name = (filename or "").lower()
    if len(data) > MAX_BYTES:
        raise FileProblem(_("The file is too large (at most %(mb)d MB).", mb=MAX_BYTES // 1024 // 1024))
    if name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    if name.endswith((".csv", ".txt")):
        return _read_csv(data)
    raise FileProblem(_("Upload an Excel file (.xlsx) or a CSV file (.csv)."))


def _read_xlsx(data: bytes):
    from openpyxl import load_workbook

    unreadable = FileProblem(_("The file could not be read as an Excel workbook (.xlsx)."))
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001  (zip, XML or format errors: all mean "not a workbook")
        raise unreadable from None
    try:
        ws = wb["台账"] if "台账" in wb.sheetnames else wb.worksheets[0]
        # Read here, not lazily while checking: a damaged sheet (truncated XML, a bad shared-string index)
        # fails while its rows are parsed, and that must be the same clear answer, not a 500 later.
        all_rows = [list(values) for values in ws.iter_rows(values_only=True)]
    except Exception:  # noqa: BLE001  (XML, zip or value errors inside the workbook)
        raise unreadable from None
    finally:
        wb.close()
    if not all_rows:
        raise FileProblem(_("The file is empty."))
    header = all_rows[0]

    def body():
        yield from enumerate(all_rows[1:], start=2)

    return [str(h or "").strip() for h in header], body()


def _read_csv(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileProblem(_("The CSV file is neither UTF-8 nor GBK text."))
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise FileProblem(_("The file is empty."))

    def body():
        for values in reader:
            yield reader.line_num, values

    return [h.strip() for h in header], body()


# ---------------------------------------------------------------- checking one row

class _Lookups:
    def __init__(self) -> None:
        self.types: dict[str, CaseType] = {}
        for t in db.session.scalars(select(CaseType)):
            self.types[t.code.lower()] = self.types[t.name] = t
        self.categories: dict[str, Category] = {}
        for c in db.session.scalars(select(Category)):
            self.categories[c.code.lower()] = self.categories[c.name] = c
        self.departments: dict[str, Department] = {}
        for d in db.session.scalars(select(Department)):
            self.departments[d.code.lower()] = self.departments[d.name] = d
        self.users: dict[str, list[User]] = {}
        for u in db.session.scalars(select(User)):
            self.users.setdefault(u.username.lower(), []).append(u)
            if u.display_name.lower() != u.username.lower():
                self.users.setdefault(u.display_name.lower(), []).append(u)
        self.channels = {c: c for c in CHANNELS}
        self.channels.update({zh: code for code, zh in vocab.CHANNEL_ZH.items()})
        self.channels.update(vocab.CHANNEL_ALIASES)
        self.statuses = {s: s for s in STATUSES}
        self.statuses.update({zh: code for code, zh in vocab.STATUS_ZH.items()})
        self.surveys = {s: s for s in SURVEY_RESULTS}
        self.surveys.update({zh: code for code, zh in vocab.SURVEY_ZH.items()})
        self.surveys.update(vocab.SURVEY_ALIASES)
        self._due: dict[tuple, Any] = {}

    def reply_due(self, created: datetime, days: int, urgent: bool):
        local = clock.to_local(created)
        after_hours = local.time() >= workdays.workday_end()
        key = (local.date(), days, urgent, after_hours)
        if key not in self._due:
            self._due[key] = workdays.reply_due(created, days, urgent)
        return self._due[key]

    def accept_due(self, dispatched: datetime):
        key = ("accept", clock.to_local(dispatched).date())
        if key not in self._due:
            self._due[key] = workdays.accept_due(dispatched)
        return self._due[key]


class _Row:
    """Reads the cells of one row by key, collecting errors."""

    def __init__(self, number: int, values: list[Any], columns: dict[str, int], header: list[str],
                 errors: list[RowError]):
        self.number, self.values, self.columns, self.header, self.errors = number, values, columns, header, errors
        self.failed = False

    def column_name(self, key: str) -> str:
        index = self.columns.get(key)
        return self.header[index] if index is not None else vocab.LEDGER_HEADERS.get(
            key, vocab.IMPORT_EXTRA_COLUMNS.get(key, key))

    def error(self, key: str, reason: str) -> None:
        self.failed = True
        self.errors.append(RowError(self.number, self.column_name(key), reason))

    def raw(self, key: str) -> Any:
        index = self.columns.get(key)
        if index is None or index >= len(self.values):
            return ""
        return _cell_text(self.values[index])

    def text(self, key: str, max_len: int, required: bool = False) -> str:
        value = self.raw(key)
        if isinstance(value, datetime):
            value = value.strftime("%Y-%m-%d %H:%M")
        value = str(value)
        if has_unstorable(value):  # hotline/text.py: NUL, other control characters
            self.error(key, _("Contains a character that cannot be stored."))
            return ""
        if required and not value:
            self.error(key, _("Required."))
        elif len(value) > max_len:
            self.error(key, _("Too long: %(n)d characters, at most %(max)d.", n=len(value), max=max_len))
            return value[:max_len]
        return value

    def flag(self, key: str) -> bool:
        value = str(self.raw(key)).lower()
        if value in YES_WORDS:
            return True
        if value not in NO_WORDS:
            self.error(key, _("Write 是 or 否."))
        return False

    def when(self, key: str, kind: str, not_before: datetime | None = None) -> datetime | None:
        """A local date and time. A bare date (or midnight) is the start of the day for the registration
        time and the end of the working day for deadlines, replies, closures and surveys."""
        value = self.raw(key)
        if value == "":
            return None
        moment, date_only = _parse_when(value)
        if moment is None:
            self.error(key, _("Not a date and time (write e.g. 2026-03-01 09:30)."))
            return None
        if date_only and kind != "start":
            moment = datetime.combine(moment.date(), workdays.workday_end(), tzinfo=clock.local_tz())
            if not_before is not None and moment < not_before:
                moment = not_before
        return moment.astimezone(timezone.utc)


def _parse_when(value: Any) -> tuple[datetime | None, bool]:
    tz = clock.local_tz()
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=tz)
        return moment, value.time() == time(0)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=tz), True
    text = str(value).strip()
    match = DATE_RE.match(text)
    try:
        if match:
            y, mo, d, h, mi, s = match.groups()
            moment = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=tz)
            return moment, h is None or (int(h) == 0 and int(mi) == 0 and int(s or 0) == 0)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None, False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment, False


def _check_row(row: _Row, look: _Lookups, now: datetime) -> dict[str, Any] | None:
    case_no = row.text("case_no", 16, required=True)
    if case_no and not CASE_NO_RE.match(case_no):
        row.error("case_no", _("Use at most 16 letters, digits, - or _."))
    created = row.when("created_at", "start")
    if created is None and row.raw("created_at") == "":
        row.error("created_at", _("Required."))
    if created is not None and created > now:
        row.error("created_at", _("Lies in the future."))
    channel_raw = str(row.raw("channel"))
    channel = look.channels.get(channel_raw.lower() if channel_raw.isascii() else channel_raw) if channel_raw else "hotline"
    if channel is None:
        row.error("channel", _("Unknown channel: %(v)s", v=channel_raw[:20]))
    type_raw = str(row.raw("type"))
    case_type = look.types.get(type_raw.lower() if type_raw.isascii() else type_raw)
    if not type_raw:
        row.error("type", _("Required."))
    elif case_type is None:
        row.error("type", _("Unknown case type: %(code)s", code=type_raw[:32]))
    cat_raw = str(row.raw("category"))
    category = look.categories.get(cat_raw.lower() if cat_raw.isascii() else cat_raw)
    if not cat_raw:
        row.error("category", _("Required."))
    elif category is None:
        row.error("category", _("Unknown category: %(code)s", code=cat_raw[:32]))
    summary = row.text("summary", SUMMARY_MAX, required=True)
    detail = row.text("detail", DETAIL_MAX)
    answer = row.text("answer", TEXT_MAX) or None
    name = row.text("caller_name", 64) or None
    phone_raw = str(row.raw("caller_phone"))
    phone = None
    if phone_raw and "*" not in phone_raw:  # a masked number (138****5678) is kept as unknown
        try:
            phone = normalize_phone(phone_raw, "caller_phone")
        except InvalidInput:
            row.error("caller_phone", _("%(phone)s is not a valid phone number.", phone=phone_raw[:40]))
    dept_raw = str(row.raw("department"))
    department = look.departments.get(dept_raw.lower() if dept_raw.isascii() else dept_raw) if dept_raw else None
    if dept_raw and department is None:
        row.error("department", _("Unknown department: %(code)s", code=dept_raw[:32]))
    handler_raw = str(row.raw("handler"))
    handler = None
    if handler_raw:
        found = look.users.get(handler_raw.lower(), [])
        if len(found) == 1:
            handler = found[0]
        elif found:
            row.error("handler", _("%(name)s names more than one user; use the user name.", name=handler_raw[:32]))
        else:
            row.error("handler", _("Unknown handler: %(name)s", name=handler_raw[:32]))
        if not dept_raw:
            row.error("department", _("Name the handler's department as well."))
    on_call = row.flag("resolved_on_call")
    urgent = row.flag("urgent")
    status_raw = str(row.raw("status"))
    status = look.statuses.get(status_raw.lower() if status_raw.isascii() else status_raw) if status_raw else None
    if status_raw and status is None:
        row.error("status", _("Unknown status: %(v)s", v=status_raw[:20]))
    survey_raw = str(row.raw("survey_result"))
    survey = look.surveys.get(survey_raw.lower() if survey_raw.isascii() else survey_raw) if survey_raw else None
    if survey_raw and survey is None:
        row.error("survey_result", _("Unknown survey result: %(r)s", r=survey_raw[:20]))
    reopen_raw = str(row.raw("reopen_count") or "0")
    reopen_count = 0
    if not reopen_raw.isdigit():
        row.error("reopen_count", _("Must be a whole number, 0 or more."))
    else:
        reopen_count = int(reopen_raw)
    if created is None:
        return None
    replied = row.when("replied_at", "event", created)
    closed = row.when("closed_at", "event", replied or created)
    surveyed = row.when("surveyed_at", "event", closed or replied or created)
    reply_due = row.when("reply_due_at", "due")
    accept_due = row.when("accept_due_at", "due")

    if on_call:
        if department is not None:
            row.error("department", _("A case closed on the call is not dispatched."))
        replied = replied or created
        closed = closed or replied
        if status not in (None, "closed"):
            row.error("status", _("A case closed on the call is closed."))
        status = "closed"
    if status is None:
        status = "closed" if closed else "replied" if replied else "accepted" if department else "registered"
    if status == "closed" and closed is None:
        row.error("closed_at", _("Required for a closed case."))
    if status == "replied" and replied is None:
        row.error("replied_at", _("Required for a replied case."))
    if status in ("registered", "assigned", "accepted", "replied") and closed is not None:
        row.error("closed_at", _("Only a closed case has a closing time."))
    if status in OPEN_STATUSES and replied is not None:
        row.error("replied_at", _("An open case has no reply yet."))
    if status == "registered" and department is not None:
        row.error("department", _("A registered case is not dispatched yet; give its status."))
    if status in ("assigned", "accepted") and department is None:
        row.error("department", _("Required for a dispatched case."))
    if status == "replied" and department is None:
        row.error("department", _("Required for a replied case."))
    for key, moment in (("replied_at", replied), ("closed_at", closed), ("surveyed_at", surveyed)):
        if moment is not None and moment < created:
            row.error(key, _("Comes before the registration time."))
        if moment is not None and moment > now:
            row.error(key, _("Lies in the future."))
    if replied and closed and closed < replied:
        row.error("closed_at", _("Comes before the reply."))
    if survey and status not in ("replied", "closed"):
        row.error("survey_result", _("Only a replied or closed case is surveyed."))
    if surveyed and not survey:
        row.error("survey_result", _("Give the result of the survey."))
    if reply_due is not None and reply_due <= created:
        row.error("reply_due_at", _("Comes before the registration time."))
    if row.failed:
        return None
    uncertain = False
    if reply_due is None:
        due = look.reply_due(created, reply_days_for(case_type, category), urgent)
        reply_due, uncertain = due.at, due.uncertain
    if status == "assigned" and accept_due is None:
        due = look.accept_due(created)
        accept_due, uncertain = due.at, uncertain or due.uncertain
    return {
        "case_no": case_no, "created_at": created, "channel": channel, "type": case_type, "category": category,
        "caller_name": name, "caller_phone": phone, "summary": summary, "detail": detail, "answer": answer,
        "department": department, "handler": handler, "status": status, "resolved_on_call": on_call,
        "urgent": urgent, "replied_at": replied, "closed_at": closed, "survey_result": survey,
        "surveyed_at": surveyed or (closed or replied if survey else None), "reopen_count": reopen_count,
        "reply_due_at": reply_due, "accept_due_at": accept_due if status == "assigned" else None,
        "due_uncertain": uncertain,
    }


# ---------------------------------------------------------------- the whole file

def check_file(filename: str, data: bytes, report: ImportReport) -> list[dict[str, Any]]:
    """Every row checked; returns the new cases to create (those not yet in the register)."""
    header, rows = read_table(filename, data)
    columns: dict[str, int] = {}
    known = {_norm_header(alias): key for key, aliases in HEADERS.items() for alias in aliases}
    ignored_export = {_norm_header(h) for h in EXPORT_ONLY}
    for index, text in enumerate(header):
        norm = _norm_header(text)
        if not norm:
            continue
        key = known.get(norm)
        if key is None:
            if norm not in ignored_export:
                report.ignored_columns.append(text)
        elif key in columns:
            report.errors.append(RowError(1, text, _("This column appears twice.")))
        else:
            columns[key] = index
    for key in REQUIRED:
        if key not in columns:
            report.errors.append(RowError(1, vocab.LEDGER_HEADERS[key], _("This column is missing.")))
    if report.errors:
        return []
    look = _Lookups()
    now = clock.now()
    clean: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, values in rows:
        if all(_cell_text(v) == "" for v in values):
            continue
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.errors.append(RowError(number, "", _("Too many rows: at most %(n)d per file.", n=MAX_ROWS)))
            break
        row = _Row(number, values, columns, header, report.errors)
        values_ok = _check_row(row, look, now)
        case_no = str(row.raw("case_no"))
        if case_no in seen:
            row.error("case_no", _("Repeats row %(row)d.", row=seen[case_no]))
            values_ok = None
        elif case_no:
            seen[case_no] = number
        if values_ok is not None:
            clean.append(values_ok)
    if report.rows == 0 and not report.errors:
        report.errors.append(RowError(2, "", _("The file has no cases.")))
    existing = _existing_numbers([c["case_no"] for c in clean])
    new: list[dict[str, Any]] = []
    for checked in clean:
        (report.existing if checked["case_no"] in existing else report.new).append(checked["case_no"])
        if checked["case_no"] not in existing:
            new.append(checked)
    return new


def _existing_numbers(numbers: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        found.update(db.session.scalars(select(Case.case_no).where(Case.case_no.in_(chunk))))
    return found


def import_ledger(actor: User | None, filename: str, data: bytes, dry_run: bool) -> ImportReport:
    """Check the file; unless it is a dry run or has errors, create its new cases (flushed, not committed)."""
    report = ImportReport(filename=filename, dry_run=dry_run)
    new = check_file(filename, data, report)
    if report.errors or dry_run:
        return report
    now = clock.now()
    for start in range(0, len(new), 500):
        for values in new[start:start + 500]:
            cases.import_case(actor, values, filename, now)  # the case service writes the case and its events
        db.session.flush()
    cases.reserve_numbers([v["case_no"] for v in new])
    db.session.flush()
    report.imported = True
    return report
