"""Later matching (到款核销): proposals from the store's open items, and applying them.

`propose` loads what is open (credits that clear: approved receipts, credit notes, ...;
debits: invoices and the like) and asks a strategy of xlar.domain.matching for proposals;
`apply` records them, one match batch per method, write-offs through their own documents; a
proposal the store refuses is listed with its reason, the others are recorded.
The Allocations sheet shows proposals as editable rows (xlar match --suggest): what the
accountant keeps is committed, checked, at the next sync.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.errors import NotFound, XlarError
from xlar.domain.matching import Candidate, Proposal, plan
from xlar.domain.money import from_minor
from xlar.services import matching, settle
from xlar.store.ledger import OPEN, as_open_item, listed_stmt
from xlar.store.reads import AnySelect
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import allocations, customers, document_lines, documents, open_items
from xlar.store.writes import in_chunks


def _opens(conn: Connection, book: BookSettings, customer_ids: set[int] | None,
           by_product: bool) -> tuple[list[Candidate], list[Candidate]]:
    """Credits and debits still open, of CUSTOMER_IDS (None: every customer): one statement for
    the whole book, else one per few hundred customers, each summing only their matches."""
    d = documents.c

    def stmt(customer_id: list[int] | None) -> AnySelect:
        listed, listing = listed_stmt(None, customer_id, d.reference, d.memo, d.fapiao_no, d.installment_terms)
        return listed.where(listing.c[OPEN] != 0, d.status.in_(matching.LIVE))
    scopes = list(in_chunks(customer_ids)) if customer_ids is not None else [None]
    rows = [row for scope in scopes for row in conn.execute(stmt(scope)).mappings()]
    rows = [r for r in rows if matching.clears(r["kind"], r["status"], book)]
    items = _items_open(conn, [r["document_id"] for r in rows]) if by_product else {}
    credits, debits = [], []
    for r in rows:
        item, cur = as_open_item(r, book.base_currency), r["currency"]
        by_item = {k: from_minor(v, cur) for k, v in items.get(r["document_id"], {}).items()}
        if r[OPEN] < 0:
            credits.append(Candidate(item, " ".join(filter(None, (r["reference"], r["memo"]))), False, by_item))
        else:
            debits.append(Candidate(item, r["fapiao_no"] or "", bool(r["installment_terms"]), by_item))
    return credits, debits


def _items_open(conn: Connection, doc_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per document and item: its lines' gross less what matches by product paid of it."""
    ln, a, oi = document_lines.c, allocations.c, open_items.c
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for chunk in in_chunks(set(doc_ids)):
        for doc_id, item, gross in conn.execute(
                sa.select(ln.document_id, ln.item, sa.func.sum(ln.net_minor + ln.tax_minor))
                .where(ln.document_id.in_(chunk)).group_by(ln.document_id, ln.item)):
            result[doc_id][item] = gross
        for doc_id, item, paid in conn.execute(
                sa.select(oi.document_id, a.item, sa.func.sum(a.amount_minor))
                .join(open_items, sa.or_(oi.id == a.debit_item_id, oi.id == a.credit_item_id))
                .where(oi.document_id.in_(chunk), a.item.is_not(None)).group_by(oi.document_id, a.item)):
            if item in result[doc_id]:
                result[doc_id][item] -= paid
    return result


def propose(conn: Connection, strategy: str, *, customer: str | None = None,
            credit_docs: Sequence[int] | None = None, write_offs: bool = True) -> list[Proposal]:
    """What STRATEGY would match now: for one CUSTOMER, for the credits of CREDIT_DOCS, or for all."""
    book = read_settings(conn)
    scope: set[int] | None = None
    if customer is not None:
        found = conn.execute(sa.select(customers.c.id).where(customers.c.code == customer)).scalar()
        if found is None:
            raise NotFound(f"unknown customer {customer!r}")
        scope = {found}
    if credit_docs is not None:
        if not credit_docs:
            return []
        scope = {c for chunk in in_chunks(credit_docs) for c in conn.execute(
            sa.select(documents.c.customer_id).where(documents.c.id.in_(chunk))).scalars()}
    if strategy == "auto" and book.match_mode == "product":
        strategy = "product"
    credits, debits = _opens(conn, book, scope, strategy == "product")
    if credit_docs is not None:
        wanted = {i for chunk in in_chunks(credit_docs) for i in conn.execute(
            sa.select(open_items.c.id).where(open_items.c.document_id.in_(chunk))).scalars()}
        credits = [c for c in credits if c.id in wanted]
    reason = _default_reason(book) if write_offs else None
    return plan(credits, debits, strategy, book.write_off_tolerance if write_offs else Decimal(0), reason)


def _default_reason(book: BookSettings) -> str | None:
    reasons = book.write_off_reasons
    return "SHORT_PAYMENT" if "SHORT_PAYMENT" in reasons else (reasons[0] if reasons else None)


@dataclass(slots=True)
class Applied:
    """What `apply` recorded (match batches) and what it refused, each proposal with its reason."""

    batches: list[int] = field(default_factory=list)
    refused: list[tuple[Proposal, XlarError]] = field(default_factory=list)


def apply(conn: Connection, proposals: Sequence[Proposal], user: str, *, method: str | None = None,
          on: date | None = None) -> Applied:
    """Record PROPOSALS: one match batch per method (METHOD for all, when given), then the
    write-offs. A proposal the store refuses is listed with its reason and the rest are still
    recorded: when a batch is refused, its proposals are tried one by one, each all or nothing."""
    per_method: dict[str, list[Proposal]] = defaultdict(list)
    for p in proposals:
        if p.credit is not None:
            per_method[method or p.method].append(p)
    result = Applied()
    for how, group in per_method.items():
        memo = "; ".join(dict.fromkeys(p.reason for p in group))[:500]
        batch = _savepoint(conn, partial(matching.allocate, conn, [_match(p) for p in group], method=how, user=user,
                                         memo=memo))
        if not isinstance(batch, XlarError):
            result.batches.append(batch)
            continue
        for p in group:   # one by one: each match all or nothing on its own
            one = _savepoint(conn, partial(matching.allocate, conn, [_match(p)], method=how, user=user,
                                           memo=p.reason[:500]))
            if isinstance(one, XlarError):
                result.refused.append((p, one))
            else:
                result.batches.append(one)
    for p in proposals:
        if p.credit is None and p.reason_code:
            done = _savepoint(conn, partial(settle.write_off, conn, p.debit.number, p.amount, p.reason_code,
                                            on or date.today(), user, installment=p.debit.installment_no,
                                            memo=p.reason))
            if isinstance(done, XlarError):
                result.refused.append((p, done))
    return result


def _match(p: Proposal) -> matching.Match:
    assert p.credit is not None
    return matching.Match(p.debit.id, p.credit.id, p.amount, p.item)


T = TypeVar("T")


def _savepoint(conn: Connection, record: Callable[[], T]) -> T | XlarError:
    """RECORD inside a savepoint: what it returns, or the refusal (then nothing of it is kept)."""
    try:
        with conn.begin_nested():
            return record()
    except XlarError as exc:
        return exc
