"""Counting the store statements a piece of code runs, and a clock a test moves by hand
(the worksheet functions' tests and bench/udfs.py)."""

from __future__ import annotations

import sqlalchemy as sa

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


class Statements:
    """Counts the queries every engine runs (not SQLite's explicit BEGIN: transaction control)."""

    def __init__(self):
        self.count = 0
        self.seen = []

    def __call__(self, conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(CONTROL):
            self.count += 1
            self.seen.append(statement)

    def __enter__(self):
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self)


class Clock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now
