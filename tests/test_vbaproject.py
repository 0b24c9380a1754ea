"""The source-only VBA project writer: MS-OVBA compression, streams, the CFB container, and
that olevba, olefile and LibreOffice read what it writes."""

from __future__ import annotations

import random
import struct
import warnings
import zipfile
from pathlib import Path

import olefile
import pytest
import xlwings
from defusedxml import ElementTree
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.render import converted
from xlar.addin.cfb import cfb_key, compound_file
from xlar.addin.vbaproject import (
    REFERENCES,
    VbaModule,
    class_source,
    compress,
    decompress,
    document_source,
    project_id,
    vba_project,
    xlsm_twin,
)

with warnings.catch_warnings():  # oletools calls a pyparsing API that is deprecated
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import VBA_Parser, decompress_stream

XLWINGS = Path(xlwings.__file__).parent
BAS = XLWINGS / "xlwings_custom_addin.bas"
CLS = XLWINGS / "addin" / "Dictionary.cls"
REFERENCE_ADDIN = XLWINGS / "quickstart_addin_ribbon.xlam"
RIBBON = ('Attribute VB_Name = "xlar"\r\n'
          "Sub XlarAction(control As IRibbonControl)\r\n"
          '    MsgBox "xlar: " & control.ID\r\n'
          "End Sub\r\n")
PROJECT = "XlarProject"


def olevba_decompress(data: bytes) -> bytes:
    """oletools' independent MS-OVBA decompressor."""
    return bytes(decompress_stream(bytearray(data)))


def chunks(container: bytes) -> list[tuple[int, int, bytes]]:
    """(flag, signature, body) of every chunk of a CompressedContainer."""
    out, pos = [], 1
    while pos < len(container):
        (header,) = struct.unpack_from("<H", container, pos)
        size = (header & 0xFFF) + 3
        out.append((header >> 15, header >> 12 & 7, container[pos + 2 : pos + size]))
        pos += size
    assert pos == len(container)
    return out


# ---- compression ------------------------------------------------------------------------------

# [MS-OVBA] 3.2.1 and 3.2.3 examples.
NO_COMPRESSION = (
    b"abcdefghijklmnopqrstuv.",
    "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E",
)
MAXIMUM_COMPRESSION = (b"a" * 73, "01 03 B0 02 61 45 00")
NORMAL_TEXT = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
# 3.2.2 as printed in the spec. Its copy tokens at 24, 37 and 53 point back to equally long but
# farther matches (the latest earlier *token start*, it seems, not the latest byte) ...
NORMAL_PRINTED = ("01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B "
                  "6C 00 30 6D 6E 6F 70 06 71 02 70 04 10 72 73 74 75 76 10 77 78 79 7A 00 3C")
# ... while the 2.4.1.3.19.4 pseudo-code ("IF Len > BestLength", candidates nearest first) picks
# the nearest one; both decode to the same text.
NORMAL_PSEUDOCODE = ("01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 "
                     "61 6B 6C 00 20 6D 6E 6F 70 06 71 02 70 04 00 72 73 74 75 76 10 77 78 79 "
                     "7A 00 2C")


@pytest.mark.parametrize("text, packed", [NO_COMPRESSION, MAXIMUM_COMPRESSION,
                                          (NORMAL_TEXT, NORMAL_PSEUDOCODE)])
def test_spec_examples_compress_to_the_expected_bytes(text: bytes, packed: str) -> None:
    assert compress(text) == bytes.fromhex(packed)
    assert decompress(bytes.fromhex(packed)) == text


def test_the_printed_normal_example_decompresses_too() -> None:
    assert decompress(bytes.fromhex(NORMAL_PRINTED)) == NORMAL_TEXT


