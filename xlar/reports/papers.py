"""What goes on the papers sent to customers: statements of account (对账单) and dunning
letters (催收函). Built from the store by reports/statements.py and services/collections.py,
rendered by reports/pdf.py (PDF) and reports/statements.py (xlsx)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Party:
    code: str
    name: str
    address: str | None = None
    contact: str | None = None
    phone: str | None = None
    email: str | None = None
    tax_id: str | None = None


@dataclass(frozen=True, slots=True)
class StatementLine:
    on: date
    document: str          # number, e.g. INV-2026-00012
    kind: str              # already in the paper's language: 销售发票 / Invoice
    reference: str         # fapiao number, customer reference or memo ('' when none)
    due_on: date | None
    debit: Decimal         # what the customer owes more (invoices, debit notes)
    credit: Decimal        # what reduced it (receipts, credit notes)
    balance: Decimal       # running balance after this line


@dataclass(frozen=True, slots=True)
class StatementSection:
    """One currency of a statement: the customer's account in that currency."""

    currency: str
    opening: Decimal
    lines: tuple[StatementLine, ...]
    closing: Decimal
    aging: tuple[tuple[str, Decimal], ...]   # (bucket label in the paper's language, open amount) as of the end
    closing_in_words: str | None             # 大写 in zh-CN papers, None in English ones

    @property
    def debits(self) -> Decimal:
        return sum((ln.debit for ln in self.lines), Decimal(0))

    @property
    def credits(self) -> Decimal:
        return sum((ln.credit for ln in self.lines), Decimal(0))


@dataclass(frozen=True, slots=True)
class Statement:
    locale: str                # zh-CN | en
    company: Party
    customer: Party
    date_from: date
    date_to: date
    issued_on: date
    sections: tuple[StatementSection, ...]
    labels: dict[str, str] = field(default_factory=dict)   # every caption, in the paper's language


@dataclass(frozen=True, slots=True)
class LetterItem:
    document: str
    on: date
    due_on: date
    days_overdue: int
    currency: str
    open: Decimal


@dataclass(frozen=True, slots=True)
class Letter:
    """A dunning letter at one reminder level; the body is the level's letter text filled in."""

    locale: str
    company: Party
    customer: Party
    issued_on: date
    level: int
    channel: str
    subject: str
    body: str
    items: tuple[LetterItem, ...]
    totals: tuple[tuple[str, Decimal], ...]                 # (currency, overdue total)
    totals_in_words: tuple[str, ...] = ()                   # 大写 per total, zh-CN
    labels: dict[str, str] = field(default_factory=dict)


STATEMENT_LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "客户对账单", "period": "对账期间", "issued": "制表日期", "customer": "客户",
        "code": "客户编号", "address": "地址", "contact": "联系人", "phone": "电话", "tax_id": "税号",
        "currency": "币种", "date": "日期", "document": "单据号码", "kind": "类型", "reference": "发票号码/摘要",
        "due": "到期日", "debit": "应收增加", "credit": "应收减少", "balance": "余额",
        "opening": "期初余额", "closing": "期末余额", "totals": "本期合计", "aging": "账龄分析（截至期末）",
        "in_words": "期末余额大写", "sign_back": "对账确认",
        "sign_back_text": "上述对账单所列余额如与贵司记录相符，请在本联签字盖章后寄回；如有不符，请在下方注明差异及原因。",
        "agree": "□ 相符", "disagree": "□ 不符，差异说明：", "signature": "客户签章（盖章）", "sign_date": "日期",
        "page": "第 {page} 页 / 共 {pages} 页", "from_company": "本公司",
    },
    "en": {
        "title": "Statement of Account", "period": "Period", "issued": "Issued", "customer": "Customer",
        "code": "Customer code", "address": "Address", "contact": "Contact", "phone": "Phone", "tax_id": "Tax ID",
        "currency": "Currency", "date": "Date", "document": "Document", "kind": "Type",
        "reference": "Reference", "due": "Due", "debit": "Debit", "credit": "Credit", "balance": "Balance",
        "opening": "Opening balance", "closing": "Closing balance", "totals": "Totals for the period",
        "aging": "Aging at the end of the period", "in_words": "", "sign_back": "Balance confirmation",
        "sign_back_text": "Please confirm that the closing balance above agrees with your records by signing and "
                          "returning this statement. If it does not, note the difference and its reason below.",
        "agree": "[ ] Agreed", "disagree": "[ ] Not agreed; difference:", "signature": "Authorised signature and stamp",
        "sign_date": "Date", "page": "Page {page} of {pages}", "from_company": "From",
    },
}

LETTER_LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {"title": "付款提醒函", "document": "单据号码", "date": "日期", "due": "到期日", "days": "逾期天数",
              "currency": "币种", "open": "未收金额", "total": "逾期合计", "in_words": "大写", "level": "催收级别",
              "regards": "此致 敬礼", "dear": "{name}：", "attention": "联系人", "phone": "电话", "tax_id": "税号",
              "page": "第 {page} 页 / 共 {pages} 页"},
    "en": {"title": "Payment reminder", "document": "Document", "date": "Date", "due": "Due", "days": "Days overdue",
           "currency": "Currency", "open": "Open", "total": "Total overdue", "in_words": "", "level": "Level",
           "regards": "Yours faithfully,", "dear": "Dear {name},", "attention": "Attn.", "phone": "Phone",
           "tax_id": "Tax ID", "page": "Page {page} of {pages}"},
}
