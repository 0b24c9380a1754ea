"""Documents through their life: draft (editable), posted (immutable), void (reversed).

Drafts are checked and stored here, and posted: posting asks the store for the numbers, books
each document (its open items and balanced journal lines, xlar.services.booking) and then sets
off what posting sets off (credit notes applied, deposits offset, receipts matched at entry when
the book clears them so, the credit limit checked). Voiding never deletes: it posts a reversal
and matches it to the original (booking.void, reached here as documents.void).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.billing import billed_party, schedule
from xlar.domain.documents import (
    LINE_KINDS,
    DocKind,
    DocStatus,
    Totals,
    base_totals,
    header_totals,
    price_lines,
    totals_of,
)
from xlar.domain.drafts import (
    DraftDocument,
    checked_due,
    draft_rate,
    enterable,
    receipt_method,
)
from xlar.domain.errors import Immutable, InvalidDocument, NotFound, XlarError
from xlar.domain.money import to_minor
from xlar.domain.periods import ensure_open
from xlar.domain.records import Document, Party
from xlar.domain.terms import PaymentTerms, due_date
from xlar.services import billed, booking
from xlar.services import posting as posting_service
from xlar.services.booking import installment_plan, line_keys, lines_of, utc_now, write_ledger
from xlar.services.customers import find_terms
from xlar.services.posting import Posting, after_posting, numbers_for
from xlar.store import documents as stored
from xlar.store import orders as orders_store
from xlar.store.audit import record, record_many
from xlar.store.customers import by_codes
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import (
    bank_lines,
    customers,
    document_lines,
    documents,
    open_items,
)
from xlar.store.writes import execute_many, update_row

_INSERT_LINES, _INSERT_ITEMS = document_lines.insert(), open_items.insert()

# the tests reach a document's life through this module: documents.find, .load, .void, .post, .post_many
find, load = stored.find, stored.load
void, post, post_many = booking.void, posting_service.post, posting_service.post_many


@dataclass(frozen=True, slots=True)
class Prepared:
    """A draft checked and computed: the document row and its line rows, ready to store."""

    values: dict[str, Any]
    lines: list[dict[str, Any]]


class _Refs:
    """The customers and payment terms a batch of drafts names, each read once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.customers: dict[str, Party | None] = {}
        self.terms: dict[str, PaymentTerms] = {}
        self.line_check: billed.LineCheck | None = None
        self._parents: dict[str, str | None] | None = None

    def parents(self) -> dict[str, str | None]:
        if self._parents is None:
            self._parents = billed.parents(self.conn)
        return self._parents

    def load(self, codes: set[str]) -> None:
        wanted = codes - self.customers.keys()
        self.customers.update(dict.fromkeys(wanted))
        self.customers.update(by_codes(self.conn, wanted))

    def customer(self, code: str) -> Party:
        if code not in self.customers:
            self.load({code})
        party = self.customers[code]
        if party is None:
            raise NotFound(f"unknown customer {code!r}")
        if party.inactive:
            raise InvalidDocument(f"customer {code!r} is inactive")
        return party

    def payment_terms(self, code: str) -> PaymentTerms:
        if code not in self.terms:
            self.terms[code] = find_terms(self.conn, code)
        return self.terms[code]

    def document(self, number: str) -> tuple[Document, str]:
        """The document numbered NUMBER, and its customer's code."""
        row = self.conn.execute(sa.select(documents, customers.c.code.label("customer_code"))
                                .join(customers, customers.c.id == documents.c.customer_id)
                                .where(documents.c.number == number)).mappings().first()
        if row is None:
            raise NotFound(f"no document {number!r}")
        return Document.of({k: v for k, v in row.items() if k != "customer_code"}), row["customer_code"]




def _totals(draft: DraftDocument, currency: str, tax_rate: Decimal) -> tuple[Totals, list[dict[str, Any]]]:
    what = f"{draft.kind} for {draft.customer}"
    if draft.kind in LINE_KINDS:
        if draft.amount is not None:
            raise InvalidDocument(f"{what}: give lines (item, qty, unit price, tax rate) or its net and tax, "
                                  "not an amount")
        if not draft.lines:   # typed by amount: one implied line, to the revenue account
            if draft.header is None or not draft.header.given:
                raise InvalidDocument(f"{what}: give its lines (item, qty, unit price, tax rate) or its amounts "
                                      "(net and tax, or the total)")
            try:
                return header_totals(draft.header, tax_rate, currency), []
            except InvalidDocument as exc:
                raise InvalidDocument(f"{what}: {exc.message}") from None
        priced = price_lines(draft.lines, currency)
        lines = [{"line_no": p.line_no, "item": p.item, "description": p.description, "qty": p.qty,
                  "unit_price": p.unit_price, "tax_rate": p.tax_rate,
                  "net_minor": to_minor(p.net, currency), "tax_minor": to_minor(p.tax, currency),
                  "delivery": given.delivery, "delivery_line": given.delivery_line,
                  "delivered_net_minor": None, "delivered_tax_minor": None}
                 for p, given in zip(priced, draft.lines, strict=True)]
        totals = totals_of(priced)
        if totals.total <= 0:
            raise InvalidDocument(f"{what}: the total {totals.total} must be positive"
                                  + ("; returns beyond the deliveries go on a credit note"
                                     if any(ln.returned for ln in draft.lines) else ""))
        return totals, lines
    if draft.lines or draft.amount is None:
        raise InvalidDocument(f"{what}: give an amount, not lines")
    to_minor(draft.amount, currency)  # refuses more decimals than the currency has
    if draft.kind is DocKind.RECEIPT and draft.amount <= 0:
        raise InvalidDocument(f"{what}: amount {draft.amount} must be positive")
    if draft.amount == 0:
        raise InvalidDocument(f"{what}: amount must not be zero")
    return Totals(draft.amount, Decimal(0)), []


