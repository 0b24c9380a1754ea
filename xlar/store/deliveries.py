"""Delivery lines read as `Delivery` records (xlar.domain.records): the one place a row of the
deliveries table becomes a record."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.errors import NotFound
from xlar.domain.records import Delivery, DeliveryKey
from xlar.store.tables import deliveries
from xlar.store.writes import in_chunks


def select(conn: Connection, where: sa.ColumnElement[bool], *, lock: bool = False) -> list[Delivery]:
    """The delivery lines WHERE holds for, by date, note and line; LOCK holds their rows."""
    d = deliveries.c
    stmt = sa.select(deliveries).where(where).order_by(d.delivered_on, d.number, d.line_no)
    return [Delivery._make(row) for row in conn.execute(stmt.with_for_update() if lock else stmt)]


def by_keys(conn: Connection, keys: Iterable[DeliveryKey], *, lock: bool = False) -> dict[DeliveryKey, Delivery]:
    """The delivery lines named by KEYS (those that exist), locked for update if asked."""
    return {line.key: line for chunk in in_chunks(keys)
            for line in select(conn, sa.tuple_(deliveries.c.number, deliveries.c.line_no).in_(chunk), lock=lock)}


def load(conn: Connection, row_id: int, *, lock: bool = False) -> Delivery:
    found = select(conn, deliveries.c.id == row_id, lock=lock)
    if not found:
        raise NotFound(f"no delivery line with id {row_id}")
    return found[0]
