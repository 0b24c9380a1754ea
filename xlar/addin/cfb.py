"""A deterministic writer of OLE compound files ([MS-CFB] version 3), standard library only.

Enough of the format for a VBA project: storages and streams, a FAT, a mini FAT and mini stream
for streams under 4096 bytes, and per-storage red-black directory trees. Timestamps and CLSIDs
are zero, so the same input always gives the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

SECTOR = 512  # version 3 sector size (2.2: sector shift 9)
MINI_SECTOR = 64  # mini sector size (2.2: mini sector shift 6)
MINI_CUTOFF = 4096  # streams smaller than this live in the mini stream (2.2)
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_STORAGE, _STREAM, _ROOT = 1, 2, 5  # object types (2.6.1)
_RED, _BLACK = 0, 1


@dataclass(slots=True)
class _Entry:
    """One directory entry: a storage (data is None) or a stream, with its children if a storage."""

    name: str
    data: bytes | None
    children: list[_Entry] = field(default_factory=list)
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = _BLACK
    start: int = ENDOFCHAIN


def cfb_key(name: str) -> tuple[int, str]:
    """The MS-CFB 2.6.4 order of sibling names: UTF-16 length first, then code points uppercased."""
    upper = "".join(c.upper() if len(c.upper()) == 1 else c for c in name)
    return len(name.encode("utf-16-le")) // 2, upper


def _check_name(name: str) -> None:
    """Refuse names MS-CFB 2.6.1 forbids: empty, over 31 UTF-16 units, or holding / \\ : !."""
    if not name or len(name.encode("utf-16-le")) > 62 or any(c in name for c in "/\\:!"):
        raise ValueError(f"invalid compound file entry name {name!r}")


def _tree(streams: Mapping[str, bytes]) -> _Entry:
    """The storage tree for '/'-separated stream paths, under a root entry."""
    root = _Entry("Root Entry", None)
    for path, data in streams.items():
        *dirs, leaf = path.split("/")
        node = root
        for part in dirs:
            _check_name(part)
            same = [c for c in node.children if cfb_key(c.name) == cfb_key(part)]
            if same and same[0].data is not None:
                raise ValueError(f"{part!r} is both a stream and a storage")
            if not same:
                _add_child(node, _Entry(part, None))
            node = same[0] if same else node.children[-1]
        _check_name(leaf)
        _add_child(node, _Entry(leaf, bytes(data)))
    return root


def _add_child(parent: _Entry, child: _Entry) -> None:
    """Attach child to parent, refusing a duplicate name (names compare per 2.6.4)."""
    if any(cfb_key(c.name) == cfb_key(child.name) for c in parent.children):
        raise ValueError(f"duplicate compound file entry name {child.name!r}")
    parent.children.append(child)


def _flatten(root: _Entry) -> list[_Entry]:
    """All entries in directory order: root first, then breadth first, siblings sorted."""
    order, queue = [root], [root]
    while queue:
        node = queue.pop(0)
        node.children.sort(key=lambda c: cfb_key(c.name))
        order.extend(node.children)
        queue.extend(node.children)
    return order


def _link(siblings: list[_Entry], ids: dict[int, int], depth: int, low: int) -> int:
    """Link sorted siblings as a balanced tree (2.6.4), nodes at depth `low` red; its root id."""
    if not siblings:
        return NOSTREAM
    mid = len(siblings) // 2
    node = siblings[mid]
    node.left = _link(siblings[:mid], ids, depth + 1, low)
    node.right = _link(siblings[mid + 1 :], ids, depth + 1, low)
    node.color = _RED if depth == low else _BLACK
    return ids[id(node)]


def _colour_tree(parent: _Entry, ids: dict[int, int]) -> None:
    """Set parent.child; the deepest level is red unless the tree is perfect (then all black)."""
    n = len(parent.children)
    height = n.bit_length() - 1  # depth of the deepest level of a midpoint-built tree
    perfect = n == (1 << (height + 1)) - 1
    parent.child = _link(parent.children, ids, 0, -1 if perfect else height)


def _chain(fat: list[int], start: int, count: int) -> None:
    """Append a contiguous chain of `count` sectors starting at `start` to a (mini) FAT."""
    fat.extend(range(start + 1, start + count))
    fat.append(ENDOFCHAIN)


def _sectors(size: int, unit: int) -> int:
    """How many units of `unit` bytes hold `size` bytes."""
    return -(-size // unit)


def _pad(data: bytes, unit: int) -> bytes:
    """data padded with zeros to a multiple of unit bytes."""
    return data + b"\0" * (-len(data) % unit)


def _entry_bytes(entry: _Entry | None, kind: int = 0, size: int = 0) -> bytes:
    """One 128-byte directory entry (2.6.1); None gives an unused (free) entry."""
    if entry is None:
        free = struct.pack("<HBB3I", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM)
        return b"\0" * 64 + free + b"\0" * 52
    name = entry.name.encode("utf-16-le")
    head = struct.pack("<64sHBB3I", name, len(name) + 2, kind, entry.color, entry.left,
                       entry.right, entry.child)
    clsid, state_bits, times = b"\0" * 16, b"\0" * 4, b"\0" * 16  # all zero: deterministic
    return head + clsid + state_bits + times + struct.pack("<IQ", entry.start, size)


class _Body:
    """The sectors after the header, laid out in order, and the FAT that chains them (2.3)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.fat: list[int] = []

    def place(self, data: bytes) -> int:
        """Append non-empty data as a contiguous chain of sectors; return its first sector."""
        start = len(self.data) // SECTOR
        _chain(self.fat, start, _sectors(len(data), SECTOR))
        self.data += _pad(data, SECTOR)
        return start

    def place_fat(self) -> list[int]:
        """Append the FAT sectors themselves (marked FATSECT); return their sector numbers."""
        used, count = len(self.data) // SECTOR, 0
        while count * (SECTOR // 4) < used + count:
            count += 1
        if count > 109:
            raise ValueError("compound file too large for a header-only DIFAT (> 109 FAT sectors)")
        self.fat.extend([FATSECT] * count)
        self.data += _words(self.fat, FREESECT)
        return list(range(used, used + count))


def _mini_stream(entries: list[_Entry]) -> tuple[bytes, list[int]]:
    """The mini stream and mini FAT (2.5) for streams under 4096 bytes; sets their start."""
    mini = bytearray()
    minifat: list[int] = []
    for e in entries:
        if e.data and len(e.data) < MINI_CUTOFF:
            e.start = len(mini) // MINI_SECTOR
            _chain(minifat, e.start, _sectors(len(e.data), MINI_SECTOR))
            mini += _pad(e.data, MINI_SECTOR)
    return bytes(mini), minifat


def compound_file(streams: Mapping[str, bytes]) -> bytes:
    """An MS-CFB v3 file holding `streams`, keyed by '/'-separated paths ("VBA/dir")."""
    root = _tree(streams)
    entries = _flatten(root)
    ids = {id(e): i for i, e in enumerate(entries)}
    for e in entries:
        if e.data is None:
            _colour_tree(e, ids)
            e.start = 0  # a storage's start sector MUST be zero (2.6.3); the root's is set below
    root.start = ENDOFCHAIN
    mini, minifat = _mini_stream(entries[1:])
    body = _Body()
    if mini:
        root.start = body.place(mini)
    for e in entries[1:]:
        if e.data and len(e.data) >= MINI_CUTOFF:
            e.start = body.place(e.data)
    directory = b"".join(_entry_bytes(e, *_kind_size(e, root, len(mini))) for e in entries)
    dir_start = body.place(directory + _entry_bytes(None) * (-len(entries) % 4))
    minifat_start = body.place(_words(minifat, FREESECT)) if minifat else ENDOFCHAIN
    minifat_count = _sectors(len(minifat) * 4, SECTOR)
    fat_sectors = body.place_fat()
    return _header(fat_sectors, dir_start, minifat_start, minifat_count) + bytes(body.data)


def _kind_size(entry: _Entry, root: _Entry, mini_size: int) -> tuple[int, int]:
    """Object type (2.6.1) and stream size of an entry; the root's size is the mini stream's."""
    if entry is root:
        return _ROOT, mini_size
    return (_STORAGE, 0) if entry.data is None else (_STREAM, len(entry.data))


def _words(values: list[int], filler: int) -> bytes:
    """Little-endian 32-bit words, padded with `filler` to whole sectors."""
    values = values + [filler] * (-len(values) % (SECTOR // 4))
    return struct.pack(f"<{len(values)}I", *values)


def _header(fat_sectors: list[int], dir_start: int, minifat_start: int, minifat_n: int) -> bytes:
    """The 512-byte header (2.2) of a version 3 file, its DIFAT listing every FAT sector."""
    difat = fat_sectors + [FREESECT] * (109 - len(fat_sectors))
    head = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", SIGNATURE, b"\0" * 16, 0x003E, 0x0003, 0xFFFE, 9, 6, b"\0" * 6,
        0, len(fat_sectors), dir_start, 0, MINI_CUTOFF, minifat_start, minifat_n,
        ENDOFCHAIN, 0,
    )
    return head + struct.pack("<109I", *difat)
