"""What the ledger writes for a document: its open items and journal lines (the booking of a posted
document), the documents services generate (deposit offsets, write-offs, transfers, refunds,
nettings) and the void of a posted document (a reversal matched to it). Drafts and posting are
xlar.services.documents, which builds on this module; settlements (xlar.services.settle) use this
one alone, so posting may set off matching, write-offs included, without an import cycle."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

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
from xlar.services import billed, matching
from xlar.store.audit import record
from xlar.store.ledger import journal_rows, write_journal
from xlar.store.numbering import next_number
from xlar.store.reads import StoredRow
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
from xlar.store.writes import execute_many, in_chunks, insert_row, insert_rows, update_row

_INSERT_ITEMS, _INSERT_JOURNAL = open_items.insert(), journal_lines.insert()
LIVE = (DocStatus.POSTED.value, DocStatus.APPROVED.value)


def utc_now() -> datetime:
    return datetime.now(UTC)


def line_keys(lines: Sequence[StoredRow]) -> set[billed.Key]:
    return {(ln["delivery"], ln["delivery_line"]) for ln in lines if ln.get("delivery")}


def load(conn: Connection, doc_id: int, *, lock: bool = False) -> RowMapping:
    stmt = sa.select(documents).where(documents.c.id == doc_id)
    row = conn.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        raise NotFound(f"no document with id {doc_id}")
    return row


def find(conn: Connection, number: str, *, lock: bool = False) -> RowMapping:
    """A document by its number, or by its draft name ("DRAFT-12" or "12")."""
    stmt = sa.select(documents).where(documents.c.number == number)
    row = conn.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        draft_id = number.upper().removeprefix("DRAFT-").removeprefix("#")
        if draft_id.isdigit():
            return load(conn, int(draft_id), lock=lock)
        raise NotFound(f"no document {number!r}")
    return row


def label(doc: StoredRow) -> str:
    """How a document is named in messages: 'invoice INV-2026-00001' or 'invoice draft #7'."""
    return f"{doc['kind']} {doc['number'] or 'draft #' + str(doc['id'])}"


def lines_of(conn: Connection, doc_ids: Sequence[int]) -> list[dict[str, Any]]:
    return [dict(r) for chunk in in_chunks(doc_ids)
            for r in conn.execute(sa.select(document_lines).where(document_lines.c.document_id.in_(chunk))
                                  .order_by(document_lines.c.document_id, document_lines.c.line_no)).mappings()]


def base_of(doc: StoredRow, book: BookSettings) -> MinorTotals:
    """A document's base-currency net and tax, in minor units."""
    cur, base_cur = doc["currency"], book.base_currency
    if cur == base_cur:  # rate 1: the base amounts are the amounts themselves
        return MinorTotals(doc["net_minor"], doc["tax_minor"])
    real = base_totals(Totals(from_minor(doc["net_minor"], cur), from_minor(doc["tax_minor"], cur)),
                       doc["fx_rate"], base_cur)
    tax = to_minor(real.tax, base_cur)
    # the base total is the one stored with the document (a settlement carries the share of the
    # open base it settles, which may round apart from amount x rate): the journal agrees with it
    total = doc.get("base_amount_minor")
    total = to_minor(real.total, base_cur) if total is None else total
    return MinorTotals(total - tax, tax)


def document_journal(doc: StoredRow, book: BookSettings, release: Release | None = None) -> list[dict[str, Any]]:
    """The document's journal lines, in minor units (journal_for only adds, negates and compares)."""
    totals = MinorTotals(doc["net_minor"], doc["tax_minor"])
    lines = journal_for(DocKind(doc["kind"]), totals, base_of(doc, book), book.accounts, doc.get("method"), release)
    return journal_rows(doc, lines)


def deposit_releases(conn: Connection, docs: Sequence[StoredRow], book: BookSettings) -> dict[int, Release]:
    """Per document, the revenue its lines settle that was booked at delivery (see Release)."""
    ids = [doc["id"] for doc in docs if doc["kind"] in (DocKind.INVOICE.value, DocKind.CREDIT_NOTE.value)]
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


def write_ledger(conn: Connection, docs: Sequence[StoredRow], book: BookSettings) -> None:
    """The open items (one per installment) and balanced journal lines of each document being posted."""
    items, journal = [], []
    released = deposit_releases(conn, docs, book)
    plans: dict[str, list[InstallmentPeriod]] = {}
    for doc in docs:
        sign = sign_of(DocKind(doc["kind"]))
        one = {"document_id": doc["id"], "customer_id": doc["customer_id"], "currency": doc["currency"],
               "doc_on": doc["doc_on"]}
        code = doc.get("installment_terms")
        if code:
            if code not in plans:
                plans[code] = installment_plan(conn, code)
            cur, base_cur = doc["currency"], book.base_currency
            for part in schedule(from_minor(doc["amount_minor"], cur), from_minor(doc["base_amount_minor"], base_cur),
                                 doc["doc_on"], plans[code], cur, base_cur, code):
                items.append({**one, "installment_no": part.no, "due_on": part.due_on,
                              "amount_minor": sign * to_minor(part.amount, cur),
                              "base_amount_minor": sign * to_minor(part.base_amount, base_cur)})
        else:
            items.append({**one, "installment_no": 1, "amount_minor": sign * doc["amount_minor"],
                          "base_amount_minor": sign * doc["base_amount_minor"], "due_on": doc["due_on"]})
        journal += document_journal(doc, book, released.get(doc["id"]))
    execute_many(conn, _INSERT_ITEMS, items)
    write_journal(conn, journal, book.accounts.receivable)


