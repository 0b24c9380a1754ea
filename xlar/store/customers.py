"""Customers read as `Party` records (xlar.domain.records): the one place a row of the customers
table becomes a record, so no service reads a customer as a database row."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.errors import NotFound
from xlar.domain.records import Party
from xlar.store.tables import customers
from xlar.store.writes import in_chunks


def every(conn: Connection, where: sa.ColumnElement[bool] | None = None) -> list[Party]:
    """Every customer (or those WHERE holds for), by code."""
    stmt = sa.select(customers).order_by(customers.c.code)
    return [Party(**row) for row in conn.execute(stmt if where is None else stmt.where(where)).mappings()]


def by_codes(conn: Connection, codes: Iterable[str]) -> dict[str, Party]:
    """The customers with these codes, by code (a code no customer has is left out)."""
    return {party.code: party for chunk in in_chunks(codes) for party in every(conn, customers.c.code.in_(chunk))}


def by_code(conn: Connection, code: str) -> Party:
    """The customer with code CODE."""
    found = every(conn, customers.c.code == code)
    if not found:
        raise NotFound(f"unknown customer {code!r}")
    return found[0]
