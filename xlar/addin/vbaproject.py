"""A writer of source-only VBA projects (``xl/vbaProject.bin``) per [MS-OVBA], stdlib only.

Office compiles such a project from the module sources on load: the ``_VBA_PROJECT`` stream
declares version 0xFFFF (2.3.4.1) so no performance cache is expected, every MODULEOFFSET is 0
and each module stream is the compressed source alone (2.3.4.3).
"""

from __future__ import annotations

import codecs
import io
import re
import struct
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xlar.addin.cfb import compound_file

KINDS = ("procedural", "class", "document")
CHUNK = 4096  # decompressed chunk size (2.4.1.1.3)
_ALWAYS_FITS = 3640  # n + ceil(n / 8) <= 4096: any n bytes compress into one chunk
VBA_PROJECT_STREAM = bytes.fromhex("CC61FFFF000100")  # 2.3.4.1, version 0xFFFF: no cache
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
SHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"
HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
REFERENCES = (  # (name, LibidReference 2.1.1.8) of each REFERENCEREGISTERED record
    ("stdole", (r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#"
                r"C:\Windows\System32\stdole2.tlb#OLE Automation")),
    ("Office", (r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files"
                r"\Microsoft Shared\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library")),
)
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")


@dataclass(frozen=True, slots=True)
class VbaModule:
    """One module: its name, its source as stored (CRLF, Attribute lines first) and its kind."""

    name: str
    source: str
    kind: str  # "procedural" (.bas), "class" (.cls), "document" (ThisWorkbook / Sheet1)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"module {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        if not _IDENTIFIER.fullmatch(self.name):
            raise ValueError(f"module name {self.name!r} is not a VBA identifier of 1-31 chars")


# ---- compression (2.4.1) -------------------------------------------------------------------


def _copy_token_help(difference: int) -> tuple[int, int]:
    """CopyToken Help (2.4.1.3.19.1): bit count of the offset and the maximum length."""
    bit_count = max((difference - 1).bit_length(), 4)
    return bit_count, (0xFFFF >> bit_count) + 3


def _common_length(buf: bytes, a: int, b: int, limit: int) -> int:
    """Length of the longest common prefix of buf[a:] and buf[b:], capped at limit."""
    lo, step = 0, 8
    while lo < limit and buf[a + lo : a + min(step, limit)] == buf[b + lo : b + min(step, limit)]:
        lo, step = min(step, limit), step * 2
    hi = min(step, limit)
    while lo < hi:  # buf[a:a+lo] matches; find where the first difference lies below hi
        mid = (lo + hi + 1) // 2
        if buf[a + lo : a + mid] == buf[b + lo : b + mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _match(buf: bytes, pos: int, end: int, chains: dict[bytes, list[int]]) -> tuple[int, int]:
    """Matching (2.4.1.3.19.4): the longest earlier match in the chunk, nearest on ties.

    Only candidates sharing the next three bytes can reach length 3, so a hash chain of
    trigrams visits exactly the spec's useful candidates; returns (best length, candidate).
    """
    limit, best, best_at = end - pos, 0, 0
    for cand in reversed(chains.get(buf[pos : pos + 3], ())):
        if best and buf[cand + best] != buf[pos + best]:
            continue  # cannot be longer than the best so far
        length = _common_length(buf, cand, pos, limit)
        if length > best:
            best, best_at = length, cand
            if best == limit:
                break
    return best, best_at


def _compress_chunk(buf: bytes, start: int, end: int) -> bytes:
    """Compressing a DecompressedChunk (2.4.1.3.7): token sequences of a flag byte and 8 tokens."""
    out, pos = bytearray(), start
    chains: dict[bytes, list[int]] = {}
    while pos < end:
        flag_at, flags = len(out), 0
        out.append(0)
        for bit in range(8):
            if pos >= end:
                break
            length, cand = _match(buf, pos, end, chains) if pos + 3 <= end else (0, 0)
            if length >= 3:  # Compressing a Token (2.4.1.3.9), CopyToken Pack (2.4.1.3.19.3)
                bit_count, maximum = _copy_token_help(pos - start)
                length = min(length, maximum)
                out += struct.pack("<H", ((pos - cand - 1) << (16 - bit_count)) | (length - 3))
                flags |= 1 << bit
            else:
                out.append(buf[pos])
                length = 1
            for p in range(pos, min(pos + length, end - 2)):
                chains.setdefault(buf[p : p + 3], []).append(p)
            pos += length
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1.3.6 compression into a CompressedContainer (signature 0x01, then chunks).

    A full chunk whose tokens would not fit in 4096 bytes is stored raw (2.4.1.3.10). A short,
    incompressible final chunk cannot be raw without the spec's zero padding (which would not
    round-trip), so it is split into compressed chunks of at most 3640 bytes, which always fit.
    """
    out, start = bytearray(b"\x01"), 0
    while start < len(data):
        end = min(start + CHUNK, len(data))
        body = _compress_chunk(data, start, end)
        if len(body) > CHUNK and end - start < CHUNK:
            end = min(end, start + _ALWAYS_FITS)
            body = _compress_chunk(data, start, end)
        flag = 0x8000 if len(body) <= CHUNK else 0
        if not flag:
            body = data[start:end]
        out += struct.pack("<H", flag | 0x3000 | (len(body) - 1)) + body
        start = end
    return bytes(out)


def _decompress_chunk(body: bytes, out: bytearray) -> None:
    """Decompressing a CompressedChunk (2.4.1.3.2): literals and copy tokens onto out."""
    start, pos = len(out), 0
    while pos < len(body):
        flags, pos = body[pos], pos + 1
        for bit in range(8):
            if pos >= len(body):
                break
            if not flags >> bit & 1:
                out.append(body[pos])
                pos += 1
                continue
            (token,), pos = struct.unpack_from("<H", body, pos), pos + 2
            bit_count, _ = _copy_token_help(len(out) - start)
            length, offset = (token & (0xFFFF >> bit_count)) + 3, (token >> (16 - bit_count)) + 1
            if offset > len(out) - start:
                raise ValueError("corrupt VBA compressed data: copy token before chunk start")
            for _ in range(length):
                out.append(out[-offset])


def decompress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1.3.1: decompress a CompressedContainer."""
    if not data or data[0] != 1:
        raise ValueError("not a VBA compressed container (signature byte is not 0x01)")
    out, pos = bytearray(), 1
    while pos < len(data):
        (header,) = struct.unpack_from("<H", data, pos)
        if header >> 12 & 0b111 != 0b011:
            raise ValueError(f"corrupt VBA compressed data: bad chunk signature at {pos}")
        body = data[pos + 2 : pos + 3 + (header & 0x0FFF)]
        if header & 0x8000:
            _decompress_chunk(body, out)
        else:
            out += body
        pos += 3 + (header & 0x0FFF)
    return bytes(out)