def _random(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


EDGE_CASES = {
    "empty": b"",
    "one byte": b"a",
    "4096 text": (b"Dim x As Long\r\n" * 400)[:4096],
    "4097 text": (b"Dim x As Long\r\n" * 400)[:4097],
    "4096 random": _random(4096),
    "4097 random": _random(4097),
    "3640 random": _random(3640),
    "3641 random": _random(3641),
    "4095 random": _random(4095),
    "x * 100000": b"x" * 100000,
    "ab * 50000": b"ab" * 50000,
    "zeros 8193": bytes(8193),
    "xlwings_custom_addin.bas": BAS.read_bytes(),
    "Dictionary.cls": CLS.read_bytes(),
}


@pytest.mark.parametrize("data", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_round_trip_and_olevba_agrees(data: bytes) -> None:
    packed = compress(data)
    assert decompress(packed) == data
    assert olevba_decompress(packed) == data
    for flag, signature, body in chunks(packed):
        assert signature == 0b011
        assert len(body) <= 4096
        assert flag or len(body) == 4096  # a raw chunk is always a full 4096 bytes


def test_long_runs_really_compress() -> None:
    assert len(compress(b"x" * 100000)) < 200
    assert len(compress(BAS.read_bytes())) < len(BAS.read_bytes()) // 2


def test_incompressible_full_chunk_is_stored_raw() -> None:
    data = _random(4096 * 2 + 10)
    kinds = [(flag, len(body)) for flag, _, body in chunks(compress(data))]
    assert kinds[:2] == [(0, 4096), (0, 4096)]
    assert kinds[2][0] == 1


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=10000))
def test_random_bytes_round_trip(data: bytes) -> None:
    packed = compress(data)
    assert decompress(packed) == data
    assert olevba_decompress(packed) == data


WORDS = st.sampled_from([b"Dim ", b"As ", b"Long", b"\r\n", b"    ", b"x", b"End Sub", b"a", b"("])


@settings(max_examples=100, deadline=None)
@given(st.lists(WORDS, max_size=3000).map(b"".join))
def test_repetitive_text_round_trips(data: bytes) -> None:
    packed = compress(data)
    assert decompress(packed) == data
    assert olevba_decompress(packed) == data


@pytest.mark.parametrize("bad", [b"", b"\x02\x00\xb0", b"\x01\x00\x00"])
def test_decompress_rejects_a_bad_container(bad: bytes) -> None:
    with pytest.raises(ValueError):
        decompress(bad)


# ---- the project --------------------------------------------------------------------------------


def modules() -> list[VbaModule]:
    return [
        VbaModule("ThisWorkbook", document_source("ThisWorkbook", sheet=False), "document"),
        VbaModule("Sheet1", document_source("Sheet1", sheet=True), "document"),
        VbaModule("xlwings", BAS.read_bytes().decode("cp1252"), "procedural"),
        VbaModule("Dictionary", class_source(CLS.read_bytes().decode("cp1252")), "class"),
        VbaModule("xlar", RIBBON, "procedural"),
    ]


@pytest.fixture(scope="module")
def project_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vba") / "vbaProject.bin"
    path.write_bytes(vba_project(modules(), PROJECT))
    return path


