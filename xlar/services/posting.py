"""Posting: a draft numbered, booked and made immutable, and what posting sets off.

post_many numbers a batch of drafts (each kind's series), writes their ledger (booking.py),
marks them posted and audits it; then the steps of AFTER_POSTING run over the batch, in order:
credit notes applied to their invoice, deposits offset on the final invoice, receipts matched
at entry where they clear once confirmed, and the credit limit held. A document stored posted
(documents.store_new) goes through the same steps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.documents import (
    CHARGE_KINDS,
    DocKind,
    DocStatus,
)
from xlar.domain.errors import Immutable
from xlar.domain.money import from_minor
from xlar.domain.periods import ensure_open
from xlar.domain.records import Document
from xlar.services import billed, matching, receipts
from xlar.services.booking import LIVE, lines_of, post_generated, utc_now, write_ledger
from xlar.services.credit import Charge, check_credit
from xlar.store.audit import record_many
from xlar.store.documents import load
from xlar.store.numbering import reserve_numbers
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import (
    allocations,
    deliveries,
    document_lines,
    documents,
    open_items,
)
from xlar.store.writes import in_chunks, update_rows

_INSERT_LINES, _INSERT_ITEMS = document_lines.insert(), open_items.insert()


@dataclass(slots=True)
class Posting:
    """How a batch is posted: credit-limit overrides asked for, warnings given back."""

    override_credit: bool = False
    warnings: list[tuple[int, str]] = field(default_factory=list)   # (document id, message)
    named: frozenset[str] = frozenset()   # receipts the workbook matches itself (number or Your ref.):
                                          # not matched at entry when they start clearing


def post(conn: Connection, doc_id: int, user: str, *, override_credit: bool = False) -> str:
    """Post a draft: number it, write its open items and journal; it is immutable from now on."""
    return post_many(conn, [load(conn, doc_id, lock=True)], user, Posting(override_credit))[0]


def post_many(conn: Connection, docs: Sequence[Document], user: str,
              posting: Posting | None = None) -> list[str]:
    """Post drafts (document rows) in one batch; returns their numbers, in order."""
    book = read_settings(conn)
    for doc in docs:
        if doc.status is not DocStatus.DRAFT:
            raise Immutable(f"{doc.label} is already {doc.status}")
        ensure_open(doc.doc_on, book.closed_period, doc.label)
    lines = [ln for ln in lines_of(conn, [doc.id for doc in docs]) if ln["delivery"]]
    billed.delivered_values(conn, lines)
    update_rows(conn, document_lines, [(ln["id"], {"delivered_net_minor": ln["delivered_net_minor"],
                                                   "delivered_tax_minor": ln["delivered_tax_minor"]})
                                       for ln in lines if ln["delivered_net_minor"] is not None])
    numbers, now = numbers_for(conn, [(doc.kind, doc.doc_on) for doc in docs]), utc_now()
    posted = [replace(doc, status=DocStatus.POSTED, number=number, posted_by=user, posted_at=now)
              for doc, number in zip(docs, numbers, strict=True)]
    write_ledger(conn, posted, book)
    changes = [(doc.id, {"status": doc.status.value, "number": doc.number, "posted_by": user, "posted_at": now})
               for doc in posted]
    update_rows(conn, documents, changes)
    record_many(conn, user, "post", "document", [(doc_id, {"status": DocStatus.DRAFT.value}, values)
                                                 for doc_id, values in changes])
    after_posting(conn, posted, book, user, posting or Posting())
    return numbers


def numbers_for(conn: Connection, docs: Sequence[tuple[DocKind, date]]) -> list[str]:
    """Numbers for documents of a kind dated a day, in the order given within each kind's series
    for the year."""
    series: dict[tuple[DocKind, int], list[int]] = defaultdict(list)
    for i, (kind, on) in enumerate(docs):
        series[(kind, on.year)].append(i)
    numbers = [""] * len(docs)
    for (kind, year), members in series.items():
        for i, number in zip(members, reserve_numbers(conn, kind, year, len(members)), strict=True):
            numbers[i] = number
    return numbers


def apply_credit_notes(conn: Connection, docs: Sequence[Document], book: BookSettings, user: str,
                       posting: Posting) -> None:
    """A credit note naming its invoice is applied to it, installment by installment."""
    for doc in docs:
        if doc.kind is DocKind.CREDIT_NOTE and doc.related_id:
            _apply_to(conn, doc.id, doc.related_id, user, f"credit note {doc.number}")


def offset_deposits(conn: Connection, docs: Sequence[Document], book: BookSettings, user: str,
                    posting: Posting) -> None:
    """A final invoice offsets what is left of its orders' deposit pre-invoices (see _offset_deposits)."""
    _offset_deposits(conn, [d for d in docs if d.kind is DocKind.INVOICE], book, user)


def match_receipts(conn: Connection, docs: Sequence[Document], book: BookSettings, user: str,
                   posting: Posting) -> None:
    """Where receipts clear once confirmed, a posted receipt is matched at entry, unless the
    workbook matches it itself (an Allocations row of the same sync names it)."""
    if book.receipt_clearing == "confirmed":
        receipts.match_at_entry(conn, [d.id for d in docs if d.kind is DocKind.RECEIPT
                                       and not {d.number, d.user_ref} & posting.named], user, book)


