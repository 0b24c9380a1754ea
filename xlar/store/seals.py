"""Seals: every row of the book under the audit chain, so a row inserted, changed or deleted
directly in the database (behind xlar's back) is named by `xlar check` and `audit verify`.

The audit chain (store.audit) proves the log was not rewritten; it says nothing of the rows
themselves. Seals close that gap:

- `row_seals` holds, for every row of every table of the book (documents, lines, open items,
  allocations, journal lines, customers, settings, ...), the SHA-256 of its content.
- `seal_heads` holds, per table, how many rows it has and the sum of their hashes (mod 2**256,
  so the sum moves with any row and does not depend on order).
- Every write transaction that changed rows ends by sealing them (`seal`): their new hashes go
  into `row_seals`, the sums move, and one audit record (entity "ledger", action "seal") puts
  the new sums of the tables it changed into the chain.

Which rows a transaction changed is marked by triggers, and only for xlar's own writes: on
SQLite by TEMP triggers of xlar's connection into its TEMP table (another program's connection
has neither), on PostgreSQL by triggers that fire only in a transaction that set `xlar.seal`
(as `Store.write` does), into `seal_dirty`, which each write of xlar's empties first. Only a
write of xlar's seals (`check` and `verify` never write). A row changed by another program is
therefore not resealed: its hash no longer matches and `differences` (store.sealcheck) names
it, until an admin accepts it (`accept`, audited with the row as it now is). On SQLite this holds even when xlar
updates that row later (its update trigger keeps the row's hash as it was, and a row that did
not match its seal keeps the seal); on PostgreSQL such a later update by xlar seals the row as
it then is (its triggers keep keys only), and a session that sets `xlar.seal` itself is taken
for xlar's.

Someone who rewrites a row and its seal consistently changes the table's sum, which the chain
holds: `verify` (store.sealcheck) says the seals of that table were rewritten. Rewriting the chain's tail too is
caught only against an anchor noted outside the store (a month-end close notes the head).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.store import audit
from xlar.store.tables import metadata, row_seals, seal_dirty, seal_heads
from xlar.store.writes import IN_CHUNK, execute_many, in_chunks

ENTITY = audit.LEDGER_ENTITY
SEAL_ACTION = "seal"
SYSTEM_USER = "xlar"
EXEMPT = frozenset({"audit_log", "audit_head", "row_seals", "seal_heads", "seal_dirty"})
KEY_SEP = "\x1f"   # between the values of a composite key
_MOD = 1 << 256


def sealed_tables() -> list[sa.Table]:
    """Every table of the book whose rows are sealed (all but the log and the seals)."""
    return [t for t in metadata.sorted_tables if t.name not in EXEMPT]


# ----------------------------------------------------------------------------------------------
# hashing


def row_hash(values: Sequence[Any]) -> str:
    """SHA-256 of a row's stored values in the table's own column order (`SELECT *`), trailing
    NULLs left out: a column added later (at the end, NULL in old rows) moves no hash."""
    return _digest(values).hex()


def _digest(values: Sequence[Any]) -> bytes:
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    return hashlib.sha256(repr(tuple(values[:end])).encode("utf-8")).digest()


def digest_text(total: int) -> str:
    return f"{total % _MOD:064x}"


NO_ROWS = f"0:{digest_text(0)}"   # a table's "rows:sum" before it has any


def key_text(values: Iterable[Any]) -> str:
    """A row's primary key as one text (as the triggers write it)."""
    return KEY_SEP.join(str(v) for v in values)


def key_columns(table: sa.Table) -> list[sa.Column[Any]]:
    return list(table.primary_key.columns)


