"""The workbook's sheets (DESIGN.md §5): every input sheet, declared once."""

from __future__ import annotations

from xlar.schema.columns import Column, Kind, SheetSchema

K = Kind

DOC_STATUSES = ("draft", "posted", "void")
RECEIPT_STATUSES = ("draft", "posted", "approved", "void")
INVOICE_KINDS = ("invoice", "credit_note", "debit_note", "deposit_invoice")

# How choices read in a zh-CN workbook; the reader accepts the code or either label.
CHOICE_ZH: dict[str, str] = {
    "draft": "草稿", "posted": "已审核", "approved": "已核准", "void": "作废",
    "invoice": "销售发票", "credit_note": "红字发票", "debit_note": "借项通知单",
    "deposit_invoice": "预开发票", "bank": "银行", "cash": "现金", "note": "银行承兑汇票",
    "offset": "冲账", "delivery": "销货", "return": "销退", "active": "正常", "blocked": "冻结",
    "inactive": "停用", "invoice_date": "按发票日", "month_end": "月结", "closing_date": "结账日",
    "open": "执行中", "closed": "已结案", "cancelled": "已取消", "phone": "电话", "email": "邮件",
    "visit": "拜访", "letter": "函件", "wechat": "微信",
    "manual": "手工", "auto": "自动", "fifo": "先进先出", "due_date": "按到期日", "exact": "金额相符",
    "reference": "按参考号", "product": "按物料", "installment": "按分期", "write_off": "核销差额",
    "transfer": "转销", "yes": "是", "no": "否",
}


# Each setting (store.settings.DEFAULTS) as a zh-CN book names it on its Settings sheet; the reader
# takes the label or the key. A test holds that every setting has one.
SETTING_ZH: dict[str, str] = {
    "company": "公司名称", "base_currency": "本位币", "current_period": "当前期间", "closed_period": "已结账期间",
    "locale": "语言", "aging_basis": "账龄计算依据", "aging_buckets": "账龄分段（天）", "match_mode": "核销方式",
    "revenue_recognition": "收入确认时点", "delivery_difference": "销货与开票差额处理", "tax_rate": "默认税率（%）",
    "account_receivable": "应收账款科目", "account_revenue": "主营业务收入科目", "account_output_vat": "销项税额科目",
    "account_bank": "银行存款科目", "account_cash": "库存现金科目", "account_opening": "期初余额对方科目",
    "account_unbilled": "应收暂估科目", "account_vat_unbilled": "待转销项税额科目", "account_advances": "预收账款科目",
    "account_notes": "应收票据科目", "account_payable": "应付账款科目", "account_fx_gain": "汇兑收益科目",
    "account_fx_loss": "汇兑损失科目", "account_write_off": "核销差额科目", "credit_warning_classes": "超信用额度仅提醒的等级",
    "approvers": "核准人", "admins": "管理员", "receipt_clearing": "收款冲账时点", "match_at_approval": "收款核准时核销方式",
    "write_off_tolerance": "核销差额容差", "write_off_reasons": "核销差额原因", "bank_auto_confidence": "银行流水自动生成收款的可信度",
    "bad_debt_allowance": "坏账准备计提比例（%）", "company_address": "公司地址", "company_phone": "公司电话",
    "company_email": "公司邮箱", "company_tax_id": "公司税号", "clerks": "录入员", "authentication": "身份验证方式",
}
CHOICE_ZH.update(SETTING_ZH)
# The allowed values of the settings that have them (store.settings.CHOICES) as a zh-CN book shows
# them; the store keeps the code, the sheet reads either.
SETTING_VALUE_ZH: dict[str, dict[str, str]] = {
    "match_mode": {"document": "按单据", "product": "按物料"},
    "revenue_recognition": {"invoice": "开票时确认", "delivery": "销货时确认"},
    "delivery_difference": {"reverse": "冲回暂估", "difference": "只记差额"},
    "locale": {"zh-CN": "zh-CN", "en": "en"},
    "receipt_clearing": {"approved": "核准后冲账", "confirmed": "确认后冲账"},
    "match_at_approval": {"reference": "按参考号", "fifo": "先进先出", "none": "不自动核销"},
    "authentication": {"claimed": "按填写的用户名", "database": "按数据库登录名"},
}