# ---- streams (2.3) ----------------------------------------------------------------------------


def _codec(codepage: int) -> str:
    """The Python codec for a Windows code page (PROJECTCODEPAGE, 2.3.4.2.1.4)."""
    name = "utf-8" if codepage == 65001 else f"cp{codepage}"
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(f"unsupported code page {codepage}") from None


def _encode(text: str, codec: str, what: str) -> bytes:
    """text in the project's code page; ValueError naming `what` and the first bad character."""
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raise ValueError(f"{what}: character {bad!r} (U+{ord(bad):04X}) at index {exc.start} "
                         f"cannot be encoded in {codec}") from None


def _rec(rid: int, payload: bytes) -> bytes:
    """A dir stream record: 2-byte id, 4-byte size, payload (2.3.4.2)."""
    return struct.pack("<HI", rid, len(payload)) + payload


def _text_rec(rid: int, uid: int, text: str, codec: str) -> bytes:
    """A record pair: the MBCS text (id rid) then its UTF-16 twin (id uid)."""
    return _rec(rid, _encode(text, codec, "name")) + _rec(uid, text.encode("utf-16-le"))


def _information(project_name: str, codepage: int, codec: str) -> bytes:
    """PROJECTINFORMATION (2.3.4.2.1): syskind Win32, LCIDs 0x409, code page, name, empty rest."""
    u32 = struct.Struct("<I").pack
    return b"".join((
        _rec(0x01, u32(1)), _rec(0x02, u32(0x409)), _rec(0x14, u32(0x409)),
        _rec(0x03, struct.pack("<H", codepage)), _rec(0x04, _encode(project_name, codec, "name")),
        _text_rec(0x05, 0x40, "", codec), _text_rec(0x06, 0x3D, "", codec),
        _rec(0x07, u32(0)), _rec(0x08, u32(0)),
        struct.pack("<HIIH", 0x09, 4, 1, 0),  # PROJECTVERSION: Reserved=4, major 1, minor 0
        _text_rec(0x0C, 0x3C, "", codec),
    ))


