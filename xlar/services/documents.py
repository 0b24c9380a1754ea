"""Documents through their life: draft (editable), posted (immutable), void (reversed).

Posting asks the store for the number, writes the open item and balanced journal lines.
Voiding never deletes: it posts a reversal document and matches it to the original.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from xlar.domain.billing import InstallmentPeriod, billed_party, check_plan, schedule
from xlar.domain.documents import (
    CHARGE_KINDS,
    LINE_KINDS,
    POSTABLE_KINDS,
    DocKind,
    DocStatus,
    HeaderAmounts,
    LineInput,
    Release,
    Totals,
    base_totals,
    header_totals,
    journal_for,
    price_lines,
    sign_of,
    totals_of,
)
from xlar.domain.errors import Immutable, InvalidDocument, NotFound, XlarError
from xlar.domain.money import from_minor, parse_rate, to_minor
from xlar.domain.periods import ensure_open
from xlar.domain.terms import PaymentTerms, due_date
from xlar.services import billed, matching
from xlar.services.credit import Charge, check_credit
from xlar.services.customers import find_terms
from xlar.store.audit import record, record_many
from xlar.store.ledger import journal_rows, write_journal
from xlar.store.numbering import next_number, reserve_numbers
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import (
    allocation_batches,
    allocations,
    bank_lines,
    contracts,
    customers,
    deliveries,
    document_lines,
    documents,
    installment_terms,
    journal_lines,
    open_items,
    orders,
)
from xlar.store.writes import execute_many, in_chunks, insert_rows, update_row, update_rows

RECEIPT_METHODS = ("bank", "cash", "note", "offset")
_INSERT_LINES, _INSERT_ITEMS, _INSERT_JOURNAL = document_lines.insert(), open_items.insert(), journal_lines.insert()
LIVE = (DocStatus.POSTED.value, DocStatus.APPROVED.value)


@dataclass(frozen=True, slots=True)
class DraftDocument:
    """What a user enters; amounts are unsigned (the kind says which side)."""

    kind: DocKind
    customer: str
    doc_on: date
    lines: tuple[LineInput, ...] = ()
    amount: Decimal | None = None        # receipts; opening balances (negative = credit)
    currency: str | None = None          # default: the customer's currency
    fx_rate: Decimal | None = None       # needed when the currency is not the base currency
    due_on: date | None = None           # default: from the payment terms
    payment_terms: str | None = None     # default: the customer's terms
    method: str | None = None            # receipts: bank, cash, note, offset
    reference: str | None = None
    memo: str | None = None
    source: str | None = None            # where it came from (a billing cycle, an import)
    fapiao_no: str | None = None         # the tax invoice (发票) number
    original: str | None = None          # credit notes: the invoice credited; reissues: the voided one
    order: str | None = None             # the order billed (deposits, installments)
    installment_terms: str | None = None  # default: the order's, else its contract's
    expected_on: date | None = None      # expected receipt date; default: the due date
    maturity_on: date | None = None      # receipts by bank acceptance note: when the note matures
    disputed: bool = False               # the customer disputes it: held out of dunning
    user_ref: str | None = None          # the number the user typed on the new row (Your ref.)
    header: HeaderAmounts | None = None  # an invoice without lines: its typed net, tax and total


@dataclass(frozen=True, slots=True)
class Prepared:
    """A draft checked and computed: the document row and its line rows, ready to store."""

    values: dict[str, Any]
    lines: list[dict[str, Any]]


def _now() -> datetime:
    return datetime.now(UTC)


class _Refs:
    """The customers and payment terms a batch of drafts names, each read once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.customers: dict[str, RowMapping | None] = {}
        self.terms: dict[str, PaymentTerms] = {}
        self.line_check: billed.LineCheck | None = None
        self._parents: dict[str, str | None] | None = None

    def parents(self) -> dict[str, str | None]:
        if self._parents is None:
            self._parents = billed.parents(self.conn)
        return self._parents

    def load(self, codes: set[str]) -> None:
        for chunk in in_chunks(codes - self.customers.keys()):
            self.customers.update(dict.fromkeys(chunk))
            for row in self.conn.execute(sa.select(customers).where(customers.c.code.in_(chunk))).mappings():
                self.customers[row["code"]] = row

    def customer(self, code: str) -> RowMapping:
        if code not in self.customers:
            self.load({code})
        row = self.customers[code]
        if row is None:
            raise NotFound(f"unknown customer {code!r}")
        if row["status"] == "inactive":
            raise InvalidDocument(f"customer {code!r} is inactive")
        return row

    def payment_terms(self, code: str) -> PaymentTerms:
        if code not in self.terms:
            self.terms[code] = find_terms(self.conn, code)
        return self.terms[code]

    def order(self, number: str) -> RowMapping:
        row = self.conn.execute(sa.select(orders, customers.c.code.label("customer"))
                                .join(customers, customers.c.id == orders.c.customer_id)
                                .where(orders.c.number == number)).mappings().first()
        if row is None:
            raise NotFound(f"unknown order {number!r}")
        return row

    def contract(self, number: str) -> RowMapping | None:
        return self.conn.execute(sa.select(contracts).where(contracts.c.number == number)).mappings().first()

    def document(self, number: str) -> RowMapping:
        row = self.conn.execute(sa.select(documents, customers.c.code.label("customer"))
                                .join(customers, customers.c.id == documents.c.customer_id)
                                .where(documents.c.number == number)).mappings().first()
        if row is None:
            raise NotFound(f"no document {number!r}")
        return row


