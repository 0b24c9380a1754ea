"""The sync state kept in the workbook, in a very hidden sheet `_xlar`.

It records which store rows each sheet showed at the last sync (as id ranges,
"1-500,502-990"), so a row the user deleted can be told from a colleague's row this
workbook has not seen yet; and what the last sync wrote: the store's version, the as-of
date, the CRC-32 of every other part of the file, and the mark (token) under which the
store recorded the sync that wrote it. When the file still has those very
parts and the store that version, a sync has nothing to do and reads no cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from xlar.workbook.package import sheet_parts
from xlar.workbook.parts import part_crcs

STATE_SHEET = "_xlar"
CELL_LIMIT = 32_000
FORMAT = 2
_META = "@"


@dataclass(slots=True)
class SyncState:
    ids: dict[str, set[int]] = field(default_factory=dict)   # sheet -> store ids it showed
    store_version: str | None = None                          # the store's version then
    as_of: date | None = None                                 # the date the outputs were computed for
    parts: dict[str, int] = field(default_factory=dict)       # part -> CRC-32 as written
    token: str | None = None   # this write's mark, recorded in the store by the same transaction
    source: str | None = None  # SHA-256 of the file the sync read (to finish an interrupted one)

    def rows(self) -> list[list[object]]:
        fingerprint = ";".join(f"{name}={crc:08x}" for name, crc in sorted(self.parts.items()))
        meta: list[list[object]] = [[f"{_META}store", self.store_version or ""],
                [f"{_META}as_of", self.as_of.isoformat() if self.as_of else ""],
                [f"{_META}sync", self.token or ""],
                [f"{_META}source", self.source or ""]]
        if len(fingerprint) <= CELL_LIMIT:
            meta.append([f"{_META}parts", fingerprint])
        by_sheet: list[list[object]] = [[name, *encode_ids(ids)] for name, ids in sorted(self.ids.items())]
        return [["xlar sync state", FORMAT], *meta, *by_sheet]

    @classmethod
    def from_rows(cls, grid: Sequence[Sequence[object]]) -> SyncState:
        state = cls()
        for row in grid[1:]:
            if not row or row[0] in (None, ""):
                continue
            name, rest = str(row[0]), row[1:]
            text = str(rest[0]) if rest and rest[0] is not None else ""
            if name == f"{_META}store":
                state.store_version = text or None
            elif name == f"{_META}as_of":
                state.as_of = date.fromisoformat(text) if text else None
            elif name == f"{_META}sync":
                state.token = text or None
            elif name == f"{_META}source":
                state.source = text or None

            elif name == f"{_META}parts":
                state.parts = {k: int(v, 16) for k, _, v in (p.partition("=") for p in text.split(";") if p)}
            else:
                state.ids[name] = decode_ids(rest)
        return state


def unchanged_since_sync(path: Path, state: SyncState) -> bool:
    """True when every part of the file but the state sheet is byte for byte what the last
    sync wrote (their CRC-32s, from the zip directory, match the recorded ones)."""
    if not state.parts:
        return False
    state_part = sheet_parts(path).get(STATE_SHEET)
    now = {name: crc for name, crc in part_crcs(path).items() if name != state_part}
    return now == state.parts


def encode_ids(ids: Iterable[int]) -> list[str]:
    """Sorted ids as ranges, split into cell-sized chunks."""
    parts: list[str] = []
    ordered = sorted(set(ids))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    chunks, current = [], ""
    for part in parts:
        if len(current) + len(part) + 1 > CELL_LIMIT:
            chunks.append(current)
            current = ""
        current = f"{current},{part}" if current else part
    return [*chunks, current] if current else chunks


def decode_ids(chunks: Iterable[object]) -> set[int]:
    ids: set[int] = set()
    for chunk in chunks:
        for part in str(chunk or "").split(","):
            if not part.strip():
                continue
            low, _, high = part.partition("-")
            ids.update(range(int(low), int(high or low) + 1))
    return ids
