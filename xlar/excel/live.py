"""The workbook open in Excel as a WorkbookGateway, through xlwings' range API.

The sync reads the same grids a file gives (values from A1, "" for empty, whole dates as
date) and writes the same sheets; only the medium differs. Writing waits for the store's
commit, as a file's rename does. Each sheet is read in one call for its values and one for
its formulas, and written in one call, so a large sheet costs a few COM round trips.

Excel coerces text assigned to a cell as if typed ("2:30" becomes a time, "007" a number,
"=x" a formula): every text is written with Excel's text prefix "'" so it stays text.
Money is written as a number: an Excel cell holds a double, as a file's cell does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlar.addin.build import ADDIN, RIBBON_MODULE
from xlar.workbook.gateway import Cell
from xlar.workbook.package import FormulaText, SpecialCell
from xlar.workbook.state import STATE_SHEET, SyncState
from xlar.workbook.writer import Output, SheetRows, output_title, output_widths

EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})


def to_excel(value: object) -> object:
    """A value as xlwings should hand it to Excel (see the module doc)."""
    if value is None or value == "":
        return None
    if isinstance(value, FormulaText):
        return str(value)
    if isinstance(value, str):
        return "'" + value
    if isinstance(value, Decimal):
        return float(value)
    return value


def from_excel(value: object) -> object:
    """A value xlwings read, as python-calamine gives it for a file."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


class XlwingsGateway:
    """A workbook open in Excel (an xlwings Book, or anything with its range API)."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self._special: dict[str, dict[Cell, SpecialCell]] = {}
        self._staged: tuple[Sequence[SheetRows], Sequence[Output], SyncState, str] | None = None

    @property
    def name(self) -> str:
        return str(self.book.name)

    def titles(self) -> list[str]:
        return [sheet.name for sheet in self.book.sheets]

    def _area(self, title: str) -> Any | None:
        """The range from A1 to the last used cell, or None for an empty sheet."""
        sheet = self.book.sheets[title]
        last = sheet.used_range.last_cell
        if last.row == 1 and last.column == 1 and sheet.range((1, 1)).value is None:
            return None
        return sheet.range((1, 1), (last.row, last.column))

    def grid(self, title: str) -> list[list[object]]:
        area = self._area(title)
        if area is None:
            self._special[title] = {}
            return []
        values = area.options(ndim=2).value   # an error cell reads as None (as text with err_to_str)
        formulas = area.formula
        if isinstance(formulas, str):  # a one-cell area gives a bare string
            formulas = ((formulas,),)
        special: dict[Cell, SpecialCell] = {}
        grid = []
        for r, row in enumerate(values):
            for c, value in enumerate(row):
                text = formulas[r][c]
                # a formula's text differs from its value; stored text "=x" (typed '=x) reads as both
                if isinstance(text, str) and text.startswith("=") and value != text:
                    special[(r, c)] = SpecialCell("formula", text[1:])
                elif value is None and text in EXCEL_ERRORS:   # an error constant: no value, its text
                    special[(r, c)] = SpecialCell("error", text)
            grid.append([from_excel(v) for v in row])
        self._special[title] = special
        return grid

    def special(self, title: str) -> Mapping[Cell, SpecialCell]:
        if title not in self._special:
            self.grid(title)
        return self._special[title]

    def prefetch(self, titles: Iterable[str]) -> None:
        """Special cells come with each sheet's grid: nothing to do ahead."""

    def untouched(self, state: SyncState) -> bool:
        return False  # a live workbook has no file parts to compare

    def stage(self, sheets: Sequence[SheetRows], outputs: Sequence[Output], state: SyncState,
              locale: str) -> None:
        self._staged = (sheets, outputs, state, locale)

    def commit(self) -> str | None:
        if self._staged is None:
            return None
        sheets, outputs, state, locale = self._staged
        self._staged = None
        present = set(self.titles())   # one look at the sheet names, not one per sheet written
        for sheet in sheets:
            if not sheet.shown:
                self._write_input(sheet)
        for out in outputs:
            self._write_output(out, locale, present)
        self._write_state(state, present)  # last, as in a file: a sync cut short is redone from the old state
        return None

    def close(self) -> None:
        self._staged = None

    def _sheet(self, title: str, present: set[str]) -> Any:
        if title in present:
            return self.book.sheets[title]
        present.add(title)
        return self.book.sheets.add(title, after=self.book.sheets[len(self.book.sheets) - 1])

    def _write_input(self, data: SheetRows) -> None:
        sheet = self.book.sheets[data.title]
        first, width = data.header_row + 1, len(data.layout)
        last_used = sheet.used_range.last_cell.row
        if last_used >= first:
            sheet.range((first, 1), (last_used, width)).clear_contents()
        if data.rows:
            sheet.range((first, 1)).value = [[to_excel(v) for v in row] for row in data.rows]
        last_row = max(first, first + len(data.rows) - 1)  # a Table keeps one (empty) data row
        for table in sheet.tables:
            if table.name == data.schema.table:
                table.resize(sheet.range((data.header_row, 1), (last_row, width)))

    def _write_output(self, out: Output, locale: str, present: set[str]) -> None:
        sheet = self._sheet(output_title(out, locale), present)
        sheet.used_range.clear_contents()
        width = len(out.headers)
        grid: list[list[object]] = [list(out.headers), *out.rows]
        sheet.range((1, 1)).value = [[to_excel(v) for v in row] for row in grid]
        sheet.range((1, 1), (1, width)).font.bold = True
        if out.rows:
            for c, number_format in out.formats.items():
                sheet.range((2, c + 1), (len(out.rows) + 1, c + 1)).number_format = number_format
        for c, w in enumerate(output_widths(out)):
            sheet.range((1, c + 1)).column_width = w

    def _write_state(self, state: SyncState, present: set[str]) -> None:
        sheet = self._sheet(STATE_SHEET, present)
        sheet.used_range.clear_contents()
        rows = state.rows()
        width = max(len(row) for row in rows)
        sheet.range((1, 1)).value = [[to_excel(v) for v in row] + [None] * (width - len(row)) for row in rows]
        sheet.visible = False


class ExcelUi:
    """Dialogs in Excel: xlwings' alert for messages, the add-in's VBA for input boxes and the
    file picker (Application.InputBox / GetOpenFilename work on Windows and Mac alike)."""

    def __init__(self, book: Any) -> None:
        self.app = book.app

    def _vba(self, name: str, *args: object) -> object:
        return self.app.macro(f"'{ADDIN}'!{RIBBON_MODULE}.{name}")(*args)

    def confirm(self, message: str) -> bool:
        return bool(self.app.alert(message, title="xlar", buttons="ok_cancel") == "ok")

    def ask(self, prompt: str, default: str = "") -> str | None:
        answer = self._vba("XlarAsk", prompt, default)
        return None if answer is False or answer is None else str(answer)

    def choose_file(self, title: str) -> Path | None:
        answer = self._vba("XlarPickFile", title)
        return None if answer is False or not answer else Path(str(answer))

    def tell(self, message: str) -> None:
        self.app.alert(message, title="xlar")

    def show(self, path: Path) -> None:
        self.app.books.open(str(path))
