"""Invoice generation (结帐): deliveries to invoices by the billed party's billing cycle.

`generate(through)` bills every posted delivery line dated in a cycle that has ended by
THROUGH and not yet billed in full: one invoice per billed party (head offices bill their
subsidiaries' deliveries), cycle, currency, and order when the order is paid in installments.
The cycle's returns go on its invoice as negative lines while the invoice stays positive,
else on a credit note. Orders with a deposit percentage get their deposit pre-invoice
(预开发票). Everything is created as drafts, through the same checks as a hand-made invoice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.billing import billed_party, cycle_of
from xlar.domain.documents import DocKind, LineInput, price_lines, totals_of
from xlar.domain.drafts import DraftDocument
from xlar.domain.errors import InvalidDocument, XlarError
from xlar.domain.money import from_minor, round_money
from xlar.domain.periods import first_open_day, period_of
from xlar.domain.records import Delivery, Party
from xlar.services import booking
from xlar.services import documents as docs
from xlar.services.billed import RETURN
from xlar.store.customers import every
from xlar.store.deliveries import select as select_deliveries
from xlar.store.documents import find
from xlar.store.settings import read_settings
from xlar.store.tables import (
    contracts,
    customers,
    deliveries,
    document_lines,
    documents,
    fx_rates,
    orders,
)

DEPOSIT_ITEM = "DEPOSIT"


@dataclass(frozen=True, slots=True)
class Planned:
    """A document generation would create (or did)."""

    draft: DraftDocument
    notes: tuple[str, ...]            # the delivery notes it bills

    @property
    def amount(self) -> Decimal:
        assert self.draft.currency is not None  # generation always names the currency
        return totals_of(price_lines(self.draft.lines, self.draft.currency)).total

    def describe(self) -> str:
        d = self.draft
        what = f"{d.kind} for {d.customer} dated {d.doc_on} in {d.currency}"
        billed = f", {len(d.lines)} lines" + (f" of {', '.join(self.notes)}" if self.notes else "")
        return f"{what}: {self.amount:,}{billed}" + (f" (order {d.order})" if d.order else "")


@dataclass(slots=True)
class Generation:
    planned: list[Planned] = field(default_factory=list)
    created: list[tuple[int, Planned]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self, locale: str = "en") -> str:
        count = len(self.planned) if self.dry_run else len(self.created)
        if locale == "zh-CN":
            tail = f"；{len(self.problems)} 个问题" if self.problems else ""
            return f"{'将生成' if self.dry_run else '已生成'} {count} 张草稿单据{tail}"
        verb = "would create" if self.dry_run else "created"
        tail = f"; {len(self.problems)} problems" if self.problems else ""
        return f"{verb} {count} draft documents{tail}"


def _rate(conn: Connection, currency: str, on: date, base: str) -> Decimal | None:
    if currency == base:
        return None
    rate = conn.execute(sa.select(fx_rates.c.rate).where(fx_rates.c.currency == currency,
                                                         fx_rates.c.period == period_of(on))).scalar()
    if rate is None:
        raise InvalidDocument(f"no FX rate for {currency} {period_of(on)}: add it on the FxRates sheet")
    return rate  # type: ignore[no-any-return]  # a Numeric column's value: Decimal, typed Any by SQLAlchemy


def _installment_orders(conn: Connection) -> set[str]:
    """Orders paid in installments (their own, or their contract's plan)."""
    rows = conn.execute(sa.select(orders.c.number, orders.c.installment_terms, contracts.c.installment_terms)
                        .outerjoin(contracts, contracts.c.number == orders.c.contract)).all()
    return {number for number, own, contract in rows if own or contract}


def _original(conn: Connection, party_id: int, currency: str, item: str) -> str | None:
    """The latest posted invoice of the party that billed ITEM: what a return's credit note credits."""
    d, ln = documents.c, document_lines.c
    return conn.execute(sa.select(d.number).join(document_lines, ln.document_id == d.id)
                        .where(d.customer_id == party_id, d.currency == currency, d.kind == DocKind.INVOICE.value,
                               d.status == "posted", ln.item == item,
                               sa.func.substr(sa.cast(ln.qty, sa.String), 1, 1) != "-")  # a delivery, not a return
                        .order_by(d.doc_on.desc(), d.id.desc()).limit(1)).scalar()


def _line(row: Delivery, qty: Decimal, returned: bool) -> LineInput:
    if row.unit_price is None:   # (plan leaves unpriced lines out, with the reason)
        raise InvalidDocument(f"delivery {row.number} line {row.line_no} has no unit price")
    return LineInput(row.item, -qty if returned else qty, row.unit_price, row.tax_rate or Decimal(0),
                     f"{row.number}/{row.line_no}", row.number, row.line_no, returned)


def plan(conn: Connection, through: date, customer: str | None = None) -> tuple[list[Planned], list[str]]:
    """What generation through THROUGH would create, and what it cannot bill (and why)."""
    book = read_settings(conn)
    custs = {party.code: party for party in every(conn)}
    code_of = {party.id: code for code, party in custs.items()}
    parent_of = {code: party.parent_code for code, party in custs.items()}
    by_installments = _installment_orders(conn)
    problems: list[str] = []
    groups: dict[tuple[str, date, str, str | None], list[tuple[Delivery, Decimal]]] = defaultdict(list)
    for row in select_deliveries(conn, sa.and_(deliveries.c.status == "posted", deliveries.c.delivered_on <= through)):
        left = row.qty - row.billed_qty
        if left <= 0:
            continue
        to = code_of[row.customer_id]
        try:
            party = billed_party(to, parent_of)
        except XlarError as exc:
            problems.append(exc.message)
            continue
        if customer is not None and customer not in (party, to):
            continue
        cycle = cycle_of(row.delivered_on, custs[party].closing_day)
        if cycle > through:
            continue
        if row.unit_price is None:
            problems.append(f"delivery {row.number} line {row.line_no}: no unit price, so it cannot be billed; "
                            "enter it on the Deliveries sheet")
            continue
        order = row.order_number if row.order_number in by_installments else None
        groups[(party, cycle, row.currency or custs[to].currency, order)].append((row, left))
    planned: list[Planned] = []
    for (party, cycle, currency, order), rows in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2],
                                                                                        kv[0][3] or "")):
        try:
            planned += _cycle(conn, custs[party], cycle, currency, order, rows, book.base_currency)
        except XlarError as exc:
            problems.append(f"{party}'s cycle to {cycle} in {currency}: {exc.message}")
    planned += _deposits(conn, custs, parent_of, through, customer, book.base_currency, problems)
    return planned, problems


