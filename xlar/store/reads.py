"""Large reads at the driver's pace: rows as the database driver returns them, without
SQLAlchemy's processing of each value (a fifth of the time of a read of the whole book), and
the one thing that then differs between the databases, dates, read back to dates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select


def driver_rows(conn: Connection, stmt: AnySelect) -> list[Sequence[Any]]:
    """STMT's rows as the database driver gives them, without SQLAlchemy's processing of each
    value (a fifth of the time of a read of the whole book). Only dates differ: SQLite gives them
    as ISO text, which `dates` reads."""
    result = conn.execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def dates(values: Iterable[Any]) -> list[date | None]:
    """VALUES (dates, ISO text as SQLite keeps them, or None) as dates; each distinct text is read
    once (a book has a few hundred dates a year and a hundred thousand items)."""
    values = list(values)
    read = {text: date.fromisoformat(text) for text in set(values) if isinstance(text, str)}
    return [read.get(value, value) for value in values]   # a date or None stands as it is


# A row of the store as services take it: a RowMapping as the driver gives it (keyed by column
# name or column), or a dict of the same columns (a row about to be written, a test's).
StoredRow = Mapping[Any, Any]

# A SELECT of any columns: its rows unpack to as many values as it names (SQLAlchemy 2.1 types
# each column: Select[tuple[...]] would be ONE column holding a tuple).
AnySelect = Select[*tuple[Any, ...]]
