"""Customer accounts over a span of dates: the statement of account (对账单), the customer
account detail (客户往来明细), the AR subsidiary ledger (应收明细账) and the salesperson detail
(业务员明细). Each is one set-based query shaped with pandas."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.money import from_minor
from xlar.store.ledger import receivable_accounts
from xlar.store.reads import AnySelect
from xlar.store.settings import read_settings
from xlar.store.tables import customers, documents, journal_lines, open_items

ZERO = Decimal(0)
OPENING = "opening"


def only(stmt: AnySelect, customer: str | None, salesperson: str | None
         ) -> AnySelect:
    """STMT (which joins customers) narrowed to one customer and/or one salesperson."""
    if customer:
        stmt = stmt.where(customers.c.code == customer)
    if salesperson:
        stmt = stmt.where(customers.c.salesperson == salesperson)
    return stmt


def records(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> Iterator[Any]:
    """FRAME's rows (only COLUMNS of them, when given) as named tuples of plain values, read column
    by column (itertuples asks pandas for every cell of a column of text or dates one by one)."""
    names = list(frame.columns if columns is None else columns)
    row = namedtuple("row", names)  # type: ignore[misc]  # the row's fields are the frame's columns, known only at run time
    return map(row._make, zip(*(frame[c].tolist() for c in names), strict=True))


MOVEMENT_COLUMNS = ["customer", "name", "salesperson", "currency", "document_id", "date", "document", "kind",
                    "reference", "due", "amount_minor", "base_minor"]


def movements(conn: Connection, date_from: date, date_to: date, customer: str | None = None,
              salesperson: str | None = None) -> pd.DataFrame:
    """Per customer and currency: one row for everything before FROM (document_id None: the
    opening balance), then one row per document dated FROM..TO with what it moved: in document
    currency its open items (matches move money between a customer's own items, so they leave
    the balance alone), in base currency its lines on the receivable accounts (so a realized
    exchange difference, booked on the journal only, is in the base balance as in the GL)."""
    oi, j, d, c = open_items.c, journal_lines.c, documents.c, customers.c
    receivable = receivable_accounts(conn, read_settings(conn).accounts.receivable)

    def key(on: sa.ColumnElement[date], doc: sa.ColumnElement[int]) -> sa.ColumnElement[int | None]:
        return sa.case((on >= date_from, doc), else_=None).label("doc_key")

    items = sa.select(oi.customer_id, oi.currency, key(oi.doc_on, oi.document_id), oi.amount_minor,
                      sa.literal(0).label("base_minor")).where(oi.doc_on <= date_to)
    lines = sa.select(j.customer_id, j.currency, key(j.posted_on, j.document_id), sa.literal(0).label("amount_minor"),
                      (j.base_debit_minor - j.base_credit_minor).label("base_minor")
                      ).where(j.posted_on <= date_to, j.account.in_(receivable))
    keyed = sa.union_all(items, lines).subquery("keyed")
    grouped = (sa.select(keyed.c.customer_id, keyed.c.currency, keyed.c.doc_key,
                         sa.func.sum(keyed.c.amount_minor).label("amount_minor"),
                         sa.func.sum(keyed.c.base_minor).label("base_minor"))
               .group_by(keyed.c.customer_id, keyed.c.currency, keyed.c.doc_key).subquery("grouped"))
    stmt = (sa.select(c.code, c.name, c.salesperson, grouped.c.currency, grouped.c.doc_key, d.doc_on, d.number,
                      d.kind, sa.func.coalesce(d.fapiao_no, d.reference, d.memo, d.source), d.due_on,
                      grouped.c.amount_minor, grouped.c.base_minor)
            .join_from(grouped, customers, c.id == grouped.c.customer_id)
            .outerjoin(documents, d.id == grouped.c.doc_key)
            .order_by(c.code, grouped.c.currency, d.doc_on.is_not(None), d.doc_on, d.id))
    return frame_of(conn.execute(only(stmt, customer, salesperson)).all(), MOVEMENT_COLUMNS,
                    texts=("reference", "salesperson"))


def columns_of(rows: Sequence[Sequence[Any]], names: Sequence[str], texts: Sequence[str] = ()) -> dict[str, list[Any]]:
    """ROWS (as the driver gave them) column by column, the columns TEXTS with "" for no text."""
    columns = {name: list(values) for name, values in zip(names, zip(*rows), strict=True)}
    for name in texts:
        columns[name] = [v if isinstance(v, str) else "" for v in columns[name]]
    return columns


def frame_of(rows: Sequence[Sequence[Any]], names: Sequence[str], texts: Sequence[str] = ()) -> pd.DataFrame:
    """ROWS as a frame (made column by column: pandas is slow at rows of Python values)."""
    if not rows:
        return pd.DataFrame([], columns=list(names))
    return pd.DataFrame(columns_of(rows, names, texts), columns=list(names))


def account_detail(conn: Connection, date_from: date, date_to: date, customer: str | None = None,
                   salesperson: str | None = None, *, statement: bool = False) -> pd.DataFrame:
    """Every document of FROM..TO per customer and currency with a running balance, between an
    opening and a closing row, in document and base currency. STATEMENT: what the customer sees
    (document currency only; exchange differences, which move nothing in it, left out)."""
    base = read_settings(conn).base_currency
    found = movements(conn, date_from, date_to, customer, salesperson)
    rows: list[dict[str, object]] = []
    # one pass: the rows come ordered by customer, currency, the opening row first, then by date
    opening_of: dict[tuple[str, str], tuple[int, int]] = {}
    moved = []
    for r in records(found):
        if r.document_id is None or pd.isna(r.document_id):
            before = opening_of.get((r.customer, r.currency), (0, 0))
            opening_of[(r.customer, r.currency)] = (before[0] + int(r.amount_minor), before[1] + int(r.base_minor))
        elif r.amount_minor != 0 or (r.base_minor != 0 and not statement):
            moved.append(r)
    names = dict(zip(found["customer"], found["name"]))
    by_key: dict[tuple[str, str], list[object]] = {key: [] for key in opening_of}
    for r in moved:
        by_key.setdefault((r.customer, r.currency), []).append(r)
    for (code, cur), docs in sorted(by_key.items()):
        opening_minor, base_opening_minor = opening_of.get((code, cur), (0, 0))
        if statement and not docs and opening_minor == 0:
            continue
        balance, base_balance = opening_minor, base_opening_minor
        head = {"customer": code, "name": names[code], "currency": cur, "document": "", "reference": "",
                "due": None, "debit": None, "credit": None, "base_debit": None, "base_credit": None}
        rows.append({**head, "date": date_from, "kind": OPENING, "balance": from_minor(balance, cur),
                     "base_balance": from_minor(base_balance, base)})
        for r in docs:
            amount, base_amount = int(r.amount_minor), int(r.base_minor)     # type: ignore[attr-defined]  # rows of records(): named tuples whose fields are the frame's columns
            balance += amount
            base_balance += base_amount
            rows.append({"customer": code, "name": names[code], "currency": cur, "date": r.date,  # type: ignore[attr-defined]  # rows of records(): named tuples whose fields are the frame's columns
                         "document": r.document, "kind": r.kind, "reference": r.reference,  # type: ignore[attr-defined]  # rows of records(): named tuples whose fields are the frame's columns
                         "due": r.due,  # type: ignore[attr-defined]  # rows of records(): named tuples whose fields are the frame's columns
                         "debit": from_minor(amount, cur) if amount > 0 else None,
                         "credit": from_minor(-amount, cur) if amount < 0 else None,
                         "balance": from_minor(balance, cur),
                         "base_debit": from_minor(base_amount, base) if base_amount > 0 else None,
                         "base_credit": from_minor(-base_amount, base) if base_amount < 0 else None,
                         "base_balance": from_minor(base_balance, base)})
        rows.append({**head, "date": date_to, "kind": "closing", "balance": from_minor(balance, cur),
                     "base_balance": from_minor(base_balance, base)})
    columns = ["customer", "name", "currency", "date", "document", "kind", "reference", "due", "debit", "credit",
               "balance", "base_debit", "base_credit", "base_balance"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.drop(columns=["base_debit", "base_credit", "base_balance"]) if statement else frame


def salesperson_detail(conn: Connection, date_from: date, date_to: date, customer: str | None = None,
                       salesperson: str | None = None) -> pd.DataFrame:
    """Per salesperson (the customer's), every document of FROM..TO: what was billed and what
    came in, with the base-currency amount for the salesperson's totals."""
    found = movements(conn, date_from, date_to, customer, salesperson)
    base = read_settings(conn).base_currency
    found = found[found["document_id"].notna() & (found["amount_minor"] != 0)]
    rows = [{"salesperson": r.salesperson, "customer": r.customer, "name": r.name, "date": r.date,
             "document": r.document, "kind": r.kind, "currency": r.currency,
             "debit": from_minor(int(r.amount_minor), r.currency) if r.amount_minor > 0 else None,
             "credit": from_minor(-int(r.amount_minor), r.currency) if r.amount_minor < 0 else None,
             "base_amount": from_minor(int(r.base_minor), base)}
            for r in records(found)]
    frame = pd.DataFrame(rows, columns=["salesperson", "customer", "name", "date", "document", "kind", "currency",
                                        "debit", "credit", "base_amount"])
    return frame.sort_values(["salesperson", "customer", "date", "document"], kind="stable").reset_index(drop=True)


def subsidiary_ledger(conn: Connection, date_from: date, date_to: date, customer: str | None = None,
                      salesperson: str | None = None) -> pd.DataFrame:
    """The receivable accounts per customer, account and currency, month by month: opening,
    debit, credit, closing, in document and base currency (from the journal, so it ties to
    the general ledger)."""
    book = read_settings(conn)
    j, c = journal_lines.c, customers.c
    on_key = sa.case((j.posted_on < date_from, None), else_=j.posted_on)
    keyed = (sa.select(j.customer_id, j.account, j.currency, on_key.label("on"), j.debit_minor, j.credit_minor,
                       j.base_debit_minor, j.base_credit_minor)
             .where(j.account.in_(receivable_accounts(conn, book.accounts.receivable)), j.posted_on <= date_to)
             .subquery("keyed"))
    sums = [sa.func.sum(keyed.c[name]).label(name)
            for name in ("debit_minor", "credit_minor", "base_debit_minor", "base_credit_minor")]
    stmt = (sa.select(c.code, c.name, keyed.c.account, keyed.c.currency, keyed.c.on, *sums)
            .join_from(keyed, customers, c.id == keyed.c.customer_id)
            .group_by(c.code, c.name, keyed.c.account, keyed.c.currency, keyed.c.on))
    per_day = conn.execute(only(stmt, customer, salesperson)).all()
    months: dict[tuple[str, str, str, str, str], list[int]] = {}    # the month computed here, not in SQL
    for code, name, account, cur, on, *amounts in per_day:
        sums_of = months.setdefault((code, name, account, cur, on.isoformat()[:7] if on else ""), [0, 0, 0, 0])
        for i, amount in enumerate(amounts):
            sums_of[i] += int(amount)
    base = book.base_currency
    rows: list[dict[str, object]] = []
    state: dict[tuple[str, str, str], tuple[Decimal, Decimal]] = {}
    for (code, name, account, cur, month), (dr, cr, bdr, bcr) in sorted(
            months.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][3], kv[0][4])):
        key = (code, account, cur)
        opening, base_opening = state.get(key, (from_minor(0, cur), from_minor(0, base)))
        debit, credit = from_minor(int(dr), cur), from_minor(int(cr), cur)
        base_debit, base_credit = from_minor(int(bdr), base), from_minor(int(bcr), base)
        closing, base_closing = opening + debit - credit, base_opening + base_debit - base_credit
        state[key] = (closing, base_closing)
        if month:
            rows.append({"customer": code, "name": name, "account": account, "currency": cur, "period": month,
                         "opening": opening, "debit": debit, "credit": credit, "closing": closing,
                         "base_opening": base_opening, "base_debit": base_debit, "base_credit": base_credit,
                         "base_closing": base_closing})
    shown = {(r["customer"], r["account"], r["currency"]) for r in rows}
    names = {code: name for code, name, *_ in months}
    for (code, account, cur), (closing, base_closing) in state.items():
        if (code, account, cur) not in shown and (closing or base_closing):   # a balance that did not move
            rows.append({"customer": code, "name": names[code], "account": account, "currency": cur,
                         "period": date_from.isoformat()[:7], "opening": closing, "debit": ZERO, "credit": ZERO,
                         "closing": closing, "base_opening": base_closing, "base_debit": ZERO, "base_credit": ZERO,
                         "base_closing": base_closing})
    rows.sort(key=lambda r: (r["customer"], r["account"], r["currency"], r["period"]))
    return pd.DataFrame(rows, columns=["customer", "name", "account", "currency", "period", "opening", "debit",
                                       "credit", "closing", "base_opening", "base_debit", "base_credit",
                                       "base_closing"])
