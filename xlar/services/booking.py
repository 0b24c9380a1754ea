"""What the ledger writes for a document: its open items and journal lines (the booking of a posted
document), the documents services generate (deposit offsets, write-offs, transfers, refunds,
nettings) and the void of a posted document (a reversal matched to it). Drafts and posting are
xlar.services.documents, which builds on this module; settlements (xlar.services.settle) use this
one alone, so posting may set off matching, write-offs included, without an import cycle."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain import allocation
from xlar.domain.billing import InstallmentPeriod, check_plan, schedule
from xlar.domain.documents import (
    DocKind,
    DocStatus,
    MinorTotals,
    Release,
    Totals,
    base_totals,
    journal_for,
    sign_of,
)
from xlar.domain.errors import Immutable, InvalidDocument, NotFound
from xlar.domain.money import from_minor, to_minor
from xlar.domain.periods import ensure_open
from xlar.domain.records import Document
from xlar.services import billed, matching
from xlar.store.audit import record
from xlar.store.documents import insert as insert_documents
from xlar.store.documents import load
from xlar.store.ledger import journal_rows, write_journal
from xlar.store.numbering import next_number
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import (
    allocation_batches,
    allocations,
    deliveries,
    document_lines,
    documents,
    installment_terms,
    journal_lines,
    open_items,
)
from xlar.store.writes import execute_many, in_chunks, insert_row, update_row

_INSERT_ITEMS, _INSERT_JOURNAL = open_items.insert(), journal_lines.insert()
LIVE = allocation.LIVE   # document statuses that stand in the ledger


def utc_now() -> datetime:
    return datetime.now(UTC)


def line_keys(lines: Sequence[Mapping[str, Any]]) -> set[billed.Key]:
    return {(ln["delivery"], ln["delivery_line"]) for ln in lines if ln.get("delivery")}


def lines_of(conn: Connection, doc_ids: Sequence[int]) -> list[dict[str, Any]]:
    return [dict(r) for chunk in in_chunks(doc_ids)
            for r in conn.execute(sa.select(document_lines).where(document_lines.c.document_id.in_(chunk))
                                  .order_by(document_lines.c.document_id, document_lines.c.line_no)).mappings()]


def base_amounts(currency: str, totals: MinorTotals, rate: Decimal, book: BookSettings,
                 total: int | None = None) -> MinorTotals:
    """Net and tax TOTALS of CURRENCY at RATE, in minor units of the base currency. TOTAL, when
    given, is the base total stored with the document (a settlement carries the share of the open
    base it settles, which may round apart from amount x rate): the journal agrees with it."""
    base_cur = book.base_currency
    if currency == base_cur:  # rate 1: the base amounts are the amounts themselves
        return totals
    real = base_totals(Totals(from_minor(totals.net, currency), from_minor(totals.tax, currency)), rate, base_cur)
    tax = to_minor(real.tax, base_cur)
    total = to_minor(real.total, base_cur) if total is None else total
    return MinorTotals(total - tax, tax)


def base_of(doc: Document, book: BookSettings) -> MinorTotals:
    """A document's base-currency net and tax, in minor units."""
    return base_amounts(doc.currency, doc.totals, doc.fx_rate, book, doc.base_amount_minor)


def document_journal(doc: Document, book: BookSettings, release: Release | None = None) -> list[dict[str, Any]]:
    """The document's journal lines, in minor units (journal_for only adds, negates and compares)."""
    lines = journal_for(doc.kind, doc.totals, base_of(doc, book), book.accounts, doc.method, release)
    return journal_rows(doc, lines)


