"""Editing an .xlsx package part by part, as text: what the sync needs to write fast.

openpyxl loads every cell of every sheet and writes them all back (about 35 s each way for
200,000 rows) and drops what it does not model. Here the sync regenerates only the
<sheetData> of the sheets it owns, streamed as XML text into the new package; every other
part (other sheets, charts, shapes, comments, printer settings) is copied as it was. The
header rows, column widths, validations, conditional formats and Tables of a rewritten
sheet are kept; the Tables' ranges follow the new row count.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from xlar.workbook.package import (
    FormulaText,
    column_index,
    column_letters,
    resolve_target,
    sheet_parts_in,
)
from xlar.workbook.printing import PageLayout
from xlar.workbook.styles import StyleSheet, remap_cells

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_REL = f"{REL_NS}/worksheet"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CALC_CHAIN = "xl/calcChain.xml"
EPOCH = date(1899, 12, 30)
FLUSH_ROWS = 2000
DATE_FORMAT = "yyyy-mm-dd"

_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_ROW_START = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_CELL_TAG = re.compile(rb"<c\b([^>]*?)/?>")
_CONTROL = {i: f"_x{i:04X}_" for i in (*range(9), 11, 12, *range(14, 32))}
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", **_CONTROL})


def _attrs(tag: str) -> dict[str, str]:
    return dict(_ATTR.findall(tag))


def _rels_of(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / f"{p.name}.rels")


def text_cell(head: str, style: str, text: str) -> str:
    """A text cell; HEAD is its opening up to the end of its reference ('<c r="B7"')."""
    if isinstance(text, FormulaText):
        return f"{head}{style}><f>{text[1:].translate(_TEXT_ESCAPES)}</f></c>"
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f'{head}{style} t="inlineStr"><is><t{space}>{text.translate(_TEXT_ESCAPES)}</t></is></c>'


class ColumnStyles:
    """Per column: the cell style for values, and a date-formatted twin for dates."""

    def __init__(self, styles: StyleSheet, bases: Sequence[int], date_columns: Iterable[int] = ()) -> None:
        self.styles = styles
        self.plain = list(bases)
        for i in date_columns:
            if not styles.is_date(self.plain[i]):
                self.plain[i] = styles.style(self.plain[i], number_format=DATE_FORMAT)
        self.attr = [f' s="{s}"' if s else "" for s in self.plain]
        self._dates: dict[int, str] = {}

    def date_attr(self, i: int) -> str:
        if i not in self._dates:
            s = self.plain[i] if self.styles.is_date(self.plain[i]) else self.styles.style(
                self.plain[i], number_format=DATE_FORMAT)
            self._dates[i] = f' s="{s}"'
        return self._dates[i]


def rows_xml(rows: Iterable[Sequence[Any]], first_row: int, styles: ColumnStyles) -> Iterator[str]:
    """<row> elements for ROWS starting at Excel row FIRST_ROW (blank cells are left out)."""
    width = len(styles.plain)
    heads = [f'<c r="{column_letters(i)}' for i in range(width)]
    attr, date_attr = styles.attr, styles.date_attr
    for n, values in enumerate(rows, start=first_row):
        at = f'{n}"'
        cells = []
        for i, value in enumerate(values):
            if value is None or i >= width:
                continue
            kind = type(value)
            if kind is str:
                if value:
                    cells.append(text_cell(heads[i] + at, attr[i], value))
            elif kind is Decimal:
                cells.append(f"{heads[i]}{at}{attr[i]}><v>{value:f}</v></c>")
            elif kind is int:
                cells.append(f"{heads[i]}{at}{attr[i]}><v>{value}</v></c>")
            elif kind is date:
                cells.append(f"{heads[i]}{at}{date_attr(i)}><v>{(value - EPOCH).days}</v></c>")
            elif kind is float:
                if math.isfinite(value):
                    cells.append(f"{heads[i]}{at}{attr[i]}><v>{value!r}</v></c>")
            elif kind is datetime:
                serial = (value - datetime(1899, 12, 30)).total_seconds() / 86400
                cells.append(f"{heads[i]}{at}{date_attr(i)}><v>{serial!r}</v></c>")
            elif kind is bool:
                cells.append(f'{heads[i]}{at}{attr[i]} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, str):
                if value:
                    cells.append(text_cell(heads[i] + at, attr[i], value))
            elif value != "":
                cells.append(text_cell(heads[i] + at, attr[i], str(value)))
        yield f'<row r="{n}">{"".join(cells)}</row>'


class SheetPart:
    """One worksheet's XML split around its <sheetData>."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        start = xml.find(b"<sheetData")
        if start < 0:
            raise ValueError("not a worksheet: no <sheetData>")
        open_end = xml.index(b">", start) + 1
        if xml[open_end - 2:open_end] == b"/>":
            self.data_start = self.data_end = open_end
            self.close_end = open_end
        else:
            self.data_start = open_end
            self.data_end = xml.index(b"</sheetData>", open_end)
            self.close_end = self.data_end + len(b"</sheetData>")
        self.open_start = start

    def row_span(self, excel_row: int) -> tuple[int, int] | None:
        """Where row EXCEL_ROW's XML is, if the sheet has it."""
        for m in _ROW_START.finditer(self.xml, self.data_start, self.data_end):
            n = int(m.group(1))
            if n > excel_row:
                return None
            if n == excel_row:
                tag_end = self.xml.index(b">", m.end()) + 1
                if self.xml[tag_end - 2:tag_end] == b"/>":
                    return m.start(), tag_end
                return m.start(), self.xml.index(b"</row>", tag_end) + len(b"</row>")
        return None

    def kept_rows_end(self, through_row: int) -> int:
        """The end of the rows numbered up to THROUGH_ROW (they are kept as they are)."""
        for m in _ROW_START.finditer(self.xml, self.data_start, self.data_end):
            if int(m.group(1)) > through_row:
                return m.start()
        return self.data_end

    def cell_styles(self, excel_row: int) -> dict[int, int]:
        """Column index -> style index of row EXCEL_ROW's cells."""
        span = self.row_span(excel_row)
        if span is None:
            return {}
        found = {}
        for m in _CELL_TAG.finditer(self.xml, *span):
            attrs = _attrs(m.group(1).decode())
            ref = re.match(r"[A-Z]+", attrs.get("r", ""))
            if ref:
                found[column_index(ref.group(0))] = int(attrs.get("s", "0"))
        return found

    def column_styles(self) -> dict[int, int]:
        """Column index -> the default style its <col> element gives."""
        head = self.xml[:self.open_start].decode()
        found = {}
        for tag in re.findall(r"<col\b[^>]*>", head):
            a = _attrs(tag)
            if "style" in a:
                for i in range(int(a["min"]) - 1, min(int(a["max"]), 16384)):
                    found[i] = int(a["style"])
        return found

    def stream(self, rows: Iterable[str], *, keep_through: int, last_row: int, last_col: int,
               cols: str | None = None, auto_filter: str | None = None,
               page: PageLayout | None = None) -> Iterator[bytes]:
        """The sheet with rows after KEEP_THROUGH replaced by ROWS (and a filter over AUTO_FILTER,
        printed as PAGE says)."""
        head = self.xml[:self.open_start].decode()
        if page is not None:
            head = re.sub(r'fitToPage="[^"]*"', f'fitToPage="{int(page.fit)}"', head, count=1)
        ref = f"A1:{column_letters(max(last_col, 0))}{max(last_row, 1)}"
        head = re.sub(r'<dimension\b[^>]*?/>', f'<dimension ref="{ref}"/>', head, count=1)
        if cols is not None:
            if re.search(r"<cols\b", head):
                head = re.sub(r"<cols\b.*?</cols>|<cols\b[^>]*/>", lambda _m: cols, head, count=1, flags=re.DOTALL)
            else:
                head += cols
        yield head.encode()
        yield b"<sheetData>"
        yield self.xml[self.data_start:self.kept_rows_end(keep_through)]
        batch: list[str] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= FLUSH_ROWS:
                yield "".join(batch).encode()
                batch = []
        yield "".join(batch).encode()
        yield b"</sheetData>"
        tail = self.xml[self.close_end:]
        if page is not None:
            tail = re.sub(rb"<pageSetup\b[^>]*/>", page.page_setup_xml().encode(), tail, count=1)
        yield tail if auto_filter is None else with_auto_filter(tail, auto_filter)


