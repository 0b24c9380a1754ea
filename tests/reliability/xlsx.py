"""Workbooks written part by part, so that any cell, header or XML part can be broken on purpose.

openpyxl would refuse to write most of what is wanted here (error cells, formulas with odd
cached values, 100,000-character strings, entity declarations) and costs ~0.2 s a file;
this copies the template's parts and swaps a sheet's <sheetData> in a few milliseconds.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.reliability.badvalues import XCell, text
from xlar.schema.columns import HIDDEN, SheetSchema
from xlar.workbook.package import column_letters, sheet_parts

Row = Sequence[XCell | None]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def escape(value: str) -> str:
    """Text for XML; control characters as Excel writes them (_x0001_)."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return _CONTROL.sub(lambda m: f"_x{ord(m[0]):04X}_", value)


def cell_xml(ref: str, cell: XCell, date_style: int) -> str:
    kind, value = cell.kind, cell.value
    if kind == "s":
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
    if kind == "n":
        return f'<c r="{ref}"><v>{value}</v></c>'
    if kind == "date":
        return f'<c r="{ref}" s="{date_style}"><v>{value}</v></c>'
    if kind in ("b", "e", "d"):
        return f'<c r="{ref}" t="{kind}"><v>{escape(value)}</v></c>'
    if kind == "f":
        cached = f"<v>{escape(value)}</v>" if value else ""
        return f'<c r="{ref}"><f>{escape(cell.formula)}</f>{cached}</c>'
    if kind == "fs":
        return f'<c r="{ref}" t="str"><f>{escape(cell.formula)}</f><v>{escape(value)}</v></c>'
    return f'<c r="{ref}">{value}</c>'     # raw: the XML as given


def sheet_data(rows: Sequence[Row], date_style: int, first_row: int = 1) -> str:
    out = ["<sheetData>"]
    for r, row in enumerate(rows, start=first_row):
        cells = "".join(cell_xml(f"{column_letters(c)}{r}", cell, date_style)
                        for c, cell in enumerate(row) if cell is not None)
        out.append(f'<row r="{r}">{cells}</row>')
    out.append("</sheetData>")
    return "".join(out)


def header(schema: SheetSchema) -> list[XCell | None]:
    return [text(col.en) for col in schema.columns] + [text(h) for h in HIDDEN]


def layout(schema: SheetSchema) -> list[str]:
    return [col.key for col in schema.columns] + list(HIDDEN)


def row_of(schema: SheetSchema, values: Mapping[str, XCell | None]) -> list[XCell | None]:
    return [values.get(key) for key in layout(schema)]


class Template:
    """The template workbook's parts in memory; `write` puts out a copy with some parts changed."""

    def __init__(self, path: Path) -> None:
        with zipfile.ZipFile(path) as z:
            self.infos = z.infolist()
            self.parts = {info.filename: z.read(info.filename) for info in self.infos}
        self.sheets = sheet_parts(path)
        styles = self.parts["xl/styles.xml"].decode()
        date_fmt = re.search(r'numFmtId="(\d+)" formatCode="yyyy-mm-dd"', styles)
        xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.DOTALL)
        assert date_fmt and xfs, "the template has no date style"
        ids = re.findall(r'<xf numFmtId="(\d+)"', xfs[1])
        self.date_style = ids.index(date_fmt[1])

    def sheet(self, title: str, rows: Sequence[Row], merges: Sequence[str] = (), extra: str = "") -> bytes:
        """TITLE's part with ROWS from A1 (the header included), MERGES ('B5:D5') and EXTRA XML after
        the sheet data."""
        part = self.parts[self.sheets[title]].decode()
        width = max((len(r) for r in rows), default=1)
        merged = (f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
                  + "</mergeCells>") if merges else ""
        body = sheet_data(rows, self.date_style) + extra + merged
        part = re.sub(r"<sheetData>.*?</sheetData>|<sheetData\s*/>", lambda _m: body, part, count=1, flags=re.DOTALL)
        return re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="A1:{column_letters(width - 1)}{max(len(rows), 1)}"',
                      part, count=1).encode()

    def write(self, path: Path, changed: Mapping[str, bytes], dropped: Sequence[str] = (),
              added: Mapping[str, bytes] | None = None) -> Path:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out:
            for info in self.infos:
                if info.filename not in dropped:
                    out.writestr(info.filename, changed.get(info.filename, self.parts[info.filename]))
            for name, data in (added or {}).items():
                out.writestr(name, data)
        return path

    def with_sheet(self, title: str, part: bytes) -> dict[str, bytes]:
        """The parts that add PART as one more sheet called TITLE (workbook, rels, content types)."""
        name = "xl/worksheets/sheet999.xml"
        workbook = self.parts["xl/workbook.xml"].decode().replace(
            "</sheets>", f'<sheet name="{escape(title)}" sheetId="999" r:id="rId999"/></sheets>')
        rels = self.parts["xl/_rels/workbook.xml.rels"].decode().replace(
            "</Relationships>", '<Relationship Id="rId999" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/worksheet" Target="worksheets/sheet999.xml"/></Relationships>')
        types = self.parts["[Content_Types].xml"].decode().replace(
            "</Types>", '<Override PartName="/xl/worksheets/sheet999.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        return {"xl/workbook.xml": workbook.encode(), "xl/_rels/workbook.xml.rels": rels.encode(),
                "[Content_Types].xml": types.encode(), name: part}


MINIMAL_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
        '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0"/>'
        '<xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>'),
}
MINIMAL_DATE_STYLE = 1


def minimal_sheet(rows: Sequence[Row], merges: Sequence[str] = (), prolog: str = "") -> str:
    merged = (f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
              + "</mergeCells>") if merges else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"{sheet_data(rows, MINIMAL_DATE_STYLE)}{merged}</worksheet>")


def write_minimal(path: Path, sheet: str, changed: Mapping[str, str] | None = None) -> Path:
    """A one-sheet workbook (what `xlar import opening` reads) with SHEET as its sheet's XML."""
    parts = dict(MINIMAL_PARTS) | {"xl/worksheets/sheet1.xml": sheet} | dict(changed or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return path
