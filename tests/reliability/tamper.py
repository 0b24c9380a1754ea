"""Tampering with the audit log directly in the database, case by case: each case edits,
deletes, inserts or moves records the way someone with the database's password could (the
append-only guard lifted: SQLite's triggers dropped, PostgreSQL's disabled as a superuser
can), inside a transaction that is rolled back afterwards, and asks `audit.verify` in that
same transaction whether it sees it and names the right record.

The last cases rewrite the tail of the chain consistently (hashes recomputed with the
published algorithm, head moved): the chain alone cannot tell, so the auditor's anchor, a
head noted before (at the last close, say), is what catches them; what verify can name then
is the anchored record, as the first one known to differ."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tests.books import customer, invoice, line, receipt
from xlar.store import audit
from xlar.store.audit import chain_hash
from xlar.store.engine import Store
from xlar.store.tables import audit_head, audit_log

Tamper = Callable[[Connection, int], int]   # (connection, records) -> the place verify must name


@dataclass
class TamperFigures:
    tried: int = 0
    detected: int = 0
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"audit tampering: {self.tried} cases tried / {self.detected} detected"


def fill(store: Store, customers: int = 6) -> None:
    """A book with a few hundred audit records of every kind."""
    with store.write() as conn:
        for i in range(customers):
            code = customer(conn, f"T{i:03d}")
            for k in range(3):
                invoice(conn, code, date(2026, 3, 1 + k), line("2", f"{10 + i}.50", "0.13"))
            receipt(conn, code, date(2026, 3, 20), "5.00")


def _lift_guard(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
    else:
        conn.exec_driver_sql("DROP TRIGGER trg_audit_log_update")
        conn.exec_driver_sql("DROP TRIGGER trg_audit_log_delete")


a = audit_log.c


def _set(conn: Connection, seq: int, **values: object) -> None:
    conn.execute(audit_log.update().where(a.seq == seq).values(**values))


def _row(conn: Connection, seq: int) -> dict[str, object]:
    return dict(conn.execute(sa.select(audit_log).where(a.seq == seq)).mappings().one())


def _rechain_from(conn: Connection, seq: int, last: int) -> None:
    """Recompute every hash from SEQ on and move the head: a forger who knows the algorithm."""
    previous = _row(conn, seq - 1)["hash"] if seq > 1 else audit.GENESIS
    for place in range(seq, last + 1):
        row = {**_row(conn, place), "prev_hash": previous}
        previous = chain_hash(row)
        _set(conn, place, prev_hash=row["prev_hash"], hash=previous)
    conn.execute(audit_head.update().values(seq=last, hash=previous))


def edit_after(conn: Connection, n: int) -> int:
    k = n // 2
    _set(conn, k, after='{"amount_minor": 1}')
    return k


def edit_user(conn: Connection, n: int) -> int:
    k = n // 3
    _set(conn, k, user_name="mallory")
    return k


def edit_time(conn: Connection, n: int) -> int:
    k = n - 5
    _set(conn, k, at=_row(conn, k)["at"] - timedelta(days=30))
    return k


def edit_action(conn: Connection, n: int) -> int:
    _set(conn, 7, action="void")
    return 7


def edit_first(conn: Connection, n: int) -> int:
    _set(conn, 1, entity_id="999")
    return 1


def edit_last(conn: Connection, n: int) -> int:
    _set(conn, n, before='{"status": "draft"}')
    return n


def edit_hash(conn: Connection, n: int) -> int:
    _set(conn, 11, hash="f" * 64)
    return 11


def edit_prev_hash(conn: Connection, n: int) -> int:
    _set(conn, 12, prev_hash="0" * 64)
    return 12


def delete_middle(conn: Connection, n: int) -> int:
    conn.execute(audit_log.delete().where(a.seq == n // 2))
    return n // 2


def delete_first(conn: Connection, n: int) -> int:
    conn.execute(audit_log.delete().where(a.seq == 1))
    return 1


def delete_last(conn: Connection, n: int) -> int:
    conn.execute(audit_log.delete().where(a.seq == n))
    return n


def delete_run(conn: Connection, n: int) -> int:
    conn.execute(audit_log.delete().where(a.seq.between(20, 40)))
    return 20


def swap_places(conn: Connection, n: int) -> int:
    """Two records trade places (reordered)."""
    conn.execute(audit_log.update().where(a.seq == 30).values(seq=-30))
    conn.execute(audit_log.update().where(a.seq == 31).values(seq=30))
    conn.execute(audit_log.update().where(a.seq == -30).values(seq=31))
    return 30


def swap_contents(conn: Connection, n: int) -> int:
    """Two records trade what they say, keeping their places and hashes."""
    one, two = _row(conn, 40), _row(conn, 45)
    keys = ("at", "user_name", "action", "entity", "entity_id", "before", "after")
    _set(conn, 40, **{k: two[k] for k in keys})
    _set(conn, 45, **{k: one[k] for k in keys})
    return 40


def insert_unplaced(conn: Connection, n: int) -> int:
    row = _row(conn, 10)
    conn.execute(audit_log.insert().values({k: v for k, v in row.items() if k not in ("id", "seq")}
                                           | {"seq": None}))
    return n + 1   # not a place: verify names the record outside the chain (checked by text below)


def insert_in_middle(conn: Connection, n: int) -> int:
    """A forged record squeezed in: the records after it moved up one place."""
    conn.execute(audit_log.update().where(a.seq > 50).values(seq=a.seq + 100_000))
    forged = {**_row(conn, 50), "seq": 51, "user_name": "mallory"}
    forged.pop("id")
    forged["prev_hash"] = _row(conn, 50)["hash"]
    forged["hash"] = chain_hash(forged)
    conn.execute(audit_log.insert().values(forged))
    conn.execute(audit_log.update().where(a.seq > 100_000).values(seq=a.seq - 100_000 + 1))
    return 52


def head_moved(conn: Connection, n: int) -> int:
    conn.execute(audit_head.update().values(hash="a" * 64))
    return n


def truncate_with_head(conn: Connection, n: int) -> int:
    """The newest records deleted and the head moved back to match: only an anchor tells."""
    conn.execute(audit_log.delete().where(a.seq > n - 10))
    last = _row(conn, n - 10)
    conn.execute(audit_head.update().values(seq=n - 10, hash=last["hash"]))
    return n   # the chain is whole again: what is named is the anchor it no longer reaches


def rewrite_tail(conn: Connection, n: int) -> int:
    """A record edited and every hash after it recomputed, head included: only an anchor tells."""
    _set(conn, n - 20, after='{"amount_minor": 1}')
    _rechain_from(conn, n - 20, n)
    return n   # the chain is whole again: what is named is the anchor's record, which changed


CASES: dict[str, Tamper] = {f.__name__: f for f in (
    edit_after, edit_user, edit_time, edit_action, edit_first, edit_last, edit_hash, edit_prev_hash,
    delete_middle, delete_first, delete_last, delete_run, swap_places, swap_contents, insert_unplaced,
    insert_in_middle, head_moved, truncate_with_head, rewrite_tail)}


def run_tampering(store: Store) -> TamperFigures:
    """Every case against STORE (filled by `fill`), each rolled back; an anchor is the head
    noted before the tampering."""
    figures = TamperFigures()
    with store.read() as conn:
        clean = audit.verify(conn)
    if not clean.holds or clean.records < 60:
        raise AssertionError(f"the book to tamper with is not clean or too small: {clean.text()}")
    anchor = (clean.head_seq, clean.head_hash)
    for name, tamper in CASES.items():
        figures.tried += 1
        with store.engine.connect() as conn:
            tx = conn.begin()
            try:
                _lift_guard(conn)
                place = tamper(conn, clean.records)
                verdict = audit.verify(conn, [anchor])
            finally:
                tx.rollback()
        named = verdict.problem and (re.search(rf"\b(record|anchor) {place}\b", verdict.problem)
                                     or (name == "insert_unplaced" and "outside the chain" in verdict.problem)
                                     or (name == "head_moved" and "the head" in verdict.problem))
        if verdict.holds:
            figures.failures.append(f"{name}: not detected")
        elif not named:
            figures.failures.append(f"{name}: detected but the wrong record named (expected {place}): "
                                    f"{verdict.problem}")
        else:
            figures.detected += 1
    return figures