# What may stand between </sheetData> and <autoFilter> (the schema's order of a worksheet's children).
_BEFORE_FILTER = re.compile(rb"(?:<(sheetCalcPr|sheetProtection|protectedRanges|scenarios)\b(?:[^>]*/>|.*?</\1>))*",
                            re.DOTALL)
_FILTER = re.compile(rb"<autoFilter\b[^>]*?(?:/>|>.*?</autoFilter>)", re.DOTALL)


def with_auto_filter(tail: bytes, ref: str) -> bytes:
    """TAIL (a sheet's XML after </sheetData>) with one filter over REF, where the schema puts it."""
    tail = _FILTER.sub(b"", tail)
    at = _BEFORE_FILTER.match(tail)
    end = at.end() if at else 0
    return tail[:end] + f'<autoFilter ref="{ref}"/>'.encode() + tail[end:]


def new_sheet_xml(*, frozen_header: bool = False) -> bytes:
    pane = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' if frozen_header else ""
    return (f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><dimension ref="A1"/>'
            f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            '<sheetData/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
            "</worksheet>").encode()


class Package:
    """An .xlsx opened for a part-by-part rewrite."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path)
        self.names = set(self.zip.namelist())
        self.workbook = self.zip.read("xl/workbook.xml").decode("utf-8")
        self.workbook_rels = self.zip.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        self.content_types = self.zip.read("[Content_Types].xml").decode("utf-8")
        self.styles = StyleSheet(self.zip.read("xl/styles.xml") if "xl/styles.xml" in self.names else None)
        self.sheets = sheet_parts_in(self.workbook.encode("utf-8"), self.workbook_rels.encode("utf-8"))
        self.replaced: dict[str, Iterable[bytes] | bytes] = {}
        self.dropped: set[str] = set()
        self._compact_styles()

    def _compact_styles(self) -> None:
        """Merge the style sheet's duplicates (an earlier version added some on every sync) and
        move every sheet's cells to the kept cell formats."""
        remap = self.styles.compact()
        if remap:
            for part in set(self.sheets.values()) & self.names:
                self.replaced[part] = remap_cells(self.zip.read(part), remap)

    def close(self) -> None:
        self.zip.close()

    def read(self, part: str) -> bytes:
        return self.replaced[part] if isinstance(self.replaced.get(part), bytes) else self.zip.read(part)  # type: ignore[return-value]  # narrowed by the isinstance on the same key just before

    def tables_of(self, sheet_part: str) -> list[str]:
        rels = _rels_of(sheet_part)
        if rels not in self.names:
            return []
        xml = self.zip.read(rels).decode("utf-8")
        return [resolve_target(sheet_part, a["Target"]) for a in (_attrs(t) for t in re.findall(r"<Relationship\b[^>]*>", xml))
                if a.get("Type", "").endswith("/table")]

    def set_table_ref(self, sheet_part: str, table_name: str, ref: str) -> None:
        """Resize the Table named TABLE_NAME on the sheet (and its filter) to REF."""
        for part in self.tables_of(sheet_part):
            xml = self.read(part).decode("utf-8")
            head = re.search(r"<table\b[^>]*>", xml)
            if head is None:
                continue
            a = _attrs(head.group(0))
            if table_name not in (a.get("name"), a.get("displayName")):
                continue
            new_head = re.sub(r'\bref="[^"]*"', f'ref="{ref}"', head.group(0), count=1)
            xml = xml[:head.start()] + new_head + re.sub(r'(<autoFilter\b[^>]*?\bref=")[^"]*"', rf'\g<1>{ref}"',
                                                       xml[head.end():], count=1)
            self.replaced[part] = xml.encode("utf-8")

    def add_sheet(self, title: str, state: str | None = None, *, frozen_header: bool = False) -> str:
        """Append an empty worksheet called TITLE; returns its part."""
        k = 1
        while f"xl/worksheets/sheet{k}.xml" in self.names | set(self.replaced):
            k += 1
        part = f"xl/worksheets/sheet{k}.xml"
        ids = [int(n) for n in re.findall(r'<(?:\w+:)?sheet\b[^>]*?\bsheetId="(\d+)"', self.workbook)]
        rid = f"rIdXlar{k}"
        root = re.search(r"<(?:\w+:)?workbook\b[^>]*>", self.workbook)
        root_tag = root.group(0) if root else ""
        # the prefix must be declared on the root: openpyxl declares it on each <sheet> only
        prefix = re.search(rf'xmlns:(\w+)="{re.escape(REL_NS)}"', root_tag)
        r = prefix.group(1) if prefix else ("xlarr" if 'xmlns:r="' in root_tag else "r")
        if prefix is None:
            self.workbook = re.sub(r"(<(?:\w+:)?workbook\b)", rf'\1 xmlns:{r}="{REL_NS}"', self.workbook, count=1)
        sheet_tag = re.search(r"<(\w+:)?sheets\b", self.workbook)
        ns = sheet_tag.group(1) or "" if sheet_tag else ""
        hidden = f' state="{state}"' if state else ""
        tag = f'<{ns}sheet name={quoteattr(title)} sheetId="{max(ids, default=0) + 1}"{hidden} {r}:id="{rid}"/>'
        self.workbook = self.workbook.replace(f"</{ns}sheets>", tag + f"</{ns}sheets>", 1)
        self.workbook_rels = self.workbook_rels.replace(
            "</Relationships>", f'<Relationship Id="{rid}" Type="{WORKSHEET_REL}" '
                                f'Target="/{part}"/></Relationships>', 1)
        self.content_types = self.content_types.replace(
            "</Types>", f'<Override PartName="/{part}" ContentType="{WORKSHEET_TYPE}"/></Types>', 1)
        self.replaced[part] = new_sheet_xml(frozen_header=frozen_header)
        self.sheets[title] = part
        return part

    def set_print_titles(self, title: str, *, first_column: bool) -> None:
        """Print sheet TITLE with its first row (and its first column) on every page."""
        names = re.findall(r"<(?:\w+:)?sheet\b[^>]*?\bname=\"([^\"]*)\"", self.workbook)
        index = names.index(quoteattr(title)[1:-1])
        quoted = "'" + title.replace("'", "''") + "'"
        ref = f"{quoted}!$1:$1" + (f",{quoted}!$A:$A" if first_column else "")
        tag = re.search(r"<(\w+:)?sheets\b", self.workbook)
        ns = tag.group(1) or "" if tag else ""
        element = f'<{ns}definedName name="_xlnm.Print_Titles" localSheetId="{index}">{escape(ref)}</{ns}definedName>'
        self.workbook = re.sub(rf'<{ns}definedName name="_xlnm.Print_Titles" localSheetId="{index}">.*?</{ns}definedName>',
                               "", self.workbook)
        if f"<{ns}definedNames>" in self.workbook:
            self.workbook = self.workbook.replace(f"</{ns}definedNames>", element + f"</{ns}definedNames>", 1)
        elif f"<{ns}definedNames/>" in self.workbook:
            self.workbook = self.workbook.replace(f"<{ns}definedNames/>", f"<{ns}definedNames>{element}</{ns}definedNames>", 1)
        else:
            self.workbook = self.workbook.replace(f"</{ns}sheets>", f"</{ns}sheets><{ns}definedNames>{element}"
                                                  f"</{ns}definedNames>", 1)

    def _drop_calc_chain(self) -> None:
        """Excel rebuilds the calculation chain; a stale one (formulas moved) makes it repair the file."""
        if CALC_CHAIN not in self.names:
            return
        self.dropped.add(CALC_CHAIN)
        self.workbook_rels = re.sub(r'<Relationship\b[^>]*calcChain[^>]*/>', "", self.workbook_rels)
        self.content_types = re.sub(r'<Override\b[^>]*calcChain[^>]*/>', "", self.content_types)

    def save(self, target: Path, last: dict[str, object] | None = None) -> dict[str, int]:
        """Write the package to TARGET: replaced parts as given, the rest copied.

        LAST names parts written after all others, each by a callable given the CRC-32 of
        every part written before it (so the state sheet can record what the file holds).
        Returns those CRCs."""
        self._drop_calc_chain()
        fixed = {"xl/workbook.xml": self.workbook.encode("utf-8"),
                 "xl/_rels/workbook.xml.rels": self.workbook_rels.encode("utf-8"),
                 "[Content_Types].xml": self.content_types.encode("utf-8")}
        if self.styles.changed():
            fixed["xl/styles.xml"] = self.styles.to_bytes()
        parts: dict[str, object] = {**fixed, **self.replaced}
        last = last or {}
        order = [i.filename for i in self.zip.infolist() if i.filename not in self.dropped]
        order += [p for p in parts if p not in self.names]
        crcs: dict[str, int] = {}
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for name in order:
                if name not in last:
                    self._write_part(out, name, parts.get(name))
                    crcs[name] = out.getinfo(name).CRC
            for name, make in last.items():
                self._write_part(out, name, make(dict(crcs)))  # type: ignore[operator]  # the parts written last are made from the others' CRCs
        return crcs

    def _write_part(self, out: zipfile.ZipFile, name: str, content: object) -> None:
        if content is None:  # copied as it was
            out.writestr(self.zip.getinfo(name), self.zip.read(name))
            return
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        if isinstance(content, bytes):
            out.writestr(info, content)
            return
        # zlib and the file write release the GIL: one chunk is compressed and written
        # while the next one's XML is generated
        with out.open(info, "w", force_zip64=True) as stream, ThreadPoolExecutor(1) as writer:
            pending: Future[int] | None = None
            for chunk in content:  # type: ignore[attr-defined]  # content is an iterable of chunks when it is not bytes (checked above)
                if pending is not None:
                    pending.result()
                pending = writer.submit(stream.write, chunk)
            if pending is not None:
                pending.result()


def part_crcs(path: Path) -> dict[str, int]:
    """The CRC-32 of every part, from the package's directory (no part is read)."""
    with zipfile.ZipFile(path) as z:
        return {i.filename: i.CRC for i in z.infolist()}
