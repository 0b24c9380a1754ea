"""The audit log: who changed what, when, with the row before and after.

The log is a hash chain. Every record carries its place in the chain (`seq`, from 1 with no
gaps), the hash of the record before it and its own hash: SHA-256 of its content and the
previous hash. The newest place and hash are also kept in `audit_head`. A record edited,
deleted, inserted or moved directly in the database breaks the chain at that record, and
`verify` names the first one. Someone who can rewrite the whole tail of the log and the head
consistently can only be caught against a head noted outside the store (an anchor: `xlar
audit verify --anchor SEQ:HASH`).

Every change passes `roles.admit` here, the one place every change goes through.

Appends are serialised: on SQLite every writer holds the write lock for its whole
transaction; on PostgreSQL every write transaction first takes the book's advisory lock
(`serialise_writers`), and the head row is locked before it is read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.store import roles
from xlar.store.tables import audit_head, audit_log
from xlar.store.writes import execute_many

GENESIS = "0" * 64
SETTING_ENTITY = "setting"
LEDGER_ENTITY = "ledger"   # the seals' records (store.seals): xlar's own, admitted with the change they seal


def _plain(value: Any) -> Any:
    if isinstance(value, (Decimal, date, datetime)):
        return str(value)
    raise TypeError(f"cannot audit a {type(value).__name__}")


def as_json(values: Mapping[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps(dict(values), default=_plain, ensure_ascii=False, sort_keys=True)


def record(
    conn: Connection,
    user: str,
    action: str,
    entity: str,
    entity_id: object,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Append one audit record inside the caller's transaction."""
    record_many(conn, user, action, entity, [(entity_id, before, after)])


Entry = tuple[object, Mapping[str, Any] | None, Mapping[str, Any] | None]   # entity id, before, after


def record_many(conn: Connection, user: str, action: str, entity: str, entries: Iterable[Entry]) -> None:
    """Append one audit record per (entity id, before, after), in one batch, chained."""
    at = datetime.now(UTC)
    rows: list[dict[str, Any]] = [{"at": at, "user_name": user, "action": action, "entity": entity, "entity_id": str(entity_id),
             "before": as_json(before), "after": as_json(after)} for entity_id, before, after in entries]
    if not rows:
        return
    if entity not in (SETTING_ENTITY, LEDGER_ENTITY):   # a settings change was checked before it
        roles.admit(conn, user)
    seq, previous = _head(conn)
    for row in rows:
        seq += 1
        row["seq"], row["prev_hash"] = seq, previous
        row["hash"] = previous = chain_hash(row)
    execute_many(conn, _INSERT, rows)
    conn.execute(_MOVE_HEAD, {"seq": seq, "hash": previous})


_INSERT = audit_log.insert()
_MOVE_HEAD = audit_head.update().where(audit_head.c.id == 1).values(
    seq=sa.bindparam("seq"), hash=sa.bindparam("hash"))


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
                       .with_for_update()).first()
    if row is None:  # a store made before the chain, or emptied: the chain starts here
        conn.execute(audit_head.insert().values(id=1, seq=0, hash=GENESIS))
        return 0, GENESIS
    return int(row.seq), str(row.hash)


def head(conn: Connection) -> tuple[int, str]:
    """The chain's newest place and hash, as this transaction sees it."""
    row = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    return (int(row.seq), str(row.hash)) if row else (0, GENESIS)


def at_text(value: datetime) -> str:
    """A record's time as the chain hashes it: UTC to the microsecond (SQLite gives it back
    without a zone, PostgreSQL in the session's zone)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def chain_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 of a record's place, content and the previous record's hash."""
    content = [row["seq"], at_text(row["at"]), row["user_name"], row["action"], row["entity"],
               row["entity_id"], row["before"], row["after"], row["prev_hash"]]
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def serialise_writers(conn: Connection) -> None:
    """Make this PostgreSQL write transaction wait for the book's other writers: the audit
    chain has one head, and a writer that took it only when it first audits could deadlock
    with one that holds rows it needs. (SQLite writers are serial already.) The lock is the
    schema's, so two books in one database do not wait for each other."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('xlar:' || current_schema()))")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `verify` found: how many records it checked, the head, and the first bad record."""

    records: int
    head_seq: int
    head_hash: str
    problem: str | None = None
    seals: Mapping[str, str] = field(default_factory=dict)   # per table, the newest sealed "rows:sum"

    @property
    def holds(self) -> bool:
        return self.problem is None

    def text(self) -> str:
        if self.problem:
            return f"audit chain BROKEN after {self.records} good record(s): {self.problem}"
        return f"audit chain intact: {self.records} record(s); head {self.head_seq}:{self.head_hash}"