def test_olevba_reads_every_module_back_exactly(project_bin: Path) -> None:
    parser = VBA_Parser(str(project_bin))
    try:
        found = {stream: code for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()
    expected = {f"VBA/{m.name}": m.source for m in modules()}
    assert set(found) == set(expected)
    for stream, source in expected.items():
        assert isinstance(found[stream], str)  # olevba decodes with the dir's code page
        assert found[stream] == source, stream


def test_olefile_lists_the_streams(project_bin: Path) -> None:
    with olefile.OleFileIO(str(project_bin), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        streams = {"/".join(p) for p in ole.listdir()}
        assert streams == {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir",
                           *(f"VBA/{m.name}" for m in modules())}
        assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
        for m in modules():  # MODULEOFFSET 0: the stream is the compressed source alone
            assert decompress(ole.openstream(f"VBA/{m.name}").read()) == m.source.encode("cp1252")
        assert ole.get_type("VBA") == olefile.STGTY_STORAGE


def test_building_twice_gives_identical_bytes(project_bin: Path) -> None:
    data = vba_project(modules(), PROJECT)
    assert data == project_bin.read_bytes()
    assert len(data) % 512 == 0
    assert vba_project(modules(), "Other") != data


def _read(path: Path, stream: str) -> bytes:
    with olefile.OleFileIO(str(path)) as ole:
        return ole.openstream(stream).read()


def test_project_stream(project_bin: Path) -> None:
    lines = _read(project_bin, "PROJECT").decode("cp1252").split("\r\n")
    assert lines[0] == f'ID="{project_id(PROJECT)}"'
    assert lines[1:6] == ["Document=ThisWorkbook/&H00000000", "Document=Sheet1/&H00000000",
                          "Module=xlwings", "Class=Dictionary", "Module=xlar"]
    assert lines[6:9] == [f'Name="{PROJECT}"', 'HelpContextID="0"',
                          'VersionCompatible32="393222000"']
    assert [line.split("=")[0] for line in lines[9:12]] == ["CMG", "DPB", "GC"]
    assert lines[12:16] == ["", "[Host Extender Info]",
                            "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000", ""]
    assert lines[16] == "[Workspace]" and lines[17] == "ThisWorkbook=0, 0, 0, 0, C"
    assert lines[-2:] == ["", ""]


def _decrypt(hex_text: str) -> tuple[int, int, bytes]:
    """MS-OVBA 2.4.3.3 decryption: (version, project key, data)."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = raw[:3]
    plain, unencrypted, enc1, enc2 = [], seed ^ key_enc, key_enc, version_enc
    for byte in raw[3:]:
        value = byte ^ ((enc2 + unencrypted) & 0xFF)
        plain.append(value)
        enc2, enc1, unencrypted = enc1, byte, value
    body = bytes(plain[(seed & 6) // 2 :])
    (length,) = struct.unpack_from("<I", body)
    assert len(body) == 4 + length
    return seed ^ version_enc, seed ^ key_enc, body[4:]


def test_protection_values_decrypt_to_unprotected_visible(project_bin: Path) -> None:
    text = _read(project_bin, "PROJECT").decode("cp1252")
    values = dict(line.split("=", 1) for line in text.split("\r\n")[9:12])
    key = sum(project_id(PROJECT).encode()) & 0xFF
    assert _decrypt(values["CMG"].strip('"')) == (2, key, bytes(4))
    assert _decrypt(values["DPB"].strip('"')) == (2, key, b"\0")
    assert _decrypt(values["GC"].strip('"')) == (2, key, b"\xff")


def test_projectwm_stream(project_bin: Path) -> None:
    expected = b"".join(m.name.encode() + b"\0" + m.name.encode("utf-16-le") + b"\0\0"
                        for m in modules()) + b"\0\0"
    assert _read(project_bin, "PROJECTwm") == expected


def dir_records(data: bytes) -> list[tuple[int, bytes]]:
    """(id, payload) of every dir record; PROJECTVERSION's size field says 4 but holds 6."""
    out, pos = [], 0
    while pos < len(data):
        rid, size = struct.unpack_from("<HI", data, pos)
        size = 6 if rid == 0x09 else size
        out.append((rid, data[pos + 6 : pos + 6 + size]))
        pos += 6 + size
    assert pos == len(data)
    return out


MODULE_IDS = [0x19, 0x47, 0x1A, 0x32, 0x1C, 0x48, 0x31, 0x1E, 0x2C, "type", 0x2B]


def test_dir_stream_records(project_bin: Path) -> None:
    records = dir_records(decompress(_read(project_bin, "VBA/dir")))
    assert [rid for rid, _ in records[:14]] == [0x01, 0x02, 0x14, 0x03, 0x04, 0x05, 0x40, 0x06,
                                                0x3D, 0x07, 0x08, 0x09, 0x0C, 0x3C]
    fields = dict(records[:14])
    assert fields[0x01] == struct.pack("<I", 1)  # PROJECTSYSKIND Win32, as the reference has it
    assert fields[0x02] == fields[0x14] == struct.pack("<I", 0x409)
    assert fields[0x03] == struct.pack("<H", 1252)
    assert fields[0x04] == PROJECT.encode()
    refs, rest = records[14 : 14 + 3 * len(REFERENCES)], records[14 + 3 * len(REFERENCES) :]
    for k, (name, libid) in enumerate(REFERENCES):
        assert refs[3 * k : 3 * k + 3] == [
            (0x16, name.encode()), (0x3E, name.encode("utf-16-le")),
            (0x0D, struct.pack("<I", len(libid)) + libid.encode() + bytes(6))]
    assert rest[0] == (0x0F, struct.pack("<H", len(modules())))
    assert rest[1] == (0x13, b"\xff\xff") and rest[-1] == (0x10, b"")
    body = rest[2:-1]
    assert len(body) == len(MODULE_IDS) * len(modules())
    for k, m in enumerate(modules()):
        recs = body[k * len(MODULE_IDS) : (k + 1) * len(MODULE_IDS)]
        kind = 0x21 if m.kind == "procedural" else 0x22
        assert [rid for rid, _ in recs] == [kind if i == "type" else i for i in MODULE_IDS]
        assert recs[0][1] == recs[2][1] == m.name.encode()
        assert recs[1][1] == recs[3][1] == m.name.encode("utf-16-le")
        assert recs[6][1] == bytes(4)  # MODULEOFFSET 0: no performance cache
        assert recs[8][1] == b"\xff\xff"


def _dir_of(project: bytes) -> bytes:
    with olefile.OleFileIO(project) as ole:
        return decompress(ole.openstream("VBA/dir").read())


def test_dir_record_layout_matches_the_reference_addin() -> None:
    with zipfile.ZipFile(REFERENCE_ADDIN) as z:
        reference = dir_records(_dir_of(z.read("xl/vbaProject.bin")))
    ours = dir_records(_dir_of(vba_project(modules(), PROJECT)))
    assert [rid for rid, _ in ours[:14]] == [rid for rid, _ in reference[:14]]
    assert ours[:3] == reference[:3]  # SYSKIND, LCID, LCIDINVOKE
    office = [(rid, p) for rid, p in reference if rid == 0x0D and b"MSO.DLL" in p]
    assert len(office) == 1 and b"{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#" in office[0][1]

    def module_ids(records: list[tuple[int, bytes]]) -> list[int]:
        start = next(i for i, (rid, _) in enumerate(records) if rid == 0x19)
        end = next(i for i, (rid, _) in enumerate(records) if rid == 0x2B)
        return [rid for rid, _ in records[start : end + 1]]

    assert module_ids(ours) == module_ids(reference)


# ---- the compound file ----------------------------------------------------------------------


def _check_red_black(entries: list[olefile.olefile.OleDirectoryEntry], root: int) -> None:
    """The siblings under one storage form a sorted binary tree obeying the red-black rules."""
    def walk(sid: int, low: tuple[int, str] | None, high: tuple[int, str] | None,
             parent_red: bool) -> int:
        if sid == olefile.NOSTREAM:
            return 1
        entry = entries[sid]
        key = cfb_key(entry.name)
        assert (low is None or low < key) and (high is None or key < high), entry.name
        red = entry.color == 0
        assert not (red and parent_red), f"red {entry.name} under a red parent"
        left = walk(entry.sid_left, low, key, red)
        right = walk(entry.sid_right, key, high, red)
        assert left == right, f"black heights differ at {entry.name}"
        return left + (0 if red else 1)

    assert entries[root].color == 1, "the tree's root must be black"
    walk(root, None, None, False)


STORAGES = (olefile.STGTY_ROOT, olefile.STGTY_STORAGE)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 40])
def test_directory_trees_are_sorted_red_black_trees(count: int) -> None:
    streams = {f"S/{'n' * (1 + i % 4)}{i}": bytes([i]) * (i * 150) for i in range(count)}
    streams["Top"] = b"t"
    data = compound_file(streams)
    with olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT) as ole:
        entries = ole.direntries
        for entry in entries:
            if entry is not None and entry.entry_type in STORAGES:
                _check_red_black(entries, entry.sid_child)
        for path, content in streams.items():
            assert ole.openstream(path).read() == content
    assert compound_file(streams) == data


