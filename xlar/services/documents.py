"""Documents through their life: draft (editable), posted (immutable), void (reversed).

Posting asks the store for the number, writes the open item and balanced journal lines.
Voiding never deletes: it posts a reversal document and matches it to the original.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from xlar.domain.documents import (
    LINE_KINDS,
    POSTABLE_KINDS,
    DocKind,
    DocStatus,
    LineInput,
    Totals,
    base_totals,
    journal_for,
    price_lines,
    sign_of,
    totals_of,
)
from xlar.domain.errors import Immutable, InvalidDocument, NotFound, XlarError
from xlar.domain.money import from_minor, parse_rate, to_minor
from xlar.domain.periods import ensure_open
from xlar.domain.terms import PaymentTerms, due_date
from xlar.services import matching
from xlar.services.customers import find_terms
from xlar.store.audit import record, record_many
from xlar.store.numbering import next_number, reserve_numbers
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import customers, document_lines, documents, journal_lines, open_items
from xlar.store.writes import execute_many, insert_rows, update_row, update_rows

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
    source: str | None = None            # where it came from (a delivery, an import)
    fapiao_no: str | None = None         # the tax invoice (发票) number


@dataclass(frozen=True, slots=True)
class Prepared:
    """A draft checked and computed: the document row and its line rows, ready to store."""

    values: dict[str, Any]
    lines: list[dict[str, Any]]


def _now() -> datetime:
    return datetime.now(UTC)


class _Refs:
    """The customers and payment terms a batch of drafts names, each read once."""

    CHUNK = 500

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.customers: dict[str, RowMapping | None] = {}
        self.terms: dict[str, PaymentTerms] = {}

    def load(self, codes: set[str]) -> None:
        missing = sorted(codes - self.customers.keys())
        for i in range(0, len(missing), self.CHUNK):
            chunk = missing[i:i + self.CHUNK]
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


def _totals(draft: DraftDocument, currency: str) -> tuple[Totals, list[dict[str, Any]]]:
    what = f"{draft.kind} for {draft.customer}"
    if draft.kind in LINE_KINDS:
        if not draft.lines or draft.amount is not None:
            raise InvalidDocument(f"{what}: give lines (item, qty, unit price, tax rate), not an amount")
        priced = price_lines(draft.lines, currency)
        lines = [{"line_no": p.line_no, "item": p.item, "description": p.description, "qty": p.qty,
                  "unit_price": p.unit_price, "tax_rate": p.tax_rate,
                  "net_minor": to_minor(p.net, currency), "tax_minor": to_minor(p.tax, currency)}
                 for p in priced]
        return totals_of(priced), lines
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
    totals, lines = _totals(draft, currency)
    base = totals if currency == book.base_currency else base_totals(totals, rate, book.base_currency)
    method = None
    if draft.kind is DocKind.RECEIPT:
        method = draft.method or "bank"
        if method not in RECEIPT_METHODS:
            raise InvalidDocument(f"receipt method {method!r} is not one of {', '.join(RECEIPT_METHODS)}")
    terms_code = draft.payment_terms or cust["payment_terms"]
    due_on = draft.due_on
    if due_on is None and draft.kind in LINE_KINDS and terms_code:
        due_on = due_date(draft.doc_on, refs.payment_terms(terms_code), cust["closing_day"])
    due_on = due_on or draft.doc_on
    if due_on < draft.doc_on and draft.kind is not DocKind.OPENING_BALANCE:
        raise InvalidDocument(f"{draft.kind} for {draft.customer}: due date {due_on} is before its date {draft.doc_on}")
    values = {
        "kind": draft.kind.value, "customer_id": cust["id"], "doc_on": draft.doc_on, "due_on": due_on,
        "currency": currency, "fx_rate": rate,
        "net_minor": to_minor(totals.net, currency), "tax_minor": to_minor(totals.tax, currency),
        "amount_minor": to_minor(totals.total, currency),
        "base_amount_minor": to_minor(base.total, book.base_currency),
        "payment_terms": terms_code, "method": method, "reference": draft.reference, "memo": draft.memo,
        "source": draft.source, "fapiao_no": draft.fapiao_no,
    }
    return Prepared(values, lines)


def prepare(conn: Connection, drafts: Sequence[DraftDocument]) -> list[Prepared | XlarError]:
    """Check and compute many drafts at once: each is ready to store, or why it is not."""
    book, refs = read_settings(conn), _Refs(conn)
    refs.load({d.customer for d in drafts})
    results: list[Prepared | XlarError] = []
    for draft in drafts:
        try:
            results.append(_prepare(refs, draft, book))
        except XlarError as exc:
            results.append(exc)
    return results


def store_new(conn: Connection, prepared: Sequence[Prepared], user: str, posted: Sequence[bool]) -> list[int]:
    """Store new documents in one batch and return their ids, in order. A draft has no
    number until posted ("draft #id"); a document flagged POSTED is stored posted: numbered,
    with its open item and journal, as `post` would have done a moment later."""
    book, now = read_settings(conn), _now()
    rows = [{"status": DocStatus.DRAFT.value, "created_by": user, "created_at": now, "number": None,
             "posted_by": None, "posted_at": None, **p.values} for p in prepared]
    posting = [row for row, flag in zip(rows, posted, strict=True) if flag]
    for row, number in zip(posting, _numbers(conn, posting), strict=True):
        row.update(status=DocStatus.POSTED.value, number=number, posted_by=user, posted_at=now)
    ids = insert_rows(conn, documents, rows)
    for row, doc_id in zip(rows, ids, strict=True):
        row["id"] = doc_id
    execute_many(conn, _INSERT_LINES, [{"document_id": doc_id, **ln}
                                       for doc_id, p in zip(ids, prepared, strict=True) for ln in p.lines])
    _write_ledger(conn, posting, book)
    record_many(conn, user, "create", "document", [
        (row["id"], None, {**p.values, "lines": len(p.lines), "status": row["status"], "number": row["number"]})
        for row, p in zip(rows, prepared, strict=True)])
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


def label(doc: Mapping[str, Any]) -> str:
    """How a document is named in messages: 'invoice INV-2026-00001' or 'invoice draft #7'."""
    return f"{doc['kind']} {doc['number'] or 'draft #' + str(doc['id'])}"


def _draft_only(doc: RowMapping, action: str) -> None:
    if doc["status"] != DocStatus.DRAFT.value:
        raise Immutable(f"{label(doc)} is {doc['status']}: it cannot be {action}; void it instead")


def update_draft(conn: Connection, doc_id: int, draft: DraftDocument, user: str) -> None:
    doc = load(conn, doc_id, lock=True)
    _draft_only(doc, "changed")
    book = read_settings(conn)
    ensure_open(doc["doc_on"], book.closed_period, label(doc))
    prepared = _prepare_one(conn, draft)
    values, lines = prepared.values, prepared.lines
    conn.execute(document_lines.delete().where(document_lines.c.document_id == doc_id))
    update_row(conn, documents, doc_id, values)
    if lines:
        conn.execute(document_lines.insert(), [{"document_id": doc_id, **ln} for ln in lines])
    record(conn, user, "update", "document", doc_id, {k: doc[k] for k in values}, values)


def delete_draft(conn: Connection, doc_id: int, user: str) -> None:
    doc = load(conn, doc_id, lock=True)
    _draft_only(doc, "deleted")
    ensure_open(doc["doc_on"], read_settings(conn).closed_period, label(doc))
    conn.execute(document_lines.delete().where(document_lines.c.document_id == doc_id))
    conn.execute(documents.delete().where(documents.c.id == doc_id))
    record(conn, user, "delete", "document", doc_id, dict(doc), None)


def _journal_rows(doc: Mapping[str, Any], book: BookSettings) -> list[dict[str, Any]]:
    """The document's journal lines, in minor units. journal_for only adds, negates and
    compares, so it is given the amounts in minor units (exact integers) directly."""
    cur, base_cur = doc["currency"], book.base_currency
    totals = Totals(Decimal(doc["net_minor"]), Decimal(doc["tax_minor"]))
    if cur == base_cur:  # rate 1: the base amounts are the amounts themselves
        base = totals
    else:
        real = base_totals(Totals(from_minor(doc["net_minor"], cur), from_minor(doc["tax_minor"], cur)),
                           doc["fx_rate"], base_cur)
        base = Totals(Decimal(to_minor(real.net, base_cur)), Decimal(to_minor(real.tax, base_cur)))
    lines = journal_for(DocKind(doc["kind"]), totals, base, book.accounts, doc["method"])
    return [{"document_id": doc["id"], "line_no": no, "account": ln.account,
             "customer_id": doc["customer_id"], "currency": cur,
             "debit_minor": int(ln.debit), "credit_minor": int(ln.credit),
             "base_debit_minor": int(ln.base_debit), "base_credit_minor": int(ln.base_credit),
             "posted_on": doc["doc_on"]}
            for no, ln in enumerate(lines, start=1)]


def post(conn: Connection, doc_id: int, user: str) -> str:
    """Post a draft: number it, write its open item and journal; it is immutable from now on."""
    return post_many(conn, [load(conn, doc_id, lock=True)], user)[0]


def post_many(conn: Connection, docs: Sequence[Mapping[str, Any]], user: str) -> list[str]:
    """Post drafts (document rows) in one batch; returns their numbers, in order."""
    book = read_settings(conn)
    for doc in docs:
        if doc["status"] != DocStatus.DRAFT.value:
            raise Immutable(f"{label(doc)} is already {doc['status']}")
        ensure_open(doc["doc_on"], book.closed_period, label(doc))
    numbers, now = _numbers(conn, docs), _now()
    _write_ledger(conn, docs, book)
    posted = [(doc["id"], {"status": DocStatus.POSTED.value, "number": number, "posted_by": user, "posted_at": now})
              for doc, number in zip(docs, numbers, strict=True)]
    update_rows(conn, documents, posted)
    record_many(conn, user, "post", "document", [(doc_id, {"status": DocStatus.DRAFT.value}, values)
                                                 for doc_id, values in posted])
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


def _write_ledger(conn: Connection, docs: Sequence[Mapping[str, Any]], book: BookSettings) -> None:
    """The open item and balanced journal lines of each document being posted."""
    items, journal = [], []
    for doc in docs:
        sign = sign_of(DocKind(doc["kind"]))
        items.append({"document_id": doc["id"], "customer_id": doc["customer_id"], "installment_no": 1,
                      "currency": doc["currency"], "amount_minor": sign * doc["amount_minor"],
                      "base_amount_minor": sign * doc["base_amount_minor"], "doc_on": doc["doc_on"],
                      "due_on": doc["due_on"]})
        journal += _journal_rows(doc, book)
    execute_many(conn, _INSERT_ITEMS, items)
    execute_many(conn, _INSERT_JOURNAL, journal)


def void(conn: Connection, doc_id: int, on: date, user: str, reason: str) -> int:
    """Void a posted document by posting a reversal dated ON; returns the reversal's id."""
    doc = load(conn, doc_id, lock=True)
    if doc["status"] not in LIVE or doc["kind"] == DocKind.REVERSAL.value:
        raise Immutable(f"{label(doc)} is {doc['status']}{' (a reversal)' if doc['status'] in LIVE else ''}: it cannot be voided")
    if not reason.strip():
        raise InvalidDocument(f"voiding {label(doc)} needs a reason")
    if on < doc["doc_on"]:
        raise InvalidDocument(f"{label(doc)} dated {doc['doc_on']} cannot be voided on an earlier date {on}")
    book = read_settings(conn)
    ensure_open(on, book.closed_period, f"void of {label(doc)}")
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
    conn.execute(journal_lines.insert(), [
        {**{k: j[k] for k in ("line_no", "account", "customer_id", "currency")}, "document_id": rev_id,
         "debit_minor": j["credit_minor"], "credit_minor": j["debit_minor"],
         "base_debit_minor": j["base_credit_minor"], "base_credit_minor": j["base_debit_minor"],
         "posted_on": on} for j in original])
    matching.allocate(conn, pairs, method="void", user=user, memo=f"void of {doc['number']}")
    voided = {"status": DocStatus.VOID.value, "voided_by": user, "voided_at": _now()}
    update_row(conn, documents, doc_id, voided)
    record(conn, user, "void", "document", doc_id, {"status": doc["status"]},
           {**voided, "reversal": number, "reason": reason})
    return rev_id
