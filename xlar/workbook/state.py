"""The sync state kept in the workbook: which store rows each sheet showed at the last sync.

It lives in a very hidden sheet `_xlar` as id ranges ("1-500,502-990"), so a row the user
deletes can be told from a colleague's row this workbook has not seen yet.
"""

from __future__ import annotations

from collections.abc import Iterable

STATE_SHEET = "_xlar"
CELL_LIMIT = 32_000


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
