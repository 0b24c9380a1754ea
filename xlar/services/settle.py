"""Settling what matching alone cannot: write-offs, transfers between customers (应收款转销),
refunds of unapplied money, and AR/AP netting (应收应付对冲).

Each is a posted document with its open item and journal, matched to what it settles, so
balances, aging and every customer's history show it; each is voided like any document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.documents import DocKind, DocStatus, JournalLine
from xlar.domain.errors import InvalidAllocation, InvalidDocument, NotAllowed, NotFound
from xlar.domain.items import OpenItem
from xlar.domain.ledger import base_share
from xlar.domain.money import from_minor, to_minor
from xlar.domain.periods import ensure_open
from xlar.domain.records import Payable
from xlar.services import booking, matching
from xlar.store.audit import record
from xlar.store.customers import by_code
from xlar.store.documents import find, load
from xlar.store.ledger import OPEN, as_open_item, journal_rows, listed_stmt
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import documents, open_items, payable_allocations, payables
from xlar.store.writes import update_row

RECEIPT_METHODS = ("bank", "cash")


def _missing(number: str, installment: int) -> NotFound:
    return NotFound(f"no posted document {number!r}" + (f" installment {installment}" if installment > 1 else ""))


def item_id(conn: Connection, number: str, installment: int = 1) -> int:
    """The id of document NUMBER's open item (installment INSTALLMENT): one indexed lookup."""
    found = conn.execute(sa.select(open_items.c.id).join(documents, documents.c.id == open_items.c.document_id)
                         .where(documents.c.number == number, open_items.c.installment_no == installment)).scalar()
    if found is None:
        raise _missing(number, installment)
    return int(found)


def item_of(conn: Connection, doc_id: int) -> int:
    """The id of the single open item of a document a service just posted."""
    return int(conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == doc_id)).scalar_one())


def open_item(conn: Connection, number: str, installment: int = 1, book: BookSettings | None = None) -> OpenItem:
    """The open item of document NUMBER (installment INSTALLMENT) with what is open of it now
    (what is open is summed over its customer's matches only, not the whole book's); BOOK: the
    settings, when the caller has read them."""
    owner = conn.execute(sa.select(documents.c.customer_id).where(documents.c.number == number)).scalar()
    if owner is None:
        raise _missing(number, installment)
    stmt, listing = listed_stmt(None, owner)
    row = conn.execute(stmt.where(documents.c.number == number, listing.c.installment_no == installment)
                       ).mappings().first()
    if row is None:
        raise _missing(number, installment)
    return as_open_item(row, (book or read_settings(conn)).base_currency)


def _share(item: OpenItem, amount: int, book: BookSettings) -> int:
    """The base amount AMOUNT carries of ITEM's open base (no exchange difference arises)."""
    if item.currency == book.base_currency:
        return amount
    return to_minor(base_share(from_minor(amount, item.currency), abs(item.open).amount,
                               abs(item.open_base).amount, book.base_currency), book.base_currency)


def _amount(item: OpenItem, amount: Decimal | None, what: str, book: BookSettings) -> int:
    """What of ITEM is settled (minor units): AMOUNT, or all that is open; never beyond it."""
    if item.status not in matching.LIVE:
        raise InvalidDocument(f"{item.label} is {item.status}: only posted documents can be {what}")
    if not matching.clears(item.kind, item.status, book):
        raise InvalidAllocation(f"{item.label} is not approved yet: only approved receipts can be {what}")
    open_ = abs(item.open.minor)
    wanted = open_ if amount is None else to_minor(amount, item.currency)
    if wanted <= 0:
        raise InvalidAllocation(f"{what} {item.label}: amount {from_minor(wanted, item.currency)} must be positive")
    if wanted > open_:
        raise InvalidAllocation(f"{item.label} has {from_minor(open_, item.currency)} {item.currency} open; "
                                f"cannot {what.rstrip('d').rstrip('e')} {from_minor(wanted, item.currency)}")
    return wanted


def _dated(item: OpenItem, on: date, book: BookSettings, what: str) -> date:
    """A settlement's date: ON, but not before ITEM's own date, and in an open period."""
    on = max(on, item.doc_on)
    ensure_open(on, book.closed_period, f"{what} of {item.label}")
    return on