def test_compound_file_header_and_entries(project_bin: Path) -> None:
    data = project_bin.read_bytes()
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    minor, major, order, shift, mini_shift = struct.unpack_from("<5H", data, 24)
    assert (minor, major, order, shift, mini_shift) == (0x3E, 3, 0xFFFE, 9, 6)
    assert struct.unpack_from("<I", data, 56) == (4096,)
    with olefile.OleFileIO(data) as ole:
        for entry in ole.direntries:
            if entry is not None:
                assert entry.createTime == entry.modifyTime == 0
                assert entry.clsid == ""
        assert ole.root.name == "Root Entry"
        sizes = {"/".join(p): ole.get_size("/".join(p)) for p in ole.listdir()}
    assert sizes["VBA/xlwings"] >= 4096 and sizes["VBA/xlar"] < 4096  # FAT and mini FAT both used


def test_compound_file_refuses_bad_names() -> None:
    with pytest.raises(ValueError):
        compound_file({"A/" + "n" * 32: b""})
    with pytest.raises(ValueError):
        compound_file({"A/x": b"1", "A/X": b"2"})


# ---- module sources and validation ------------------------------------------------------------


def _reference_sources() -> dict[str, str]:
    with zipfile.ZipFile(REFERENCE_ADDIN) as z:
        parser = VBA_Parser("reference.xlam", data=z.read("xl/vbaProject.bin"))
    try:
        return {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()


def test_document_sources_match_the_reference_addin() -> None:
    reference = _reference_sources()
    assert document_source("ThisWorkbook", sheet=False) == reference["ThisWorkbook"]
    assert document_source("Sheet2", sheet=True) == reference["Sheet2"]


def test_class_source_is_the_stored_form() -> None:
    text = CLS.read_bytes().decode("cp1252")
    source = class_source(text)
    assert source.startswith('Attribute VB_Name = "Dictionary"\r\n'
                             'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"\r\n')
    assert "VERSION 1.0 CLASS" not in source and "MultiUse" not in source
    assert "Attribute VB_Exposed = True\r\nAttribute VB_TemplateDerived = False\r\n" \
           "Attribute VB_Customizable = False\r\nAttribute VB_Description" in source
    body = text.split('Attribute VB_Description', 1)[1]
    assert source.endswith(body)
    assert source.replace("\r\n", "").count("\n") == 0
    assert class_source(text.replace("\r\n", "\n")) == source
    reference = _reference_sources()["Dictionary"]  # the reference add-in's stored header
    assert source.split("\r\n")[:9] == reference.split("\r\n")[:9]


def test_source_the_code_page_cannot_encode_is_refused() -> None:
    bad = VbaModule("xlar", RIBBON + "' 应收款\r\n", "procedural")
    with pytest.raises(ValueError, match=r"'xlar'.*'应'"):
        vba_project([bad], PROJECT)
    assert vba_project([bad], PROJECT, codepage=936)  # GBK holds it


@pytest.mark.parametrize("source, message", [
    ('Attribute VB_Name = "other"\r\n', "VB_Name"),
    ('Attribute VB_Name = "xlar"\r\nSub A()\nEnd Sub\r\n', "CRLF"),
])
def test_bad_sources_are_refused(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        vba_project([VbaModule("xlar", source, "procedural")], PROJECT)


def test_bad_modules_are_refused() -> None:
    with pytest.raises(ValueError):
        VbaModule("xlar", RIBBON, "form")
    with pytest.raises(ValueError):
        VbaModule("1bad name", RIBBON, "procedural")
    with pytest.raises(ValueError, match="unique"):
        vba_project([VbaModule("xlar", RIBBON, "procedural")] * 2, PROJECT)


# ---- the .xlsm twin and LibreOffice --------------------------------------------------------------


def test_xlsm_twin_parts(project_bin: Path, tmp_path: Path) -> None:
    twin = xlsm_twin(project_bin.read_bytes(), tmp_path / "twin.xlsm")
    with zipfile.ZipFile(twin) as z:
        assert z.read("xl/vbaProject.bin") == project_bin.read_bytes()
        types = z.read("[Content_Types].xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        assert 'PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"' \
               in types
        assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
        assert "spreadsheetml.sheet.main+xml" not in types
        assert 'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" ' \
               'Target="vbaProject.bin"' in rels
        assert 'codeName="ThisWorkbook"' in z.read("xl/workbook.xml").decode()
        assert 'codeName="Sheet1"' in z.read("xl/worksheets/sheet1.xml").decode()


@pytest.mark.slow
def test_libreoffice_imports_the_modules(project_bin: Path, tmp_path: Path) -> None:
    twin = xlsm_twin(project_bin.read_bytes(), tmp_path / "twin.xlsm")
    with zipfile.ZipFile(converted(twin, tmp_path, "ods")) as z:
        basic = {m.name: z.read(f"Basic/{PROJECT}/{m.name}.xml") for m in modules()}
    kinds = {"procedural": "normal", "class": "class", "document": "document"}
    for m in modules():
        element = ElementTree.fromstring(basic[m.name])
        assert element.get("{http://openoffice.org/2000/script}moduleType") == kinds[m.kind]
        code = [line for line in m.source.split("\r\n") if not line.startswith("Attribute ")]
        assert "\n".join(code) in element.text, m.name  # LibreOffice drops the Attribute lines
    assert "Sub XlarAction(control As IRibbonControl)" in basic["xlar"].decode()
    assert "Public Property Get CompareMode() As CompareMethod" in basic["Dictionary"].decode()


def test_storage_entries_start_at_sector_zero(project_bin: Path) -> None:
    with olefile.OleFileIO(str(project_bin)) as ole:
        vba = next(e for e in ole.direntries if e is not None and e.name == "VBA")
        assert vba.entry_type == olefile.STGTY_STORAGE and vba.isectStart == 0 and vba.size == 0
        assert ole.root.isectStart == 0 and ole.root.size % 64 == 0  # the mini stream comes first
