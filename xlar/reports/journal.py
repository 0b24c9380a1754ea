"""The general-ledger journal (凭证分录) and the proof that the book holds together.

`journal` gives every posted document's lines in a date range, one query, ready for a
general ledger's import (CSV or xlsx). `proof` checks, as of a date: debits equal credits
(in base currency, and per currency in the documents' currency); the receivable control
accounts equal the sum of open items and the sum of the aging buckets, in base currency
and per currency. `xlar check` prints it and exits non-zero on any difference.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.money import from_minor
from xlar.reports import ledger as reports
from xlar.store.ledger import receivable_accounts
from xlar.store.settings import read_settings
from xlar.store.tables import customers, documents, journal_lines

JOURNAL_COLUMNS = ["date", "document", "kind", "line", "account", "customer", "currency", "debit", "credit",
                   "base_debit", "base_credit", "memo"]


def journal(conn: Connection, date_from: date | None, date_to: date) -> pd.DataFrame:
    """Journal lines posted FROM..TO (None: from the start), by date, document and line."""
    j, d, c = journal_lines.c, documents.c, customers.c
    stmt = (sa.select(j.posted_on, d.number, d.kind, j.line_no, j.account, c.code, j.currency, j.debit_minor,
                      j.credit_minor, j.base_debit_minor, j.base_credit_minor, d.memo)
            .join(documents, d.id == j.document_id).join(customers, c.id == j.customer_id)
            .where(j.posted_on <= date_to).order_by(j.posted_on, d.id, j.line_no))
    if date_from is not None:
        stmt = stmt.where(j.posted_on >= date_from)
    base = read_settings(conn).base_currency
    rows = [[on, number, kind, line, account, code, cur, from_minor(dr, cur), from_minor(cr, cur),
             from_minor(bdr, base), from_minor(bcr, base), memo]
            for on, number, kind, line, account, code, cur, dr, cr, bdr, bcr, memo in conn.execute(stmt)]
    return pd.DataFrame(rows, columns=JOURNAL_COLUMNS)


@dataclass(frozen=True, slots=True)
class Line:
    """One figure of the proof and the figures it must equal."""

    what: str
    figures: tuple[tuple[str, Decimal], ...]

    @property
    def holds(self) -> bool:
        return len({value for _, value in self.figures}) == 1


@dataclass(slots=True)
class Proof:
    as_of: date
    lines: list[Line] = field(default_factory=list)
    unbalanced: list[str] = field(default_factory=list)   # documents whose own lines do not balance

    @property
    def holds(self) -> bool:
        return not self.unbalanced and all(line.holds for line in self.lines)

    def text(self) -> str:
        out = [f"Proof as of {self.as_of.isoformat()}: {'holds' if self.holds else 'DIFFERENCES'}"]
        for line in self.lines:
            figures = "  ".join(f"{name} {value:,}" for name, value in line.figures)
            out.append(f"  {'ok ' if line.holds else 'BAD'} {line.what}: {figures}")
        out += [f"  BAD document {number} does not balance" for number in self.unbalanced]
        return "\n".join(out)


def proof(conn: Connection, as_of: date) -> Proof:
    """Debits = credits; AR control = Σ open items = Σ aging buckets (base, and per currency)."""
    book = read_settings(conn)
    base = book.base_currency
    j = journal_lines.c
    ar = receivable_accounts(conn, book.accounts.receivable)
    found = Proof(as_of)
    sums = conn.execute(sa.select(
        j.currency, sa.func.sum(j.debit_minor), sa.func.sum(j.credit_minor), sa.func.sum(j.base_debit_minor),
        sa.func.sum(j.base_credit_minor),
        sa.func.sum(sa.case((j.account.in_(ar), j.debit_minor - j.credit_minor), else_=0)),
        sa.func.sum(sa.case((j.account.in_(ar), j.base_debit_minor - j.base_credit_minor), else_=0)))
        .where(j.posted_on <= as_of).group_by(j.currency)).all()
    dr = sum(int(s[3]) for s in sums)
    cr = sum(int(s[4]) for s in sums)
    found.lines.append(Line(f"debits = credits (base {base})", (("debits", from_minor(dr, base)),
                                                           ("credits", from_minor(cr, base)))))
    control_doc = {s[0]: int(s[5]) for s in sums}
    control_base = sum(int(s[6]) for s in sums)
    for cur, doc_dr, doc_cr, *_ in sums:
        found.lines.append(Line(f"debits = credits ({cur}, document currency)",
                                (("debits", from_minor(int(doc_dr), cur)), ("credits", from_minor(int(doc_cr), cur)))))
    open_doc: dict[str, Decimal] = defaultdict(Decimal)
    open_base = Decimal(0)
    for b in reports.balances(conn, as_of):
        open_doc[b.currency] += b.balance
        open_base += b.base_balance
    aging = reports.aging(conn, as_of)
    aging_doc: dict[str, Decimal] = defaultdict(Decimal)
    for row in aging.rows:
        aging_doc[row.currency] += sum(row.buckets.values(), Decimal(0))
    _, base_buckets = aging.total_base
    accounts = "+".join(ar)
    found.lines.append(Line(f"AR control {accounts} = open items = aging buckets (base {base})", (
        ("control", from_minor(control_base, base)), ("open items", open_base),
        ("aging", sum(base_buckets.values(), Decimal(0))))))
    for cur in sorted(control_doc.keys() | open_doc.keys()):
        control = from_minor(control_doc.get(cur, 0), cur)
        if control or open_doc.get(cur) or aging_doc.get(cur):
            found.lines.append(Line(f"AR control {accounts} = open items = aging buckets ({cur})", (
                ("control", control), ("open items", open_doc.get(cur, Decimal(0)).quantize(control)),
                ("aging", aging_doc.get(cur, Decimal(0)).quantize(control)))))
    d = documents.c
    found.unbalanced = list(conn.execute(
        sa.select(d.number).join(journal_lines, j.document_id == d.id).where(j.posted_on <= as_of)
        .group_by(d.id, d.number)
        .having(sa.or_(sa.func.sum(j.base_debit_minor) != sa.func.sum(j.base_credit_minor),
                       sa.func.sum(j.debit_minor) != sa.func.sum(j.credit_minor)))
        .order_by(d.id).limit(20)).scalars())
    return found