def _prepare(refs: _Refs, draft: DraftDocument, book: BookSettings) -> Prepared:
    """Validate a draft and compute what is stored for it: totals, base amounts, due date."""
    enterable(draft)
    cust = refs.customer(draft.customer)
    currency = draft.currency or cust.currency
    rate = draft_rate(draft, currency, book.base_currency)
    ensure_open(draft.doc_on, book.closed_period, f"{draft.kind} for {draft.customer}")
    totals, lines = _totals(draft, currency, book.tax_rate)
    billed.check_lines(refs.line_check, draft.kind, draft.customer, currency, draft.lines)
    base = totals if currency == book.base_currency else base_totals(totals, rate, book.base_currency)
    links = _links(refs, draft, currency)
    method = receipt_method(draft)
    terms_code = draft.payment_terms or links.pop("contract_terms", None) or cust.payment_terms
    due_on = draft.due_on
    if due_on is None and draft.kind in LINE_KINDS and terms_code:
        due_on = due_date(draft.doc_on, refs.payment_terms(terms_code), cust.closing_day)
    due_on = checked_due(draft, due_on)
    plan = links["installment_terms"]
    if plan:
        parts = schedule(totals.total, base.total, draft.doc_on, installment_plan(refs.conn, plan),
                         currency, book.base_currency, plan)
        due_on = max(due_on, parts[-1].due_on)
    values = {
        "kind": draft.kind.value, "customer_id": cust.id, "doc_on": draft.doc_on, "due_on": due_on,
        "currency": currency, "fx_rate": rate,
        "net_minor": to_minor(totals.net, currency), "tax_minor": to_minor(totals.tax, currency),
        "amount_minor": to_minor(totals.total, currency),
        "base_amount_minor": to_minor(base.total, book.base_currency),
        "payment_terms": terms_code, "method": method, "reference": draft.reference, "memo": draft.memo,
        "source": draft.source, "fapiao_no": draft.fapiao_no, **links,
        "expected_on": draft.expected_on or due_on, "maturity_on": draft.maturity_on,
        "disputed": "yes" if draft.disputed else None, "user_ref": draft.user_ref,
    }
    return Prepared(values, lines)


def _links(refs: _Refs, draft: DraftDocument, currency: str) -> dict[str, Any]:
    """The documents, order and installment plan a draft names, checked."""
    links: dict[str, Any] = {"related_id": None, "order_number": None, "installment_terms": draft.installment_terms}
    if draft.original:
        original, whose = refs.document(draft.original)
        if draft.kind is not DocKind.CREDIT_NOTE and original.status is not DocStatus.VOID:
            raise InvalidDocument(f"{draft.kind} for {draft.customer}: only a credit note or the reissue of a "
                                  f"voided document names an original; {draft.original} is {original.status}")
        if draft.kind is DocKind.CREDIT_NOTE and (original.kind not in (DocKind.INVOICE, DocKind.DEBIT_NOTE)
                                                 or not original.live):
            raise InvalidDocument(f"a credit note credits a posted invoice; {draft.original} is a "
                                  f"{original.status} {original.kind}")
        if whose != draft.customer or original.currency != currency:
            raise InvalidDocument(f"{draft.kind} for {draft.customer} in {currency} cannot name {draft.original} "
                                  f"of {whose} in {original.currency}")
        links["related_id"] = original.id
    if draft.order:
        order, owner = orders_store.order(refs.conn, draft.order)
        if owner != draft.customer and billed_party(owner, refs.parents()) != draft.customer:
            raise InvalidDocument(f"order {draft.order} is {owner}'s, not {draft.customer}'s")
        links["order_number"] = order.number
        contract = orders_store.contract(refs.conn, order.contract) if order.contract else None
        if not links["installment_terms"] and draft.kind is DocKind.INVOICE:
            links["installment_terms"] = order.installment_terms or (contract and contract.installment_terms)
        if contract is not None and contract.payment_terms:
            links["contract_terms"] = contract.payment_terms
    if links["installment_terms"] and draft.kind is not DocKind.INVOICE:
        raise InvalidDocument(f"{draft.kind} for {draft.customer}: only invoices are paid in installments")
    return links


