"""The 台账 (every case of a period, as inspectors read it) and the KPI tables, as .xlsx and .csv.

Rows are streamed from the database in batches and written as they come (openpyxl's write-only
mode keeps each sheet on disk, the CSV goes straight to a file), so memory stays flat however many
cases there are. The caller is always masked. Text that a spreadsheet would run as a formula
(starting with = + - @, or a tab or carriage return) is written with a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from hotline import clock, phones
from hotline.auth.models import User
from hotline.cases import access, queries
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.reference.models import CaseType, Category, Department
from hotline.reports import vocab
from hotline.reports.kpis import GROUPINGS, Figures, Report
from hotline.reports.periods import Period
from hotline.text import xml_safe

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd hh:mm"
BATCH = 2000
MAX_XLSX_ROWS = 1_000_000  # Excel's sheet limit, less the header
MAX_CSV_ROWS = 2_000_000

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="B0262C")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
THIN = Side(style="thin", color="D8DCE4")
HEADER_BORDER = Border(bottom=THIN)


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would take for a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _local(value: datetime | None, tz=None) -> datetime | None:
    """Local wall-clock time without zone (Excel has no time zones)."""
    if value is None:
        return None
    return value.astimezone(tz or clock.local_tz()).replace(tzinfo=None, microsecond=0)


# ---------------------------------------------------------------- the ledger

LEDGER_FIELDS = (Case.id, Case.case_no, Case.created_at, Case.channel, Case.caller_name, Case.caller_phone,
                 Case.type_code, Case.category_id, Case.summary, Case.department_id, Case.handler_id,
                 Case.accept_due_at, Case.reply_due_at, Case.replied_at, Case.closed_at, Case.status,
                 Case.resolved_on_call, Case.survey_result, Case.surveyed_at, Case.reopen_count)


def on_time_text(row: Any, now: datetime) -> str:
    """是/否 as 按时办结率 counts it (closed cases; replied ones by their reply); open ones: 办理中 or 已超期."""
    settled = row.replied_at or (row.closed_at if row.status == "closed" else None)
    if settled is not None:
        return vocab.YES if settled <= row.reply_due_at else vocab.NO
    overdue = now > row.reply_due_at or (row.status == "assigned" and row.accept_due_at is not None
                                         and now > row.accept_due_at)
    return vocab.OVERDUE_OPEN if overdue else vocab.ON_TIME_OPEN


class _Names:
    """Reference names by id, loaded once per export."""

    def __init__(self) -> None:
        self.types = dict(db.session.execute(select(CaseType.code, CaseType.name)).tuples().all())
        self.categories = dict(db.session.execute(select(Category.id, Category.name)).tuples().all())
        self.departments = dict(db.session.execute(select(Department.id, Department.name)).tuples().all())
        self.users = dict(db.session.execute(select(User.id, User.display_name)).tuples().all())

    def user(self, user_id: int | None) -> str:
        return self.users.get(user_id, "") if user_id is not None else ""


def ledger_query(actor: User, f: queries.CaseFilter):
    """The list's filters (and access scope), as plain columns, oldest first."""
    return (queries.build_query(actor, f).with_only_columns(*LEDGER_FIELDS)
            .order_by(Case.created_at, Case.id))


def ledger_rows(actor: User, f: queries.CaseFilter) -> Iterator[list[Any]]:
    """One list of values per case, in LEDGER_COLUMNS order; datetimes local and naive."""
    names = _Names()
    now = clock.now()
    tz = clock.local_tz()
    result = db.session.execute(ledger_query(actor, f).execution_options(yield_per=BATCH))
    for row in result:
        yield [
            row.case_no,
            _local(row.created_at, tz),
            vocab.CHANNEL_ZH.get(row.channel, row.channel),
            access.mask_name(row.caller_name) or "",
            phones.mask_phone(row.caller_phone) or "",
            names.types.get(row.type_code, row.type_code),
            names.categories.get(row.category_id, ""),
            row.summary,
            names.departments.get(row.department_id, "") if row.department_id else "",
            names.user(row.handler_id),
            _local(row.accept_due_at, tz),
            _local(row.reply_due_at, tz),
            _local(row.replied_at, tz),
            on_time_text(row, now),
            _local(row.closed_at, tz),
            vocab.STATUS_ZH.get(row.status, row.status),
            vocab.YES if row.resolved_on_call else vocab.NO,
            vocab.SURVEY_ZH.get(row.survey_result, "") if row.survey_result else "",
            _local(row.surveyed_at, tz),
            row.reopen_count,
        ]