def deposit_releases(conn: Connection, docs: Sequence[Document], book: BookSettings) -> dict[int, Release]:
    """Per document, the revenue its lines settle that was booked at delivery (see Release)."""
    ids = [doc.id for doc in docs if doc.kind in (DocKind.INVOICE, DocKind.CREDIT_NOTE)]
    if not ids:
        return {}
    ln, dl = document_lines.c, deliveries.c
    accrual = documents.alias("accrual")
    rows = [row for chunk in in_chunks(ids) for row in conn.execute(
        sa.select(ln.document_id, ln.delivered_net_minor, ln.delivered_tax_minor, accrual.c.currency,
                  accrual.c.fx_rate)
        .join(deliveries, sa.and_(dl.number == ln.delivery, dl.line_no == ln.delivery_line))
        .join(accrual, accrual.c.id == dl.accrual_id)
        .where(ln.document_id.in_(chunk), ln.delivered_net_minor.is_not(None)))]
    sums: dict[int, list[int]] = defaultdict(lambda: [0] * 4)
    for doc_id, net, tax, cur, rate in rows:
        acc = sums[doc_id]
        acc[0] += net
        acc[1] += tax
        if cur == book.base_currency:
            acc[2], acc[3] = acc[2] + net, acc[3] + tax
        else:
            base = base_totals(Totals(from_minor(net, cur), from_minor(tax, cur)), rate, book.base_currency)
            acc[2] += to_minor(base.net, book.base_currency)
            acc[3] += to_minor(base.tax, book.base_currency)
    # a credit note bills returns with positive quantities: its release is in its own orientation,
    # like its amounts (the journal of a credit note is an invoice's, swapped)
    return {doc_id: Release(MinorTotals(a[0], a[1]), MinorTotals(a[2], a[3]), book.delivery_difference)
            for doc_id, a in sums.items()}


def installment_plan(conn: Connection, code: str) -> list[InstallmentPeriod]:
    """The periods of installment terms CODE, checked."""
    it = installment_terms.c
    rows = conn.execute(sa.select(it.period_no, it.percent, it.offset_months, it.offset_days)
                        .where(it.code == code)).all()
    if not rows:
        raise NotFound(f"unknown installment terms {code!r}")
    return check_plan(code, [InstallmentPeriod(no, pct, months or 0, days or 0) for no, pct, months, days in rows])


def write_ledger(conn: Connection, docs: Sequence[Document], book: BookSettings) -> None:
    """The open items (one per installment) and balanced journal lines of each document being posted."""
    items, journal = [], []
    released = deposit_releases(conn, docs, book)
    plans: dict[str, list[InstallmentPeriod]] = {}
    for doc in docs:
        sign = sign_of(doc.kind)
        one = {"document_id": doc.id, "customer_id": doc.customer_id, "currency": doc.currency, "doc_on": doc.doc_on}
        code = doc.installment_terms
        if code:
            if code not in plans:
                plans[code] = installment_plan(conn, code)
            cur, base_cur = doc.currency, book.base_currency
            for part in schedule(from_minor(doc.amount_minor, cur), from_minor(doc.base_amount_minor, base_cur),
                                 doc.doc_on, plans[code], cur, base_cur, code):
                items.append({**one, "installment_no": part.no, "due_on": part.due_on,
                              "amount_minor": sign * to_minor(part.amount, cur),
                              "base_amount_minor": sign * to_minor(part.base_amount, base_cur)})
        else:
            items.append({**one, "installment_no": 1, "amount_minor": sign * doc.amount_minor,
                          "base_amount_minor": sign * doc.base_amount_minor, "due_on": doc.due_on})
        journal += document_journal(doc, book, released.get(doc.id))
    execute_many(conn, _INSERT_ITEMS, items)
    write_journal(conn, journal, book.accounts.receivable)