def setting_value(key: str, value: str, locale: str) -> str:
    """A setting's value as a LOCALE book shows it."""
    return SETTING_VALUE_ZH.get(key, {}).get(value, value) if locale == "zh-CN" else value


def setting_code(key: str, shown: str) -> str:
    """The value the store keeps for SHOWN (a label or the code itself)."""
    return next((code for code, label in SETTING_VALUE_ZH.get(key, {}).items() if shown == label), shown)
CHOICE_ZH_EARLIER: dict[str, tuple[str, ...]] = {"product": ("按品号",)}   # labels of earlier books, still read


def _money(key: str, en: str, zh: str, **kw: object) -> Column:
    return Column(key, K.MONEY, en, zh, currency_from="currency", **kw)  # type: ignore[arg-type]  # kw holds Column's other keyword arguments, typed as one dict


CUSTOMER = Column("customer", K.CODE, "Customer", "客户编号", required=True, lookup="customers")
CURRENCY = Column("currency", K.CODE, "Currency", "币种", max_len=3, lookup="currencies", width=8,
                  note="ISO code; blank = the customer's currency")
FX_RATE = Column("fx_rate", K.RATE, "FX rate", "汇率", width=10,
                 note="to the base currency; blank for base-currency documents")

SETTINGS = SheetSchema(
    "Settings", "设置", "tblSettings", (
        Column("key", K.CHOICE, "Setting", "设置项", required=True, width=30, choices=tuple(SETTING_ZH),
               note="one row per setting: change its value, not its name"),
        Column("value", K.TEXT, "Value", "值", width=40),
    ), key=("key",), store_table="settings",
    purpose_en="Company-wide settings of the book", purpose_zh="账套设置",
)

CUSTOMERS = SheetSchema(
    "Customers", "客户", "tblCustomers", (
        Column("code", K.CODE, "Code", "客户编号", max_len=32, required=True, width=10),
        Column("name", K.TEXT, "Name", "客户名称", max_len=200, required=True, width=30),
        Column("category", K.TEXT, "Category", "客户类别", max_len=64),
        Column("parent_code", K.CODE, "Head office", "总公司编号", max_len=32, lookup="customers",
               note="billed instead of this customer"),
        Column("salesperson", K.TEXT, "Salesperson", "业务员", max_len=64),
        Column("currency", K.CODE, "Currency", "币种", max_len=3, required=True, lookup="currencies", width=8),
        Column("payment_terms", K.CODE, "Payment terms", "付款条件", max_len=32, lookup="terms"),
        Column("closing_day", K.INT, "Closing day", "结账日", width=8, note="1-31; blank = month end"),
        _money("credit_limit", "Credit limit", "信用额度"),
        Column("credit_class", K.CODE, "Credit class", "信用等级", max_len=16, width=8),
        Column("tax_id", K.CODE, "Tax ID", "税号", width=20),
        Column("contact", K.TEXT, "Contact", "联系人", max_len=100),
        Column("phone", K.TEXT, "Phone", "电话", max_len=64),
        Column("email", K.TEXT, "Email", "邮箱", max_len=200, width=24),
        Column("address", K.TEXT, "Address", "地址", width=30),
        Column("vendor_code", K.CODE, "Vendor code", "供应商编号", max_len=32, note="for AR/AP netting"),
        Column("bank_account", K.CODE, "Bank account", "付款账号", width=24,
               note="the account it pays from: bank statement lines are matched by it"),
        Column("ar_account", K.CODE, "AR account", "应收科目", max_len=32, width=10,
               note="its receivable account in the general ledger; blank = the book's (Settings)"),
        Column("status", K.CHOICE, "Status", "状态", choices=("active", "blocked", "inactive"), width=8),
    ), key=("code",), store_table="customers",
)