def _header_cells(ws, headers: Iterable[str]) -> list[WriteOnlyCell]:
    cells = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font, cell.fill, cell.alignment, cell.border = HEADER_FONT, HEADER_FILL, HEADER_ALIGN, HEADER_BORDER
        cells.append(cell)
    return cells


_EXCEL_EPOCH = datetime(1899, 12, 30)
_COLUMN_LETTERS = [get_column_letter(i) for i in range(1, 64)]


def _xml_text(value: str) -> str:
    value = xml_safe(value)  # hotline/text.py: what XML 1.0 cannot carry
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _row_xml(number: int, values: list[Any], date_style: int) -> str:
    """One <row> of sheet XML: text as inline strings, datetimes as Excel serials with the date style."""
    parts = [f'<row r="{number}">']
    for index, value in enumerate(values):
        if value is None or value == "":
            continue
        ref = f"{_COLUMN_LETTERS[index]}{number}"
        if isinstance(value, datetime):
            serial = (value - _EXCEL_EPOCH).total_seconds() / 86400
            parts.append(f'<c r="{ref}" s="{date_style}"><v>{serial:.10f}</v></c>')
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            text = _xml_text(str(neutralise(value)))
            parts.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
    parts.append("</row>")
    return "".join(parts)


def write_ledger_xlsx(rows: Iterable[list[Any]], out: IO[bytes], notes: list[tuple[str, str]]) -> int:
    """The workbook (styles, frozen header, column widths, filter, the 说明 sheet) comes from openpyxl in
    write-only mode; the case rows are streamed into its sheet as XML, which is several times faster than
    a cell object per value and keeps memory flat: rows go to a temporary file first, then into the zip."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.freeze_panes = "A2"
    for index, (_key, _header, width) in enumerate(vocab.LEDGER_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.append(_header_cells(ws, [h for _k, h, _w in vocab.LEDGER_COLUMNS]))
    probe = WriteOnlyCell(ws, value=_EXCEL_EPOCH)
    probe.number_format = DATE_FORMAT
    date_style = probe.style_id  # registers the date format in the workbook's styles
    count = 0
    with tempfile.TemporaryFile() as body:
        writer = io.TextIOWrapper(body, encoding="utf-8", newline="")
        for values in rows:
            count += 1
            writer.write(_row_xml(count + 1, values, date_style))
            if count >= MAX_XLSX_ROWS:
                break
        writer.flush()
        ws.auto_filter.ref = f"A1:{get_column_letter(len(vocab.LEDGER_COLUMNS))}{count + 1}"
        info = wb.create_sheet("说明")
        info.column_dimensions["A"].width = 14
        info.column_dimensions["B"].width = 60
        for key, value in [*notes, ("条数", str(count))]:
            info.append([neutralise(key), neutralise(value)])
        package = io.BytesIO()
        wb.save(package)
        package.seek(0)
        sheet_name = "xl/worksheets/sheet1.xml"
        with zipfile.ZipFile(package) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename != sheet_name:
                    target.writestr(item, data)
                    continue
                head, tail = data.decode("utf-8").split("</sheetData>", 1)
                entry = zipfile.ZipInfo(sheet_name, date_time=item.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with target.open(entry, "w", force_zip64=True) as sheet:
                    sheet.write(head.encode("utf-8"))
                    body.seek(0)
                    shutil.copyfileobj(body, sheet, 1 << 20)
                    sheet.write(("</sheetData>" + tail).encode("utf-8"))
        writer.detach()
    return count


def write_csv(header: list[str], rows: Iterable[list[Any]], out: IO[bytes], limit: int = MAX_CSV_ROWS) -> int:
    """UTF-8 with a byte-order mark, so that Excel opens it as UTF-8; CRLF line ends."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for values in rows:
        writer.writerow([_csv_value(v) for v in values])
        count += 1
        if count >= limit:
            break
    text.flush()
    text.detach()
    return count


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return neutralise(value)


def export_ledger(actor: User, f: queries.CaseFilter, fmt: str, notes: list[tuple[str, str]]) -> tuple[IO[bytes], int]:
    """The ledger as a temporary file (rewound), and the number of cases in it."""
    out = tempfile.TemporaryFile()
    rows = ledger_rows(actor, f)
    if fmt == "xlsx":
        count = write_ledger_xlsx(rows, out, notes)
    else:
        count = write_csv([h for _k, h, _w in vocab.LEDGER_COLUMNS], rows, out)
    out.seek(0)
    return out, count


