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


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ROWS (all with the same columns) in batches; returns their ids, in order."""
    if not rows:
        return []
    stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return [int(r[0]) for r in conn.execute(stmt, [dict(r) for r in rows])]


def update_rows(conn: Connection, table: sa.Table, changes: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """Set each (row id, values) pair's values (all with the same columns) in one batch."""
    if changes:
        conn.execute(_update(table), [{ROW_ID: row_id, **values} for row_id, values in changes])


def update_row(conn: Connection, table: sa.Table, row_id: int, values: Mapping[str, Any]) -> None:
    """Set VALUES on row ROW_ID (and bump its revision, where the table has one)."""
    conn.execute(_update(table), {ROW_ID: row_id, **values})