PAYMENT_TERMS = SheetSchema(
    "PaymentTerms", "付款条件", "tblPaymentTerms", (
        Column("code", K.CODE, "Code", "代码", max_len=32, required=True, width=10),
        Column("name", K.TEXT, "Name", "名称", max_len=200, required=True, width=28),
        Column("basis", K.CHOICE, "Basis", "起算方式", required=True,
               choices=("invoice_date", "month_end", "closing_date")),
        Column("days", K.INT, "Days", "天数", required=True, width=8,
               note="closing_date: the day of the next month it falls due"),
        Column("discount_days", K.INT, "Discount days", "折扣天数", width=10),
        Column("discount_pct", K.PERCENT, "Discount %", "折扣率", width=10),
    ), key=("code",), store_table="payment_terms",
)

INSTALLMENT_TERMS = SheetSchema(
    "InstallmentTerms", "分期条件", "tblInstallmentTerms", (
        Column("code", K.CODE, "Code", "代码", max_len=32, required=True, width=10),
        Column("period_no", K.INT, "Period", "期数", required=True, width=8),
        Column("percent", K.PERCENT, "Percent", "比例", required=True, width=10),
        Column("offset_months", K.INT, "Months after", "间隔月数", width=10, note="after the invoice date"),
        Column("offset_days", K.INT, "Days after", "间隔天数", width=10, note="added to the months"),
    ), key=("code", "period_no"), store_table="installment_terms",
)

CONTRACTS = SheetSchema(
    "Contracts", "合同", "tblContracts", (
        Column("number", K.CODE, "Contract no.", "合同编号", required=True),
        CUSTOMER,
        Column("sign_date", K.DATE, "Signed", "签订日期", width=12),
        _money("amount", "Amount", "合同金额"),
        CURRENCY,
        Column("payment_terms", K.CODE, "Payment terms", "付款条件", max_len=32, lookup="terms"),
        Column("installment_terms", K.CODE, "Installments", "分期条件", max_len=32, lookup="installments"),
        Column("status", K.CHOICE, "Status", "状态", choices=("open", "closed", "cancelled"), width=8),
    ), key=("number",), store_table="contracts",
)

ORDERS = SheetSchema(
    "Orders", "订单", "tblOrders", (
        Column("number", K.CODE, "Order no.", "订单编号", required=True),
        CUSTOMER,
        Column("date", K.DATE, "Date", "订单日期", required=True, width=12),
        _money("amount", "Amount", "订单金额"),
        CURRENCY,
        Column("deposit_pct", K.PERCENT, "Deposit %", "订金比例", width=10),
        Column("contract", K.CODE, "Contract", "合同编号"),
        Column("installment_terms", K.CODE, "Installments", "分期条件", max_len=32, lookup="installments"),
    ), key=("number",), store_table="orders",
)

DELIVERIES = SheetSchema(
    "Deliveries", "销货单", "tblDeliveries", (
        Column("number", K.CODE, "Delivery no.", "单号", required=True),
        Column("line", K.INT, "Line", "行号", required=True, width=6),
        Column("kind", K.CHOICE, "Kind", "类型", choices=("delivery", "return"), width=9),
        Column("date", K.DATE, "Date", "日期", required=True, width=12),
        CUSTOMER,
        Column("order", K.CODE, "Order", "订单编号"),
        Column("item", K.CODE, "Item", "物料编码", required=True, aliases=("品号",)),
        Column("qty", K.DECIMAL, "Quantity", "数量", required=True, width=10),
        Column("unit_price", K.DECIMAL, "Unit price", "单价", width=12),
        Column("tax_rate", K.PERCENT, "Tax rate", "税率", width=8),
        CURRENCY,
        Column("salesperson", K.TEXT, "Salesperson", "业务员", max_len=64),
        Column("status", K.CHOICE, "Status", "状态", choices=("draft", "posted"), width=8,
               note="blank = posted; draft lines are neither billed nor booked"),
        Column("billed_qty", K.DECIMAL, "Billed qty", "已开票数量", width=10, computed=True,
               note="what invoices bill of the line"),
    ), key=("number", "line"), store_table="deliveries",
)