def installment_plan(conn: Connection, code: str) -> list[InstallmentPeriod]:
    """The periods of installment terms CODE, checked."""
    it = installment_terms.c
    rows = conn.execute(sa.select(it.period_no, it.percent, it.offset_months, it.offset_days)
                        .where(it.code == code)).all()
    if not rows:
        raise NotFound(f"unknown installment terms {code!r}")
    return check_plan(code, [InstallmentPeriod(no, pct, months or 0, days or 0) for no, pct, months, days in rows])


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
    if draft.kind not in POSTABLE_KINDS:
        raise InvalidDocument(f"{draft.kind} documents cannot be entered directly")
    cust = refs.customer(draft.customer)
    currency = draft.currency or cust["currency"]
    if currency == book.base_currency:
        if draft.fx_rate not in (None, Decimal(1)):
            raise InvalidDocument(f"a {currency} document in base currency {currency} has rate 1, not {draft.fx_rate}")
        rate = Decimal(1)
    elif draft.fx_rate is None:
        raise InvalidDocument(f"{draft.kind} for {draft.customer} in {currency} needs an exchange rate to {book.base_currency}")
    else:
        rate = parse_rate(draft.fx_rate)
    ensure_open(draft.doc_on, book.closed_period, f"{draft.kind} for {draft.customer}")
    totals, lines = _totals(draft, currency, book.tax_rate)
    billed.check_lines(refs.line_check, draft.kind, draft.customer, currency, draft.lines)
    base = totals if currency == book.base_currency else base_totals(totals, rate, book.base_currency)
    links = _links(refs, draft, cust, currency)
    method = None
    if draft.kind is DocKind.RECEIPT:
        method = draft.method or "bank"
        if method not in RECEIPT_METHODS:
            raise InvalidDocument(f"receipt method {method!r} is not one of {', '.join(RECEIPT_METHODS)}")
        if method == "note" and draft.maturity_on is None:
            raise InvalidDocument(f"receipt for {draft.customer} by bank acceptance note needs the note's "
                                  "maturity date")
        if draft.maturity_on is not None and draft.maturity_on < draft.doc_on:
            raise InvalidDocument(f"receipt for {draft.customer}: the note matures {draft.maturity_on}, before "
                                  f"it was received {draft.doc_on}")
    if draft.maturity_on is not None and method != "note":
        raise InvalidDocument(f"{draft.kind} for {draft.customer}: only bank acceptance notes have a maturity date")
    terms_code = draft.payment_terms or links.pop("contract_terms", None) or cust["payment_terms"]
    due_on = draft.due_on
    if due_on is None and draft.kind in LINE_KINDS and terms_code:
        due_on = due_date(draft.doc_on, refs.payment_terms(terms_code), cust["closing_day"])
    due_on = due_on or draft.doc_on
    if due_on < draft.doc_on and draft.kind is not DocKind.OPENING_BALANCE:
        raise InvalidDocument(f"{draft.kind} for {draft.customer}: due date {due_on} is before its date {draft.doc_on}")
    plan = links["installment_terms"]
    if plan:
        parts = schedule(totals.total, base.total, draft.doc_on, installment_plan(refs.conn, plan),
                         currency, book.base_currency, plan)
        due_on = max(due_on, parts[-1].due_on)
    values = {
        "kind": draft.kind.value, "customer_id": cust["id"], "doc_on": draft.doc_on, "due_on": due_on,
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


def _links(refs: _Refs, draft: DraftDocument, cust: RowMapping, currency: str) -> dict[str, Any]:
    """The documents, order and installment plan a draft names, checked."""
    links: dict[str, Any] = {"related_id": None, "order_number": None, "installment_terms": draft.installment_terms}
    if draft.original:
        original = refs.document(draft.original)
        if draft.kind is not DocKind.CREDIT_NOTE and original["status"] != DocStatus.VOID.value:
            raise InvalidDocument(f"{draft.kind} for {draft.customer}: only a credit note or the reissue of a "
                                  f"voided document names an original; {draft.original} is {original['status']}")
        if draft.kind is DocKind.CREDIT_NOTE and (original["kind"] not in (DocKind.INVOICE.value, DocKind.DEBIT_NOTE.value)
                                                 or original["status"] not in LIVE):
            raise InvalidDocument(f"a credit note credits a posted invoice; {draft.original} is a "
                                  f"{original['status']} {original['kind']}")
        if original["customer"] != draft.customer or original["currency"] != currency:
            raise InvalidDocument(f"{draft.kind} for {draft.customer} in {currency} cannot name {draft.original} "
                                  f"of {original['customer']} in {original['currency']}")
        links["related_id"] = original["id"]
    if draft.order:
        order = refs.order(draft.order)
        if order["customer"] != draft.customer and billed_party(order["customer"], refs.parents()) != draft.customer:
            raise InvalidDocument(f"order {draft.order} is {order['customer']}'s, not {draft.customer}'s")
        links["order_number"] = order["number"]
        contract = refs.contract(order["contract"]) if order["contract"] else None
        if not links["installment_terms"] and draft.kind is DocKind.INVOICE:
            links["installment_terms"] = order["installment_terms"] or (contract and contract["installment_terms"])
        if contract is not None and contract["payment_terms"]:
            links["contract_terms"] = contract["payment_terms"]
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


def _line_keys(lines: Sequence[Mapping[str, Any]]) -> set[billed.Key]:
    return {(ln["delivery"], ln["delivery_line"]) for ln in lines if ln.get("delivery")}


@dataclass(slots=True)
class Posting:
    """How a batch is posted: credit-limit overrides asked for, warnings given back."""

    override_credit: bool = False
    warnings: list[tuple[int, str]] = field(default_factory=list)   # (document id, message)
    named: frozenset[str] = frozenset()   # receipts the workbook matches itself (number or Your ref.):
                                          # not matched at entry when they start clearing


def store_new(conn: Connection, prepared: Sequence[Prepared], user: str, posted: Sequence[bool],
              posting: Posting | None = None) -> list[int]:
    """Store new documents in one batch and return their ids, in order. A draft has no
    number until posted ("draft #id"); a document flagged POSTED is stored posted: numbered,
    with its open items and journal, as `post` would have done a moment later."""
    book, now = read_settings(conn), _now()
    rows = [{"status": DocStatus.DRAFT.value, "created_by": user, "created_at": now, "number": None,
             "posted_by": None, "posted_at": None, **p.values} for p in prepared]
    to_post = [row for row, flag in zip(rows, posted, strict=True) if flag]
    for row, number in zip(to_post, _numbers(conn, to_post), strict=True):
        row.update(status=DocStatus.POSTED.value, number=number, posted_by=user, posted_at=now)
    ids = insert_rows(conn, documents, rows)
    for row, doc_id in zip(rows, ids, strict=True):
        row["id"] = doc_id
    lines = [{"document_id": doc_id, **ln} for doc_id, p in zip(ids, prepared, strict=True) for ln in p.lines]
    posted_ids = {row["id"] for row in to_post}
    billed.delivered_values(conn, [ln for ln in lines if ln["document_id"] in posted_ids])
    execute_many(conn, _INSERT_LINES, lines)
    billed.rebill(conn, _line_keys(lines))
    _write_ledger(conn, to_post, book)
    record_many(conn, user, "create", "document", [
        (row["id"], None, {**p.values, "lines": len(p.lines), "status": row["status"], "number": row["number"]})
        for row, p in zip(rows, prepared, strict=True)])
    _after_posting(conn, to_post, book, user, posting or Posting())
    return ids


def _prepare_one(conn: Connection, draft: DraftDocument) -> Prepared:
    result = prepare(conn, [draft])[0]
    if isinstance(result, XlarError):
        raise result
    return result


def create_draft(conn: Connection, draft: DraftDocument, user: str) -> int:
    """Store a draft; it has no number until posted ("draft #id")."""
    return store_new(conn, [_prepare_one(conn, draft)], user, [False])[0]


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


def label(doc: Mapping[str, Any]) -> str:
    """How a document is named in messages: 'invoice INV-2026-00001' or 'invoice draft #7'."""
    return f"{doc['kind']} {doc['number'] or 'draft #' + str(doc['id'])}"


def _draft_only(doc: RowMapping, action: str) -> None:
    if doc["status"] != DocStatus.DRAFT.value:
        raise Immutable(f"{label(doc)} is {doc['status']}: it cannot be {action}; void it instead")


def _lines_of(conn: Connection, doc_ids: Sequence[int]) -> list[dict[str, Any]]:
    return [dict(r) for chunk in in_chunks(doc_ids)
            for r in conn.execute(sa.select(document_lines).where(document_lines.c.document_id.in_(chunk))
                                  .order_by(document_lines.c.document_id, document_lines.c.line_no)).mappings()]


def update_draft(conn: Connection, doc_id: int, draft: DraftDocument, user: str) -> None:
    doc = load(conn, doc_id, lock=True)
    _draft_only(doc, "changed")
    book = read_settings(conn)
    ensure_open(doc["doc_on"], book.closed_period, label(doc))
    prepared = _prepare_one(conn, draft)
    values, lines = prepared.values, prepared.lines
    old = _line_keys(_lines_of(conn, [doc_id]))
    conn.execute(document_lines.delete().where(document_lines.c.document_id == doc_id))
    update_row(conn, documents, doc_id, values)
    if lines:
        conn.execute(document_lines.insert(), [{"document_id": doc_id, **ln} for ln in lines])
    billed.rebill(conn, old | _line_keys(lines))
    record(conn, user, "update", "document", doc_id, {k: doc[k] for k in values}, values)


def delete_draft(conn: Connection, doc_id: int, user: str) -> None:
    doc = load(conn, doc_id, lock=True)
    _draft_only(doc, "deleted")
    ensure_open(doc["doc_on"], read_settings(conn).closed_period, label(doc))
    old = _line_keys(_lines_of(conn, [doc_id]))
    conn.execute(document_lines.delete().where(document_lines.c.document_id == doc_id))
    # a receipt drafted from a bank line: the line goes back to the exception queue
    conn.execute(bank_lines.update().where(bank_lines.c.receipt_id == doc_id)
                 .values(receipt_id=None, exception=f"its draft receipt was deleted by {user}"))
    conn.execute(documents.delete().where(documents.c.id == doc_id))
    billed.rebill(conn, old)
    record(conn, user, "delete", "document", doc_id, dict(doc), None)


def base_of(doc: Mapping[str, Any], book: BookSettings) -> Totals:
    """A document's base-currency net and tax, in minor units."""
    cur, base_cur = doc["currency"], book.base_currency
    if cur == base_cur:  # rate 1: the base amounts are the amounts themselves
        return Totals(Decimal(doc["net_minor"]), Decimal(doc["tax_minor"]))
    real = base_totals(Totals(from_minor(doc["net_minor"], cur), from_minor(doc["tax_minor"], cur)),
                       doc["fx_rate"], base_cur)
    tax = to_minor(real.tax, base_cur)
    # the base total is the one stored with the document (a settlement carries the share of the
    # open base it settles, which may round apart from amount x rate): the journal agrees with it
    total = doc.get("base_amount_minor")
    total = to_minor(real.total, base_cur) if total is None else total
    return Totals(Decimal(total - tax), Decimal(tax))


def _journal_rows(doc: Mapping[str, Any], book: BookSettings, release: Release | None = None) -> list[dict[str, Any]]:
    """The document's journal lines, in minor units. journal_for only adds, negates and
    compares, so it is given the amounts in minor units (exact integers) directly."""
    totals = Totals(Decimal(doc["net_minor"]), Decimal(doc["tax_minor"]))
    lines = journal_for(DocKind(doc["kind"]), totals, base_of(doc, book), book.accounts, doc.get("method"), release)
    return journal_rows(doc, lines)


def post(conn: Connection, doc_id: int, user: str, *, override_credit: bool = False) -> str:
    """Post a draft: number it, write its open items and journal; it is immutable from now on."""
    return post_many(conn, [load(conn, doc_id, lock=True)], user, Posting(override_credit))[0]


def post_many(conn: Connection, docs: Sequence[Mapping[str, Any]], user: str,
              posting: Posting | None = None) -> list[str]:
    """Post drafts (document rows) in one batch; returns their numbers, in order."""
    book = read_settings(conn)
    for doc in docs:
        if doc["status"] != DocStatus.DRAFT.value:
            raise Immutable(f"{label(doc)} is already {doc['status']}")
        ensure_open(doc["doc_on"], book.closed_period, label(doc))
    lines = [ln for ln in _lines_of(conn, [doc["id"] for doc in docs]) if ln["delivery"]]
    billed.delivered_values(conn, lines)
    update_rows(conn, document_lines, [(ln["id"], {"delivered_net_minor": ln["delivered_net_minor"],
                                                   "delivered_tax_minor": ln["delivered_tax_minor"]})
                                       for ln in lines if ln["delivered_net_minor"] is not None])
    numbers, now = _numbers(conn, docs), _now()
    _write_ledger(conn, docs, book)
    changes = [(doc["id"], {"status": DocStatus.POSTED.value, "number": number, "posted_by": user, "posted_at": now})
               for doc, number in zip(docs, numbers, strict=True)]
    update_rows(conn, documents, changes)
    record_many(conn, user, "post", "document", [(doc_id, {"status": DocStatus.DRAFT.value}, values)
                                                 for doc_id, values in changes])
    _after_posting(conn, [{**doc, **values} for doc, (_, values) in zip(docs, changes, strict=True)],
                   book, user, posting or Posting())
    return numbers


def _numbers(conn: Connection, docs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Numbers for DOCS, in the order given within each kind's series for the year."""
    series: dict[tuple[DocKind, int], list[int]] = defaultdict(list)
    for i, doc in enumerate(docs):
        series[(DocKind(doc["kind"]), doc["doc_on"].year)].append(i)
    numbers = [""] * len(docs)
    for (kind, year), members in series.items():
        for i, number in zip(members, reserve_numbers(conn, kind, year, len(members)), strict=True):
            numbers[i] = number
    return numbers


def _releases(conn: Connection, docs: Sequence[Mapping[str, Any]], book: BookSettings) -> dict[int, Release]:
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
    sums: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
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
    return {doc_id: Release(Totals(a[0], a[1]), Totals(a[2], a[3]), book.delivery_difference)
            for doc_id, a in sums.items()}


def _write_ledger(conn: Connection, docs: Sequence[Mapping[str, Any]], book: BookSettings) -> None:
    """The open items (one per installment) and balanced journal lines of each document being posted."""
    items, journal = [], []
    releases = _releases(conn, docs, book)
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
        journal += _journal_rows(doc, book, releases.get(doc["id"]))
    execute_many(conn, _INSERT_ITEMS, items)
    write_journal(conn, journal, book.accounts.receivable)


def _after_posting(conn: Connection, docs: Sequence[Mapping[str, Any]], book: BookSettings, user: str,
                   posting: Posting) -> None:
    """What posting sets off: credit notes applied to their invoice, deposits offset on the final
    invoice, and the credit limit checked for what raises a customer's debt."""
    if not docs:
        return
    for doc in docs:
        if doc["kind"] == DocKind.CREDIT_NOTE.value and doc.get("related_id"):
            _apply_to(conn, doc["id"], doc["related_id"], user, f"credit note {doc['number']}")
    _offset_deposits(conn, [d for d in docs if d["kind"] == DocKind.INVOICE.value], book, user)
    if book.receipt_clearing == "confirmed":
        # receipts clear once confirmed: matched at entry now (receipts builds on this module)
        from xlar.services import receipts
        receipts.match_at_entry(conn, [d["id"] for d in docs if d["kind"] == DocKind.RECEIPT.value
                                       and not {d["number"], d.get("user_ref")} & posting.named], user, book)
    charges = [doc for doc in docs if DocKind(doc["kind"]) in CHARGE_KINDS]
    warnings = check_credit(conn, [Charge(doc["customer_id"], doc["doc_on"], f"posting {label(doc)}")
                                   for doc in charges], book, user, override=posting.override_credit)
    posting.warnings += [(doc["id"], warning) for doc, warning in zip(charges, warnings, strict=True) if warning]


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


def _offset_deposits(conn: Connection, invoices: Sequence[Mapping[str, Any]], book: BookSettings, user: str) -> None:
    """A final invoice offsets what is left of its orders' deposit pre-invoices (预开发票): a
    deposit offset document (Dr advances / Cr AR) applied to the invoice, per order."""
    if not invoices:
        return
    d, ln, dl = documents.c, document_lines.c, deliveries.c
    per_order: dict[tuple[int, str], int] = defaultdict(int)   # (invoice id, order) -> gross billed
    rows = [row for chunk in in_chunks(i["id"] for i in invoices) for row in conn.execute(
        sa.select(ln.document_id, dl.order_number, ln.net_minor, ln.tax_minor)
        .join(deliveries, sa.and_(dl.number == ln.delivery, dl.line_no == ln.delivery_line))
        .where(ln.document_id.in_(chunk), dl.order_number.is_not(None)))]
    for doc_id, order, net, tax in rows:
        per_order[(doc_id, order)] += net + tax
    for inv in invoices:
        if inv.get("order_number") and not any(k[0] == inv["id"] for k in per_order):
            per_order[(inv["id"], inv["order_number"])] = inv["amount_minor"]
    by_id = {i["id"]: i for i in invoices}
    for (inv_id, order), gross in sorted(per_order.items()):
        inv = by_id[inv_id]
        deposits = conn.execute(sa.select(documents).where(
            d.order_number == order, d.kind == DocKind.DEPOSIT_INVOICE.value, d.status.in_(LIVE),
            d.currency == inv["currency"])).mappings().all()
        if not deposits:
            continue
        offset_before = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(d.amount_minor), 0)).where(
            d.order_number == order, d.kind == DocKind.DEPOSIT_OFFSET.value, d.status.in_(LIVE))).scalar_one()
        left = sum(dep["amount_minor"] for dep in deposits) - offset_before
        open_now = sum(amount for _, amount in _open_of(conn, inv_id))
        amount = min(left, gross, open_now)
        if amount <= 0:
            continue
        _post_offset(conn, inv, order, amount, book, user)