def _describe(row: Mapping[str, Any]) -> str:
    return (f"record {row['seq']} (id {row['id']}, {at_text(row['at'])} UTC, {row['user_name']} "
            f"{row['action']} {row['entity']} {row['entity_id']})")


def _records(conn: Connection, batch: int = 20_000) -> Iterator[Mapping[str, Any]]:
    """The chained records in chain order, a batch at a time (the log may be millions long)."""
    after = 0
    while True:
        rows = conn.execute(sa.select(audit_log).where(audit_log.c.seq > after)
                            .order_by(audit_log.c.seq).limit(batch)).mappings().all()
        if not rows:
            return
        yield from cast("Sequence[Mapping[str, Any]]", rows)   # rows by column name: str keys only
        after = rows[-1]["seq"]


def verify(conn: Connection, anchors: Iterable[tuple[int, str]] = ()) -> Verdict:
    """Walk the chain from the first record and name the first one that breaks it: edited
    (its hash does not match its content), missing (a gap in the places), inserted or moved
    (its previous hash is not the hash before it), outside the chain, or cut off (the head
    names a later record). ANCHORS are (place, hash) pairs noted outside the store."""
    expected = dict(anchors)
    outside = conn.execute(sa.select(audit_log.c.id).where(audit_log.c.seq.is_(None))
                           .order_by(audit_log.c.id).limit(1)).scalar()
    head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    head_seq, head_hash = (int(head.seq), str(head.hash)) if head else (0, GENESIS)

    seals: dict[str, str] = {}

    def broken(good: int, problem: str) -> Verdict:
        return Verdict(good, head_seq, head_hash, problem, seals)

    seq, previous = 0, GENESIS
    for row in _records(conn):
        if row["seq"] != seq + 1:
            return broken(seq, f"record {seq + 1} is missing (deleted): the next one is {_describe(row)}")
        if row["prev_hash"] != previous:
            return broken(seq, f"{_describe(row)} does not follow record {seq}: inserted, moved, or the "
                               "one before it was replaced")
        if chain_hash(row) != row["hash"]:
            return broken(seq, f"{_describe(row)} was edited: its content does not match its hash")
        if row["seq"] in expected and expected.pop(row["seq"]) != row["hash"]:
            return broken(seq, f"{_describe(row)} is not the record the anchor {row['seq']} names: "
                               "the log was rewritten at or before it")
        seq, previous = row["seq"], row["hash"]
        if row["entity"] == LEDGER_ENTITY and row["after"]:
            seals.update(json.loads(row["after"]))
    if outside is not None:
        return broken(seq, f"record id {outside} is outside the chain (inserted without a place)")
    if (seq, previous) != (head_seq, head_hash):
        if head_seq > seq:
            return broken(seq, f"the chain ends at record {seq} but the head names record {head_seq}: "
                               "the newest records were deleted")
        return broken(seq, f"the head ({head_seq}) does not name the last record ({seq}): the head was changed")
    if expected:
        place = min(expected)
        return broken(seq, f"the anchor {place} names a record the chain does not reach: records were deleted")
    return Verdict(seq, head_seq, head_hash, None, seals)


def store_version(conn: Connection) -> str:
    """A value that changes whenever anything in the store changes: every change is audited
    and the log only grows (its count moves even when a late commit fills an earlier id)."""
    count, last = conn.execute(sa.select(*version_columns())).one()
    return version_text(count, last)


def version_columns() -> tuple[sa.ColumnElement[int], sa.ColumnElement[int]]:
    """The audit log's count and last id: what store_version is made of (to select it with other rows)."""
    return sa.func.count(audit_log.c.id), sa.func.max(audit_log.c.id)


def version_text(count: int, last: int | None) -> str:
    return f"{count}:{last or 0}"