def post_generated(conn: Connection, values: StoredRow, book: BookSettings, user: str, *,
                   status: str = DocStatus.POSTED.value, journal: Sequence[dict[str, Any]] | None = None,
                   installment_no: int = 1) -> dict[str, Any]:
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
    row["id"] = insert_rows(conn, documents, [row])[0]
    record(conn, user, "create", "document", row["id"], None, {k: v for k, v in row.items() if k != "id"})
    if status == DocStatus.POSTED.value:
        book_generated(conn, row, book, journal, installment_no)
    return row


def book_generated(conn: Connection, row: dict[str, Any], book: BookSettings,
                   journal: Sequence[dict[str, Any]] | None = None, installment_no: int = 1) -> None:
    """The open item and journal of a generated document (see post_generated)."""
    if journal is None:
        write_ledger(conn, [row], book)
    else:
        sign = sign_of(DocKind(row["kind"]))
        execute_many(conn, _INSERT_ITEMS, [{
            "document_id": row["id"], "customer_id": row["customer_id"], "currency": row["currency"],
            "doc_on": row["doc_on"], "installment_no": installment_no, "due_on": row["due_on"],
            "amount_minor": sign * row["amount_minor"], "base_amount_minor": sign * row["base_amount_minor"]}])
        write_journal(conn, list(journal), book.accounts.receivable)


def _undo_linked(conn: Connection, doc: StoredRow, on: date, user: str) -> None:
    """Before a document is voided: void its deposit offsets, and undo the automatic match of a
    credit note with its invoice (both were made by posting, not by a person)."""
    d = documents.c
    for offset in conn.execute(sa.select(d.id).where(d.related_id == doc["id"], d.status.in_(LIVE),
                                                     d.kind == DocKind.DEPOSIT_OFFSET.value)).scalars().all():
        _undo_matches_between(conn, offset, doc["id"], on, user)
        void(conn, offset, on, user, f"{label(doc)} voided")
    if doc["kind"] == DocKind.CREDIT_NOTE.value and doc["related_id"]:
        _undo_matches_between(conn, doc["id"], doc["related_id"], on, user)
    for note in conn.execute(sa.select(d.id).where(d.related_id == doc["id"], d.status.in_(LIVE),
                                                   d.kind == DocKind.CREDIT_NOTE.value)).scalars().all():
        _undo_matches_between(conn, note, doc["id"], on, user)


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
    if doc["status"] not in LIVE or doc["kind"] == DocKind.REVERSAL.value:
        raise Immutable(f"{label(doc)} is {doc['status']}{' (a reversal)' if doc['status'] in LIVE else ''}: it cannot be voided")
    if doc["kind"] == DocKind.FX_REALIZED.value:
        raise Immutable(f"{label(doc)} is the exchange difference of match batch {doc['batch_id']}: undo the match")
    if doc["kind"] == DocKind.FX_ADJUSTMENT.value:
        raise Immutable(f"{label(doc)} is a month-end revaluation: it is reversed on the 1st of the next month")
    if doc["kind"] in SETTLEMENT_KINDS and not settlement:
        raise Immutable(f"{label(doc)} is voided with what it settles: xlar void {doc['number']}")
    if not reason.strip():
        raise InvalidDocument(f"voiding {label(doc)} needs a reason")
    if on < doc["doc_on"]:
        raise InvalidDocument(f"{label(doc)} dated {doc['doc_on']} cannot be voided on an earlier date {on}")
    book = read_settings(conn)
    ensure_open(doc["doc_on"], book.closed_period, f"{label(doc)} cannot be voided: it")
    ensure_open(on, book.closed_period, f"void of {label(doc)}")
    _undo_linked(conn, doc, on, user)
    items = conn.execute(sa.select(open_items).where(open_items.c.document_id == doc_id)).mappings().all()
    matching.refuse_if_matched(conn, [it["id"] for it in items], label(doc))
    number = next_number(conn, DocKind.REVERSAL, on)
    stamp = {"status": DocStatus.POSTED.value, "posted_by": user, "posted_at": utc_now(),
             "created_by": user, "created_at": utc_now()}
    copied = {k: doc[k] for k in ("customer_id", "currency", "fx_rate", "net_minor", "tax_minor",
                                  "amount_minor", "base_amount_minor", "payment_terms", "method")}
    rev_id = insert_row(conn, documents, dict(
        kind=DocKind.REVERSAL.value, number=number, doc_on=on, due_on=on, reverses_id=doc_id,
        reference=doc["number"], memo=reason, **copied, **stamp))
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
        matching.allocate(conn, pairs, method="void", user=user, memo=f"void of {doc['number']}")
    voided = {"status": DocStatus.VOID.value, "voided_by": user, "voided_at": utc_now()}
    update_row(conn, documents, doc_id, voided)
    billed.rebill(conn, line_keys(lines_of(conn, [doc_id])))
    record(conn, user, "void", "document", doc_id, {"status": doc["status"]},
           {**voided, "reversal": number, "reason": reason})
    return rev_id
