"""The .xlsx package (a zip of XML parts): where each sheet's XML is, and which of its
cells hold formulas or error values (python-calamine reports only their values).

Parts are parsed without DTDs (no entity declarations, so no entity bombs); a damaged
zip or part is refused with BrokenWorkbook, whose one-line message names the part.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]  # defusedxml ships no type information
from defusedxml import ElementTree as SafeET

from xlar.domain.codes import Code
from xlar.domain.errors import XlarError

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")
_FORMULA_OR_ERROR = re.compile(rb'<f[ >/]|t="e"')  # not <formula> of a conditional format


class BrokenWorkbook(XlarError):
    """A workbook file that cannot be read as it stands: a damaged zip, a missing or broken part."""

    code = Code.E127


def first_line(exc: BaseException) -> str:
    """An exception's message cut to one short line, for a BrokenWorkbook message."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


@contextmanager
def reading(where: str) -> Iterator[None]:
    """Turn what the zip and XML readers raise for a damaged file into BrokenWorkbook naming WHERE."""
    try:
        yield
    except DefusedXmlException as exc:
        raise BrokenWorkbook(f"{where}: XML with a DTD or entity declarations is refused "
                             f"({type(exc).__name__})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ParseError, ValueError, LookupError) as exc:
        raise BrokenWorkbook(f"{where} cannot be read ({first_line(exc)}); the file is damaged: "
                             "open it in Excel and save it again") from None


def parse_part(data: bytes) -> Element:
    """A part's XML, refused if it declares a DTD (entities could expand without bound)."""
    return SafeET.fromstring(data, forbid_dtd=True)  # type: ignore[no-any-return]  # defusedxml ships no type information: an Element


@dataclass(frozen=True, slots=True)
class SpecialCell:
    kind: str        # "formula" or "error"
    text: str        # the formula (without '=') or the error value


class FormulaText(str):
    """A formula as the user typed it ('=SUM(A1:A3)'), kept to be written back as a formula."""


def column_index(letters: str) -> int:
    """0-based index of column LETTERS ('A' -> 0, 'AA' -> 26)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="(?:[A-Z]+\d+:)?([A-Z]+)(\d+)"')
MAX_CELLS = 20_000_000   # a sheet's used range beyond this is a stray cell, not a table


def used_range_end(path: Path, part: str) -> tuple[str, int, int] | None:
    """The last cell of a sheet's used range, as Excel records it at the top of the sheet part
    (its <dimension>): (reference, rows, columns); None when the part does not say. Read before
    the sheet is: a stray cell at XFD1048576 would make a grid of 17 billion cells."""
    with zipfile.ZipFile(path) as z, z.open(part) as stream:
        head = stream.read(4096)
    found = _DIMENSION.search(head)
    if found is None:
        return None
    letters, row = found.group(1).decode(), int(found.group(2))
    return f"{letters}{row}", row, column_index(letters) + 1


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet title -> the path of its XML part inside the package."""
    with reading(f"{path.name} (its list of sheets)"), zipfile.ZipFile(path) as z:
        return sheet_parts_in(z.read("xl/workbook.xml"), z.read("xl/_rels/workbook.xml.rels"))


def sheet_parts_in(workbook_xml: bytes, rels_xml: bytes) -> dict[str, str]:
    """Sheet title -> part, from the workbook part and its relationships."""
    with reading("the workbook's list of sheets"):
        workbook, rels = parse_part(workbook_xml), parse_part(rels_xml)
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", NS)}
    parts = {}
    for sheet in workbook.findall("m:sheets/m:sheet", NS):
        rid = sheet.get(f"{{{NS['r']}}}id")
        if rid in targets:
            parts[sheet.get("name", "")] = resolve_target("xl/workbook.xml", targets[rid])
    return parts


def resolve_target(source: str, target: str) -> str:
    """A relationship's target as a package path (relative targets start at SOURCE's folder)."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (*PurePosixPath(source).parent.parts, *PurePosixPath(target).parts):
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def special_cells(path: Path, part: str) -> dict[tuple[int, int], SpecialCell]:
    """(0-based row, column) -> formula or error, for the cells of one sheet that have them."""
    with reading(f"{path.name} ({part})"), zipfile.ZipFile(path) as z:
        data = z.read(part)
    if not _FORMULA_OR_ERROR.search(data):
        return {}
    found: dict[tuple[int, int], SpecialCell] = {}
    tag_c, tag_f, tag_v = (f"{{{NS['m']}}}{t}" for t in ("c", "f", "v"))
    with reading(f"{path.name} ({part})"):
        root = parse_part(data)
    for cell in root.iter(tag_c):
        match = _CELL_REF.match(cell.get("r", ""))
        if not match:
            continue
        where = (int(match[2]) - 1, column_index(match[1]))
        formula = cell.find(tag_f)
        if formula is not None:
            found[where] = SpecialCell("formula", formula.text or "")
        elif cell.get("t") == "e":
            value = cell.find(tag_v)
            found[where] = SpecialCell("error", value.text if value is not None and value.text else "#VALUE!")
    return found