def _raw_rows(conn: Connection, table: sa.Table, keys: Iterable[str] | None = None) -> Iterator[tuple[str, bytes]]:
    """(key, digest) of TABLE's rows, those of KEYS or all, as the driver reads them: the stored
    values, no type conversion (PostgreSQL's times are taken in UTC, whatever the session's zone)."""
    cursor = conn.connection.dbapi_connection.cursor()   # type: ignore[union-attr]  # the DBAPI connection of an open Connection is there
    try:
        sql = f'SELECT * FROM "{table.name}"'
        key_names = [c.name for c in key_columns(table)]
        keys = None if keys is None else list(keys)
        kind = key_columns(table)[0].type.python_type if len(key_names) == 1 else None
        mark = "?" if conn.dialect.name == "sqlite" else "%s"
        if keys is None or kind is None or len(keys) > 5 * IN_CHUNK:   # many: one read, filtered
            wanted = None if keys is None else set(keys)
            if wanted and kind is int:   # (rows added together have ids close together: their range)
                ids = [int(k) for k in wanted]
                cursor.execute(f'{sql} WHERE "{key_names[0]}" BETWEEN {mark} AND {mark}', (min(ids), max(ids)))
            else:
                cursor.execute(sql)
            batches: Iterator[Sequence[Any]] = iter([cursor.fetchall()])
        else:
            wanted = None

            def fetch(chunk: list[Any]) -> Sequence[Any]:
                cursor.execute(f'{sql} WHERE "{key_names[0]}" IN ({", ".join([mark] * len(chunk))})', chunk)
                return cursor.fetchall()
            batches = (fetch(chunk) for chunk in in_chunks(kind(k) for k in keys))
        positions: list[int] = []
        times: list[int] = []
        for rows in batches:
            if not positions:   # the table's own column order (the cursor's once it has run)
                names = [d[0] for d in cursor.description]
                positions = [names.index(n) for n in key_names]
                if conn.dialect.name == "postgresql":
                    times = [names.index(c.name) for c in table.c if isinstance(c.type, sa.DateTime)]
            for row in rows:
                if times:
                    row = list(row)
                    for i in times:
                        if row[i] is not None:
                            row[i] = audit.at_text(row[i])
                key = str(row[positions[0]]) if len(positions) == 1 else key_text(row[p] for p in positions)
                if wanted is None or key in wanted:
                    yield key, _digest(row)
    finally:
        cursor.close()


def row_hashes(conn: Connection, table: sa.Table, keys: Iterable[str] | None = None) -> dict[str, str]:
    """Key -> hash of TABLE's rows (those of KEYS, or all)."""
    return {k: d.hex() for k, d in _raw_rows(conn, table, keys)}


def table_sum(conn: Connection, table: sa.Table) -> str:
    """TABLE's rows and the sum of their hashes, as seal_heads holds them: "rows:sum"."""
    count = total = 0
    for _key, digest in _raw_rows(conn, table):
        count += 1
        total += int.from_bytes(digest, "big")
    return f"{count}:{digest_text(total)}"


def intact(conn: Connection) -> bool:
    """True when every table's rows add up to the sum xlar sealed (one pass over the rows, no
    seal read: what a sync asks before it says "no changes")."""
    heads = {r.tbl: f"{r.rows}:{r.digest}" for r in conn.execute(sa.select(seal_heads))}
    return all(table_sum(conn, t) == heads.get(t.name, NO_ROWS) for t in sealed_tables())


def stored_seals(conn: Connection, name: str, keys: Iterable[str] | None = None) -> dict[str, str]:
    s = row_seals.c
    keys = None if keys is None else list(keys)
    if keys is None or len(keys) > 5 * IN_CHUNK:   # many: one read of them all beats many IN lists
        found = dict(conn.execute(sa.select(s.row_key, s.hash).where(s.tbl == name)).all())
        return found if keys is None else {k: found[k] for k in keys if k in found}
    out: dict[str, str] = {}
    for chunk in in_chunks(keys):
        out.update(conn.execute(sa.select(s.row_key, s.hash).where(s.tbl == name, s.row_key.in_(chunk))).all())
    return out


def hash_sum(hashes: Iterable[str]) -> int:
    return sum(int(h, 16) for h in hashes)


# ----------------------------------------------------------------------------------------------
# marking xlar's own writes


