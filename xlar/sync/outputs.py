"""Output sheets regenerated on every sync: Balances, Aging, Errors, Conflicts."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from xlar.reports import ledger as reports
from xlar.workbook.writer import Output

if TYPE_CHECKING:
    from xlar.sync.engine import SyncReport

MONEY = "#,##0.00;[Red]-#,##0.00"
BUCKET_ZH = {"not_due": "未到期", "unapplied": "未核销收款"}


def outputs_for(conn: Connection, as_of: date, report: SyncReport, locale: str,
                earlier_conflicts: list[list[object]]) -> list[Output]:
    """The output sheets; Conflicts keeps its earlier rows (the user deletes them when handled)."""
    zh = locale == "zh-CN"
    aging = reports.aging(conn, as_of)
    labels = list(aging.policy.labels)
    shown_labels = [BUCKET_ZH.get(label, label) for label in labels] if zh else labels
    names = {r.customer: r.name for r in aging.rows}
    balances = Output(
        "Balances",
        ["客户编号", "客户名称", "币种", "余额", f"本币余额 ({aging.base_currency})", "截至"] if zh else
        ["Customer", "Name", "Currency", "Balance", f"Base balance ({aging.base_currency})", "As of"],
        [[b.customer, names.get(b.customer, ""), b.currency, b.balance, b.base_balance, as_of]
         for b in reports.balances(conn, as_of)],
        {3: MONEY, 4: MONEY, 5: "yyyy-mm-dd"})
    total, total_buckets = aging.total_base
    aging_rows = [[r.customer, r.name, r.currency, *(r.buckets[label] for label in labels), r.balance]
                  for r in aging.rows]
    aging_rows.append([("合计" if zh else "Total") + f" ({aging.base_currency})", "", aging.base_currency,
                       *(total_buckets[label] for label in labels), total])
    aging_out = Output(
        "Aging", (["客户编号", "客户名称", "币种"] if zh else ["Customer", "Name", "Currency"]) + shown_labels
        + ["余额" if zh else "Balance"], aging_rows,
        {i: MONEY for i in range(3, 4 + len(labels))})
    errors = Output(
        "Errors", ["工作表", "行", "列", "代码", "说明"] if zh else ["Sheet", "Row", "Column", "Code", "Message"],
        [[i.sheet, i.excel_row or None, i.column, i.code, i.message] for i in report.issues], {})
    conflicts = Output(
        "Conflicts", ["工作表", "行", "列", "账簿中的值", "您的值", "原因"] if zh else
        ["Sheet", "Row", "Column", "In the store", "Yours", "Reason"],
        [*earlier_conflicts, *([c.sheet, c.key, column, None if c.theirs is None else c.theirs.get(column), value,
                                 c.reason]
                                for c in report.conflicts for column, value in c.yours.items()
                                if c.theirs is None or value != c.theirs.get(column))], {})
    return [balances, aging_out, errors, conflicts]
