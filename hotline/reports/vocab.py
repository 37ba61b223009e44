"""The Chinese words of the 台账 (ledger) as inspectors read it: column headers and values.

The export writes them and the import reads them (codes and the English names are read too).
These are the register's own terms, not interface text, so they are not in the translation
catalogue: an exported ledger reads the same whatever the language of the page that made it.

One glossary: each term is the word the Chinese pages use for the same thing (UI_TERMS names the page's
message), so an inspector reading the ledger and a supervisor reading the page see the same words;
tests/test_clean_chinese.py fails when they drift apart. Older ledgers' words are still read on import.
"""
from __future__ import annotations

CHANNEL_ZH = {"hotline": "12351热线", "radio": "电台热线", "voicemail": "语音留言", "walk_in": "来访",
              "letter": "来信", "online": "网上"}
STATUS_ZH = {"registered": "已登记", "assigned": "已派单", "accepted": "已签收", "replied": "已答复",
             "closed": "已办结"}
SURVEY_ZH = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意",
             "unreachable": "无法联系"}
# Words older ledgers used for the same values (read on import).
CHANNEL_ALIASES = {"电台直播": "radio"}
SURVEY_ALIASES = {"联系不上": "unreachable"}
YES, NO = "是", "否"
ON_TIME_OPEN, OVERDUE_OPEN = "办理中", "已超期"

# (key, header, column width) in the order of the sheet.
LEDGER_COLUMNS: list[tuple[str, str, int]] = [
    ("case_no", "工单编号", 16),
    ("created_at", "登记时间", 17),
    ("channel", "渠道", 10),
    ("caller_name", "来电人", 8),
    ("caller_phone", "电话", 14),
    ("type", "诉求类型", 10),
    ("category", "类别", 14),
    ("summary", "诉求摘要", 44),
    ("department", "承办部门", 16),
    ("handler", "承办人", 9),
    ("accept_due_at", "签收时限", 17),
    ("reply_due_at", "答复时限", 17),
    ("replied_at", "答复时间", 17),
    ("on_time", "是否按时", 9),
    ("closed_at", "办结时间", 17),
    ("status", "状态", 8),
    ("resolved_on_call", "即时办结", 9),
    ("survey_result", "回访结果", 10),
    ("surveyed_at", "回访时间", 17),
    ("reopen_count", "重办次数", 9),
]
LEDGER_HEADERS = {key: header for key, header, _w in LEDGER_COLUMNS}

# The page's message (msgid) for each ledger column the pages show too: its Chinese must be the header.
UI_TERMS = {
    "case_no": "Number", "created_at": "Registered at", "channel": "Channel", "caller_name": "Caller",
    "caller_phone": "Phone", "type": "Type", "category": "Category", "summary": "Summary",
    "department": "Department", "handler": "Handler", "accept_due_at": "Accept due", "reply_due_at": "Reply due",
    "status": "Status", "resolved_on_call": "Closed on the call", "survey_result": "Survey result",
}

# Columns the import reads besides the ledger's (key -> header).
IMPORT_EXTRA_COLUMNS = {"detail": "详细内容", "answer": "答复内容", "urgent": "紧急"}

# The KPI tables: (key, header, kind) with kind count | rate | hours.
KPI_COLUMNS: list[tuple[str, str, str]] = [
    ("registered", "受理量", "count"),
    ("closed", "办结量", "count"),
    ("closure_rate", "办结率", "rate"),
    ("on_time", "按时办结量", "count"),
    ("on_time_rate", "按时办结率", "rate"),
    ("overdue_open", "当前超期", "count"),
    ("on_call", "即时办结量", "count"),
    ("first_contact_rate", "即时办结率", "rate"),
    ("surveyed", "回访量", "count"),
    ("survey_rate", "回访率", "rate"),
    ("satisfied", "满意量", "count"),
    ("satisfaction_rate", "满意率", "rate"),
    ("attempted", "回访尝试量", "count"),
    ("response_rate", "响应率", "rate"),
    ("resolved", "解决量", "count"),
    ("resolution_rate", "解决率", "rate"),
    ("reopened", "重办量", "count"),
    ("reopen_rate", "重办率", "rate"),
    ("avg_reply_hours", "平均答复时长(小时)", "hours"),
]
GROUPING_ZH = {"category": "类别", "type": "诉求类型", "department": "承办部门", "handler": "承办人",
               "channel": "渠道", "org": "组织（含下级）"}
GROUP_SHEETS = {"category": "按类别", "type": "按诉求类型", "department": "按承办部门", "handler": "按承办人",
                "channel": "按渠道", "org": "按组织"}
DEFINITIONS = [
    ("受理量", "期间内（按本地日期）登记的工单数。"),
    ("办结率", "期间内登记、现已办结的工单 ÷ 受理量。"),
    ("按时办结率", "已办结工单中，在答复时限前答复（或即时办结、并单）的 ÷ 已办结工单。"),
    ("当前超期", "此刻仍未办结且已过正在计时的时限（已派单未签收的按签收时限，其余按答复时限）的工单数，"
             "不限登记日期；与统计报表页、超期看板同一口径。"),
    ("即时办结率", "来电时即办结的工单 ÷ 受理量。"),
    ("回访率", "已办结工单中回访到来电人的（满意、基本满意、不满意）÷ 已办结工单；联系不上不计入。"),
    ("满意率", "（满意 + 基本满意）÷ 回访量。"),
    ("响应率", "已办结工单中回访联系上来电人的 ÷ 已办结工单中做过回访的（含联系不上）。"),
    ("解决率", "回访中来电人表示问题已解决的 ÷ 回访联系上的。"),
    ("重办率", "曾被重办的工单 ÷ 已办结工单。"),
    ("接通率", "已接听来电 ÷ 呼入来电（话务系统数据）。"),
    ("平均答复时长", "登记至答复的平均小时数（不含即时办结）。"),
]