def prepare(conn: Connection, drafts: Sequence[DraftDocument]) -> list[Prepared | XlarError]:
    """Check and compute many drafts at once: each is ready to store, or why it is not."""
    book, refs = read_settings(conn), _Refs(conn)
    refs.load({d.customer for d in drafts})
    refs.line_check = billed.line_check(conn, [ln for d in drafts for ln in d.lines])
    results: list[Prepared | XlarError] = []
    for draft in drafts:
        try:
            results.append(_prepare(refs, draft, book))
        except XlarError as exc:
            results.append(exc)
    return results


def store_new(conn: Connection, prepared: Sequence[Prepared], user: str, posted: Sequence[bool],
              posting: Posting | None = None) -> list[int]:
    """Store new documents in one batch and return their ids, in order. A draft has no
    number until posted ("draft #id"); a document flagged POSTED is stored posted: numbered,
    with its open items and journal, as `post` would have done a moment later."""
    book, now = read_settings(conn), utc_now()
    rows = [{"status": DocStatus.DRAFT.value, "created_by": user, "created_at": now, "number": None,
             "posted_by": None, "posted_at": None, **p.values} for p in prepared]
    flagged = [row for row, flag in zip(rows, posted, strict=True) if flag]
    for row, number in zip(flagged, numbers_for(conn, [(DocKind(r["kind"]), r["doc_on"]) for r in flagged]),
                           strict=True):
        row.update(status=DocStatus.POSTED.value, number=number, posted_by=user, posted_at=now)
    new = stored.insert(conn, rows)
    ids = [doc.id for doc in new]
    to_post = [doc for doc, flag in zip(new, posted, strict=True) if flag]
    lines = [{"document_id": doc_id, **ln} for doc_id, p in zip(ids, prepared, strict=True) for ln in p.lines]
    posted_ids = {doc.id for doc in to_post}
    billed.delivered_values(conn, [ln for ln in lines if ln["document_id"] in posted_ids])
    execute_many(conn, _INSERT_LINES, lines)
    billed.rebill(conn, line_keys(lines))
    write_ledger(conn, to_post, book)
    record_many(conn, user, "create", "document", [
        (doc.id, None, {**p.values, "lines": len(p.lines), "status": doc.status.value, "number": doc.number})
        for doc, p in zip(new, prepared, strict=True)])
    after_posting(conn, to_post, book, user, posting or Posting())
    return ids


def _prepare_one(conn: Connection, draft: DraftDocument) -> Prepared:
    result = prepare(conn, [draft])[0]
    if isinstance(result, XlarError):
        raise result
    return result


def create_draft(conn: Connection, draft: DraftDocument, user: str) -> int:
    """Store a draft; it has no number until posted ("draft #id")."""
    return store_new(conn, [_prepare_one(conn, draft)], user, [False])[0]


def _draft_only(doc: Document, action: str) -> None:
    if doc.status is not DocStatus.DRAFT:
        raise Immutable(f"{doc.label} is {doc.status}: it cannot be {action}; void it instead")


def update_draft(conn: Connection, doc_id: int, draft: DraftDocument, user: str) -> None:
    doc = load(conn, doc_id, lock=True)
    _draft_only(doc, "changed")
    book = read_settings(conn)
    ensure_open(doc.doc_on, book.closed_period, doc.label)
    prepared = _prepare_one(conn, draft)
    values, lines = prepared.values, prepared.lines
    old = line_keys(lines_of(conn, [doc_id]))
    conn.execute(document_lines.delete().where(document_lines.c.document_id == doc_id))
    update_row(conn, documents, doc_id, values)
    if lines:
        conn.execute(document_lines.insert(), [{"document_id": doc_id, **ln} for ln in lines])
    billed.rebill(conn, old | line_keys(lines))
    record(conn, user, "update", "document", doc_id, {k: getattr(doc, k) for k in values}, values)


def delete_draft(conn: Connection, doc_id: int, user: str) -> None:
    doc = load(conn, doc_id, lock=True)
    _draft_only(doc, "deleted")
    ensure_open(doc.doc_on, read_settings(conn).closed_period, doc.label)
    old = line_keys(lines_of(conn, [doc_id]))
    conn.execute(document_lines.delete().where(document_lines.c.document_id == doc_id))
    # a receipt drafted from a bank line: the line goes back to the exception queue
    conn.execute(bank_lines.update().where(bank_lines.c.receipt_id == doc_id)
                 .values(receipt_id=None, exception=f"its draft receipt was deleted by {user}"))
    conn.execute(documents.delete().where(documents.c.id == doc_id))
    billed.rebill(conn, old)
    record(conn, user, "delete", "document", doc_id, doc.columns(), None)


def due_drafts(conn: Connection, on: date) -> list[int]:
    """The ids of the draft invoices and notes dated ON or earlier, oldest first: what Post posts."""
    return list(conn.execute(sa.select(documents.c.id).where(
        documents.c.status == DocStatus.DRAFT.value, documents.c.kind.in_(sorted(k.value for k in LINE_KINDS)),
        documents.c.doc_on <= on).order_by(documents.c.doc_on, documents.c.id)).scalars())


