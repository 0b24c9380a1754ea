"""Orders and contracts read as `Order` and `Contract` records (xlar.domain.records)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.errors import NotFound
from xlar.domain.records import Contract, Order
from xlar.store.tables import contracts, customers, orders


def order(conn: Connection, number: str) -> tuple[Order, str]:
    """The order numbered NUMBER, and its customer's code."""
    row = conn.execute(sa.select(orders, customers.c.code).join(customers, customers.c.id == orders.c.customer_id)
                       .where(orders.c.number == number)).first()
    if row is None:
        raise NotFound(f"unknown order {number!r}")
    *columns, code = row
    return Order._make(columns), code


def contract(conn: Connection, number: str) -> Contract | None:
    """The contract numbered NUMBER, if there is one."""
    row = conn.execute(sa.select(contracts).where(contracts.c.number == number)).first()
    return None if row is None else Contract._make(row)