def post_generated(conn: Connection, values: Mapping[str, Any], book: BookSettings, user: str, *,
                   status: str = DocStatus.POSTED.value, journal: Sequence[dict[str, Any]] | None = None,
                   installment_no: int = 1) -> Document:
    """Store and post a document a service makes (a deposit offset, write-off, transfer, refund,
    netting): numbered, with its open item and journal (JOURNAL rows, when given, instead of the
    kind's own). VALUES holds at least kind, customer_id, doc_on, currency, fx_rate and
    amount_minor; the base amount is converted at the rate unless given. STATUS draft stores it
    numbered but not yet booked (one side of a linked pair; `book_generated` completes it)."""
    cur, kind, now = values["currency"], DocKind(values["kind"]), utc_now()
    amount = values["amount_minor"]
    base = values.get("base_amount_minor")
    if base is None:
        base = amount if cur == book.base_currency else to_minor(
            base_totals(Totals(from_minor(amount, cur), Decimal(0)), values["fx_rate"], book.base_currency).total,
            book.base_currency)
    row = {"due_on": values["doc_on"], "net_minor": amount, "tax_minor": 0, **values, "base_amount_minor": base,
           "status": status, "number": next_number(conn, kind, values["doc_on"]),
           "created_by": user, "created_at": now, "posted_by": user, "posted_at": now}
    doc = insert_documents(conn, [row])[0]
    record(conn, user, "create", "document", doc.id, None, row)
    if status == DocStatus.POSTED.value:
        book_generated(conn, doc, book, journal, installment_no)
    return doc


def book_generated(conn: Connection, doc: Document, book: BookSettings,
                   journal: Sequence[dict[str, Any]] | None = None, installment_no: int = 1) -> None:
    """The open item and journal of a generated document (see post_generated)."""
    if journal is None:
        write_ledger(conn, [doc], book)
    else:
        sign = sign_of(doc.kind)
        execute_many(conn, _INSERT_ITEMS, [{
            "document_id": doc.id, "customer_id": doc.customer_id, "currency": doc.currency,
            "doc_on": doc.doc_on, "installment_no": installment_no, "due_on": doc.due_on,
            "amount_minor": sign * doc.amount_minor, "base_amount_minor": sign * doc.base_amount_minor}])
        write_journal(conn, list(journal), book.accounts.receivable)


def _undo_linked(conn: Connection, doc: Document, on: date, user: str) -> None:
    """Before a document is voided: void its deposit offsets, and undo the automatic match of a
    credit note with its invoice (both were made by posting, not by a person)."""
    d = documents.c
    for offset in conn.execute(sa.select(d.id).where(d.related_id == doc.id, d.status.in_(LIVE),
                                                     d.kind == DocKind.DEPOSIT_OFFSET.value)).scalars().all():
        _undo_matches_between(conn, offset, doc.id, on, user)
        void(conn, offset, on, user, f"{doc.label} voided")
    if doc.kind is DocKind.CREDIT_NOTE and doc.related_id:
        _undo_matches_between(conn, doc.id, doc.related_id, on, user)
    for note in conn.execute(sa.select(d.id).where(d.related_id == doc.id, d.status.in_(LIVE),
                                                   d.kind == DocKind.CREDIT_NOTE.value)).scalars().all():
        _undo_matches_between(conn, note, doc.id, on, user)


def _undo_matches_between(conn: Connection, one: int, other: int, on: date, user: str) -> None:
    a, oi, b = allocations.c, open_items.c, allocation_batches.c
    mine = sa.select(oi.id).where(oi.document_id == one)
    theirs = sa.select(oi.id).where(oi.document_id == other)
    batches = conn.execute(sa.select(a.batch_id).distinct().where(
        sa.or_(sa.and_(a.debit_item_id.in_(mine), a.credit_item_id.in_(theirs)),
               sa.and_(a.debit_item_id.in_(theirs), a.credit_item_id.in_(mine))),
        a.reverses_id.is_(None))).scalars().all()
    undone = set(conn.execute(sa.select(b.reverses_batch_id).where(b.reverses_batch_id.in_(batches))).scalars())
    for batch in sorted(set(batches) - undone):
        matching.undo(conn, batch, on=on, user=user)


# Documents voided only through what made them: settle.void (the matches undone, a netting's
# payables given back, a transfer with its counterpart), a realized FX by undoing its match.
SETTLEMENT_KINDS = frozenset({DocKind.WRITE_OFF.value, DocKind.REFUND.value, DocKind.NETTING.value,
                              DocKind.TRANSFER_DEBIT.value, DocKind.TRANSFER_CREDIT.value})


