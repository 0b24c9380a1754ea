"""Balances, open items and aging as of any date, read from the store in one statement each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Connection

from xlar.domain.aging import AgingPolicy
from xlar.domain.items import OpenItem
from xlar.domain.money import from_minor
from xlar.services.customers import customer_id
from xlar.store.ledger import OPEN, aging_stmt, as_open_item, balances_stmt, listed_stmt
from xlar.store.settings import read_settings
from xlar.store.tables import documents


@dataclass(frozen=True, slots=True)
class AgingRow:
    customer: str
    name: str
    currency: str
    balance: Decimal
    buckets: dict[str, Decimal]
    base_balance: Decimal
    base_buckets: dict[str, Decimal]
    salesperson: str | None = None
    credit_class: str | None = None


@dataclass(frozen=True, slots=True)
class AgingReport:
    as_of: date
    policy: AgingPolicy
    base_currency: str
    rows: list[AgingRow]

    @property
    def total_base(self) -> tuple[Decimal, dict[str, Decimal]]:
        """Balance and buckets of all rows, in the base currency."""
        buckets = {label: sum((r.base_buckets[label] for r in self.rows), Decimal(0))
                   for label in self.policy.labels}
        return sum((r.base_balance for r in self.rows), Decimal(0)), buckets


def aging(conn: Connection, as_of: date, policy: AgingPolicy | None = None,
          customer: str | None = None) -> AgingReport:
    """Customer aging as of AS_OF (policy from settings unless given)."""
    book = read_settings(conn)
    policy = policy or book.aging
    cust_id = None if customer is None else customer_id(conn, customer)
    labels = policy.labels
    n = len(labels)
    base = book.base_currency
    money = _Money()
    rows = []
    found = conn.execute(*aging_stmt(as_of, policy, cust_id))
    for code, name, salesperson, credit_class, cur, balance, base_balance, *amounts in found:
        rows.append(AgingRow(
            code, name, cur, money(balance, cur), dict(zip(labels, money.many(amounts[:n], cur), strict=True)),
            money(base_balance, base), dict(zip(labels, money.many(amounts[n:], base), strict=True)),
            salesperson, credit_class,
        ))
    return AgingReport(as_of, policy, base, rows)


class _Money:
    """from_minor for a report's many amounts: most buckets of most rows are zero, and a zero (an
    immutable Decimal) is made once per currency."""

    def __init__(self) -> None:
        self.zeros: dict[str, Decimal] = {}

    def __call__(self, minor: int, currency: str) -> Decimal:
        if minor:
            return from_minor(minor, currency)
        if currency not in self.zeros:
            self.zeros[currency] = from_minor(0, currency)
        return self.zeros[currency]

    def many(self, minors: list[int], currency: str) -> list[Decimal]:
        zero = self(0, currency)
        return [from_minor(minor, currency) if minor else zero for minor in minors]


@dataclass(frozen=True, slots=True)
class Balance:
    customer: str
    currency: str
    balance: Decimal
    base_balance: Decimal


def balances(conn: Connection, as_of: date, customer: str | None = None) -> list[Balance]:
    """Balance per customer and currency as of a date (a customer with no items: no row)."""
    base = read_settings(conn).base_currency
    cust_id = None if customer is None else customer_id(conn, customer)
    return [Balance(code, cur, from_minor(bal, cur), from_minor(base_bal, base))
            for code, cur, bal, base_bal in conn.execute(balances_stmt(as_of, cust_id))]


def open_items(conn: Connection, customer: str, as_of: date, *, include_settled: bool = False) -> list[OpenItem]:
    """A customer's items dated on or before AS_OF with what was open of each on that date."""
    stmt, listing = listed_stmt(as_of, customer_id(conn, customer))
    stmt = stmt.order_by(listing.c.due_on, documents.c.number, listing.c.installment_no)
    if not include_settled:
        stmt = stmt.where(listing.c[OPEN] != 0)
    base = read_settings(conn).base_currency
    return [as_open_item(r, base) for r in conn.execute(stmt).mappings()]