_TEMP_DIRTY = ("CREATE TEMP TABLE IF NOT EXISTS xlar_dirty (tbl TEXT NOT NULL, row_key TEXT NOT NULL, "
               "old_hash TEXT, PRIMARY KEY (tbl, row_key)) WITHOUT ROWID")
ROW_HASH_FUNCTION = "xlar_row_hash"


def sqlite_row_hash(*values: Any) -> str:
    """row_hash for SQLite triggers (registered on xlar's connections): the values as the
    driver gives them, so the same hash a SELECT * of the row gives."""
    return row_hash(values)


def _sqlite_triggers(table: sa.Table, physical: Sequence[str]) -> list[str]:
    """TEMP triggers of this connection: the key of every row it inserts, updates or deletes goes
    into its TEMP table xlar_dirty, which no other connection can write; an update also keeps the
    hash of the row as it was (PHYSICAL: the table's own column order), so a row another program
    changed is not sealed as xlar's when xlar writes it next."""
    def key(ref: str) -> str:
        return " || char(31) || ".join(f"{ref}.{c.name}" for c in key_columns(table))

    old = f"{ROW_HASH_FUNCTION}(" + ", ".join(f'OLD."{c}"' for c in physical) + ")"
    first = "INSERT OR IGNORE INTO xlar_dirty (tbl, row_key, old_hash) VALUES ('{t}', {k}, {h});"
    out = []
    for event, marks in (("INSERT", [("NEW", "NULL")]), ("UPDATE", [("OLD", old), ("NEW", "NULL")]),
                         ("DELETE", [("OLD", "NULL")])):
        body = " ".join(first.format(t=table.name, k=key(ref), h=h) for ref, h in marks)
        out.append(f"CREATE TEMP TRIGGER IF NOT EXISTS xlar_seal_{table.name}_{event.lower()} "
                   f"AFTER {event} ON main.{table.name} BEGIN {body} END")
    return out


def postgres_triggers(table: str, key_columns: Sequence[str]) -> list[str]:
    """The PostgreSQL function and statement triggers that mark TABLE's changed rows in
    seal_dirty, in a transaction that set xlar.seal (for migrations)."""
    key = "concat_ws(chr(31), " + ", ".join(key_columns) + ")"
    mark = ("INSERT INTO seal_dirty (tbl, row_key) SELECT DISTINCT '{t}', {k} FROM {rows} "
            "ON CONFLICT DO NOTHING;")
    function = (f"CREATE OR REPLACE FUNCTION xlar_seal_{table}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                "BEGIN\n"
                "  IF current_setting('xlar.seal', true) = 'on' THEN\n"
                f"    IF TG_OP IN ('UPDATE', 'DELETE') THEN {mark.format(t=table, k=key, rows='old_rows')} END IF;\n"
                f"    IF TG_OP IN ('UPDATE', 'INSERT') THEN {mark.format(t=table, k=key, rows='new_rows')} END IF;\n"
                "  END IF;\n"
                "  RETURN NULL;\n"
                "END $$")
    out = [function]
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows")):
        out.append(f"CREATE TRIGGER trg_{table}_seal_{event.lower()} AFTER {event} ON {table} "
                   f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION xlar_seal_{table}()")
    return out


def track(conn: Connection) -> bool:
    """Mark the rows this write transaction changes (see the module's text). False for a store
    without seals (not initialised yet, or before its migration): nothing to mark. Marks found
    before it starts are not this transaction's: they are dropped, never sealed (their rows stay
    as they are, and are named if they differ from their seals)."""
    if conn.dialect.name == "postgresql":
        if conn.exec_driver_sql("SELECT to_regclass('seal_dirty')").scalar() is None:
            return False
        conn.exec_driver_sql("SELECT set_config('xlar.seal', 'on', true)")
        conn.exec_driver_sql("DELETE FROM seal_dirty")
        conn.info[_TRACKING] = conn.get_transaction()
        return True
    tables = sealed_tables()
    present = conn.exec_driver_sql("SELECT count(*) FROM sqlite_temp_master WHERE type = 'trigger' "
                                   "AND name LIKE 'xlar_seal_%'").scalar()
    if present != 3 * len(tables):
        have = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars())
        if not {"seal_dirty", *(t.name for t in tables)} <= have:
            return False
        conn.exec_driver_sql(_TEMP_DIRTY)
        for table in tables:
            physical = [r[1] for r in conn.exec_driver_sql(f'PRAGMA main.table_info("{table.name}")')]
            for sql in _sqlite_triggers(table, physical):
                conn.exec_driver_sql(sql)
    conn.exec_driver_sql("DELETE FROM temp.xlar_dirty")
    conn.info[_TRACKING] = conn.get_transaction()
    return True


