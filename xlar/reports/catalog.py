"""Every report by name: what it needs (a date, or a span), how it is titled in zh-CN and en,
and the function that builds its frame. The CLI (`xlar report NAME`), the workbook sheets
and the ribbon all go through `run`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy.engine import Connection

from xlar.domain.aging import AgingPolicy
from xlar.reports import accounts, billing, collection, dunning, fx, receivables
from xlar.reports.labels import COLUMNS, bucket_text, header, kind_text
from xlar.schema.sheets import CHOICE_ZH
from xlar.store.settings import read_settings


@dataclass(frozen=True, slots=True)
class Params:
    as_of: date
    date_from: date
    date_to: date
    customer: str | None = None
    salesperson: str | None = None
    locale: str = "zh-CN"
    policy: AgingPolicy | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # collection.history as of AS_OF (whole book) when the caller read it already: the reports
    # that can share it (a sync's Overdue, Worklist and Forecast) read the book once
    history: pd.DataFrame | None = field(default=None, compare=False, repr=False)


Builder = Callable[[Connection, Params], pd.DataFrame]


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    en: str
    zh: str
    span: bool          # reads --from/--to
    build: Builder
    help: str = ""
    as_of: bool = True          # reads --as-of (a span report may too: what is open then)
    customer: bool = True       # can be narrowed to one customer
    salesperson: bool = True    # can be narrowed to one salesperson's customers

    def title(self, locale: str) -> str:
        return self.zh if locale == "zh-CN" else self.en


def _period_of(p: Params) -> str:
    return p.extra.get("period") or p.as_of.isoformat()[:7]


SPECS: tuple[Spec, ...] = (
    Spec("statement", "Statement of account", "对账单", True,
         lambda c, p: accounts.account_detail(c, p.date_from, p.date_to, p.customer, p.salesperson, statement=True),
         "per customer and currency: opening balance, documents, closing balance", as_of=False),
    Spec("account-detail", "Customer account detail", "客户往来明细", True,
         lambda c, p: accounts.account_detail(c, p.date_from, p.date_to, p.customer, p.salesperson),
         "every document with a running balance, in document and base currency", as_of=False),
    Spec("aging", "Customer aging", "客户账龄分析", False,
         lambda c, p: receivables.customer_aging(c, p.as_of, p.customer, p.salesperson, p.policy),
         "open amounts by age bucket with the bad-debt allowance"),
    Spec("salesperson-detail", "Salesperson detail", "业务员明细表", True,
         lambda c, p: accounts.salesperson_detail(c, p.date_from, p.date_to, p.customer, p.salesperson),
         "documents per salesperson", as_of=False),
    Spec("salesperson-aging", "Salesperson aging", "业务员账龄分析", False,
         lambda c, p: receivables.salesperson_aging(c, p.as_of, p.customer, p.salesperson, p.policy),
         "aging per salesperson in base currency"),
    Spec("subsidiary-ledger", "AR subsidiary ledger", "应收账款明细账", True,
         lambda c, p: accounts.subsidiary_ledger(c, p.date_from, p.date_to, p.customer, p.salesperson),
         "receivable accounts per customer and month, from the journal", as_of=False),
    Spec("delivery-difference", "Delivery vs invoice difference", "出货与发票差异表", True,
         lambda c, p: billing.delivery_difference(c, p.date_from, p.date_to, p.customer),
         "deliveries against what invoices billed of them", as_of=False, salesperson=False),
    Spec("overdue", "Overdue detail", "超期账款明细", False,
         lambda c, p: receivables.overdue(c, p.as_of, p.customer, p.salesperson, p.history),
         "every item past due and still open"),
    Spec("uncollected", "Uncollected detail", "未收款明细", False,
         lambda c, p: receivables.uncollected(c, p.as_of, p.customer, p.salesperson),
         "everything open: invoices with what was collected, unapplied credits"),
    Spec("revaluation", "Month-end revaluation", "月末调汇表", False,
         lambda c, p: fx.revaluation(c, _period_of(p), p.customer),
         "foreign-currency items at the month's rate (--period, default the month of --as-of)",
         salesperson=False),
    Spec("fx-adjustments", "FX adjustment detail", "汇兑损益明细", True,
         lambda c, p: fx.fx_adjustments(c, p.date_from, p.date_to, p.customer),
         "unrealized, reversed and realized exchange differences", as_of=False, salesperson=False),
    Spec("collection-analysis", "Collection analysis", "回款分析", True,
         lambda c, p: collection.collection_analysis(c, p.date_from, p.date_to, p.customer, p.salesperson),
         "per month: invoiced, received, fell due and collected, days to collect, DSO", as_of=False),
    Spec("installments", "Installment execution", "分期收款执行表", False,
         lambda c, p: billing.installment_execution(c, p.as_of, p.extra.get("contract")),
         "per contract and installment: scheduled, invoiced, received, outstanding", customer=False,
         salesperson=False),
    Spec("due", "Customer due detail", "客户到期明细", True,
         lambda c, p: receivables.due_detail(c, p.date_from, p.date_to, p.as_of, p.customer, p.salesperson),
         "what falls due between --from and --to and is open on --as-of"),
    Spec("price-difference", "Sales price difference", "销售价格差异表", True,
         lambda c, p: billing.price_difference(c, p.date_from, p.date_to, p.customer),
         "delivered against invoiced unit prices", as_of=False, salesperson=False),
    Spec("payments", "Payment history", "付款记录", False,
         lambda c, p: collection.payments(c, p.as_of, p.customer, p.salesperson),
         "every settled invoice: days to settle, days late"),
    Spec("credit-score", "Credit score", "信用评分", False,
         lambda c, p: collection.credit_scores(c, p.as_of, p.customer, p.salesperson),
         "payment habits, a score, a suggested class and limit next to the current ones"),
    Spec("forecast", "Cash forecast", "回款预测", False,
         lambda c, p: collection.forecast(c, p.as_of, p.customer, p.salesperson, p.extra.get("by", "week")),
         "expected receipts per week (or --by month)"),
    Spec("worklist", "Collection worklist", "催收清单", False,
         lambda c, p: dunning.worklist_frame(c, p.as_of, p.customer, p.salesperson, p.locale, p.history),
         "who to contact today, at which reminder level and why"),
    Spec("forecast-detail", "Cash forecast detail", "回款预测明细", False,
         lambda c, p: collection.forecast_detail(c, p.as_of, p.customer, p.salesperson, found=p.history),
         "per open invoice: the expected receipt date"),
)
REPORTS: dict[str, Spec] = {s.name: s for s in SPECS}


@dataclass(frozen=True, slots=True)
class Result:
    spec: Spec
    params: Params
    frame: pd.DataFrame          # machine keys, exact values
    base_currency: str
    company: str

    @property
    def title(self) -> str:
        p, zh = self.params, self.params.locale == "zh-CN"
        when = (f"{p.date_from} – {p.date_to}" if self.spec.span else
                (f"截至 {p.as_of}" if zh else f"as of {p.as_of}"))
        return f"{self.spec.title(p.locale)}  {when}"

    def shown(self) -> pd.DataFrame:
        """The frame as a person reads it in the locale: headers, kinds, buckets, row labels."""
        locale = self.params.locale
        frame = self.frame.copy()
        if "kind" in frame.columns:
            frame["kind"] = [_row_word(k, locale) if isinstance(k, str) else k for k in frame["kind"]]
        if "held" in frame.columns and locale == "zh-CN":
            frame["held"] = [{"disputed": "有争议"}.get(v, v) for v in frame["held"]]
        if "line_kind" in frame.columns and locale == "zh-CN":
            frame["line_kind"] = [CHOICE_ZH.get(k, k) for k in frame["line_kind"]]
        if "customer" in frame.columns:
            frame["customer"] = [_row_word(v, locale) if v in ROW_WORDS else v for v in frame["customer"]]
        names = {}
        for key in frame.columns:
            if key in COLUMNS:
                text = header(key, locale)
                names[key] = f"{text} ({self.base_currency})" if key.startswith("base_") else text
            else:
                names[key] = bucket_text(str(key), locale)
        return frame.rename(columns=names)


ROW_WORDS = {"TOTAL": ("Total", "合计"), "ALLOWANCE %": ("Allowance %", "计提比例%"),
             "ALLOWANCE": ("Allowance", "坏账准备"), "opening": ("Opening balance", "期初余额"),
             "closing": ("Closing balance", "期末余额")}


def _row_word(value: str, locale: str) -> str:
    if value in ROW_WORDS:
        en, zh = ROW_WORDS[value]
        return zh if locale == "zh-CN" else en
    return kind_text(value, locale)


def run(conn: Connection, name: str, params: Params) -> Result:
    book = read_settings(conn)
    return Result(REPORTS[name], params, REPORTS[name].build(conn, params), book.base_currency, book.company)