INVOICES = SheetSchema(
    "Invoices", "发票", "tblInvoices", (
        Column("number", K.CODE, "Invoice no.", "发票单号",
               note="blank on a new row: xlar numbers it (DRAFT-n, the series number once posted); a number "
                    "you type is kept as Your ref."),
        Column("your_ref", K.CODE, "Your ref.", "自编号",
               note="your own number for it: InvoiceLines, Allocations, credit notes and receipts' references "
                    "may name it in the sync that enters it"),
        Column("kind", K.CHOICE, "Kind", "类型", choices=INVOICE_KINDS, width=12),
        Column("date", K.DATE, "Date", "发票日期", required=True, width=12),
        CUSTOMER,
        CURRENCY,
        FX_RATE,
        _money("net", "Net", "未税金额",
               note="an invoice without lines: its amount before tax; with lines: computed from them (grey)"),
        _money("tax", "Tax", "税额", note="without lines: blank = the net x the setting tax_rate"),
        _money("total", "Total", "含税金额",
               note="without lines: blank = net + tax; the total alone is split by the setting tax_rate"),
        _money("open", "Open", "未收金额", computed=True,
               note="still owed on the sync's date, after receipts and credit notes (posted documents)"),
        Column("due_date", K.DATE, "Due date", "到期日", width=12, note="blank = from payment terms"),
        Column("expected_date", K.DATE, "Expected receipt", "预计收款日", width=12, note="blank = the due date"),
        Column("order", K.CODE, "Order", "订单编号", note="deposits and installments follow the order"),
        Column("original", K.CODE, "Original invoice", "原发票号", note="credit notes: the invoice credited"),
        Column("source", K.TEXT, "Source", "来源单据", max_len=100),
        Column("fapiao_no", K.CODE, "Fapiao no.", "发票号码"),
        Column("status", K.CHOICE, "Status", "状态", choices=DOC_STATUSES, width=8,
               note="set to posted to post"),
        Column("disputed", K.CHOICE, "Disputed", "有争议", choices=("yes",), width=8,
               note="yes: the customer disputes it and it is held out of dunning; blank: it is not"),
        Column("memo", K.TEXT, "Memo", "备注", width=24),
    ), key=("number",), store_table="documents", lines="InvoiceLines",
)

INVOICE_LINES = SheetSchema(
    "InvoiceLines", "发票明细", "tblInvoiceLines", (
        Column("invoice", K.CODE, "Invoice no.", "发票单号", required=True),
        Column("line", K.INT, "Line", "行号", required=True, width=6),
        Column("delivery", K.CODE, "Delivery no.", "销货单号"),
        Column("delivery_line", K.INT, "Delivery line", "销货行号", width=8),
        Column("item", K.CODE, "Item", "物料编码", required=True, aliases=("品号",)),
        Column("qty", K.DECIMAL, "Quantity", "数量", required=True, width=10),
        Column("unit_price", K.DECIMAL, "Unit price", "单价", required=True, width=12),
        Column("tax_rate", K.PERCENT, "Tax rate", "税率", width=8),
        Column("net", K.MONEY, "Net", "未税金额", note="computed", computed=True),
        Column("tax", K.MONEY, "Tax", "税额", note="computed", computed=True),
    ), key=("invoice", "line"), store_table="document_lines", parent_key="invoice",
)