def void(conn: Connection, doc_id: int, on: date, user: str, reason: str, *, settlement: bool = False) -> int:
    """Void a posted document by posting a reversal dated ON; returns the reversal's id."""
    doc = load(conn, doc_id, lock=True)
    if not doc.live or doc.kind is DocKind.REVERSAL:
        raise Immutable(f"{doc.label} is {doc.status}{' (a reversal)' if doc.live else ''}: it cannot be voided")
    if doc.kind is DocKind.FX_REALIZED:
        raise Immutable(f"{doc.label} is the exchange difference of match batch {doc.batch_id}: undo the match")
    if doc.kind is DocKind.FX_ADJUSTMENT:
        raise Immutable(f"{doc.label} is a month-end revaluation: it is reversed on the 1st of the next month")
    if doc.kind in SETTLEMENT_KINDS and not settlement:
        raise Immutable(f"{doc.label} is voided with what it settles: xlar void {doc.number}")
    if not reason.strip():
        raise InvalidDocument(f"voiding {doc.label} needs a reason")
    if on < doc.doc_on:
        raise InvalidDocument(f"{doc.label} dated {doc.doc_on} cannot be voided on an earlier date {on}")
    book = read_settings(conn)
    ensure_open(doc.doc_on, book.closed_period, f"{doc.label} cannot be voided: it")
    ensure_open(on, book.closed_period, f"void of {doc.label}")
    _undo_linked(conn, doc, on, user)
    items = conn.execute(sa.select(open_items).where(open_items.c.document_id == doc_id)).mappings().all()
    matching.refuse_if_matched(conn, [it["id"] for it in items], doc.label)
    number = next_number(conn, DocKind.REVERSAL, on)
    stamp = {"status": DocStatus.POSTED.value, "posted_by": user, "posted_at": utc_now(),
             "created_by": user, "created_at": utc_now()}
    copied = {k: getattr(doc, k) for k in ("customer_id", "currency", "fx_rate", "net_minor", "tax_minor",
                                  "amount_minor", "base_amount_minor", "payment_terms", "method")}
    rev_id = insert_row(conn, documents, dict(
        kind=DocKind.REVERSAL.value, number=number, doc_on=on, due_on=on, reverses_id=doc_id,
        reference=doc.number, memo=reason, **copied, **stamp))
    pairs = []
    for it in items:
        new_id = insert_row(conn, open_items, {
            "document_id": rev_id, "customer_id": it["customer_id"], "installment_no": it["installment_no"],
            "currency": it["currency"], "amount_minor": -it["amount_minor"],
            "base_amount_minor": -it["base_amount_minor"], "doc_on": on, "due_on": on})
        debit, credit = (it["id"], new_id) if it["amount_minor"] > 0 else (new_id, it["id"])
        pairs.append(matching.Match(debit, credit, from_minor(abs(it["amount_minor"]), it["currency"])))
    original = conn.execute(sa.select(journal_lines).where(journal_lines.c.document_id == doc_id)
                            .order_by(journal_lines.c.line_no)).mappings().all()
    execute_many(conn, _INSERT_JOURNAL, [
        {**{k: j[k] for k in ("line_no", "account", "customer_id", "currency")}, "document_id": rev_id,
         "debit_minor": j["credit_minor"], "credit_minor": j["debit_minor"],
         "base_debit_minor": j["base_credit_minor"], "base_credit_minor": j["base_debit_minor"],
         "posted_on": on} for j in original])
    if pairs:
        matching.allocate(conn, pairs, method="void", user=user, memo=f"void of {doc.number}")
    voided = {"status": DocStatus.VOID.value, "voided_by": user, "voided_at": utc_now()}
    update_row(conn, documents, doc_id, voided)
    billed.rebill(conn, line_keys(lines_of(conn, [doc_id])))
    record(conn, user, "void", "document", doc_id, {"status": doc.status},
           {**voided, "reversal": number, "reason": reason})
    return rev_id
