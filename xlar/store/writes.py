"""Row writes that reuse one compiled statement per table (values travel as parameters).

Building `table.insert().values(**row)` anew for every row costs more than running it;
these keep the statement fixed so SQLAlchemy's compiled cache serves every call. Batches
(`execute_many`) go further: the statement is compiled once, each value goes through its
column type's own bind processor, and the driver's executemany gets plain tuples, which
saves SQLAlchemy's per-row parameter handling (most of the time of a 100,000-row batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

ROW_ID = "xlar_row_id"


@dataclass(frozen=True, slots=True)
class _Batch:
    sql: str
    positional: bool
    names: tuple[str, ...]                    # parameters in the order the driver takes them
    getter: Callable[[Mapping[str, Any]], Any]  # a row's values of the parameters taken from it
    single: bool                              # ... when there is only one (itemgetter gives it bare)
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]   # position -> bind processor
    constants: tuple[tuple[int, Any], ...]    # position -> value fixed in the statement (rev + 1)

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...] | list[Any]:
        got: tuple[Any, ...] | list[Any] = self.getter(row)
        if self.single:
            got = (got,)
        if not self.processors and not self.constants:
            return got
        out = list(got)
        for i, processor in self.processors:
            if out[i] is not None:
                out[i] = processor(out[i])
        for i, constant in self.constants:
            out.insert(i, constant)
        return out


_BATCHES: dict[tuple[object, ...], _Batch] = {}


def _memo(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """PROCESSOR remembering its last answer: a batch's timestamps are one value, converted once."""
    last: list[Any] = [object(), None]

    def process(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, processor(value)
        return last[1]
    return process


def _batch(conn: Connection, stmt: sa.Insert | sa.Update, keys: tuple[str, ...]) -> _Batch:
    cache_key = (conn.dialect, stmt, keys)
    if cache_key not in _BATCHES:
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(keys))
        names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
        taken = [n for n in names if n in keys]
        processors, constants = [], []
        for position, name in enumerate(names):
            bind = compiled.binds[name]
            if name not in keys:
                constants.append((position, bind.effective_value))
                continue
            processor = bind.type._cached_bind_processor(conn.dialect)
            if processor is not None:
                processors.append((taken.index(name), _memo(processor)))
        _BATCHES[cache_key] = _Batch(compiled.string, compiled.positional, names, itemgetter(*taken),
                                     len(taken) == 1, tuple(processors), tuple(constants))
    return _BATCHES[cache_key]


def execute_many(conn: Connection, stmt: sa.Insert | sa.Update, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run STMT once per row of ROWS (all with the same keys) in one driver executemany."""
    if not rows:
        return
    batch = _batch(conn, stmt, tuple(rows[0]))
    if batch.positional:
        conn.exec_driver_sql(batch.sql, [tuple(batch.values(r)) for r in rows])
    else:
        conn.exec_driver_sql(batch.sql, [dict(zip(batch.names, batch.values(r), strict=True)) for r in rows])


@cache
def _update(table: sa.Table) -> sa.Update:
    stmt = table.update().where(table.c.id == sa.bindparam(ROW_ID))
    return stmt.values(rev=table.c.rev + 1) if "rev" in table.c else stmt


def insert_row(conn: Connection, table: sa.Table, values: Mapping[str, Any]) -> int:
    """Insert one row; returns its id."""
    key = conn.execute(table.insert(), dict(values)).inserted_primary_key
    assert key is not None   # an INSERT of one row has its key
    return int(key[0])


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


IN_CHUNK = 500   # values per IN (...) list: far below SQLite's and PostgreSQL's parameter limits


def in_chunks(values: Iterable[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    """VALUES sorted and cut into lists short enough for one IN (...) each."""
    ordered = sorted(set(values))
    for i in range(0, len(ordered), size):
        yield ordered[i:i + size]
