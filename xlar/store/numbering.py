"""Document numbers: one series per kind and year, assigned by the store at posting."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from xlar.domain.documents import NUMBER_PREFIXES, DocKind
from xlar.store.tables import number_series


def next_number(conn: Connection, kind: DocKind, on: date) -> str:
    """The next number of KIND's series for ON's year, e.g. INV-2026-00042."""
    return reserve_numbers(conn, kind, on.year, 1)[0]


def reserve_numbers(conn: Connection, kind: DocKind, year: int, count: int) -> list[str]:
    """The next COUNT numbers of KIND's series for YEAR, in order.

    The row update holds the series' lock until the transaction ends, so colleagues
    posting at the same moment never get the same number.
    """
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(number_series)
        .values(kind=kind.value, year=year, prefix=NUMBER_PREFIXES[kind], last_no=0)
        .on_conflict_do_nothing()
    )
    prefix, last_no = conn.execute(
        sa.update(number_series)
        .where(number_series.c.kind == kind.value, number_series.c.year == year)
        .values(last_no=number_series.c.last_no + count)
        .returning(number_series.c.prefix, number_series.c.last_no)
    ).one()
    return [f"{prefix}-{year}-{n:05d}" for n in range(last_no - count + 1, last_no + 1)]