def _post_offset(conn: Connection, inv: Mapping[str, Any], order: str, amount: int, book: BookSettings,
                 user: str) -> None:
    row = post_generated(conn, {
        "kind": DocKind.DEPOSIT_OFFSET.value, "customer_id": inv["customer_id"], "doc_on": inv["doc_on"],
        "currency": inv["currency"], "fx_rate": inv["fx_rate"], "amount_minor": amount, "order_number": order,
        "related_id": inv["id"], "source": inv["number"], "memo": f"deposit of order {order} offset"}, book, user)
    _apply_to(conn, row["id"], inv["id"], user, f"deposit of order {order} on {inv['number']}")


def post_generated(conn: Connection, values: Mapping[str, Any], book: BookSettings, user: str, *,
                   status: str = DocStatus.POSTED.value, journal: Sequence[dict[str, Any]] | None = None,
                   installment_no: int = 1) -> dict[str, Any]:
    """Store and post a document a service makes (a deposit offset, write-off, transfer, refund,
    netting): numbered, with its open item and journal (JOURNAL rows, when given, instead of the
    kind's own). VALUES holds at least kind, customer_id, doc_on, currency, fx_rate and
    amount_minor; the base amount is converted at the rate unless given. STATUS draft stores it
    numbered but not yet booked (one side of a linked pair; `book_generated` completes it)."""
    cur, kind, now = values["currency"], DocKind(values["kind"]), _now()
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
        _write_ledger(conn, [row], book)
    else:
        sign = sign_of(DocKind(row["kind"]))
        execute_many(conn, _INSERT_ITEMS, [{
            "document_id": row["id"], "customer_id": row["customer_id"], "currency": row["currency"],
            "doc_on": row["doc_on"], "installment_no": installment_no, "due_on": row["due_on"],
            "amount_minor": sign * row["amount_minor"], "base_amount_minor": sign * row["base_amount_minor"]}])
        write_journal(conn, list(journal), book.accounts.receivable)