RECEIPTS = SheetSchema(
    "Receipts", "收款单", "tblReceipts", (
        Column("number", K.CODE, "Receipt no.", "收款单号",
               note="blank on a new row: xlar numbers it (DRAFT-n, the series number once posted); a number "
                    "you type is kept as Your ref."),
        Column("your_ref", K.CODE, "Your ref.", "自编号",
               note="your own number for it: Allocations may name it in the sync that enters it"),
        Column("date", K.DATE, "Date", "收款日期", required=True, width=12),
        CUSTOMER,
        Column("method", K.CHOICE, "Method", "收款方式", choices=("bank", "cash", "note", "offset"), width=9),
        CURRENCY,
        FX_RATE,
        _money("amount", "Amount", "收款金额", required=True),
        Column("maturity_date", K.DATE, "Note matures", "票据到期日", width=12,
               note="bank acceptance notes: the note's maturity date"),
        Column("reference", K.TEXT, "Reference", "参考号", max_len=200, width=20,
               note="invoice numbers here are matched when the receipt is approved"),
        Column("status", K.CHOICE, "Status", "状态", choices=RECEIPT_STATUSES, width=8,
               note="posted = confirmed; approved by an approver who did not enter it"),
        Column("entered_by", K.TEXT, "Entered by", "录入人", width=10, computed=True),
        Column("approved_by", K.TEXT, "Approved by", "核准人", width=10, computed=True),
        Column("memo", K.TEXT, "Memo", "备注", width=24),
    ), key=("number",), store_table="documents",
)

MATCH_METHODS = ("manual", "auto", "fifo", "due_date", "exact", "reference", "product", "installment",
                 "write_off", "transfer")

ALLOCATIONS = SheetSchema(
    "Allocations", "核销", "tblAllocations", (
        Column("credit_doc", K.CODE, "Receipt / credit", "收款或红字单号",
               note="blank on a write-off row"),
        Column("invoice", K.CODE, "Invoice no.", "发票单号", required=True),
        Column("installment_no", K.INT, "Installment", "期数", width=8),
        Column("item", K.CODE, "Item", "物料编码", aliases=("品号",), note="matching by product: the invoice lines' item"),
        Column("amount", K.MONEY, "Amount", "核销金额", required=True),
        Column("method", K.CHOICE, "Method", "核销方式", choices=MATCH_METHODS, width=10,
               note="blank = manual; write_off needs a reason; transfer moves a receipt to the invoice's customer"),
        Column("reason_code", K.CODE, "Write-off reason", "核销原因", width=12,
               note="write-off rows: one of the setting write_off_reasons"),
        Column("memo", K.TEXT, "Memo", "备注", width=40, note="suggestions say why here"),
        Column("date", K.DATE, "Effective", "核销日期", width=12, computed=True,
               note="the latest of: both documents' dates, the first open day, the first day both have room "
                    "(after an undo: its day)"),
        Column("batch", K.INT, "Batch", "核销批次", width=8, computed=True,
               note="delete a row to undo its match; change its amount to rematch"),
        Column("undo_on", K.DATE, "Undo on", "撤销日期", width=12,
               note="a date here undoes the match on that day (with a changed amount: when the change takes "
                    "effect); blank = the day of the sync"),
    ), key=(), store_table="allocations",
)

PAYABLES = SheetSchema(
    "Payables", "应付", "tblPayables", (
        Column("customer", K.CODE, "Customer", "客户编号", required=True, lookup="customers",
               note="a customer with a vendor code"),
        Column("number", K.CODE, "Vendor invoice", "供应商发票号", required=True),
        Column("date", K.DATE, "Date", "日期", required=True, width=12),
        Column("due_date", K.DATE, "Due date", "到期日", width=12),
        CURRENCY,
        _money("amount", "Amount", "应付金额", required=True),
        Column("reference", K.TEXT, "Reference", "参考号", max_len=200, width=20),
        _money("netted", "Netted", "已对冲", computed=True, note="cleared by netting documents"),
        Column("memo", K.TEXT, "Memo", "备注", width=24),
    ), key=("customer", "number"), store_table="payables",
)

FX_RATES = SheetSchema(
    "FxRates", "汇率", "tblFxRates", (
        Column("currency", K.CODE, "Currency", "币种", max_len=3, required=True, lookup="currencies", width=8),
        Column("period", K.PERIOD, "Period", "期间", required=True, width=9, note="YYYY-MM"),
        Column("rate", K.RATE, "Rate", "汇率", required=True, width=12),
    ), key=("currency", "period"), store_table="fx_rates",
)

