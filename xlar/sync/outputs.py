"""Output sheets regenerated on every sync: Balances, Aging, the collector's sheets (Overdue,
Worklist, Forecast), bank lines, the month-end sheets (Journal, MonthlyStats, Revaluation),
Errors, Conflicts."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from xlar.domain.close import COLUMNS as STAT_COLUMNS
from xlar.domain.money import from_minor
from xlar.domain.periods import first_open_day, period_of
from xlar.reports import ledger as reports
from xlar.reports.catalog import ROW_WORDS, Params, Result, run
from xlar.reports.collection import history
from xlar.reports.journal import journal
from xlar.reports.labels import BUCKET_ZH, KIND_ZH
from xlar.schema.messages import localize, sheet_title
from xlar.services import bank, close, fx
from xlar.store.settings import read_settings
from xlar.workbook.writer import Output

if TYPE_CHECKING:
    from xlar.sync.report import SyncReport

MONEY = "#,##0.00;[Red]-#,##0.00"


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
        {3: MONEY, 4: MONEY, 5: "yyyy-mm-dd"}, {3: 2})
    # each row in its own currency, then in the base currency: the base columns add up to the total row
    base = aging.base_currency
    total, total_buckets = aging.total_base
    n = len(labels)
    aging_rows: list[list[object]] = [
        [r.customer, r.name, r.currency, *(r.buckets[label] for label in labels), r.balance,
         *(r.base_buckets[label] for label in labels), r.base_balance] for r in aging.rows]
    aging_rows.append([("合计" if zh else "Total") + f" ({base})", "", None, *([None] * (n + 1)),
                       *(total_buckets[label] for label in labels), total])
    balance_word = "余额" if zh else "Balance"
    aging_out = Output(
        "Aging", (["客户编号", "客户名称", "币种"] if zh else ["Customer", "Name", "Currency"]) + shown_labels
        + [balance_word] + [f"{label} ({base})" for label in [*shown_labels, balance_word]], aging_rows,
        {i: MONEY for i in range(3, 5 + 2 * n)}, {i: 2 for i in range(3, 4 + n)}, totals=1)
    errors = Output(
        "Errors", ["工作表", "行", "列", "代码", "说明"] if zh else ["Sheet", "Row", "Column", "Code", "Message"],
        [[sheet_title(i.sheet, locale), i.excel_row or None, i.column, i.code, localize(i.message, locale)]
         for i in report.issues], {})
    conflicts = Output(
        "Conflicts", ["工作表", "行", "列", "账簿中的值", "您的值", "原因"] if zh else
        ["Sheet", "Row", "Column", "In the store", "Yours", "Reason"],
        [*earlier_conflicts, *([c.sheet, c.key, column, None if c.theirs is None else c.theirs.get(column), value,
                                 c.reason]
                                for c in report.conflicts for column, value in c.yours.items()
                                if c.theirs is None or value != c.theirs.get(column))], {})
    return [balances, aging_out, *_collections(conn, as_of, locale), *_bank(conn, zh), *_month_end(conn, as_of, zh),
            errors, conflicts]


def report_output(name: str, result: Result) -> Output:
    """A catalog report as an output sheet: headers in the locale, amounts and dates formatted."""
    shown = result.shown()
    formats: dict[int, str] = {}
    columns = [shown.iloc[:, i].tolist() for i in range(shown.shape[1])]   # (a column's cells at once)
    for i, key in enumerate(result.frame.columns):
        values = [v for v in columns[i] if v is not None]
        if any(isinstance(v, Decimal) for v in values) and key not in ("avg_days_late", "dso", "trend"):
            formats[i] = MONEY
        elif any(isinstance(v, date) for v in values):
            formats[i] = "yyyy-mm-dd"
    rows = [[None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row] for row in zip(*columns)]
    keys = list(result.frame.columns)
    currency_of = ({i: keys.index("currency") for i, key in enumerate(keys)
                    if formats.get(i) == MONEY and not str(key).startswith("base_")} if "currency" in keys else {})
    words = {word for pair in ROW_WORDS.values() for word in pair}
    totals = 0   # rows such as Total at the end: bold, below the filter
    while totals < len(rows) and any(isinstance(v, str) and v in words for v in rows[-1 - totals]):
        totals += 1
    return Output(name, [str(c) for c in shown.columns], rows, formats, currency_of, totals)


def _collections(conn: Connection, as_of: date, locale: str) -> list[Output]:
    """Overdue (every item past due), Worklist (who to contact today and why) and Forecast
    (expected receipts per week, then per month, in base currency)."""
    params = Params(as_of, as_of, as_of, locale=locale, history=history(conn, as_of))   # read once, for all three
    overdue = report_output("Overdue", run(conn, "overdue", params))
    worklist = report_output("Worklist", run(conn, "worklist", params))
    detail = run(conn, "forecast-detail", params).frame
    zh = locale == "zh-CN"
    dated = detail[detail["expected"].notna()]
    rows: list[list[object]] = []
    for by, word in (("week", "周" if zh else "week"), ("month", "月" if zh else "month")):
        for key, group in dated.groupby(by, sort=True):
            rows.append([word, key, len(group), sum(group["base_open"], Decimal(0))])
    held = detail[detail["expected"].isna()]
    if len(held):
        rows.append(["争议暂缓" if zh else "disputed (held)", None, len(held), sum(held["base_open"], Decimal(0))])
    base = read_settings(conn).base_currency
    forecast = Output("Forecast", ["区间", "起始", "笔数", f"预计收款 ({base})"] if zh else
                      ["Bucket", "Starting", "Items", f"Expected receipts ({base})"], rows,
                      {1: "yyyy-mm-dd", 3: MONEY})
    return [overdue, worklist, forecast]


STAT_ZH = {"opening": "期初", "invoiced": "本期开票", "credited": "本期红字", "received": "本期收款",
           "adjusted": "本期调整", "fx": "汇兑", "closing": "期末"}


def _month_end(conn: Connection, as_of: date, zh: bool) -> list[Output]:
    """Journal: the lines of the months not yet closed; MonthlyStats: every closed month's
    snapshot; Revaluation: what revaluing the current month would book, item by item."""
    book = read_settings(conn)
    lines = journal(conn, first_open_day(book.closed_period), date.max)
    if zh:
        lines["kind"] = lines["kind"].map(lambda kind: KIND_ZH.get(kind, kind))
    journal_out = Output(
        "Journal", ["日期", "单据", "类型", "行", "科目", "客户", "币种", "借方", "贷方", "本币借方", "本币贷方", "摘要"]
        if zh else ["Date", "Document", "Kind", "Line", "Account", "Customer", "Currency", "Debit", "Credit",
                    f"Base debit ({book.base_currency})", f"Base credit ({book.base_currency})", "Memo"],
        lines.values.tolist(), {0: "yyyy-mm-dd", 7: MONEY, 8: MONEY, 9: MONEY, 10: MONEY}, {7: 6, 8: 6})
    stat_rows = []
    closed = close.snapshots(conn, [p.period for p in close.periods_closed(conn)])
    for period, stats in closed.items():
        for stat in stats.values():
            cur = stat.currency
            stat_rows.append([period, stat.customer, cur, *(from_minor(stat.amounts[c], cur) for c in STAT_COLUMNS),
                              *(from_minor(stat.base[c], book.base_currency) for c in STAT_COLUMNS)])
    names = [STAT_ZH[c] for c in STAT_COLUMNS] if zh else [c.capitalize() for c in STAT_COLUMNS]
    base_names = [f"{n} ({book.base_currency})" for n in names]
    stats_out = Output("MonthlyStats", (["期间", "客户编号", "币种"] if zh else ["Period", "Customer", "Currency"])
                       + names + base_names, stat_rows, {i: MONEY for i in range(3, 3 + 2 * len(names))},
                       {i: 2 for i in range(3, 3 + len(names))})
    period = book.current_period or period_of(as_of)
    preview = fx.preview(conn, period, book)
    reval_out = Output(
        "Revaluation",
        ["期间", "客户编号", "单据", "分期", "币种", "到期日", "未结原币", "账面本币", "本月已调", "期末汇率", "重估本币",
         "待调汇差"] if zh else
        ["Period", "Customer", "Document", "Installment", "Currency", "Due", "Open", f"Book ({book.base_currency})",
         "Booked this month", "Period rate", f"Revalued ({book.base_currency})", "Difference to post"],
        [[period, ln.customer, ln.document, ln.installment_no, ln.currency, ln.due_on, ln.open, ln.book_base,
          ln.booked, ln.rate, ln.revalued if ln.rate is not None else None,
          ln.difference if ln.rate is not None else ("无汇率" if zh else "no rate")] for ln in preview.lines],
        {5: "yyyy-mm-dd", 6: MONEY, 7: MONEY, 8: MONEY, 9: "0.000000", 10: MONEY, 11: MONEY}, {6: 4})
    return [journal_out, stats_out, reval_out]


def _bank(conn: Connection, zh: bool) -> list[Output]:
    """BankLines: every imported statement line and what became of it; BankExceptions: the
    queue of lines no receipt was made for, with the reason."""
    rows = bank.statement_rows(conn)
    formats = {3: MONEY, 1: "yyyy-mm-dd"}
    lines = Output(
        "BankLines",
        ["流水号", "记账日", "币种", "金额", "对方户名", "对方账号", "附言", "客户", "发票", "可信度", "依据", "收款单",
         "状态"] if zh else
        ["Line", "Booked", "Currency", "Amount", "Counterparty", "Account", "Remittance", "Customer", "Invoices",
         "Confidence", "Reason", "Receipt", "Status"],
        [[r.line.id, r.line.booked_on, r.line.currency, from_minor(r.line.amount_minor, r.line.currency),
          r.line.counterparty, r.line.counterparty_account, r.line.reference, r.customer, r.line.invoices,
          r.line.confidence, r.line.reason, r.receipt, r.line.exception or r.receipt_status] for r in rows],
        formats, {3: 2})
    queue = Output(
        "BankExceptions",
        ["流水号", "记账日", "币种", "金额", "对方户名", "对方账号", "附言", "建议客户", "原因"] if zh else
        ["Line", "Booked", "Currency", "Amount", "Counterparty", "Account", "Remittance", "Suggested customer",
         "Why it waits"],
        [[r.line.id, r.line.booked_on, r.line.currency, from_minor(r.line.amount_minor, r.line.currency),
          r.line.counterparty, r.line.counterparty_account, r.line.reference, r.customer, r.line.exception]
         for r in rows if r.line.receipt_id is None and r.line.exception], formats, {3: 2})
    return [lines, queue]