def _undo_linked(conn: Connection, doc: Mapping[str, Any], on: date, user: str) -> None:
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
    stamp = {"status": DocStatus.POSTED.value, "posted_by": user, "posted_at": _now(),
             "created_by": user, "created_at": _now()}
    copied = {k: doc[k] for k in ("customer_id", "currency", "fx_rate", "net_minor", "tax_minor",
                                  "amount_minor", "base_amount_minor", "payment_terms", "method")}
    rev_id = int(conn.execute(documents.insert().values(
        kind=DocKind.REVERSAL.value, number=number, doc_on=on, due_on=on, reverses_id=doc_id,
        reference=doc["number"], memo=reason, **copied, **stamp)).inserted_primary_key[0])
    pairs = []
    for it in items:
        new_id = conn.execute(open_items.insert().values(
            document_id=rev_id, customer_id=it["customer_id"], installment_no=it["installment_no"],
            currency=it["currency"], amount_minor=-it["amount_minor"],
            base_amount_minor=-it["base_amount_minor"], doc_on=on, due_on=on)).inserted_primary_key[0]
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
    voided = {"status": DocStatus.VOID.value, "voided_by": user, "voided_at": _now()}
    update_row(conn, documents, doc_id, voided)
    billed.rebill(conn, _line_keys(_lines_of(conn, [doc_id])))
    record(conn, user, "void", "document", doc_id, {"status": doc["status"]},
           {**voided, "reversal": number, "reason": reason})
    return rev_id
