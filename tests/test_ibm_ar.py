"""The IBM accounts-receivable sample (../shared/data/ibm-ar: 2,466 settled invoices of 100
customers) booked as invoices and receipts: our payment history reproduces its own DaysToSettle
and DaysLate for every invoice, and the per-customer lateness and DSO our reports print equal
an independent pandas computation over the raw file."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.books import USER
from xlar.domain.customers import Customer
from xlar.domain.documents import DocKind, LineInput
from xlar.domain.terms import PaymentTerms, TermsBasis
from xlar.reports.catalog import Params, run
from xlar.services import documents as docs
from xlar.services import matching
from xlar.services.customers import save_customer, save_terms
from xlar.store.settings import write_settings
from xlar.store.tables import documents, open_items

CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ibm-ar" / "WA_Fn-UseC_-Accounts-Receivable.csv"
pytestmark = pytest.mark.skipif(not CSV.exists(), reason="../shared/data/ibm-ar is not here")


def raw() -> pd.DataFrame:
    frame = pd.read_csv(CSV, dtype={"invoiceNumber": str, "customerID": str})
    for column in ("InvoiceDate", "DueDate", "SettledDate"):
        frame[column] = pd.to_datetime(frame[column], format="%m/%d/%Y").dt.date
    return frame


def book_ibm(conn, frame: pd.DataFrame) -> None:
    """Customers on 30-day terms; each row an invoice (its number as the fapiao number, its
    dispute flag) and a receipt on the settled date matched to it."""
    write_settings(conn, {"base_currency": "USD", "receipt_clearing": "confirmed", "match_at_approval": "none"},
                   "setup")
    save_terms(conn, PaymentTerms("NET30", "30 days", TermsBasis.INVOICE_DATE, 30), USER)
    for code in sorted(set(frame["customerID"])):
        save_customer(conn, Customer(code, f"IBM customer {code}", "USD", "NET30"), USER)
    invoices = [docs.DraftDocument(DocKind.INVOICE, r.customerID, r.InvoiceDate,
                                   (LineInput("AR", Decimal(1), Decimal(str(r.InvoiceAmount)), Decimal(0)),),
                                   fapiao_no=r.invoiceNumber, disputed=r.Disputed == "Yes")
                for r in frame.itertuples(index=False)]
    receipts = [docs.DraftDocument(DocKind.RECEIPT, r.customerID, r.SettledDate,
                                   amount=Decimal(str(r.InvoiceAmount)), reference=r.invoiceNumber)
                for r in frame.itertuples(index=False)]
    prepared = docs.prepare(conn, invoices + receipts)
    assert not [p for p in prepared if not isinstance(p, docs.Prepared)]
    ids = docs.store_new(conn, prepared, USER, [True] * len(prepared))   # type: ignore[arg-type]
    item_of = dict(conn.execute(open_items.select().with_only_columns(open_items.c.document_id, open_items.c.id)).all())
    n = len(invoices)
    matching.allocate(conn, [matching.Match(item_of[ids[i]], item_of[ids[n + i]], Decimal(str(amount)))
                             for i, amount in enumerate(frame["InvoiceAmount"])], method="manual", user=USER)


def test_ibm_invoices_settle_as_the_data_set_says(store):
    frame = raw()
    assert len(frame) == 2466
    with store.write() as conn:
        book_ibm(conn, frame)
    as_of = date(2014, 1, 31)
    with store.read() as conn:
        assert conn.execute(documents.select().where(documents.c.disputed == "yes")).rowcount != 0
        paid = run(conn, "payments", Params(as_of, as_of, as_of, locale="en")).frame
    assert len(paid) == 2466
    ours = paid.set_index("reference")
    theirs = frame.set_index("invoiceNumber")
    assert (ours.loc[theirs.index, "due"].values == theirs["DueDate"].values).all()       # NET30 = their DueDate
    assert (ours.loc[theirs.index, "settled_on"].values == theirs["SettledDate"].values).all()
    assert list(ours.loc[theirs.index, "days_to_settle"]) == list(theirs["DaysToSettle"])
    assert list(ours.loc[theirs.index, "days_late"]) == list(theirs["DaysLate"])
    assert sum(ours["amount"]) == Decimal("147703.18")
    assert list(ours.loc[theirs.index, "disputed"]) == list(theirs["Disputed"].map({"Yes": "yes", "No": ""}))

    # the credit score's average lateness and DSO per customer, against pandas over the raw file
    on = date(2013, 6, 30)
    with store.read() as conn:
        scores = run(conn, "credit-score", Params(on, on, on, locale="en")).frame.set_index("customer")
    window = frame[(frame["SettledDate"] > on - timedelta(days=365)) & (frame["SettledDate"] <= on)]
    late = window.groupby("customerID")["DaysLate"].mean()
    on_time = window.groupby("customerID")["DaysLate"].apply(lambda s: (s == 0).mean() * 100)
    assert len(late) == 100
    for code, mean in late.items():
        assert abs(scores.loc[code, "avg_days_late"] - Decimal(str(float(mean)))) <= Decimal("0.005"), code
        assert abs(scores.loc[code, "on_time_pct"] - Decimal(str(float(on_time[code])))) <= Decimal("0.05"), code
        assert scores.loc[code, "settled"] == (window["customerID"] == code).sum()
    open_then = frame[(frame["InvoiceDate"] <= on) & (frame["SettledDate"] > on)]
    sales = frame[(frame["InvoiceDate"] > on - timedelta(days=90)) & (frame["InvoiceDate"] <= on)]
    balance = open_then.groupby("customerID")["InvoiceAmount"].sum()
    sold = sales.groupby("customerID")["InvoiceAmount"].sum()
    checked = 0
    for code in sold.index:
        expected = balance.get(code, 0.0) / sold[code] * 90
        assert abs(float(scores.loc[code, "dso"]) - expected) <= 0.05 + 1e-9, (code, scores.loc[code, "dso"], expected)
        checked += 1
    assert checked >= 90
    assert scores["score"].notna().all() and set(scores["suggested_class"]) <= {"A", "B", "C", "D"}


def test_ibm_collection_analysis_by_month(store):
    frame = raw()
    with store.write() as conn:
        book_ibm(conn, frame)
    code = "0379-NEVHP"
    with store.read() as conn:
        months = run(conn, "collection-analysis", Params(date(2013, 12, 31), date(2013, 1, 1), date(2013, 12, 31),
                                                         customer=code, locale="zh-CN")).frame
    mine = frame[frame["customerID"] == code].copy()
    mine["settled_month"] = [d.isoformat()[:7] for d in mine["SettledDate"]]
    mine["invoice_month"] = [d.isoformat()[:7] for d in mine["InvoiceDate"]]
    for r in months.itertuples(index=False):
        settled = mine[mine["settled_month"] == r.period]
        assert r.settled == len(settled), r.period
        if len(settled):
            assert abs(r.avg_days_to_collect - Decimal(str(float(settled["DaysToSettle"].mean())))) <= Decimal("0.005")
            assert abs(r.avg_days_late - Decimal(str(float(settled["DaysLate"].mean())))) <= Decimal("0.005")
        invoiced = mine[mine["invoice_month"] == r.period]["InvoiceAmount"].sum()
        assert r.invoiced == Decimal(str(round(float(invoiced), 2))).quantize(Decimal("0.01")), r.period
        received = mine[mine["settled_month"] == r.period]["InvoiceAmount"].sum()
        assert r.received == Decimal(str(round(float(received), 2))).quantize(Decimal("0.01")), r.period
        assert r.closing == r.opening + r.invoiced - r.received
    assert len(months) == 12