def _tracking(conn: Connection) -> bool:
    """Whether this transaction is a write of xlar's that marks its rows (Store.write)."""
    return conn.info.get(_TRACKING) is not None and conn.info.get(_TRACKING) is conn.get_transaction()


_TRACKING = "xlar_seals_tracking"


# ----------------------------------------------------------------------------------------------
# sealing


def seal(conn: Connection) -> None:
    """Seal the rows this transaction changed: new hashes, the tables' sums, one chained record.
    Only in a write of xlar's (anywhere else it does nothing: a check never writes). A row that
    another program had changed before xlar updated it keeps its old seal (SQLite), so it is
    still named as changed outside xlar."""
    if not _tracking(conn):
        return
    if conn.dialect.name == "postgresql":
        marked = [(t, k, None) for t, k in conn.execute(sa.select(seal_dirty.c.tbl, seal_dirty.c.row_key)).all()]
        conn.execute(seal_dirty.delete())
    else:
        marked = list(conn.exec_driver_sql("SELECT tbl, row_key, old_hash FROM temp.xlar_dirty").all())
        conn.exec_driver_sql("DELETE FROM temp.xlar_dirty")
    if not marked:
        return
    keys: dict[str, list[str]] = defaultdict(list)
    was: dict[tuple[str, str], str] = {}
    for name, key, old_hash in marked:
        keys[name].append(key)
        if old_hash is not None:
            was[(name, key)] = old_hash
    few = len(marked) <= IN_CHUNK   # a transaction of a few rows: each step once for all its tables
    sealed_now = _few_seals(conn, keys) if few else {}
    plan: dict[str, tuple[list[str], dict[str, str]]] = {}
    for name in sorted(keys):
        sealed = sealed_now.get(name, {}) if few else stored_seals(conn, name, keys[name])
        tampered = {k for k in keys[name] if (name, k) in was and k in sealed and sealed[k] != was[(name, k)]}
        if len(tampered) < len(keys[name]):
            plan[name] = ([k for k in keys[name] if k not in tampered],
                          {k: h for k, h in sealed.items() if k not in tampered})
    moved = _reseal_few(conn, plan) if few else {
        name: reseal(conn, metadata.tables[name], keys_of, old) for name, (keys_of, old) in plan.items()}
    if moved:
        audit.record_many(conn, SYSTEM_USER, SEAL_ACTION, ENTITY, [("rows", None, moved)])


def _few_seals(conn: Connection, keys: Mapping[str, list[str]]) -> dict[str, dict[str, str]]:
    """The seals of a few rows of several tables (KEYS: table -> row keys), in one statement."""
    s = row_seals.c
    wanted = {(name, k) for name, ks in keys.items() for k in ks}
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for tbl, key, digest in conn.execute(sa.select(s.tbl, s.row_key, s.hash).where(
            s.tbl.in_(sorted(keys)), s.row_key.in_(sorted({k for _, k in wanted})))):
        if (tbl, key) in wanted:
            found[tbl][key] = digest
    return found


