"""Row writes that reuse one compiled statement per table (values travel as parameters).

Building `table.insert().values(**row)` anew for every row costs more than running it;
these keep the statement fixed so SQLAlchemy's compiled cache serves every call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

ROW_ID = "xlar_row_id"


@cache
def _update(table: sa.Table) -> sa.Update:
    stmt = table.update().where(table.c.id == sa.bindparam(ROW_ID))
    return stmt.values(rev=table.c.rev + 1) if "rev" in table.c else stmt


def insert_row(conn: Connection, table: sa.Table, values: Mapping[str, Any]) -> int:
    """Insert one row; returns its id."""
    return int(conn.execute(table.insert(), dict(values)).inserted_primary_key[0])


def reserve_ids(conn: Connection, table: sa.Table, count: int) -> list[int]:
    """COUNT new ids for TABLE, for rows this transaction inserts: from the table's sequence
    on PostgreSQL; on SQLite after the highest id (the write transaction holds the lock)."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        return [int(i) for i in conn.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": count}).scalars()]
    start = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one())
    return list(range(start + 1, start + 1 + count))


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ROWS (all with the same columns) in one batch; returns their ids, in order."""
    ids = reserve_ids(conn, table, len(rows))
    if rows:
        conn.execute(table.insert(), [{**r, "id": i} for i, r in zip(ids, rows, strict=True)])
    return ids


def update_rows(conn: Connection, table: sa.Table, changes: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """Set each (row id, values) pair's values (all with the same columns) in one batch."""
    if changes:
        conn.execute(_update(table), [{ROW_ID: row_id, **values} for row_id, values in changes])


def update_row(conn: Connection, table: sa.Table, row_id: int, values: Mapping[str, Any]) -> None:
    """Set VALUES on row ROW_ID (and bump its revision, where the table has one)."""
    conn.execute(_update(table), {ROW_ID: row_id, **values})
