"""Set-based SQL over the open-item ledger: open amounts, balances and aging as of a date.

Each function builds one SQLAlchemy Core statement that runs unchanged on SQLite and
PostgreSQL: date cut-offs are computed in Python and SQL only compares dates; sums are
over integer minor units, so they are exact everywhere. domain/ledger.py holds the pure
reference these must agree with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, Subquery

from xlar.domain.aging import AgingPolicy, Basis
from xlar.domain.documents import JournalLine
from xlar.domain.errors import InvalidSetting
from xlar.domain.items import OpenItem
from xlar.domain.money import Money
from xlar.domain.records import Document
from xlar.store.reads import AnySelect, StoredRow
from xlar.store.settings import read_settings
from xlar.store.tables import allocations, customers, documents, journal_lines, open_items
from xlar.store.writes import execute_many, in_chunks


def journal_rows(doc: Document, lines: Sequence[JournalLine], customers: Sequence[int] | None = None
                 ) -> list[dict[str, Any]]:
    """Journal lines (domain JournalLines in minor units) as rows of DOC's journal; CUSTOMERS
    names each line's customer where they differ from the document's (a transfer)."""
    return [{"document_id": doc.id, "line_no": no, "account": ln.account,
             "customer_id": customers[no - 1] if customers else doc.customer_id, "currency": doc.currency,
             "debit_minor": int(ln.debit), "credit_minor": int(ln.credit),
             "base_debit_minor": int(ln.base_debit), "base_credit_minor": int(ln.base_credit),
             "posted_on": doc.doc_on}
            for no, ln in enumerate(lines, start=1)]


def lock_ledger(conn: Connection) -> None:
    """Hold the ledger still for a month-end job: no open item, match or journal line is added by
    anyone else until this transaction ends, and those added before it are committed and seen.
    (PostgreSQL; a SQLite write transaction already holds the database's one write lock.)"""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE open_items, allocations, journal_lines IN SHARE ROW EXCLUSIVE MODE")


def write_journal(conn: Connection, rows: Sequence[dict[str, Any]], receivable: str) -> None:
    """Insert journal ROWS; a line on the book's RECEIVABLE account goes to the customer's own
    receivable account when it has one (Customers: AR account)."""
    ids = {r["customer_id"] for r in rows if r["account"] == receivable}
    own = {cid: account for chunk in in_chunks(ids) for cid, account in conn.execute(
        sa.select(customers.c.id, customers.c.ar_account)
        .where(customers.c.id.in_(chunk), customers.c.ar_account.is_not(None)))}
    if own:
        rows = [{**r, "account": own[r["customer_id"]]}
                if r["account"] == receivable and r["customer_id"] in own else r for r in rows]
    execute_many(conn, _INSERT_JOURNAL, rows)


def keep_receivable_account(conn: Connection, customer_id: int, account: str | None) -> None:
    """Refuse to move a customer to another receivable account once its documents are posted on
    the one it has: the general ledger would split its balance (move the balance first)."""
    current = conn.execute(sa.select(customers.c.code, customers.c.ar_account)
                           .where(customers.c.id == customer_id)).first()
    if current is None or (current.ar_account or None) == (account or None):
        return
    held = current.ar_account or read_settings(conn).accounts.receivable
    used = conn.execute(sa.select(journal_lines.c.id).where(
        journal_lines.c.customer_id == customer_id, journal_lines.c.account == held).limit(1)).first()
    if used is not None:
        raise InvalidSetting(f"customer {current.code}'s documents are posted on receivable account {held}: "
                             f"it cannot move to {account or 'the book default'} (move the balance first)")


def receivable_accounts(conn: Connection, receivable: str) -> list[str]:
    """Every account that holds receivables: the book's and the customers' own."""
    own = conn.execute(sa.select(customers.c.ar_account).distinct()
                       .where(customers.c.ar_account.is_not(None))).scalars()
    return sorted({receivable, *own})


_INSERT_JOURNAL = journal_lines.insert()
OPEN = "open_minor"
OPEN_BASE = "open_base_minor"


# one customer's id (or a parameter that will hold it), several, or every customer (None)
Customers = int | sa.BindParameter[int] | Sequence[int] | None


def of_customers(column: ColumnElement[int], customer_id: Customers) -> ColumnElement[bool]:
    """COLUMN (a customer id) is CUSTOMER_ID, or one of them."""
    if isinstance(customer_id, int | sa.BindParameter):
        return column == customer_id
    return column.in_(list(customer_id or ()))


def moved(as_of: date | sa.BindParameter[date] | None, customer_id: Customers = None, foreign_to: str | None = None, *,
          settled: bool = False) -> Subquery:
    """Per open item, what allocations effective on or before AS_OF moved (signed); only a
    customer's items (or several customers'), or only items in another currency than
    FOREIGN_TO, when given. SETTLED: also the latest date a match took off a debit item
    ("settled_on"; None for a credit item)."""
    a = allocations.c
    latest = [a.effective_on.label("on")] if settled else []
    debit = sa.select(a.debit_item_id.label("item_id"), (-a.amount_minor).label("amount"),
                      (-a.debit_base_minor).label("base"), *latest)
    credit = sa.select(a.credit_item_id.label("item_id"), a.amount_minor.label("amount"),
                       a.credit_base_minor.label("base"), *([sa.null().label("on")] if settled else []))
    if as_of is not None:
        debit = debit.where(a.effective_on <= as_of)
        credit = credit.where(a.effective_on <= as_of)
    if customer_id is not None:
        own = sa.select(open_items.c.id).where(of_customers(open_items.c.customer_id, customer_id))
        debit = debit.where(a.debit_item_id.in_(own))
        credit = credit.where(a.credit_item_id.in_(own))
    if foreign_to is not None:   # a match's two items share one currency: the debit item's tells
        item = open_items.alias("matched")
        debit = debit.join_from(allocations, item, item.c.id == a.debit_item_id).where(item.c.currency != foreign_to)
        credit = credit.join_from(allocations, item, item.c.id == a.debit_item_id).where(item.c.currency != foreign_to)
    moves = sa.union_all(debit, credit).subquery("moves")
    return (
        sa.select(moves.c.item_id, sa.func.sum(moves.c.amount).label("amount"),
                  sa.func.sum(moves.c.base).label("base"),
                  *([sa.func.max(moves.c.on, type_=sa.Date).label("settled_on")] if settled else []))
        .group_by(moves.c.item_id)
        .subquery("moved")
    )


def open_items_stmt(as_of: date | sa.BindParameter[date] | None, customer_id: Customers = None, foreign_to: str | None = None, *,
                    settled: bool = False) -> AnySelect:
    """Every item dated on or before AS_OF with its open amount then (None: all time); only a
    customer's (or several customers'), or only those in another currency than FOREIGN_TO, when
    given. SETTLED: with the latest date a match took off it ("settled_on", see `moved`)."""
    oi = open_items.c
    mv = moved(as_of, customer_id, foreign_to, settled=settled)
    stmt = (
        sa.select(
            *open_items.c,
            (oi.amount_minor + sa.func.coalesce(mv.c.amount, 0)).label(OPEN),
            (oi.base_amount_minor + sa.func.coalesce(mv.c.base, 0)).label(OPEN_BASE),
            *([mv.c.settled_on] if settled else []),
        )
        .select_from(open_items.outerjoin(mv, mv.c.item_id == oi.id))
    )
    if as_of is not None:
        stmt = stmt.where(oi.doc_on <= as_of)
    if customer_id is not None:
        stmt = stmt.where(of_customers(oi.customer_id, customer_id))
    if foreign_to is not None:
        stmt = stmt.where(oi.currency != foreign_to)
    return stmt


def listed_stmt(as_of: date | None, customer_id: Customers = None, *extra: ColumnElement[Any]
                ) -> tuple[AnySelect, Subquery]:
    """`open_items_stmt` joined to each item's document and customer: the columns `as_open_item` reads
    (and EXTRA, of documents or customers); also the listing, for the caller's filters."""
    listing = open_items_stmt(as_of, customer_id).subquery("listing")
    d = documents.c
    stmt = (sa.select(listing, d.number, d.kind, d.status, customers.c.code, *extra)
            .join(documents, d.id == listing.c.document_id)
            .join(customers, customers.c.id == listing.c.customer_id))
    return stmt, listing


def as_open_item(row: StoredRow, base_currency: str) -> OpenItem:
    """The OpenItem of a row of `listed_stmt` (its own side: an exchange difference, amount 0,
    is no credit; who ages one gives the side and dates of the item it revalues)."""
    cur = row["currency"]
    return OpenItem(row["id"], row["document_id"], row["code"], row["number"], row["kind"], row["status"],
                    row["installment_no"], row["doc_on"], row["due_on"], Money.of_minor(row["amount_minor"], cur),
                    Money.of_minor(row[OPEN], cur), Money.of_minor(row[OPEN_BASE], base_currency),
                    row["amount_minor"] < 0, row["revalues_id"])


def _bucket_index(policy: AgingPolicy, earliest: Sequence[sa.BindParameter[date]], item: Subquery, aged: Any
                  ) -> ColumnElement[int]:
    """0..n-1 for the age buckets youngest first (EARLIEST: each but the oldest one's earliest
    date), n for unapplied credit. An exchange difference booked on an item (revalues_id; AGED
    is that item, outer-joined) ages with the item, so a revaluation and its reversal fall in
    the item's bucket."""
    def own(column: str) -> ColumnElement[Any]:
        return sa.func.coalesce(aged.c[column], item.c[column])
    basis_on = own("due_on" if policy.basis is Basis.DUE else "doc_on")
    whens: list[tuple[ColumnElement[bool], int]] = [(own("amount_minor") < 0, len(earliest) + 1)]
    whens += [(basis_on >= on, i) for i, on in enumerate(earliest)]
    return sa.case(*whens, else_=len(earliest))


def aging_stmt(as_of: date, policy: AgingPolicy, customer_id: int | None = None
               ) -> tuple[AnySelect, dict[str, object]]:
    """One row per customer and currency: code, name, salesperson, credit class, currency,
    balance, base balance, then each bucket's open amount (policy.labels order), then the same
    in base currency; with the values of its parameters. The statement is made once per policy
    (a workbook asks for the aging again and again): the dates and the customer are parameters."""
    values: dict[str, object] = {"as_of": as_of}
    values |= {f"from_{i}": on for i, (_label, on) in enumerate(policy.lower_bounds(as_of))}
    if customer_id is not None:
        values["customer_id"] = customer_id
    return _aging(policy, customer_id is not None), values


@lru_cache(maxsize=32)
def _aging(policy: AgingPolicy, one_customer: bool) -> AnySelect:
    as_of = sa.bindparam("as_of", type_=sa.Date)
    earliest = [sa.bindparam(f"from_{i}", type_=sa.Date) for i in range(len(policy.age_labels) - 1)]
    item = open_items_stmt(as_of, sa.bindparam("customer_id", type_=sa.Integer) if one_customer else None
                           ).subquery("item")
    aged = open_items.alias("aged")
    bucketed = sa.select(
        item.c.customer_id, item.c.currency, item.c[OPEN], item.c[OPEN_BASE],
        _bucket_index(policy, earliest, item, aged).label("bucket"),
    ).select_from(item.outerjoin(aged, aged.c.id == item.c.revalues_id)).subquery("bucketed")
    labels = policy.labels

    def per_bucket(column: str, prefix: str) -> list[ColumnElement[object]]:
        return [
            sa.func.sum(sa.case((bucketed.c.bucket == i, bucketed.c[column]), else_=0)).label(f"{prefix}{i}")
            for i in range(len(labels))
        ]

    grouped = (
        sa.select(
            bucketed.c.customer_id, bucketed.c.currency,
            sa.func.sum(bucketed.c[OPEN]).label("balance"),
            sa.func.sum(bucketed.c[OPEN_BASE]).label("base_balance"),
            *per_bucket(OPEN, "b"), *per_bucket(OPEN_BASE, "base_b"),
        )
        .group_by(bucketed.c.customer_id, bucketed.c.currency)
        .subquery("grouped")
    )
    return (
        sa.select(customers.c.code, customers.c.name, customers.c.salesperson, customers.c.credit_class,
                  *[c for c in grouped.c if c.name != "customer_id"])
        .join_from(grouped, customers, customers.c.id == grouped.c.customer_id)
        .order_by(customers.c.code, grouped.c.currency)
    )


def balances_stmt(as_of: date, customer_id: int | None = None) -> AnySelect:
    """Per customer and currency: code, currency, balance and base balance as of a date."""
    item = open_items_stmt(as_of, customer_id).subquery("item")
    return (
        sa.select(customers.c.code, item.c.currency,
                  sa.func.sum(item.c[OPEN]).label("balance"),
                  sa.func.sum(item.c[OPEN_BASE]).label("base_balance"))
        .join_from(item, customers, customers.c.id == item.c.customer_id)
        .group_by(customers.c.code, item.c.currency)
        .order_by(customers.c.code, item.c.currency)
    )