def write_off(conn: Connection, number: str, amount: Decimal, reason_code: str, on: date, user: str, *,
              installment: int = 1, memo: str | None = None) -> int:
    """Write off AMOUNT of invoice NUMBER (a short payment, a bank fee, rounding) with a reason
    code: a write-off document (Dr write-off account / Cr AR) matched to it. Beyond the setting
    write_off_tolerance only an approver may write off. Returns the write-off's id."""
    book = read_settings(conn)
    item = open_item(conn, number, installment, book)
    if item.amount.minor <= 0:
        raise InvalidAllocation(f"{item.label} is a credit: only what a customer owes is written off")
    minor = _amount(item, amount, "written off", book)
    code = reason_code.strip().upper()
    if code not in book.write_off_reasons:
        raise InvalidAllocation(f"write-off reason {reason_code!r} is not one of the setting write_off_reasons "
                                f"({', '.join(book.write_off_reasons) or 'none set'})")
    if from_minor(minor, item.currency) > book.write_off_tolerance and not book.may_approve(user):
        raise NotAllowed(f"writing off {from_minor(minor, item.currency)} {item.currency} of {item.label} is over "
                         f"the tolerance {book.write_off_tolerance} (setting write_off_tolerance): an approver must")
    on = _dated(item, on, book, "write-off")
    doc = load(conn, item.document_id)   # its customer's id and exchange rate go on what settles it
    row = booking.post_generated(conn, {
        "kind": DocKind.WRITE_OFF.value, "customer_id": doc.customer_id, "doc_on": on,
        "currency": item.currency, "fx_rate": doc.fx_rate, "amount_minor": minor,
        "base_amount_minor": _share(item, minor, book), "related_id": item.document_id, "source": number,
        "reference": code, "memo": memo or f"write-off of {item.label} ({code})"}, book, user)
    credit = item_of(conn, row.id)
    matching.allocate(conn, [matching.Match(item.id, credit, from_minor(minor, item.currency))],
                      method="write_off", user=user, memo=f"{code}: {row.memo}")
    return row.id


def transfer(conn: Connection, number: str, to: str, on: date, user: str, *, amount: Decimal | None = None,
             installment: int = 1, reason: str = "") -> tuple[int, int]:
    """Move what is open of document NUMBER (an invoice, or an unapplied receipt) to customer TO:
    a credit on the side that gives the balance up and a debit on the side that takes it over,
    each naming the other, the old item matched with its counterpart. The new item keeps the
    original's due date, so aging does not restart. Returns (from-side id, to-side id)."""
    book = read_settings(conn)
    item = open_item(conn, number, installment, book)
    doc = load(conn, item.document_id)
    target = by_code(conn, to)
    if target.id == doc.customer_id:
        raise InvalidDocument(f"{item.label} already belongs to {to}")
    if target.inactive:
        raise InvalidDocument(f"customer {to!r} is inactive")
    minor = _amount(item, amount, "transferred", book)
    on = _dated(item, on, book, "transfer")
    base = _share(item, minor, book)
    debit_side = item.amount.minor < 0    # an unapplied credit moves: its old customer is debited
    common = {"doc_on": on, "currency": item.currency, "fx_rate": doc.fx_rate, "amount_minor": minor,
              "base_amount_minor": base, "source": number,
              "memo": f"{item.label} transferred from {item.customer} to {to}" + (f": {reason}" if reason else "")}
    old_kind, new_kind = ((DocKind.TRANSFER_DEBIT, DocKind.TRANSFER_CREDIT) if debit_side
                          else (DocKind.TRANSFER_CREDIT, DocKind.TRANSFER_DEBIT))
    old = booking.post_generated(conn, {**common, "kind": old_kind.value, "customer_id": doc.customer_id}, book,
                                 user, status="draft")
    new = booking.post_generated(conn, {**common, "kind": new_kind.value, "customer_id": target.id,
                                        "due_on": item.due_on, "related_id": old.id}, book, user, journal=[])
    update_row(conn, documents, old.id, {"related_id": new.id, "status": "posted"})
    old = replace(old, related_id=new.id, status=DocStatus.POSTED)
    debtor, creditor = (doc.customer_id, target.id) if debit_side else (target.id, doc.customer_id)
    lines = [JournalLine(book.accounts.receivable, minor, 0, base, 0),
             JournalLine(book.accounts.receivable, 0, minor, 0, base)]
    booking.book_generated(conn, old, book, journal_rows(old, lines, [debtor, creditor]))
    counterpart = item_of(conn, old.id)
    pair = matching.Match(counterpart, item.id, from_minor(minor, item.currency)) if debit_side else \
        matching.Match(item.id, counterpart, from_minor(minor, item.currency))
    matching.allocate(conn, [pair], method="transfer", user=user, memo=str(common["memo"]))
    record(conn, user, "transfer", "document", item.document_id, {"customer": item.customer},
           {"customer": to, "amount_minor": minor, "from_document": old.number, "to_document": new.number})
    return old.id, new.id