def _references(codec: str) -> bytes:
    """PROJECTREFERENCES (2.3.4.2.2): REFERENCENAME + REFERENCEREGISTERED for each library."""
    out = b""
    for name, libid in REFERENCES:
        lib = _encode(libid, codec, "reference")
        out += _text_rec(0x16, 0x3E, name, codec)
        out += _rec(0x0D, struct.pack("<I", len(lib)) + lib + b"\0" * 6)
    return out


def _module_record(module: VbaModule, codec: str) -> bytes:
    """MODULE (2.3.4.2.3.2): names, empty docstring, offset 0 (source only), type, terminator."""
    u32 = struct.Struct("<I").pack
    return b"".join((
        _text_rec(0x19, 0x47, module.name, codec), _text_rec(0x1A, 0x32, module.name, codec),
        _text_rec(0x1C, 0x48, "", codec), _rec(0x31, u32(0)), _rec(0x1E, u32(0)),
        _rec(0x2C, struct.pack("<H", 0xFFFF)),  # MODULECOOKIE, ignored on read
        _rec(0x21 if module.kind == "procedural" else 0x22, b""), _rec(0x2B, b""),
    ))


def dir_stream(modules: Sequence[VbaModule], project_name: str, codepage: int) -> bytes:
    """The decompressed ``dir`` stream (2.3.4.2): information, references, modules, terminator."""
    codec = _codec(codepage)
    modules_part = _rec(0x0F, struct.pack("<H", len(modules))) + _rec(0x13, b"\xff\xff")
    return b"".join((
        _information(project_name, codepage, codec), _references(codec), modules_part,
        *(_module_record(m, codec) for m in modules), _rec(0x10, b""),
    ))


def project_id(project_name: str) -> str:
    """A GUID for the PROJECT stream's ID line, derived from the project name (deterministic)."""
    guid = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:xlar:vbaproject:{project_name}")
    return "{" + str(guid).upper() + "}"


