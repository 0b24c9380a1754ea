"""What each input column says to the person typing in it, in either language.

The workbook shows it twice: as the column's input message (Excel's data-validation prompt,
seen when a cell of the column is selected) and as the header's comment. It says whether the
column is required, what kind of value it takes, and the column's note.
"""

from __future__ import annotations

from xlar.schema.columns import Column, Kind

# The zh-CN text of every column note (DESIGN.md §9 vocabulary); a test holds that none is missing.
NOTES_ZH: dict[str, str] = {
    "billed instead of this customer": "开票给总公司，而不是本客户",
    "1-31; blank = month end": "1-31；空白 = 月末",
    "for AR/AP netting": "用于应收应付对冲",
    "the account it pays from: bank statement lines are matched by it": "客户的付款账号：银行流水按此账号匹配客户",
    "its receivable account in the general ledger; blank = the book's (Settings)":
        "总账中的应收科目；空白 = 账套设置中的科目",
    "closing_date: the day of the next month it falls due": "按结账日：次月的第几天到期",
    "after the invoice date": "自发票日期起",
    "added to the months": "在月数之外再加的天数",
    "ISO code; blank = the customer's currency": "ISO 币种代码；空白 = 客户的币种",
    "blank = posted; draft lines are neither billed nor booked": "空白 = 已审核；草稿行不开票也不记账",
    "what invoices bill of the line": "发票已开的数量",
    "blank on a new row: xlar numbers it (DRAFT-n, the series number once posted); a number you type is kept "
    "as Your ref.": "新行留空即可：xlar 自动编号（草稿为 DRAFT-n，审核后为正式单号）；您录入的单号保存在“自编号”列",
    "your own number for it: InvoiceLines, Allocations, credit notes and receipts' references may name it in "
    "the sync that enters it": "您自己的编号：同一次同步中，发票明细、核销、红字发票和收款参考号都可以用它指代本单",
    "to the base currency; blank for base-currency documents": "折合本位币的汇率；本位币单据留空",
    "an invoice without lines: its amount before tax; with lines: computed from them (grey)":
        "无明细的发票：录入未税金额；有明细时由明细计算（灰色显示）",
    "without lines: blank = the net x the setting tax_rate": "无明细时：空白 = 未税金额 × 设置中的税率 tax_rate",
    "without lines: blank = net + tax; the total alone is split by the setting tax_rate":
        "无明细时：空白 = 未税金额 + 税额；只录含税金额时按设置中的税率拆分",
    "still owed on the sync's date, after receipts and credit notes (posted documents)":
        "截至同步日期尚未收回的金额（已扣除收款和红字发票，仅已审核单据）",
    "blank = from payment terms": "空白 = 按付款条件计算",
    "blank = the due date": "空白 = 到期日",
    "deposits and installments follow the order": "订金和分期按订单处理",
    "credit notes: the invoice credited": "红字发票：所冲销的原发票",
    "set to posted to post": "设为“已审核”即过账",
    "yes: the customer disputes it and it is held out of dunning; blank: it is not":
        "是：客户有异议，暂不催收；空白：无异议",
    "computed": "由 xlar 计算",
    "one row per setting: change its value, not its name": "每个设置项一行：修改“值”，不要修改设置项名称",
    "your own number for it: Allocations may name it in the sync that enters it":
        "您自己的编号：同一次同步中，核销表可以用它指代本单",
    "bank acceptance notes: the note's maturity date": "银行承兑汇票：票据到期日",
    "invoice numbers here are matched when the receipt is approved": "此处写明的发票号在收款单核准时自动核销",
    "posted = confirmed; approved by an approver who did not enter it": "已审核 = 已确认；由非录入人的核准人核准",
    "blank on a write-off row": "核销差额行留空",
    "matching by product: the invoice lines' item": "按物料核销：发票明细中的物料",
    "blank = manual; write_off needs a reason; transfer moves a receipt to the invoice's customer":
        "空白 = 手工；核销差额须填原因；转销把收款转到发票所属客户",
    "write-off rows: one of the setting write_off_reasons": "核销差额行：设置 write_off_reasons 中的一个原因",
    "suggestions say why here": "系统建议在此说明理由",
    "the latest of: both documents' dates, the first open day, the first day both have room (after an undo: its day)":
        "取以下最晚者：两张单据的日期、第一个未结账日、两张单据都有可核销余额之日（撤销之后：撤销之日）",
    "delete a row to undo its match; change its amount to rematch": "删除一行即撤销该笔核销；修改金额即重新核销",
    "a date here undoes the match on that day (with a changed amount: when the change takes effect); blank = "
    "the day of the sync": "填写日期即于该日撤销此笔核销（同时修改金额：即修改生效之日）；空白 = 同步当天",
    "a customer with a vendor code": "有供应商编号的客户",
    "cleared by netting documents": "已通过对冲单冲销的金额",
    "YYYY-MM": "格式 YYYY-MM",
    "* = every class without levels of its own": "* = 所有未单独设置级别的信用等级",
    "negative = days before the due date (a friendly reminder)": "负数 = 到期前的天数（友情提醒）",
    "placeholders: {name} {customer} {amount} {currency} {as_of} {company} {days} {level}":
        "占位符：{name} {customer} {amount} {currency} {as_of} {company} {days} {level}",
}

_KINDS = {
    Kind.TEXT: ("text", "文本"), Kind.CODE: ("a code or number, as text", "编码（按文本）"),
    Kind.INT: ("a whole number", "整数"), Kind.DECIMAL: ("a number", "数字"),
    Kind.MONEY: ("an amount in the row's currency", "金额（本行币种）"),
    Kind.RATE: ("an exchange rate", "汇率"), Kind.PERCENT: ("a percentage, such as 13%", "百分比，如 13%"),
    Kind.DATE: ("a date, yyyy-mm-dd", "日期，yyyy-mm-dd"), Kind.PERIOD: ("a month, YYYY-MM", "月份，YYYY-MM"),
    Kind.CHOICE: ("one of the list", "从下拉列表中选择"),
}

# Excel keeps an input message's title to 32 characters and its text to 255.
TITLE_LIMIT, PROMPT_LIMIT = 32, 255


def note(col: Column, locale: str) -> str:
    return NOTES_ZH.get(col.note, col.note) if locale == "zh-CN" else col.note


def prompt(col: Column, locale: str) -> tuple[str, str]:
    """The input message of COL: a title (its header) and what to type."""
    zh = locale == "zh-CN"
    en_kind, zh_kind = _KINDS[col.kind]
    if col.computed:
        head = "由 xlar 计算，无需录入" if zh else "computed by xlar: not typed"
    elif col.required:
        head = f"必填：{zh_kind}" if zh else f"required: {en_kind}"
    else:
        head = zh_kind if zh else en_kind
    text = head + ("。" if zh else ". ") + note(col, locale) if col.note else head
    return col.label(locale)[:TITLE_LIMIT], text[:PROMPT_LIMIT]


LEGEND = {
    "en": "Headers: yellow = required; white = optional; grey = computed by xlar (not typed). "
          "Select a cell to see what its column takes.",
    "zh-CN": "表头：黄色 = 必填；白色 = 选填；灰色 = 由 xlar 计算（无需录入）。选中单元格可查看该列的填写说明。",
}