def refund(conn: Connection, number: str, on: date, user: str, *, amount: Decimal | None = None,
           method: str = "bank", reason: str = "") -> int:
    """Pay back what is unapplied of a receipt or credit note NUMBER: a refund (Dr AR / Cr bank
    or cash) matched to it. Returns the refund's id."""
    book = read_settings(conn)
    item = open_item(conn, number, book=book)
    if item.kind not in (DocKind.RECEIPT.value, DocKind.CREDIT_NOTE.value, DocKind.TRANSFER_CREDIT.value):
        raise InvalidAllocation(f"{item.label} is not money received or credited: only receipts and credit notes "
                                "are refunded")
    if item.amount.minor >= 0:
        raise InvalidAllocation(f"{item.label} is owed by the customer: only unapplied receipts and credits "
                                "are refunded")
    if method not in RECEIPT_METHODS:
        raise InvalidDocument(f"refund method {method!r} is not one of {', '.join(RECEIPT_METHODS)}")
    minor = _amount(item, amount, "refunded", book)
    on = _dated(item, on, book, "refund")
    doc = load(conn, item.document_id)
    row = booking.post_generated(conn, {
        "kind": DocKind.REFUND.value, "customer_id": doc.customer_id, "doc_on": on, "currency": item.currency,
        "fx_rate": doc.fx_rate, "amount_minor": minor, "base_amount_minor": _share(item, minor, book),
        "method": method, "related_id": item.document_id, "source": number,
        "memo": f"refund of {item.label}" + (f": {reason}" if reason else "")}, book, user)
    debit = item_of(conn, row.id)
    matching.allocate(conn, [matching.Match(debit, item.id, from_minor(minor, item.currency))],
                      method="refund", user=user, memo=row.memo)
    return row.id


def payables_open(conn: Connection, customer_id: int, currency: str | None = None) -> list[tuple[Payable, int]]:
    """A customer's payables with what is not yet netted of each, oldest due first."""
    p, pa = payables.c, payable_allocations.c
    netted = (sa.select(sa.func.coalesce(sa.func.sum(pa.amount_minor), 0)).where(pa.payable_id == p.id)
              .scalar_subquery())
    stmt = sa.select(payables, netted.label("netted")).where(p.customer_id == customer_id)
    if currency:
        stmt = stmt.where(p.currency == currency)
    rows = conn.execute(stmt.order_by(sa.func.coalesce(p.due_on, p.payable_on), p.payable_on, p.id)
                        .with_for_update(of=payables)).all()
    read = [(Payable._make(columns), netted) for *columns, netted in rows]
    return [(payable, payable.amount_minor - netted) for payable, netted in read]


