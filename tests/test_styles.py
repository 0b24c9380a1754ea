"""The style sheet never grows: what a sync needs is found by value or added once, ten syncs
leave xl/styles.xml byte-identical after the first, and a workbook an earlier version bloated
is compacted with its cells keeping their look."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
from lxml import etree

from tests.sheets import add_rows
from xlar.schema.sheets import CUSTOMERS
from xlar.sync.engine import sync_workbook
from xlar.workbook.package import column_letters, sheet_parts
from xlar.workbook.styles import MAIN_NS, StyleSheet
from xlar.workbook.template import build_template

AS_OF = date(2026, 3, 31)
STYLES = (f'<styleSheet xmlns="{MAIN_NS}"><fonts count="2"><font><sz val="11"/><color theme="1"/>'
          '<name val="Calibri"/></font><font><b/><sz val="14"/></font></fonts><cellXfs count="1">'
          '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>').encode()


def part(book: Path, name: str) -> bytes:
    with zipfile.ZipFile(book) as z:
        return z.read(name)


def counts(styles: bytes) -> tuple[int, int]:
    root = etree.fromstring(styles)
    return (len(root.find(f"{{{MAIN_NS}}}fonts")), len(root.find(f"{{{MAIN_NS}}}cellXfs")))


def test_a_bold_font_with_a_colour_is_found_again():
    sheet = StyleSheet(STYLES)
    bold = sheet.style(bold=True)
    assert sheet.style(bold=True) == bold
    again = StyleSheet(sheet.to_bytes())
    assert again.style(bold=True) == bold and not again.changed()
    font = again.items("fonts")[int(again.xf(bold).get("fontId"))]
    assert [etree.QName(c).localname for c in font] == ["b", "sz", "color", "name"]   # Excel's order


def test_formats_and_alignment_are_found_by_value():
    sheet = StyleSheet(STYLES)
    money = sheet.style(number_format="#,##0.00")
    right = sheet.style(bold=True, right=True)
    assert (sheet.style(number_format="#,##0.00"), sheet.style(bold=True, right=True)) == (money, right)
    assert sheet.format_id("#,##0.00") == 164 and counts(sheet.to_bytes()) == (3, 3)


def test_compacting_merges_duplicates_and_says_where_cells_move():
    dup_font = "<font><b/><sz val=\"11\"/><color theme=\"1\"/><name val=\"Calibri\"/></font>"
    xml = STYLES.replace(b'<fonts count="2">', b'<fonts count="4">').replace(
        b"</fonts>", (dup_font * 2).encode() + b"</fonts>").replace(
        b'<cellXfs count="1">', b'<cellXfs count="4">').replace(
        b"</cellXfs>", b'<xf numFmtId="0" fontId="2" xfId="0" applyFont="1"/><xf numFmtId="0" fontId="3" xfId="0" '
                       b'applyFont="1"/><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>')
    sheet = StyleSheet(xml)
    remap = sheet.compact()
    assert remap == {2: 1, 3: 0} and counts(sheet.to_bytes()) == (3, 2)
    assert sheet.xf(1).get("fontId") == "2"


def type_like_excel(book: Path, title: str, values: dict[int, str]) -> None:
    """Add a row of text cells to TITLE as Excel would: that sheet's XML changes, styles.xml does not."""
    sheet = sheet_parts(book)[title]
    with zipfile.ZipFile(book) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    xml = parts[sheet].decode()
    last = max(int(n) for n in re.findall(r'<row r="(\d+)"', xml))
    cells = "".join(f'<c r="{column_letters(c)}{last + 1}" t="inlineStr"><is><t>{v}</t></is></c>'
                    for c, v in sorted(values.items()))
    parts[sheet] = xml.replace("</sheetData>", f'<row r="{last + 1}">{cells}</row></sheetData>').encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_ten_syncs_leave_the_style_sheet_byte_identical(store, tmp_path):
    book = build_template(tmp_path / "AR.xlsx", "en")
    colleague = build_template(tmp_path / "colleague.xlsx", "en")
    add_rows(book, "Customers", [{"code": "C001", "name": "Acme", "currency": "CNY"}])
    sync_workbook(book, store, "alice", as_of=AS_OF)
    first = part(book, "xl/styles.xml")
    header = [c.value for c in openpyxl.load_workbook(book, read_only=True)["Customers"][2]]   # below the legend
    code, name = header.index(CUSTOMERS.by_key["code"].en), header.index(CUSTOMERS.by_key["name"].en)
    for n in range(2, 11):
        if n % 3 == 0:    # a row typed here
            type_like_excel(book, "Customers", {code: f"K{n}", name: f"Kunde {n}"})
        if n % 3 == 1:    # a colleague's row, which this sync brings in
            add_rows(colleague, "Customers", [{"code": f"B{n}", "name": f"Colleague's {n}", "currency": "CNY"}])
            sync_workbook(colleague, store, "alice", as_of=AS_OF)
        sync_workbook(book, store, "alice", as_of=AS_OF)
        assert part(book, "xl/styles.xml") == first, f"sync {n} changed styles.xml"
    customers = {r[code] for r in openpyxl.load_workbook(book, read_only=True)["Customers"].iter_rows(values_only=True)}
    assert {"C001", "K3", "K6", "K9", "B4", "B7", "B10"} <= customers


def bloat(book: Path, copies: int) -> None:
    """What an earlier xlar left after many syncs: the header's bold font and its cell format added
    again and again, and the header cells pointing at the last copies."""
    with zipfile.ZipFile(book) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    root = etree.fromstring(parts["xl/styles.xml"])
    fonts, xfs = root.find(f"{{{MAIN_NS}}}fonts"), root.find(f"{{{MAIN_NS}}}cellXfs")
    header_xf = int(re.search(rb'<c r="A1" s="(\d+)"', parts[sheet_parts(book)["Customers"]]).group(1))
    template = xfs[header_xf]
    for _ in range(copies):
        fonts.append(etree.fromstring(etree.tostring(fonts[int(template.get("fontId"))])))
        xf = etree.fromstring(etree.tostring(template))
        xf.set("fontId", str(len(fonts) - 1))
        xfs.append(xf)
    fonts.set("count", str(len(fonts)))
    xfs.set("count", str(len(xfs)))
    parts["xl/styles.xml"] = etree.tostring(root)
    sheet = sheet_parts(book)["Customers"]
    parts[sheet] = re.sub(rb'(<c r="[A-Z]+1" s=")\d+(")', rf"\g<1>{len(xfs) - 1}\g<2>".encode(), parts[sheet])
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_a_bloated_workbook_is_compacted_and_keeps_its_look(store, tmp_path):
    book = build_template(tmp_path / "AR.xlsx", "en")
    sync_workbook(book, store, "alice", as_of=AS_OF)
    before = openpyxl.load_workbook(book)["Customers"]["A1"]
    look = (before.font.b, before.font.color.rgb if before.font.color else None, before.fill.fgColor.rgb)
    bloat(book, 400)
    assert counts(part(book, "xl/styles.xml"))[0] > 400
    add_rows(book, "Customers", [{"code": "C001", "name": "Acme", "currency": "CNY"}])
    bloat(book, 400)      # openpyxl keeps the bloat as it is
    sync_workbook(book, store, "alice", as_of=AS_OF)
    fonts, formats = counts(part(book, "xl/styles.xml"))
    assert fonts < 40 and formats < 100, (fonts, formats)
    after = openpyxl.load_workbook(book)["Customers"]["A1"]
    assert (after.font.b, after.font.color.rgb if after.font.color else None, after.fill.fgColor.rgb) == look