def _encrypt(project_key: int, data: bytes, seed: int = 0x5D) -> str:
    """Data Encryption (2.4.3.2) of CMG/DPB/GC values, with a fixed seed and zero ignored bytes."""
    out = [seed, seed ^ 2, seed ^ project_key]
    unencrypted, enc1, enc2 = project_key, out[2], out[1]
    plain = bytes((seed & 6) // 2) + struct.pack("<I", len(data)) + data
    for byte in plain:
        enc = byte ^ ((enc2 + unencrypted) & 0xFF)
        out.append(enc)
        enc2, enc1, unencrypted = enc1, enc, byte
    return bytes(out).hex().upper()


def project_stream(modules: Sequence[VbaModule], project_name: str, codec: str) -> bytes:
    """The ``PROJECT`` stream (2.3.1): module list, name, unprotected state, workspace."""
    pid = project_id(project_name)
    key = sum(pid.encode("ascii")) & 0xFF  # ProjKey: byte sum of the ProjectId (2.4.3.2)
    visible = _encrypt(key, b"\xff")
    items = {"procedural": "Module={}", "class": "Class={}", "document": "Document={}/&H00000000"}
    lines = [f'ID="{pid}"', *(items[m.kind].format(m.name) for m in modules),
             f'Name="{project_name}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"',
             f'CMG="{_encrypt(key, bytes(4))}"', f'DPB="{_encrypt(key, bytes(1))}"',
             f'GC="{visible}"', "", "[Host Extender Info]", HOST_EXTENDER, "",
             "[Workspace]", *(f"{m.name}=0, 0, 0, 0, C" for m in modules), ""]
    return _encode("\r\n".join(lines) + "\r\n", codec, "PROJECT stream")


def projectwm_stream(modules: Sequence[VbaModule], codec: str) -> bytes:
    """The ``PROJECTwm`` stream (2.3.3): each name in MBCS and UTF-16, then a 00 00 terminator."""
    return b"".join(_encode(m.name, codec, "name") + b"\0" + m.name.encode("utf-16-le") + b"\0\0"
                    for m in modules) + b"\0\0"


def _check_source(module: VbaModule) -> None:
    """Refuse a source that does not start with its VB_Name attribute or has bare CR/LF."""
    first = f'Attribute VB_Name = "{module.name}"\r\n'
    if not module.source.startswith(first):
        raise ValueError(f"module {module.name!r}: source must start with {first.strip()!r}")
    bare = module.source.replace("\r\n", "")
    if "\n" in bare or "\r" in bare:
        raise ValueError(f"module {module.name!r}: source must use CRLF line ends only")


def vba_project(modules: Sequence[VbaModule], project_name: str, *, codepage: int = 1252) -> bytes:
    """The whole source-only ``vbaProject.bin`` (2.2): OLE file of PROJECT, PROJECTwm, VBA/*."""
    codec = _codec(codepage)
    if not _IDENTIFIER.fullmatch(project_name):
        raise ValueError(f"project name {project_name!r} is not a VBA identifier of 1-31 chars")
    names = [m.name.upper() for m in modules]
    if len(set(names)) != len(names) or {"_VBA_PROJECT", "DIR"} & set(names):
        raise ValueError(f"module names must be unique and not dir/_VBA_PROJECT: {names}")
    streams = {"PROJECT": project_stream(modules, project_name, codec),
               "PROJECTwm": projectwm_stream(modules, codec),
               "VBA/_VBA_PROJECT": VBA_PROJECT_STREAM,
               "VBA/dir": compress(dir_stream(modules, project_name, codepage))}
    for m in modules:
        _check_source(m)
        streams[f"VBA/{m.name}"] = compress(_encode(m.source, codec, f"module {m.name!r}"))
    return compound_file(streams)


# ---- module sources ---------------------------------------------------------------------------


def document_source(name: str, sheet: bool) -> str:
    """The stored source of an empty document module: ThisWorkbook, or a worksheet if sheet."""
    attrs = [("VB_Name", f'"{name}"'), ("VB_Base", f'"{SHEET_BASE if sheet else WORKBOOK_BASE}"'),
             ("VB_GlobalNameSpace", "False"), ("VB_Creatable", "False"),
             ("VB_PredeclaredId", "True"), ("VB_Exposed", "True"),
             ("VB_TemplateDerived", "False"), ("VB_Customizable", "True")]
    return "".join(f"Attribute {k} = {v}\r\n" for k, v in attrs)


def class_source(cls_file_text: str) -> str:
    """A .cls export as stored in a project: VERSION/BEGIN..END header dropped, CRLF line ends.

    The VBE adds VB_Base after VB_Name and VB_TemplateDerived / VB_Customizable after
    VB_Exposed when it imports a class (as the reference add-in shows); so do we, if missing.
    """
    lines = cls_file_text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].startswith("VERSION "):
        lines = lines[1:]
    stripped = [line.strip() for line in lines]
    if stripped[:1] == ["BEGIN"] and "END" in stripped:
        lines = lines[stripped.index("END") + 1 :]
    text = "\r\n".join(lines)
    if "Attribute VB_Base" not in text:
        base = f'Attribute VB_Base = "{CLASS_BASE}"\r\n'
        text = re.sub(r'^(Attribute VB_Name = "[^"]*"\r\n)', rf"\1{base}", text, count=1)
    if "Attribute VB_TemplateDerived" not in text:
        added = "Attribute VB_TemplateDerived = False\r\nAttribute VB_Customizable = False\r\n"
        text = re.sub(r"^(Attribute VB_Exposed = \w+\r\n)", rf"\1{added}", text, count=1,
                      flags=re.MULTILINE)
    return text


# ---- an .xlsm to carry the project ------------------------------------------------------------


def xlsm_twin(vba_bin: bytes, target: Path) -> Path:
    """Write a one-sheet macro-enabled workbook holding vba_bin (codeNames ThisWorkbook, Sheet1)."""
    import openpyxl  # only here: the project writer itself needs nothing beyond the stdlib

    wb = openpyxl.Workbook()
    wb.code_name = "ThisWorkbook"
    wb.active.sheet_properties.codeName = "Sheet1"
    buffer = io.BytesIO()
    wb.save(buffer)
    edits = {
        "[Content_Types].xml": lambda x: x.replace(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml").replace(
            "</Types>", '<Override PartName="/xl/vbaProject.bin" '
            'ContentType="application/vnd.ms-office.vbaProject"/></Types>'),
        "xl/_rels/workbook.xml.rels": lambda x: x.replace(
            "</Relationships>", '<Relationship Id="rIdVbaProject" '
            'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            'Target="vbaProject.bin"/></Relationships>'),
    }
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename in edits:
                text = data.decode("utf-8")
                edited = edits[info.filename](text)
                if edited == text:
                    raise RuntimeError(f"openpyxl wrote an unexpected {info.filename}")
                data = edited.encode("utf-8")
            dst.writestr(info, data)
        dst.writestr("xl/vbaProject.bin", vba_bin)
    return target