# The layout `xlar import opening` reads: the open items of the system the book replaces.
OPENING_BALANCES = SheetSchema(
    "OpeningBalances", "期初余额", "tblOpeningBalances", (
        CUSTOMER,
        Column("number", K.CODE, "Original number", "原单号", required=True, width=16,
               note="the document's number in the old system"),
        Column("date", K.DATE, "Date", "单据日期", required=True, width=11),
        Column("due_date", K.DATE, "Due date", "到期日", width=11, note="blank = the date"),
        CURRENCY,
        FX_RATE,
        _money("amount", "Amount", "原单金额", required=True, note="the original amount; negative = a credit"),
        _money("open_amount", "Open amount", "未结金额", required=True, note="what is still open of it"),
        Column("memo", K.TEXT, "Memo", "备注", width=24),
    ), key=("customer", "number"), store_table=None,
    purpose_en="Open items taken over from the previous system", purpose_zh="从原系统转入的未结单据",
)

CONTACTS = SheetSchema(
    "Contacts", "催收记录", "tblContacts", (
        CUSTOMER,
        Column("date", K.DATE, "Date", "日期", required=True, width=12),
        Column("method", K.CHOICE, "Method", "方式", choices=("phone", "email", "visit", "letter", "wechat"),
               width=9),
        Column("person", K.TEXT, "Person", "联系人", max_len=100),
        Column("result", K.TEXT, "Result", "结果", width=30),
        Column("promise_date", K.DATE, "Promised on", "承诺付款日", width=12),
        Column("promise_amount", K.MONEY, "Promised amount", "承诺金额"),
        Column("next_action", K.TEXT, "Next action", "下一步", width=24),
    ), key=(), store_table="contacts",
)

REMINDER_LEVELS = SheetSchema(
    "ReminderLevels", "催收级别", "tblReminderLevels", (
        Column("credit_class", K.CODE, "Credit class", "信用等级", max_len=16, required=True, width=8,
               note="* = every class without levels of its own"),
        Column("level", K.INT, "Level", "级别", required=True, width=6),
        Column("days", K.INT, "Days after due", "逾期天数", required=True, width=10,
               note="negative = days before the due date (a friendly reminder)"),
        Column("channel", K.CHOICE, "Channel", "方式", required=True,
               choices=("email", "letter", "phone", "wechat", "visit"), width=9),
        Column("letter_zh", K.TEXT, "Letter (zh-CN)", "催收函（中文）", width=40,
               note="placeholders: {name} {customer} {amount} {currency} {as_of} {company} {days} {level}"),
        Column("letter_en", K.TEXT, "Letter (en)", "催收函（英文）", width=40),
    ), key=("credit_class", "level"), store_table="reminder_levels",
    purpose_en="When and how overdue customers are reminded", purpose_zh="按信用等级的催收级别与催收函",
)

INPUT_SHEETS: tuple[SheetSchema, ...] = (
    SETTINGS, CUSTOMERS, PAYMENT_TERMS, INSTALLMENT_TERMS, CONTRACTS, ORDERS, DELIVERIES,
    INVOICES, INVOICE_LINES, RECEIPTS, ALLOCATIONS, PAYABLES, FX_RATES, CONTACTS, REMINDER_LEVELS,
)

# Output sheets: written by xlar on every sync (the first sync adds them), never read back.
# Statements and the dashboard are files of their own (xlar statement, xlar dashboard).
OUTPUT_SHEETS: dict[str, str] = {
    "Balances": "余额", "Aging": "账龄", "Overdue": "超期",
    "Forecast": "回款预测", "Journal": "凭证", "MonthlyStats": "月结统计",
    "BankLines": "银行流水", "BankExceptions": "待处理流水", "Revaluation": "期末调汇", "Worklist": "催收清单", "Errors": "错误",
    "Conflicts": "冲突",
}


def find_sheet(title: str) -> SheetSchema | None:
    """The input sheet called TITLE in either language."""
    for sheet in INPUT_SHEETS:
        if title.strip() in (sheet.name, sheet.zh):
            return sheet
    return None
