"""Helpers that read like an accountant's day: customers, invoices, receipts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.customers import Customer
from xlar.domain.documents import DocKind, LineInput
from xlar.domain.terms import PaymentTerms, TermsBasis
from xlar.services import documents as docs
from xlar.services import receipts
from xlar.services.customers import save_customer, save_terms
from xlar.store.settings import read_settings, write_settings
from xlar.store.tables import open_items

D = Decimal
USER = "alice"
APPROVER = "carol"   # approves receipts alice enters (segregation of duties)


def customer(conn: Connection, code: str, currency: str = "CNY", terms: str | None = None,
             closing_day: int | None = None) -> str:
    if terms == "NET30":
        save_terms(conn, PaymentTerms("NET30", "net 30", TermsBasis.INVOICE_DATE, 30), USER)
    save_customer(conn, Customer(code, f"{code} Ltd.", currency, terms, closing_day), USER)
    return code


def line(qty: str, price: str, tax: str = "0", item: str = "X") -> LineInput:
    return LineInput(item, D(qty), D(price), D(tax))


def invoice(conn: Connection, cust: str, on: date, *lines: LineInput, rate: str | None = None,
            due: date | None = None, post: bool = True, kind: DocKind = DocKind.INVOICE) -> int:
    doc_id = docs.create_draft(conn, docs.DraftDocument(
        kind, cust, on, tuple(lines), fx_rate=None if rate is None else D(rate), due_on=due), USER)
    if post:
        docs.post(conn, doc_id, USER)
    return doc_id


def receipt(conn: Connection, cust: str, on: date, amount: str, rate: str | None = None,
            post: bool = True, approve: bool = True, reference: str | None = None, method: str | None = None,
            maturity: date | None = None) -> int:
    """A receipt alice enters and confirms, and carol approves (so that it clears invoices)."""
    doc_id = docs.create_draft(conn, docs.DraftDocument(
        DocKind.RECEIPT, cust, on, amount=D(amount), fx_rate=None if rate is None else D(rate),
        reference=reference, method=method, maturity_on=maturity), USER)
    if post:
        docs.post(conn, doc_id, USER)
        if approve:
            approver(conn)
            receipts.approve(conn, [doc_id], APPROVER)
    return doc_id


def approver(conn: Connection, name: str = APPROVER) -> None:
    """Make NAME an approver (setting approvers)."""
    book = read_settings(conn)
    if name not in book.approvers:
        by = min(book.approvers) if book.approvers else "setup"   # once there are approvers, one of them
        write_settings(conn, {"approvers": ",".join(sorted(book.approvers | {name}))}, by)


def item_of(conn: Connection, doc_id: int) -> int:
    return int(conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == doc_id)).scalar_one())


def monthly_thirds(conn: Connection, code: str = "3P") -> str:
    """An installment plan CODE of three thirds, a month apart, the first on the document date."""
    from xlar.store.tables import installment_terms

    conn.execute(installment_terms.insert(), [
        {"code": code, "period_no": n, "percent": D("0.333333"), "offset_months": n - 1, "offset_days": 0}
        for n in (1, 2, 3)])
    return code