def check_credit_limits(conn: Connection, docs: Sequence[Document], book: BookSettings, user: str,
                        posting: Posting) -> None:
    """What raises a customer's debt is held to the credit limit: refused, or a warning given back."""
    charges = [doc for doc in docs if doc.kind in CHARGE_KINDS]
    warnings = check_credit(conn, [Charge(doc.customer_id, doc.doc_on, f"posting {doc.label}")
                                   for doc in charges], book, user, override=posting.override_credit)
    posting.warnings += [(doc.id, warning) for doc, warning in zip(charges, warnings, strict=True) if warning]


PostStep = Callable[[Connection, Sequence[Document], BookSettings, str, Posting], None]

# What posting sets off, in this order, for every batch of documents posted (by Post, by a sync
# that posts, by a document stored posted): a new consequence of posting is a step added here.
AFTER_POSTING: tuple[PostStep, ...] = (apply_credit_notes, offset_deposits, match_receipts, check_credit_limits)


def after_posting(conn: Connection, docs: Sequence[Document], book: BookSettings, user: str,
                  posting: Posting) -> None:
    """Each step of AFTER_POSTING over the documents just posted."""
    if not docs:
        return
    for step in AFTER_POSTING:
        step(conn, docs, book, user, posting)


def _open_of(conn: Connection, doc_id: int) -> list[tuple[int, int]]:
    """(open item id, open amount in minor units) of a document's items, by installment."""
    a = allocations.c
    applied = (sa.select(sa.func.coalesce(sa.func.sum(a.amount_minor), 0))
               .where(sa.or_(a.debit_item_id == open_items.c.id, a.credit_item_id == open_items.c.id))
               .scalar_subquery())
    rows = conn.execute(sa.select(open_items.c.id, open_items.c.amount_minor, applied)
                        .where(open_items.c.document_id == doc_id).order_by(open_items.c.installment_no)).all()
    return [(item_id, abs(amount) - done) for item_id, amount, done in rows]


def _apply_to(conn: Connection, credit_doc: int, debit_doc: int, user: str, memo: str) -> None:
    """Apply a credit document's open amount to a debit document's open installments, in order."""
    credits = _open_of(conn, credit_doc)
    if not credits:
        return
    credit_item, left = credits[0]
    cur = conn.execute(sa.select(documents.c.currency).where(documents.c.id == credit_doc)).scalar_one()
    matches = []
    for item_id, open_ in _open_of(conn, debit_doc):
        amount = min(open_, left)
        if amount > 0:
            matches.append(matching.Match(item_id, credit_item, from_minor(amount, cur)))
            left -= amount
    if matches:
        matching.allocate(conn, matches, method="auto", user=user, memo=memo)


def _offset_deposits(conn: Connection, invoices: Sequence[Document], book: BookSettings, user: str) -> None:
    """A final invoice offsets what is left of its orders' deposit pre-invoices (预开发票): a
    deposit offset document (Dr advances / Cr AR) applied to the invoice, per order."""
    if not invoices:
        return
    d, ln, dl = documents.c, document_lines.c, deliveries.c
    per_order: dict[tuple[int, str], int] = defaultdict(int)   # (invoice id, order) -> gross billed
    rows = [row for chunk in in_chunks(i.id for i in invoices) for row in conn.execute(
        sa.select(ln.document_id, dl.order_number, ln.net_minor, ln.tax_minor)
        .join(deliveries, sa.and_(dl.number == ln.delivery, dl.line_no == ln.delivery_line))
        .where(ln.document_id.in_(chunk), dl.order_number.is_not(None)))]
    for doc_id, order, net, tax in rows:
        per_order[(doc_id, order)] += net + tax
    for inv in invoices:
        if inv.order_number and not any(k[0] == inv.id for k in per_order):
            per_order[(inv.id, inv.order_number)] = inv.amount_minor
    by_id = {i.id: i for i in invoices}
    for (inv_id, order), gross in sorted(per_order.items()):
        inv = by_id[inv_id]
        deposited, deposits = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(d.amount_minor), 0), sa.func.count()).where(
                d.order_number == order, d.kind == DocKind.DEPOSIT_INVOICE.value, d.status.in_(LIVE),
                d.currency == inv.currency)).one()
        if not deposits:
            continue
        offset_before = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(d.amount_minor), 0)).where(
            d.order_number == order, d.kind == DocKind.DEPOSIT_OFFSET.value, d.status.in_(LIVE))).scalar_one()
        left = deposited - offset_before
        open_now = sum(amount for _, amount in _open_of(conn, inv_id))
        amount = min(left, gross, open_now)
        if amount <= 0:
            continue
        _post_offset(conn, inv, order, amount, book, user)


def _post_offset(conn: Connection, inv: Document, order: str, amount: int, book: BookSettings,
                 user: str) -> None:
    offset = post_generated(conn, {
        "kind": DocKind.DEPOSIT_OFFSET.value, "customer_id": inv.customer_id, "doc_on": inv.doc_on,
        "currency": inv.currency, "fx_rate": inv.fx_rate, "amount_minor": amount, "order_number": order,
        "related_id": inv.id, "source": inv.number, "memo": f"deposit of order {order} offset"}, book, user)
    _apply_to(conn, offset.id, inv.id, user, f"deposit of order {order} on {inv.number}")
