"""Row writes that reuse one compiled statement per table (values travel as parameters).

Building `table.insert().values(**row)` anew for every row costs more than running it;
these keep the statement fixed so SQLAlchemy's compiled cache serves every call. Batches
(`execute_many`) go further: the statement is compiled once, each value goes through its
column type's own bind processor, and the driver's executemany gets plain tuples, which
saves SQLAlchemy's per-row parameter handling (most of the time of a 100,000-row batch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

ROW_ID = "xlar_row_id"


@dataclass(frozen=True, slots=True)
class _Batch:
    sql: str
    positional: bool
    names: tuple[str, ...]                        # parameters in the order the driver takes them
    steps: tuple[tuple[str, Any, Any], ...]       # per parameter: row key (or ''), processor, constant


_BATCHES: dict[tuple[object, ...], _Batch] = {}


def _batch(conn: Connection, stmt: sa.Insert | sa.Update, keys: tuple[str, ...]) -> _Batch:
    cache_key = (conn.dialect, stmt, keys)
    if cache_key not in _BATCHES:
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(keys))
        names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
        steps = []
        for name in names:
            bind = compiled.binds[name]
            processor = bind.type._cached_bind_processor(conn.dialect)
            steps.append((name if name in keys else "", processor, bind.effective_value))
        _BATCHES[cache_key] = _Batch(compiled.string, compiled.positional, names, tuple(steps))
    return _BATCHES[cache_key]


def execute_many(conn: Connection, stmt: sa.Insert | sa.Update, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run STMT once per row of ROWS (all with the same keys) in one driver executemany."""
    if not rows:
        return
    batch = _batch(conn, stmt, tuple(rows[0]))
    steps = batch.steps

    def values(row: Mapping[str, Any]) -> list[Any]:
        out = []
        for key, processor, constant in steps:
            value = row[key] if key else constant
            out.append(value if processor is None or value is None else processor(value))
        return out
    if batch.positional:
        conn.exec_driver_sql(batch.sql, [tuple(values(r)) for r in rows])
    else:
        conn.exec_driver_sql(batch.sql, [dict(zip(batch.names, values(r), strict=True)) for r in rows])


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
    execute_many(conn, table.insert(), [{**r, "id": i} for i, r in zip(ids, rows, strict=True)])
    return ids


def update_rows(conn: Connection, table: sa.Table, changes: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """Set each (row id, values) pair's values (all with the same columns) in one batch."""
    execute_many(conn, _update(table), [{ROW_ID: row_id, **values} for row_id, values in changes])


def update_row(conn: Connection, table: sa.Table, row_id: int, values: Mapping[str, Any]) -> None:
    """Set VALUES on row ROW_ID (and bump its revision, where the table has one)."""
    conn.execute(_update(table), {ROW_ID: row_id, **values})
