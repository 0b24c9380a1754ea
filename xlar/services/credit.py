"""Credit limits (信用额度): a customer's exposure against its limit.

Exposure, in the base currency, of a billed party and every customer it is head office of:
open AR (posted documents) + billed but not posted (draft invoices, less draft credit notes)
+ delivered but not billed (posted delivery lines' unbilled share, returns less) + open
orders (order amounts not yet delivered). A limit in another currency is compared at the
latest FX rate on or before the date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.billing import billed_party, share_units
from xlar.domain.codes import Code
from xlar.domain.documents import CREDIT_KINDS, LINE_KINDS, DocKind
from xlar.domain.errors import InvalidDocument, NotFound, XlarError
from xlar.domain.money import convert, from_minor, to_minor
from xlar.domain.periods import period_of
from xlar.domain.records import Party
from xlar.store.audit import record
from xlar.store.customers import every
from xlar.store.settings import BookSettings
from xlar.store.tables import customers, deliveries, documents, fx_rates, open_items, orders
from xlar.store.writes import IN_CHUNK


class CreditLimitExceeded(XlarError):
    code = Code.E060


@dataclass(frozen=True, slots=True)
class Exposure:
    customer: str
    currency: str              # the base currency: every figure below is in it
    open_ar: Decimal
    billed_not_posted: Decimal
    delivered_not_billed: Decimal
    open_orders: Decimal
    limit: Decimal | None      # converted to the base currency
    credit_class: str | None

    @property
    def total(self) -> Decimal:
        return self.open_ar + self.billed_not_posted + self.delivered_not_billed + self.open_orders

    @property
    def available(self) -> Decimal | None:
        return None if self.limit is None else self.limit - self.total


def latest_rate(conn: Connection, currency: str, on: date, book: BookSettings) -> Decimal:
    """The FX rate of CURRENCY for the latest period up to ON's (FxRates), else the rate of the
    latest posted document in CURRENCY dated up to ON."""
    if currency == book.base_currency:
        return Decimal(1)
    rate = conn.execute(sa.select(fx_rates.c.rate).where(fx_rates.c.currency == currency,
                                                         fx_rates.c.period <= period_of(on))
                        .order_by(fx_rates.c.period.desc()).limit(1)).scalar()
    if rate is None:
        d = documents.c
        rate = conn.execute(sa.select(d.fx_rate).where(d.currency == currency, d.doc_on <= on,
                                                       d.status.in_(("posted", "approved")))
                            .order_by(d.doc_on.desc(), d.id.desc()).limit(1)).scalar()
    if rate is None:
        raise InvalidDocument(f"no FX rate for {currency} up to {period_of(on)}: add one on the FxRates sheet")
    return rate  # type: ignore[no-any-return]  # a Numeric column's value: Decimal, typed Any by SQLAlchemy


def _to_base(conn: Connection, minor: int, currency: str, on: date, book: BookSettings) -> int:
    if currency == book.base_currency:
        return minor
    return to_minor(convert(from_minor(minor, currency), latest_rate(conn, currency, on, book),
                            book.base_currency), book.base_currency)


def _customers(conn: Connection, charged: Sequence[int] | None = None) -> list[Party]:
    """Every customer; with CHARGED (customer ids), only those and the ones that head offices and
    subsidiaries are made of (a parent named, or named as a parent): all that the groups of the
    charged customers' billed parties can hold, without reading the whole book on each posting."""
    c = customers.c
    if charged is None or len(set(charged)) > IN_CHUNK:   # (a big batch: one read of all)
        return every(conn)
    parents = sa.select(c.parent_code).where(c.parent_code.is_not(None))
    return every(conn, sa.or_(c.id.in_(sorted(set(charged))), c.parent_code.is_not(None), c.code.in_(parents)))


def _groups(rows: Sequence[Party]) -> dict[str, list[int]]:
    """Billed party code -> the ids of it and of every customer billed on it."""
    parent_of = {r.code: r.parent_code for r in rows}
    groups: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        groups[billed_party(r.code, parent_of)].append(r.id)
    return groups


def exposure(conn: Connection, code: str, on: date, book: BookSettings) -> Exposure:
    """CODE's exposure (its subsidiaries count with it, when it is their head office)."""
    rows = _customers(conn)
    party = next((r for r in rows if r.code == code), None)
    if party is None:
        raise NotFound(f"unknown customer {code!r}")
    group = _groups(rows).get(code) or [party.id]
    return _exposure(conn, party, group, on, book)


