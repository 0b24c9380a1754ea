"""The words reports are printed in: column headers and document kinds, in zh-CN and en.

Report frames carry stable machine keys (JSON keeps them); `header` and `kind_text` give
what a person reads in the workbook's language (glossary: DESIGN.md §9)."""

from __future__ import annotations

import re

from xlar.schema.sheets import CHOICE_ZH

KIND_ZH = {**CHOICE_ZH, "receipt": "收款单", "refund": "退款单", "opening_balance": "期初余额",
           "transfer_debit": "应收款转入", "transfer_credit": "应收款转出", "netting": "应收应付冲账",
           "fx_adjustment": "期末调汇", "fx_realized": "汇兑损益", "write_off": "核销差额", "reversal": "冲销",
           "deposit_offset": "预收冲抵", "delivery": "销货收入"}
BUCKET_ZH = {"not_due": "未到期", "unapplied": "未核销收款"}

# column key -> (en, zh)
COLUMNS: dict[str, tuple[str, str]] = {
    "customer": ("Customer", "客户编号"), "name": ("Name", "客户名称"), "salesperson": ("Salesperson", "业务员"),
    "credit_class": ("Credit class", "信用等级"), "currency": ("Currency", "币种"), "date": ("Date", "日期"),
    "document": ("Document", "单据号码"), "kind": ("Type", "类型"), "reference": ("Reference", "摘要/发票号码"),
    "installment": ("Installment", "期数"), "due": ("Due", "到期日"), "expected": ("Expected", "预计收款日"),
    "debit": ("Debit", "借方"), "credit": ("Credit", "贷方"), "balance": ("Balance", "余额"),
    "base_debit": ("Base debit", "本币借方"), "base_credit": ("Base credit", "本币贷方"),
    "base_balance": ("Base balance", "本币余额"), "amount": ("Amount", "金额"), "base_amount": ("Base amount", "本币金额"),
    "collected": ("Collected", "已收金额"), "open": ("Open", "未收金额"), "base_open": ("Base open", "本币未收"),
    "days_overdue": ("Days overdue", "逾期天数"), "days_to_due": ("Days to due", "距到期天数"),
    "bucket": ("Bucket", "账龄区间"), "disputed": ("Disputed", "有争议"), "account": ("Account", "科目"),
    "period": ("Period", "期间"), "opening": ("Opening", "期初余额"), "closing": ("Closing", "期末余额"),
    "base_opening": ("Base opening", "本币期初"), "base_closing": ("Base closing", "本币期末"),
    "allowance": ("Allowance", "坏账准备"), "allowance_pct": ("Allowance %", "计提比例%"),
    "invoiced": ("Invoiced", "本期开票"), "received": ("Received", "本期收款"), "credited": ("Credited", "本期红字"),
    "due_in_period": ("Fell due", "本期到期"), "collected_of_due": ("Collected of it", "其中已收"),
    "collection_rate": ("Collected %", "回款率%"), "settled": ("Invoices settled", "结清张数"),
    "avg_days_to_collect": ("Avg days to collect", "平均回款天数"), "avg_days_late": ("Avg days late", "平均逾期天数"),
    "dso": ("DSO", "应收周转天数"), "on": ("Date", "日期"), "settled_on": ("Settled", "结清日"),
    "days_to_settle": ("Days to settle", "回款天数"), "days_late": ("Days late", "逾期天数"),
    "on_time_pct": ("Paid on time %", "按期付款率%"), "max_days_overdue": ("Max days overdue", "最长逾期天数"),
    "trend": ("Trend (days)", "趋势（天）"), "score": ("Score", "信用评分"), "suggested_class": ("Suggested class", "建议等级"),
    "credit_limit": ("Credit limit", "信用额度"), "suggested_limit": ("Suggested limit", "建议额度"),
    "invoices": ("Invoices", "发票"), "week": ("Week of", "周起始日"), "month": ("Month", "月份"),
    "count": ("Items", "笔数"), "level": ("Level", "催收级别"), "channel": ("Channel", "催收方式"),
    "reason": ("Why", "原因"), "overdue": ("Overdue", "逾期金额"), "oldest_days": ("Oldest days overdue", "最长逾期天数"),
    "promise": ("Promise", "付款承诺"), "last_contact": ("Last contact", "上次联系"), "next_action": ("Next action", "下一步"),
    "contact": ("Contact", "联系人"), "phone": ("Phone", "电话"), "email": ("Email", "邮箱"),
    "held_disputed": ("Disputed (held)", "争议暂缓金额"), "customers": ("Customers", "客户数"),
    "delivery": ("Delivery", "销货单号"), "line_kind": ("Kind", "类型"), "other": ("Credits and other", "红字及其他"),
    "held": ("Held", "暂缓"), "line": ("Line", "行号"), "item": ("Item", "物料编码"), "qty": ("Quantity", "数量"),
    "delivered_net": ("Delivered net", "出货未税金额"), "billed_qty": ("Billed qty", "已开票数量"),
    "billed_delivered_net": ("Delivered value billed", "已开票出货金额"), "invoiced_net": ("Invoiced net", "发票未税金额"),
    "difference": ("Difference", "差异"), "unbilled_qty": ("Unbilled qty", "未开票数量"),
    "invoice": ("Invoice", "发票单号"), "delivered_price": ("Delivered price", "出货单价"),
    "invoiced_price": ("Invoiced price", "发票单价"), "price_difference": ("Price difference", "单价差异"),
    "amount_difference": ("Amount difference", "金额差异"), "book_rate": ("Book rate", "原汇率"),
    "book_base": ("Book base", "账面本币"), "period_rate": ("Period rate", "期末汇率"), "revalued": ("Revalued", "重估本币"),
    "booked": ("Booked this month", "本月已调"), "to_post": ("To post", "待调汇差"), "type": ("Type", "类别"),
    "rate": ("Rate", "汇率"), "gain": ("Gain", "收益"), "loss": ("Loss", "损失"), "net": ("Net", "净额"),
    "contract": ("Contract", "合同编号"), "scheduled": ("Scheduled", "计划金额"), "outstanding": ("Outstanding", "未收金额"),
}


def header(key: str, locale: str) -> str:
    """The column header of KEY in LOCALE; a base-currency column names its currency outside."""
    en, zh = COLUMNS.get(key, (key, key))
    return zh if locale == "zh-CN" else en


def kind_text(kind: str, locale: str) -> str:
    if locale == "zh-CN":
        return KIND_ZH.get(kind, kind)
    return kind.replace("_", " ").capitalize()


def bucket_text(label: str, locale: str) -> str:
    if locale == "zh-CN":
        return BUCKET_ZH.get(label, label + "天" if label[0].isdigit() else label)
    return {"not_due": "Not due", "unapplied": "Unapplied"}.get(label, label + " days" if label[0].isdigit() else label)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")   # no cell can hold these (XML 1.0)


def neutral(value: object) -> object:
    """A text cell an outsider's spreadsheet would run as a formula is written as text ('=…);
    control characters no cell can hold become spaces."""
    if not isinstance(value, str):
        return value
    value = _UNWRITABLE.sub(" ", value)
    return "'" + value if value.startswith(_FORMULA_START) else value
