"""Delivery and return notes (销货单 / 销退单), line by line.

A line is a draft (neither billed nor booked) or posted. Posted lines are billed by invoices
(a return line by a credit note, or as a negative line on an invoice of the same cycle).
When revenue is recognised at delivery (setting revenue_recognition = delivery), posting
lines books them: one accrual document per note and batch, Dr AR-unbilled / Cr revenue /
Cr VAT not yet invoiced (a return the other way round). A line that is billed or booked can
no longer be changed or deleted: a return line corrects it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.billing import billed_party
from xlar.domain.documents import DocKind, DocStatus, MinorTotals, accrual_journal
from xlar.domain.errors import Immutable, InvalidDocument, NotFound, XlarError
from xlar.domain.money import round_money, tidy, to_minor
from xlar.domain.periods import ensure_open, period_of
from xlar.domain.records import Delivery
from xlar.services.billed import RETURN, key_text, parents
from xlar.services.booking import base_amounts, base_of
from xlar.services.credit import latest_rate
from xlar.store.audit import record, record_many
from xlar.store.customers import by_codes
from xlar.store.deliveries import load as load_delivery
from xlar.store.deliveries import select as select_deliveries
from xlar.store.documents import insert as insert_documents
from xlar.store.ledger import journal_rows
from xlar.store.numbering import reserve_numbers
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import customers, deliveries, journal_lines, orders
from xlar.store.writes import execute_many, in_chunks, insert_rows, update_row

KINDS = ("delivery", RETURN)
STATUSES = ("draft", "posted")


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    number: str
    line_no: int
    customer: str
    delivered_on: date
    item: str
    qty: Decimal                     # positive; a return line's kind says it comes back
    kind: str = "delivery"
    unit_price: Decimal | None = None
    tax_rate: Decimal | None = None
    currency: str | None = None      # default: the customer's
    order: str | None = None
    salesperson: str | None = None
    status: str = "posted"


class _Checker:
    """Checks lines and computes what is stored for them; what it reads (customers, head
    offices, orders, the notes' shared customer/date/currency, FX rates) is read once per batch."""

    def __init__(self, conn: Connection, lines: Sequence[DeliveryLine], skip: int | None = None) -> None:
        self.conn, self.book = conn, read_settings(conn)
        self.customers = by_codes(conn, (ln.customer for ln in lines))
        self.parent_of = parents(conn)
        self.orders = {number: code for chunk in in_chunks(ln.order for ln in lines if ln.order)
                       for number, code in conn.execute(
                           sa.select(orders.c.number, customers.c.code)
                           .join(customers, customers.c.id == orders.c.customer_id).where(orders.c.number.in_(chunk)))}
        # each note's customer, date and currency: its lines stored before (but the one being replaced) or added now
        self.heads: dict[str, tuple[Any, ...]] = {}
        for chunk in in_chunks(ln.number for ln in lines):
            for row_id, number, *head in conn.execute(
                    sa.select(deliveries.c.id, deliveries.c.number, deliveries.c.customer_id,
                              deliveries.c.delivered_on, deliveries.c.currency).where(deliveries.c.number.in_(chunk))):
                if row_id != skip:
                    self.heads.setdefault(number, tuple(head))
        self.rated: set[tuple[str, str]] = set()

    def values(self, line: DeliveryLine) -> dict[str, Any]:
        """Check one line and compute its stored values (net and tax rounded once, when priced)."""
        what = key_text((line.number, line.line_no))
        cust, book = self.customers.get(line.customer), self.book
        if cust is None:
            raise NotFound(f"{what}: unknown customer {line.customer!r}")
        if cust.inactive:
            raise InvalidDocument(f"{what}: customer {line.customer!r} is inactive")
        if line.kind not in KINDS:
            raise InvalidDocument(f"{what}: kind must be delivery or return, not {line.kind!r}")
        if line.status not in STATUSES:
            raise InvalidDocument(f"{what}: status must be draft or posted, not {line.status!r}")
        if line.qty <= 0:
            raise InvalidDocument(f"{what}: quantity {line.qty} must be positive (a return's kind says it comes back)")
        if line.unit_price is not None and line.unit_price < 0:
            raise InvalidDocument(f"{what}: unit price {line.unit_price} must not be negative")
        rate = line.tax_rate or Decimal(0)
        if not Decimal(0) <= rate < Decimal(1):
            raise InvalidDocument(f"{what}: tax rate {rate} must be a fraction from 0 to below 1")
        ensure_open(line.delivered_on, book.closed_period, what)
        currency = line.currency or cust.currency
        net = tax = None
        if line.unit_price is not None:
            net_amount = round_money(line.qty * line.unit_price, currency)
            net, tax = to_minor(net_amount, currency), to_minor(round_money(net_amount * rate, currency), currency)
        if line.status == "posted" and book.revenue_recognition == "delivery":
            if net is None:
                raise InvalidDocument(f"{what}: revenue is recognised at delivery, so a posted line needs its unit price")
            if (currency, period_of(line.delivered_on)) not in self.rated:
                latest_rate(self.conn, currency, line.delivered_on, book)
                self.rated.add((currency, period_of(line.delivered_on)))
        if line.order:
            owner = self.orders.get(line.order)
            if owner is None:
                raise NotFound(f"{what}: unknown order {line.order!r}")
            if billed_party(owner, self.parent_of) != billed_party(line.customer, self.parent_of):
                raise InvalidDocument(f"{what}: order {line.order} is {owner}'s, not {line.customer}'s")
        head = (cust.id, line.delivered_on, currency)
        if self.heads.get(line.number, head) != head:
            raise InvalidDocument(f"{what}: the lines of note {line.number} must share one customer, date and currency")
        self.heads[line.number] = head
        return {"number": line.number, "line_no": line.line_no, "kind": line.kind, "delivered_on": line.delivered_on,
                "customer_id": cust.id, "order_number": line.order, "item": line.item, "qty": tidy(line.qty),
                "unit_price": None if line.unit_price is None else tidy(line.unit_price),
                "tax_rate": None if line.tax_rate is None else tidy(line.tax_rate), "currency": currency,
                "salesperson": line.salesperson, "status": line.status, "net_minor": net, "tax_minor": tax}


def add_deliveries(conn: Connection, lines: Sequence[DeliveryLine], user: str) -> list[int | XlarError]:
    """Store new lines; each comes back as its id or as the error that held it back."""
    checker = _Checker(conn, lines)
    results: list[int | XlarError] = []
    good: list[dict[str, Any]] = []
    for line in lines:
        try:
            values = checker.values(line)
        except XlarError as exc:
            results.append(exc)
            continue
        results.append(len(good))
        good.append(values)
    ids = insert_rows(conn, deliveries, good)
    for values, row_id in zip(good, ids, strict=True):
        values["id"] = row_id
    record_many(conn, user, "create", "delivery", [(v["id"], None, v) for v in good])
    _book(conn, [row_id for values, row_id in zip(good, ids, strict=True) if values["status"] == "posted"],
          checker.book, user)
    return [r if isinstance(r, XlarError) else ids[r] for r in results]


def _refuse_if_booked(row: Delivery, action: str) -> None:
    if row.billed_qty or row.accrual_id is not None:
        why = f"{row.billed_qty} of it is billed" if row.billed_qty else "its revenue is booked"
        raise Immutable(f"{key_text(row.key)} cannot be {action}: {why}; "
                        "enter a return line instead")


def update_delivery(conn: Connection, row_id: int, line: DeliveryLine, user: str) -> None:
    before = load_delivery(conn, row_id, lock=True)
    _refuse_if_booked(before, "changed")
    checker = _Checker(conn, [line], skip=row_id)
    book = checker.book
    ensure_open(before.delivered_on, book.closed_period, key_text(before.key))
    values = checker.values(line)
    update_row(conn, deliveries, row_id, values)
    record(conn, user, "update", "delivery", row_id, {k: getattr(before, k) for k in values}, values)
    if values["status"] == "posted":
        _book(conn, [row_id], book, user)


def delete_delivery(conn: Connection, row_id: int, user: str) -> None:
    before = load_delivery(conn, row_id, lock=True)
    _refuse_if_booked(before, "deleted")
    ensure_open(before.delivered_on, read_settings(conn).closed_period, key_text(before.key))
    conn.execute(deliveries.delete().where(deliveries.c.id == row_id))
    record(conn, user, "delete", "delivery", row_id, before._asdict(), None)


def _book(conn: Connection, ids: Sequence[int], book: BookSettings, user: str) -> None:
    """Revenue at delivery: one posted accrual document per note for the posted lines IDS, with its journal."""
    if book.revenue_recognition != "delivery" or not ids:
        return
    notes: dict[str, list[tuple[Delivery, int, int]]] = defaultdict(list)   # note -> (line, net, tax)
    for chunk in in_chunks(ids):
        for row in select_deliveries(conn, deliveries.c.id.in_(chunk)):
            # _Checker refuses a posted line without its price when revenue is recognised at delivery
            assert row.net_minor is not None and row.tax_minor is not None
            notes[row.number].append((row, row.net_minor, row.tax_minor))
    now, members_of = datetime.now(UTC), []
    rows_of: list[dict[str, Any]] = []
    for number, members in sorted(notes.items()):
        first = members[0][0]
        cur = first.currency
        assert cur is not None   # _Checker gives every line a currency (its own, or its customer's)
        signed = [(-1 if row.kind == RETURN else 1, net, tax) for row, net, tax in members]
        totals = MinorTotals(sum(sign * net for sign, net, _ in signed), sum(sign * tax for sign, _, tax in signed))
        rate = latest_rate(conn, cur, first.delivered_on, book)
        rows_of.append({"kind": DocKind.DELIVERY.value, "status": DocStatus.POSTED.value,
                        "customer_id": first.customer_id, "doc_on": first.delivered_on,
                        "due_on": first.delivered_on, "currency": cur, "fx_rate": rate, "net_minor": totals.net,
                        "tax_minor": totals.tax, "amount_minor": totals.total,
                        "base_amount_minor": base_amounts(cur, totals, rate, book).total, "source": number,
                        "memo": f"revenue at delivery of note {number}", "created_by": user, "created_at": now,
                        "posted_by": user, "posted_at": now})
        members_of.append([row.id for row, _, _ in members])
    by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for values in rows_of:
        by_year[values["doc_on"].year].append(values)
    for year, group in by_year.items():
        for values, doc_no in zip(group, reserve_numbers(conn, DocKind.DELIVERY, year, len(group)), strict=True):
            values["number"] = doc_no
    docs, journal = insert_documents(conn, rows_of), []
    for doc, members_ids in zip(docs, members_of, strict=True):
        journal += journal_rows(doc, accrual_journal(doc.totals, base_of(doc, book), book.accounts))
        conn.execute(deliveries.update().where(deliveries.c.id.in_(members_ids))
                     .values(accrual_id=doc.id, rev=deliveries.c.rev + 1))
    execute_many(conn, journal_lines.insert(), journal)
    record_many(conn, user, "book", "document", [
        (d.id, None, {"number": d.number, "source": d.source, "net_minor": d.net_minor, "tax_minor": d.tax_minor})
        for d in docs])