# ---------------------------------------------------------------- the KPI tables

def kpi_row(fig: Figures, label: str) -> list[Any]:
    """A group by its name only: the register's codes (wages, legal_aid) mean nothing to readers."""
    return [label] + [getattr(fig, key) for key, _h, _kind in vocab.KPI_COLUMNS]


def kpi_header(first: str) -> list[str]:
    return [first] + [h for _k, h, _kind in vocab.KPI_COLUMNS]


def _rate_text(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:.1f}"
    return value


def kpi_csv(report: Report, out: IO[bytes]) -> int:
    """One grouping as CSV: the whole period first, then each group; rates as percentages."""
    kinds = ["text"] + [kind for _k, _h, kind in vocab.KPI_COLUMNS]
    rows = [kpi_row(report.totals, "合计")] + [kpi_row(g, g.label) for g in report.groups]
    header = kpi_header(vocab.GROUPING_ZH.get(report.by or "", "分组"))
    if report.by is None:
        header.append("接通率")
        rows[0].append(report.totals.answer_rate)
        kinds.append("rate")
    return write_csv(header, ([_rate_text(v, k) for v, k in zip(row, kinds)] for row in rows), out)


def _kpi_sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]], kinds: list[str],
               text_columns: int = 1) -> None:
    ws = wb.create_sheet(title)
    ws.freeze_panes = f"{get_column_letter(text_columns + 1)}2"
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 14 if text_columns > 1 else 11
    for index in range(text_columns + 1, len(header) + 1):
        ws.column_dimensions[get_column_letter(index)].width = 11
    ws.append(_header_cells(ws, header))
    for row in rows:
        cells = []
        for value, kind in zip(row, kinds):
            cell = WriteOnlyCell(ws, value=neutralise(value))
            if kind == "rate":
                cell.number_format = "0.0%"
            elif kind == "hours":
                cell.number_format = "0.0"
            cells.append(cell)
        ws.append(cells)


def kpi_workbook(current: Report, previous: Report, by_group: dict[str, Report], days: list[dict[str, Any]],
                 out: IO[bytes], notes: list[tuple[str, str]]) -> None:
    """总体 (this period, the previous one and the change), one sheet per grouping, the days, the definitions."""
    wb = Workbook(write_only=True)
    kinds = ["text", "text"] + [kind for _k, _h, kind in vocab.KPI_COLUMNS] + ["rate"]
    header = ["期间", "日期"] + kpi_header("")[1:] + ["接通率"]
    rows = []
    for label, report in (("本期", current), ("上期", previous)):
        dates = f"{report.period.first.isoformat()}~{report.period.last.isoformat()}"
        rows.append([label, dates] + kpi_row(report.totals, label)[1:] + [report.totals.answer_rate])
    diff: list[Any] = ["变化", ""]
    for a, b in zip(rows[0][2:], rows[1][2:]):
        diff.append(a - b if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None)
    rows.append(diff)
    _kpi_sheet(wb, "总体", header, rows, kinds, text_columns=2)
    for by in GROUPINGS:
        report = by_group[by]
        group_kinds = ["text"] + [kind for _k, _h, kind in vocab.KPI_COLUMNS]
        group_rows = [kpi_row(report.totals, "合计")] + [kpi_row(g, g.label) for g in report.groups]
        _kpi_sheet(wb, vocab.GROUP_SHEETS[by], kpi_header(vocab.GROUPING_ZH[by]), group_rows, group_kinds)
    ws = wb.create_sheet("每日")
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 12
    ws.append(_header_cells(ws, ["日期", "受理量", "办结量"]))
    for day in days:
        ws.append([day["day"].isoformat(), day["registered"], day["closed"]])
    info = wb.create_sheet("指标说明")
    info.column_dimensions["A"].width = 14
    info.column_dimensions["B"].width = 70
    info.append(_header_cells(info, ["项目", "说明"]))
    for key, value in [*notes, *vocab.DEFINITIONS]:
        info.append([neutralise(key), neutralise(value)])
    wb.save(out)


def period_notes(period: Period, filters: dict[str, str] | None = None) -> list[tuple[str, str]]:
    notes = [("期间", f"{period.first.isoformat()} 至 {period.last.isoformat()}（按登记日期，{clock.local_tz().key} 时间）"),
             ("导出时间", clock.local_now().strftime("%Y-%m-%d %H:%M"))]
    if filters:
        notes.append(("筛选条件", "；".join(f"{k}={v}" for k, v in sorted(filters.items()))))
    return notes