def _cycle(conn: Connection, party: Party, cycle: date, currency: str, order: str | None,
           rows: Sequence[tuple[Delivery, Decimal]], base: str) -> list[Planned]:
    """One cycle's invoice (deliveries, and returns while it stays positive) or credit note."""
    rate = _rate(conn, currency, cycle, base)
    sent = [_line(r, left, False) for r, left in rows if r.kind != RETURN]
    back = [_line(r, left, True) for r, left in rows if r.kind == RETURN]
    orders_billed = {r.order_number for r, _ in rows}
    source, order = f"billing cycle to {cycle}", order or (orders_billed.pop() if len(orders_billed) == 1 else None)

    def notes(lines: Sequence[LineInput]) -> tuple[str, ...]:
        return tuple(sorted({ln.delivery for ln in lines if ln.delivery}))

    if sent and back and totals_of(price_lines([*sent, *back], currency)).total > 0:
        sent, back = [*sent, *back], []
    out = []
    if sent:
        out.append(Planned(DraftDocument(DocKind.INVOICE, party.code, cycle, tuple(sent), currency=currency,
                                              fx_rate=rate, source=source, order=order), notes(sent)))
    if back:
        credit = tuple(LineInput(ln.item, -ln.qty, ln.unit_price, ln.tax_rate, ln.description, ln.delivery,
                                 ln.delivery_line) for ln in back)
        original = _original(conn, party.id, currency, back[0].item)
        out.append(Planned(DraftDocument(DocKind.CREDIT_NOTE, party.code, cycle, credit, currency=currency,
                                              fx_rate=rate, source=source, order=order, original=original,
                                              memo="returns of the cycle"), notes(back)))
    return out