def net(conn: Connection, customer: str, on: date, user: str, *, currency: str | None = None,
        amount: Decimal | None = None) -> int:
    """Net a customer-vendor's payables against its receivables (应收应付对冲): a netting document
    (Dr accounts payable / Cr AR) clears invoices oldest due first and payables oldest due
    first, for AMOUNT or as much as both sides hold. Returns the netting's id."""
    book = read_settings(conn)
    cust = by_code(conn, customer)
    if not cust.vendor_code:
        raise InvalidDocument(f"customer {customer} has no vendor code: only a customer that is also a vendor "
                              "is netted")
    cur = currency or cust.currency
    ensure_open(on, book.closed_period, f"netting for {customer}")
    owed = [(row, left) for row, left in payables_open(conn, cust.id, cur) if left > 0 and row.payable_on <= on]
    listed, listing = listed_stmt(on, cust.id, documents.c.fx_rate)
    invoices = [row for row in conn.execute(
        listed.where(listing.c.currency == cur, listing.c[OPEN] > 0, documents.c.status.in_(matching.LIVE))
        .order_by(listing.c.due_on, listing.c.doc_on, listing.c.id)).mappings()]
    payable_total = sum(left for _, left in owed)
    receivable_total = sum(row[OPEN] for row in invoices)
    most = min(payable_total, receivable_total)
    minor = most if amount is None else to_minor(amount, cur)
    if minor <= 0 or minor > most:
        raise InvalidAllocation(
            f"netting for {customer} in {cur}: payables {from_minor(payable_total, cur)} and receivables "
            f"{from_minor(receivable_total, cur)} open; cannot net {from_minor(minor, cur)}")
    rate = invoices[0]["fx_rate"] if cur != book.base_currency else Decimal(1)
    row = booking.post_generated(conn, {
        "kind": DocKind.NETTING.value, "customer_id": cust.id, "doc_on": on, "currency": cur, "fx_rate": rate,
        "amount_minor": minor, "reference": cust.vendor_code,
        "memo": f"AR/AP netting with vendor {cust.vendor_code}"}, book, user)
    credit = item_of(conn, row.id)
    matches, left = [], minor
    for inv in invoices:
        take = min(left, inv[OPEN])
        if take > 0:
            matches.append(matching.Match(inv["id"], credit, from_minor(take, cur)))
            left -= take
    matching.allocate(conn, matches, method="netting", user=user, memo=row.memo)
    cleared: list[dict[str, Any]] = []
    left = minor
    for payable, open_ in owed:
        take = min(left, open_)
        if take > 0:
            cleared.append({"payable_id": payable.id, "document_id": row.id, "amount_minor": take})
            left -= take
    conn.execute(payable_allocations.insert(), cleared)
    record(conn, user, "net", "document", row.id, None, {"payables": cleared})
    return row.id


def unnet(conn: Connection, netting_id: int) -> None:
    """Before a netting is voided: give the payables it cleared back (negative amounts)."""
    pa = payable_allocations.c
    rows = conn.execute(sa.select(pa.payable_id, sa.func.sum(pa.amount_minor))
                        .where(pa.document_id == netting_id).group_by(pa.payable_id)).all()
    back = [{"payable_id": payable, "document_id": netting_id, "amount_minor": -total}
            for payable, total in rows if total]
    if back:
        conn.execute(payable_allocations.insert(), back)


def netted_of(conn: Connection, payable_ids: Sequence[int]) -> dict[int, int]:
    pa = payable_allocations.c
    return dict(conn.execute(sa.select(pa.payable_id, sa.func.sum(pa.amount_minor))
                             .where(pa.payable_id.in_(payable_ids)).group_by(pa.payable_id)).all())


def void(conn: Connection, number: str, on: date, user: str, reason: str) -> list[str]:
    """Void a write-off, refund, netting or transfer: its matches are undone, a netting gives its
    payables back, a transfer is voided with its counterpart. Returns the reversals' numbers."""
    doc = find(conn, number, lock=True)
    if doc.kind not in booking.SETTLEMENT_KINDS:
        raise InvalidDocument(f"{doc.label} is not a settlement: void it as a document")
    ids = [doc.id]
    if doc.kind in (DocKind.TRANSFER_DEBIT, DocKind.TRANSFER_CREDIT) and doc.related_id:
        ids.append(doc.related_id)
    items = conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id.in_(ids))).scalars().all()
    matching.undo_items(conn, items, on=on, user=user, memo=f"void of {doc.number}: {reason}")
    if doc.kind is DocKind.NETTING:
        unnet(conn, doc.id)
    reversals = [booking.void(conn, doc_id, on, user, reason, settlement=True) for doc_id in ids]
    return [conn.execute(sa.select(documents.c.number).where(documents.c.id == r)).scalar_one() for r in reversals]
