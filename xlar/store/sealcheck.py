"""What changed in the book outside xlar: rows whose content is not what xlar sealed
(`differences`, `outside`), the seals checked against the audit chain (`verify`), and an
admin's acceptance of such rows as they now are (`accept`). See store.seals for the seals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.store import audit
from xlar.store.seals import (
    ENTITY,
    KEY_SEP,
    NO_ROWS,
    SEAL_ACTION,
    SYSTEM_USER,
    digest_text,
    hash_sum,
    intact,
    key_columns,
    key_text,
    reseal,
    row_hashes,
    seal,
    sealed_tables,
    stored_seals,
)
from xlar.store.tables import metadata, seal_heads

ACCEPT_ACTION = "accept"
_LABELS = ("number", "code", "key", "period", "name")   # the column that names a row to a user


@dataclass(frozen=True, slots=True)
class Difference:
    """One row whose content is not what xlar sealed."""

    table: str
    key: str
    kind: str            # inserted | changed | deleted
    label: str = ""      # its number, code or key, where it still has one

    def text(self) -> str:
        name = f"{self.table} row {self.key.replace(KEY_SEP, '/')}"
        if self.label and self.label != self.key:
            name += f" ({self.label})"
        return f"{name} was {self.kind} outside xlar"


@dataclass
class LedgerVerdict:
    """What `verify` found: rows not as sealed, and tables whose seals do not add up."""

    rows: int = 0
    differences: list[Difference] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)   # tables whose seals were rewritten

    @property
    def holds(self) -> bool:
        return not self.differences and not self.rewritten

    def text(self, limit: int = 20) -> str:
        if self.holds:
            return f"ledger seals intact: {self.rows} row(s) as xlar wrote them"
        lines = [f"ledger BROKEN: {len(self.differences)} row(s) changed outside xlar"
                 + (f"; the seals of {', '.join(self.rewritten)} were rewritten" if self.rewritten else "")]
        lines += [f"  {d.text()}" for d in self.differences[:limit]]
        if len(self.differences) > limit:
            lines.append(f"  … and {len(self.differences) - limit} more")
        return "\n".join(lines)


def differences(conn: Connection, tables: Iterable[sa.Table] | None = None) -> list[Difference]:
    """Every row of TABLES (default: all sealed) inserted, changed or deleted outside xlar (in
    a write transaction, what it changed itself so far is sealed first)."""
    seal(conn)
    found: list[Difference] = []
    for table in sealed_tables() if tables is None else tables:
        now, sealed = row_hashes(conn, table), stored_seals(conn, table.name)
        if now == sealed:
            continue
        odd = sorted(k for k in now.keys() | sealed.keys() if now.get(k) != sealed.get(k))
        labels = _labels(conn, table, [k for k in odd if k in now])
        for key in odd:
            kind = "inserted" if key not in sealed else "deleted" if key not in now else "changed"
            found.append(Difference(table.name, key, kind, labels.get(key, "")))
    return found


def _labels(conn: Connection, table: sa.Table, keys: list[str]) -> dict[str, str]:
    """What names each row of KEYS to a user: its number, code or key, else its document's
    number or its customer's code."""
    if not keys:
        return {}
    wanted = set(keys)
    columns = key_columns(table)
    rows = [r for r in conn.execute(sa.select(table)).mappings()
            if key_text(r[c.name] for c in columns) in wanted]
    named = {}
    for parent, column, label in (("documents", "document_id", "number"), ("customers", "customer_id", "code")):
        if column in table.c:
            ref = metadata.tables[parent]
            ids = {r[column] for r in rows}
            named[column] = dict(conn.execute(sa.select(ref.c.id, ref.c[label]).where(ref.c.id.in_(ids))).all())
            break
    out = {}
    for r in rows:
        label = next((str(r[n]) for n in _LABELS if n in table.c and r[n] not in (None, "")), "")
        for column, names in named.items():
            label = label or str(names.get(r[column], ""))
        out[key_text(r[c.name] for c in columns)] = label
    return out


def verify(conn: Connection, chained: Mapping[str, str]) -> LedgerVerdict:
    """Compare every row with its seal, and every table's seals with the sums the chain holds
    (CHAINED: table -> "rows:sum", the newest seal record of each, from `audit.verify`)."""
    verdict = LedgerVerdict(differences=differences(conn))
    heads = {r.tbl: f"{r.rows}:{r.digest}" for r in conn.execute(sa.select(seal_heads))}
    for table in sealed_tables():
        sealed = stored_seals(conn, table.name)
        verdict.rows += len(sealed)
        summed = f"{len(sealed)}:{digest_text(hash_sum(sealed.values()))}"
        expected = chained.get(table.name, NO_ROWS)
        if summed != expected or heads.get(table.name, expected) != expected:
            verdict.rewritten.append(table.name)
    return verdict


def accept(conn: Connection, user: str, found: Sequence[Difference]) -> int:
    """Take rows changed outside xlar as they now are: each is audited under USER (the row as
    it is now, or its deletion) and sealed. Returns how many rows were accepted."""
    by_table: dict[str, list[Difference]] = defaultdict(list)
    for d in found:
        by_table[d.table].append(d)
    moved = {}
    for name, rows in sorted(by_table.items()):
        table = metadata.tables[name]
        current = {key_text(r[c.name] for c in key_columns(table)): dict(r)
                   for r in conn.execute(sa.select(table)).mappings()}
        audit.record_many(conn, user, ACCEPT_ACTION, name,
                          [(d.key, {"outside_xlar": d.kind}, current.get(d.key)) for d in rows])
        moved[name] = reseal(conn, table, [d.key for d in rows])
    audit.record_many(conn, SYSTEM_USER, SEAL_ACTION, ENTITY, [("rows", None, moved)])
    return len(found)


def outside(conn: Connection) -> list[Difference]:
    """The rows changed outside xlar, looked for only when the tables' sums say there are some."""
    seal(conn)
    return [] if intact(conn) else differences(conn)
