"""Writing a synced workbook: input sheets rewritten in place, output sheets regenerated.

openpyxl keeps the user's Tables, lists, formats and other sheets; the result is saved
to a temporary file beside the workbook and only renamed over it (after a backup of the
previous file) once the store has committed.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from xlar.schema.columns import Kind, SheetSchema
from xlar.schema.sheets import CHOICE_ZH, OUTPUT_SHEETS
from xlar.workbook.package import column_letters
from xlar.workbook.state import STATE_SHEET, encode_ids
from xlar.workbook.template import FORMATS, print_wide


@dataclass(frozen=True, slots=True)
class SheetRows:
    schema: SheetSchema
    title: str
    header_row: int
    layout: list[str]                 # per sheet column: key, _id, _rev or '+extra'
    rows: list[list[object]]          # cells in layout order


@dataclass(frozen=True, slots=True)
class Output:
    name: str                         # English name (OUTPUT_SHEETS key)
    headers: list[str]
    rows: list[list[object]]
    formats: dict[int, str]           # column index -> number format


def cell_value(schema: SheetSchema, key: str, value: object, locale: str) -> object:
    col = schema.by_key.get(key)
    if col is not None and col.kind is Kind.CHOICE and isinstance(value, str) and locale == "zh-CN":
        return CHOICE_ZH.get(value, value)
    return value


def _write_input(ws: Worksheet, sheet: SheetRows) -> None:
    first = sheet.header_row + 1
    old_last = ws.max_row
    formats = [FORMATS[sheet.schema.by_key[k].kind] if k in sheet.schema.by_key else None for k in sheet.layout]
    for r, values in enumerate(sheet.rows):
        for c, value in enumerate(values):
            cell = ws.cell(first + r, c + 1)
            cell.value = value  # ws.cell(..., value=None) would leave the old value in place
            if formats[c] is not None and cell.number_format != formats[c]:
                cell.number_format = formats[c]
    for r in range(first + len(sheet.rows), old_last + 1):
        for c in range(len(sheet.layout)):
            ws.cell(r, c + 1).value = None
    last_row = max(first, first + len(sheet.rows) - 1)
    ref = f"A{sheet.header_row}:{column_letters(len(sheet.layout) - 1)}{last_row}"
    for table in ws.tables.values():
        if table.name == sheet.schema.table or table.displayName == sheet.schema.table:
            table.ref = ref
            if table.autoFilter is not None:
                table.autoFilter.ref = ref


def display_width(text: str) -> int:
    """Columns TEXT takes on screen: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown_width(value: object) -> int:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return len(f"{value:,.2f}") + 1
    if isinstance(value, date):
        return 10
    return display_width("" if value is None else str(value))


def _write_output(wb: object, out: Output, locale: str) -> None:
    title = OUTPUT_SHEETS[out.name] if locale == "zh-CN" else out.name
    if title in wb.sheetnames:  # type: ignore[attr-defined]
        ws = wb[title]  # type: ignore[index]
        ws.delete_rows(1, ws.max_row)
    else:
        ws = wb.create_sheet(title)  # type: ignore[attr-defined]
    ws.append(out.headers)
    for c, cell in enumerate(ws[1]):
        cell.font = Font(bold=True)
        if c in out.formats:  # numbers stand right: so do their headers
            cell.alignment = Alignment(horizontal="right")
    for row in out.rows:
        ws.append(row)
    for c, fmt in out.formats.items():
        for r in range(2, len(out.rows) + 2):
            ws.cell(r, c + 1).number_format = fmt
    for c, header in enumerate(out.headers):
        widest = max([display_width(header), *(_shown_width(row[c]) for row in out.rows[:2000] if c < len(row))])
        ws.column_dimensions[column_letters(c)].width = min(max(widest + 2, 8), 60)
    ws.freeze_panes = "A2"
    print_wide(ws)


def write_workbook(path: Path, sheets: Sequence[SheetRows], outputs: Sequence[Output],
                   state: dict[str, set[int]], locale: str) -> Path:
    """Write the synced workbook to a temporary file beside PATH and return its path."""
    wb = load_workbook(path)
    for sheet in sheets:
        _write_input(wb[sheet.title], sheet)
    for out in outputs:
        _write_output(wb, out, locale)
    if STATE_SHEET in wb.sheetnames:
        del wb[STATE_SHEET]
    ws = wb.create_sheet(STATE_SHEET)
    ws.sheet_state = "veryHidden"
    ws.append(["xlar sync state", 1])
    for name, ids in sorted(state.items()):
        ws.append([name, *encode_ids(ids)])
    temp = path.with_name(f".{path.name}.xlar-tmp")
    wb.save(temp)
    return temp


def replace_with_backup(path: Path, temp: Path) -> Path:
    """Keep the previous file as PATH.bak, then move TEMP over PATH in one rename."""
    backup = path.with_name(path.name + ".bak")
    shutil.copy2(path, backup)
    os.replace(temp, path)
    return backup
