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
    """Make sorted siblings a balanced tree (2.6.4); return its root id, colour the last level red."""
    if not siblings:
        return NOSTREAM
    mid = len(siblings) // 2
    node = siblings[mid]
    node.left = _link(siblings[:mid], ids, depth + 1, low)
    node.right = _link(siblings[mid + 1 :], ids, depth + 1, low)
    node.color = _BLACK
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
        return b"\0" * 64 + struct.pack("<HBB3I", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM) + b"\0" * 52
    name = entry.name.encode("utf-16-le")
    head = struct.pack("<64sHBB3I", name, len(name) + 2, kind, entry.color, entry.left,
                       entry.right, entry.child)
    return head + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<IQ", entry.start, size)


def compound_file(streams: Mapping[str, bytes]) -> bytes:
    """An MS-CFB v3 file holding `streams`, keyed by '/'-separated paths ("VBA/dir")."""
    root = _tree(streams)
    entries = _flatten(root)
    ids = {id(e): i for i, e in enumerate(entries)}
    for e in entries:
        if e.data is None:
            _colour_tree(e, ids)
    mini = bytearray()
    minifat: list[int] = []
    fat: list[int] = []
    big: list[_Entry] = []
    for e in entries[1:]:
        if e.data is not None and 0 < len(e.data) < MINI_CUTOFF:
            e.start = len(mini) // MINI_SECTOR
            _chain(minifat, e.start, _sectors(len(e.data), MINI_SECTOR))
            mini += _pad(e.data, MINI_SECTOR)
        elif e.data:
            big.append(e)
    next_sector = 0
    if mini:
        root.start, next_sector = 0, _sectors(len(mini), SECTOR)
        _chain(fat, 0, next_sector)
    body = [_pad(bytes(mini), SECTOR)]
    for e in big:
        assert e.data is not None
        e.start, count = next_sector, _sectors(len(e.data), SECTOR)
        _chain(fat, e.start, count)
        body.append(_pad(e.data, SECTOR))
        next_sector += count
    directory = b"".join(_entry_bytes(e, *_kind_size(e, root, len(mini))) for e in entries)
    directory = _pad(directory + _entry_bytes(None) * (-len(entries) % 4), SECTOR)
    dir_start, dir_count = next_sector, len(directory) // SECTOR
    _chain(fat, dir_start, dir_count)
    next_sector += dir_count
    minifat_bytes = _pad(_words(minifat, FREESECT), SECTOR) if minifat else b""
    minifat_start = next_sector if minifat else ENDOFCHAIN
    if minifat:
        _chain(fat, next_sector, len(minifat_bytes) // SECTOR)
        next_sector += len(minifat_bytes) // SECTOR
    fat_count = 0
    while fat_count * (SECTOR // 4) < next_sector + fat_count:
        fat_count += 1
    if fat_count > 109:
        raise ValueError("compound file too large for a header-only DIFAT (over 109 FAT sectors)")
    fat.extend([FATSECT] * fat_count)
    fat_sectors = list(range(next_sector, next_sector + fat_count))
    header = _header(fat_sectors, dir_start, minifat_start, len(minifat_bytes) // SECTOR)
    fat_bytes = _pad(_words(fat, FREESECT), SECTOR)
    return header + b"".join(body) + directory + minifat_bytes + fat_bytes


def _kind_size(entry: _Entry, root: _Entry, mini_size: int) -> tuple[int, int]:
    """Object type (2.6.1) and stream size of an entry; the root's size is the mini stream's."""
    if entry is root:
        return _ROOT, mini_size
    return (_STORAGE, 0) if entry.data is None else (_STREAM, len(entry.data))


def _words(values: list[int], filler: int) -> bytes:
    """Little-endian 32-bit words, padded with `filler` to whole sectors."""
    values = values + [filler] * (-len(values) % (SECTOR // 4))
    return struct.pack(f"<{len(values)}I", *values)


def _header(fat_sectors: list[int], dir_start: int, minifat_start: int, minifat_count: int) -> bytes:
    """The 512-byte header (2.2) of a version 3 file, its DIFAT listing every FAT sector."""
    difat = fat_sectors + [FREESECT] * (109 - len(fat_sectors))
    head = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", SIGNATURE, b"\0" * 16, 0x003E, 0x0003, 0xFFFE, 9, 6, b"\0" * 6,
        0, len(fat_sectors), dir_start, 0, MINI_CUTOFF, minifat_start, minifat_count,
        ENDOFCHAIN, 0,
    )
    return head + struct.pack("<109I", *difat)