def _deposits(conn: Connection, custs: dict[str, Party], parent_of: dict[str, str | None], through: date,
              customer: str | None, base: str, problems: list[str]) -> list[Planned]:
    """Deposit pre-invoices for orders with a deposit percentage that have none yet."""
    d = documents.c
    has = sa.select(d.order_number).where(d.kind == DocKind.DEPOSIT_INVOICE.value, d.status != "void",
                                          d.order_number.is_not(None))
    rows = conn.execute(sa.select(orders, customers.c.code.label("customer"))
                        .join(customers, customers.c.id == orders.c.customer_id)
                        .where(orders.c.deposit_pct.is_not(None), orders.c.amount_minor.is_not(None),
                               orders.c.order_on <= through, orders.c.number.not_in(has))
                        .order_by(orders.c.order_on, orders.c.number)).mappings().all()
    out = []
    for row in rows:
        if not row["deposit_pct"]:
            continue
        party = billed_party(row["customer"], parent_of)
        if customer is not None and customer not in (party, row["customer"]):
            continue
        currency = row["currency"] or custs[row["customer"]].currency
        amount = round_money(from_minor(row["amount_minor"], currency) * row["deposit_pct"], currency)
        try:
            rate = _rate(conn, currency, row["order_on"], base)
        except XlarError as exc:
            problems.append(f"deposit of order {row['number']}: {exc.message}")
            continue
        line = LineInput(DEPOSIT_ITEM, Decimal(1), amount, Decimal(0),
                         f"deposit {row['deposit_pct'] * 100:g}% of order {row['number']}")
        out.append(Planned(DraftDocument(
            DocKind.DEPOSIT_INVOICE, party, row["order_on"], (line,), currency=currency, fx_rate=rate,
            order=row["number"], source=f"order {row['number']}", memo="deposit pre-invoice"), ()))
    return out


def generate(conn: Connection, through: date, user: str, *, customer: str | None = None,
             dry_run: bool = False) -> Generation:
    """Create the draft invoices, credit notes and deposit pre-invoices due through THROUGH."""
    planned, problems = plan(conn, through, customer)
    result = Generation(planned, problems=problems, dry_run=dry_run)
    prepared = docs.prepare(conn, [p.draft for p in planned])
    good = []
    for item, ready in zip(planned, prepared, strict=True):
        if isinstance(ready, XlarError):
            result.problems.append(f"{item.describe()}: {ready.message}")
        else:
            good.append((item, ready))
    if dry_run or not good:
        return result
    ids = docs.store_new(conn, [ready for _, ready in good], user, [False] * len(good))
    result.created = [(doc_id, item) for doc_id, (item, _) in zip(ids, good, strict=True)]
    return result


def reissue(conn: Connection, number: str, on: date, user: str, reason: str) -> int:
    """Void a posted invoice (by reversal) and create its corrected copy as a draft naming it;
    the delivery lines it billed are free again for the copy. Returns the new draft's id."""
    doc = find(conn, number, lock=True)
    if doc.kind not in (DocKind.INVOICE, DocKind.DEBIT_NOTE, DocKind.DEPOSIT_INVOICE):
        raise InvalidDocument(f"{doc.label} is not an invoice: it cannot be reissued")
    booking.void(conn, doc.id, on, user, reason)
    book = read_settings(conn)
    opens = first_open_day(book.closed_period)
    lines = conn.execute(sa.select(document_lines).where(document_lines.c.document_id == doc.id)
                         .order_by(document_lines.c.line_no)).mappings().all()
    code = conn.execute(sa.select(customers.c.code).where(customers.c.id == doc.customer_id)).scalar_one()
    return docs.create_draft(conn, DraftDocument(
        doc.kind, code, doc.doc_on if opens is None or doc.doc_on >= opens else on,
        tuple(LineInput(ln["item"], ln["qty"], ln["unit_price"], ln["tax_rate"], ln["description"] or "",
                        ln["delivery"], ln["delivery_line"], ln["qty"] < 0) for ln in lines),
        currency=doc.currency, fx_rate=None if doc.currency == book.base_currency else doc.fx_rate,
        payment_terms=doc.payment_terms, memo=f"reissue of {doc.number}: {reason}", source=doc.source,
        original=doc.number, order=doc.order_number, installment_terms=doc.installment_terms), user)
