"""FX reports: the month-end revaluation (月末调汇表) and the FX adjustment detail (汇兑损益明细)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.money import from_minor
from xlar.services import fx
from xlar.store.settings import read_settings
from xlar.store.tables import customers, documents, journal_lines

ZERO = Decimal(0)
REVALUATION_COLUMNS = ["customer", "document", "installment", "currency", "due", "open", "book_rate", "book_base",
                       "period_rate", "revalued", "booked", "to_post"]


def revaluation(conn: Connection, period: str, customer: str | None = None) -> pd.DataFrame:
    """Per open foreign-currency item at PERIOD's end: booked at its own rate, worth at the
    period's rate, the unrealized difference booked this month and what is still to post."""
    rows = [[ln.customer, ln.document, ln.installment_no, ln.currency, ln.due_on, ln.open, ln.book_rate,
             ln.book_base, ln.rate, ln.revalued if ln.rate is not None else None, ln.booked,
             ln.difference if ln.rate is not None else None]
            for ln in fx.preview(conn, period).lines if customer is None or ln.customer == customer]
    return pd.DataFrame(rows, columns=REVALUATION_COLUMNS)


def fx_adjustments(conn: Connection, date_from: date, date_to: date, customer: str | None = None) -> pd.DataFrame:
    """Every document that booked an exchange difference FROM..TO: unrealized at a month end,
    its reversal on the 1st, realized at matching; gain and loss in base currency."""
    book = read_settings(conn)
    j, d, c = journal_lines.c, documents.c, customers.c
    fx_accounts = {book.accounts.fx_gain, book.accounts.fx_loss}
    net = sa.func.sum(j.base_credit_minor - j.base_debit_minor)
    stmt = (sa.select(d.doc_on, d.number, d.kind, c.code, d.currency, d.fx_rate, d.source, d.reference, net.label("net"))
            .join(journal_lines, j.document_id == d.id).join(customers, c.id == d.customer_id)
            .where(j.account.in_(fx_accounts), d.doc_on.between(date_from, date_to))
            .group_by(d.id, d.doc_on, d.number, d.kind, c.code, d.currency, d.fx_rate, d.source, d.reference)
            .order_by(d.doc_on, d.id))
    if customer:
        stmt = stmt.where(c.code == customer)
    base = book.base_currency
    kinds = {"fx_adjustment": "unrealized", "reversal": "reversal", "fx_realized": "realized"}
    rows = []
    for on, number, kind, code, cur, rate, source, reference, amount in conn.execute(stmt):
        value = from_minor(int(amount), base)
        rows.append([on, number, kinds.get(kind, kind), code, cur, rate if kind == "fx_adjustment" else None,
                     reference or source, value if value > 0 else ZERO, -value if value < 0 else ZERO, value])
    return pd.DataFrame(rows, columns=["date", "document", "type", "customer", "currency", "rate", "reference",
                                       "gain", "loss", "net"])