def _exposure(conn: Connection, party: Party, group: Sequence[int], on: date, book: BookSettings) -> Exposure:
    code, base = party.code, book.base_currency
    d, oi = documents.c, open_items.c
    open_ar = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(oi.base_amount_minor), 0))
                           .where(oi.customer_id.in_(group))).scalar_one()
    drafts = conn.execute(sa.select(d.kind, sa.func.sum(d.base_amount_minor)).where(
        d.customer_id.in_(group), d.status == "draft", d.kind.in_([k.value for k in LINE_KINDS]))
        .group_by(d.kind)).all()
    billed = sum(-amount if DocKind(kind) in CREDIT_KINDS else amount for kind, amount in drafts)
    unbilled = 0
    delivered_by_order: dict[str, int] = defaultdict(int)
    for row in conn.execute(sa.select(deliveries).where(deliveries.c.customer_id.in_(group),
                                                        deliveries.c.status == "posted",
                                                        deliveries.c.net_minor.is_not(None))).mappings():
        gross = row["net_minor"] + row["tax_minor"]
        sign = -1 if row["kind"] == "return" else 1
        left = gross - share_units(gross, row["billed_qty"], row["qty"])
        unbilled += sign * _to_base(conn, left, row["currency"], on, book)
        if row["order_number"]:
            delivered_by_order[row["order_number"]] += sign * gross
    open_orders = 0
    for row in conn.execute(sa.select(orders).where(orders.c.customer_id.in_(group),
                                                    orders.c.amount_minor.is_not(None))).mappings():
        cur = row["currency"] or base
        left = max(0, row["amount_minor"] - delivered_by_order.get(row["number"], 0))
        open_orders += _to_base(conn, left, cur, on, book)
    limit = party.credit_limit_minor
    return Exposure(code, base, from_minor(open_ar, base), from_minor(billed, base), from_minor(unbilled, base),
                    from_minor(open_orders, base),
                    None if limit is None else from_minor(_to_base(conn, limit, party.currency, on, book), base),
                    party.credit_class)


@dataclass(frozen=True, slots=True)
class Charge:
    """Something that raises what a customer owes: a posted invoice, a stored order."""

    customer_id: int
    on: date
    what: str


def check_credit(conn: Connection, charges: Sequence[Charge], book: BookSettings, user: str, *,
                 override: bool = False) -> list[str | None]:
    """Refuse CHARGES that leave their billed party over its credit limit; a warning instead
    for a credit class that only warns, or when an approver overrides (audited); None when
    within the limit or without one. Each party is checked once, after all its charges."""
    results: list[str | None] = [None] * len(charges)
    if not charges:
        return results
    rows = _customers(conn, [charge.customer_id for charge in charges])
    by_code = {r.code: r for r in rows}
    groups = _groups(rows)
    party_of = {customer_id: party for party, ids in groups.items() for customer_id in ids}
    members: dict[str, list[int]] = defaultdict(list)
    for i, charge in enumerate(charges):
        members[party_of[charge.customer_id]].append(i)
    for party, at in members.items():
        if by_code[party].credit_limit_minor is None:
            continue
        exp = _exposure(conn, by_code[party], groups[party], max(charges[i].on for i in at), book)
        if exp.total <= exp.limit:  # type: ignore[operator]  # the limit is set: customers without one are skipped above
            continue
        what = charges[at[0]].what + (f" (and {len(at) - 1} more)" if len(at) > 1 else "")
        message = (f"{what}: customer {party}'s exposure {exp.total:,} {exp.currency} exceeds its credit limit "
                   f"{exp.limit:,} {exp.currency}")
        if exp.credit_class and exp.credit_class in book.credit_warning_classes:
            warning = f"{message} (credit class {exp.credit_class} warns only)"
        elif override:
            if user not in book.approvers:
                raise CreditLimitExceeded(f"{message}; {user} is not an approver (setting approvers) and "
                                          "cannot override it")
            record(conn, user, "credit_override", "customer", party, None,
                   {"what": what, "exposure": str(exp.total), "limit": str(exp.limit)})
            warning = f"{message}; overridden by approver {user}"
        else:
            raise CreditLimitExceeded(f"{message}; an approver can override it")
        for i in at:
            results[i] = warning
    return results