_DROP_SEAL = row_seals.delete().where(row_seals.c.tbl == sa.bindparam("t"), row_seals.c.row_key == sa.bindparam("k"))
_MOVE_HEAD = seal_heads.update().where(seal_heads.c.tbl == sa.bindparam("t")).values(
    rows=sa.bindparam("r"), digest=sa.bindparam("d"))


def _reseal_few(conn: Connection, plan: Mapping[str, tuple[list[str], dict[str, str]]]) -> dict[str, str]:
    """`_reseal` of a few rows of several tables (PLAN: table -> its keys and their old seals),
    each step one statement for them all: table -> its new "rows:sum"."""
    now = {name: row_hashes(conn, metadata.tables[name], keys) for name, (keys, _old) in plan.items()}
    dropped = [{"t": name, "k": k} for name, (_keys, old) in plan.items() for k in old]
    if dropped:
        conn.execute(_DROP_SEAL, dropped)
    execute_many(conn, row_seals.insert(), [{"tbl": name, "row_key": k, "hash": h}
                                            for name, hashes in now.items() for k, h in hashes.items()])
    heads = {tbl: (int(rows), int(digest, 16)) for tbl, rows, digest in conn.execute(
        sa.select(seal_heads.c.tbl, seal_heads.c.rows, seal_heads.c.digest).where(seal_heads.c.tbl.in_(sorted(plan))))}
    moved, updates, inserts = {}, [], []
    for name, (_keys, old) in plan.items():
        rows, total = heads.get(name, (0, 0))
        rows += len(now[name]) - len(old)
        total = (total + hash_sum(now[name].values()) - hash_sum(old.values())) % _MOD
        digest = digest_text(total)
        if name in heads:
            updates.append({"t": name, "r": rows, "d": digest})
        else:
            inserts.append({"tbl": name, "rows": rows, "digest": digest})
        moved[name] = f"{rows}:{digest}"
    if updates:
        conn.execute(_MOVE_HEAD, updates)
    if inserts:
        execute_many(conn, seal_heads.insert(), inserts)
    return moved


def reseal(conn: Connection, table: sa.Table, keys: list[str], old: dict[str, str] | None = None) -> str:
    """Put the current hashes of TABLE's rows KEYS into its seals and move its sum: "rows:sum"."""
    now = row_hashes(conn, table, keys)
    old = stored_seals(conn, table.name, keys) if old is None else old
    s = row_seals.c
    for chunk in in_chunks(old):
        conn.execute(row_seals.delete().where(s.tbl == table.name, s.row_key.in_(chunk)))
    execute_many(conn, row_seals.insert(), [{"tbl": table.name, "row_key": k, "hash": h} for k, h in now.items()])
    head = conn.execute(sa.select(seal_heads.c.rows, seal_heads.c.digest)
                        .where(seal_heads.c.tbl == table.name)).first()
    rows, total = (int(head.rows), int(head.digest, 16)) if head else (0, 0)
    rows += len(now) - len(old)
    total = (total + hash_sum(now.values()) - hash_sum(old.values())) % _MOD
    values = {"rows": rows, "digest": digest_text(total)}
    if head is None:
        conn.execute(seal_heads.insert().values(tbl=table.name, **values))
    else:
        conn.execute(seal_heads.update().where(seal_heads.c.tbl == table.name).values(**values))
    return f"{rows}:{values['digest']}"


def unsealed(conn: Connection) -> bool:
    """True for a store whose rows were never sealed (made before seals, or just made)."""
    return conn.execute(sa.select(sa.func.count()).select_from(seal_heads)).scalar_one() == 0


def seal_all(conn: Connection) -> None:
    """Seal every row of the book afresh (a store made before seals, once it is migrated)."""
    conn.execute(row_seals.delete())
    conn.execute(seal_heads.delete())
    conn.execute(seal_dirty.delete())
    moved = {t.name: reseal(conn, t, list(row_hashes(conn, t)), old={}) for t in sealed_tables()}
    audit.record_many(conn, SYSTEM_USER, SEAL_ACTION, ENTITY, [("rows", None, moved)])
