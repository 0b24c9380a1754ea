"""An in-memory fake of the part of xlwings' Book/Sheet/Range API the live gateway uses.

It behaves as Excel does where that matters to a sync: every number is a double, a date
comes back as a datetime, text assigned to a cell is read as if typed (a leading "'" keeps
it text, "=" makes a formula, "12" becomes a number, "2:30" a time), an error cell reads as
None unless err_to_str, and xlwings refuses Decimal. A workbook is loaded from an .xlsx
(openpyxl) so the same file can be synced both ways and the results compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import range_boundaries

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass
class ExcelError:
    text: str


@dataclass
class FakeCell:
    value: object = None          # str, float, bool, datetime, ExcelError or None
    formula: str | None = None
    number_format: str = "General"
    bold: bool = False


def typed(value: object) -> FakeCell:
    """What Excel stores when VALUE is assigned to a cell."""
    if value is None or value == "":
        return FakeCell()
    if isinstance(value, bool):
        return FakeCell(value)
    if isinstance(value, (int, float)):
        return FakeCell(float(value))
    if isinstance(value, datetime):
        return FakeCell(value)
    if isinstance(value, date):
        return FakeCell(datetime.combine(value, time()))
    if isinstance(value, str):
        if value.startswith("'"):
            return FakeCell(value[1:])
        if value.startswith("="):
            return FakeCell(None, formula=value)
        try:
            return FakeCell(float(value))
        except ValueError:
            pass
        if m := _TIME.match(value):
            return FakeCell((int(m[1]) * 60 + int(m[2])) / 1440)
        return FakeCell(value)
    raise TypeError(f"xlwings cannot write a {type(value).__name__} ({value!r})")


class Font:
    def __init__(self, rng: FakeRange) -> None:
        self._rng = rng

    @property
    def bold(self) -> bool:
        return all(c.bold for c in self._rng._cells())

    @bold.setter
    def bold(self, value: bool) -> None:
        for cell in self._rng._cells(create=True):
            cell.bold = value


class FakeRange:
    def __init__(self, sheet: FakeSheet, r1: int, c1: int, r2: int, c2: int, **options: Any) -> None:
        self.sheet, self.r1, self.c1, self.r2, self.c2 = sheet, r1, c1, r2, c2
        self._options = options

    @property
    def row(self) -> int:
        return self.r1

    @property
    def column(self) -> int:
        return self.c1

    @property
    def last_cell(self) -> FakeRange:
        return FakeRange(self.sheet, self.r2, self.c2, self.r2, self.c2)

    def options(self, **options: Any) -> FakeRange:
        return FakeRange(self.sheet, self.r1, self.c1, self.r2, self.c2, **options)

    def _cells(self, create: bool = False) -> list[FakeCell]:
        found = []
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                if create:
                    found.append(self.sheet.cells.setdefault((r, c), FakeCell()))
                elif (r, c) in self.sheet.cells:
                    found.append(self.sheet.cells[(r, c)])
        return found

    def _read(self, cell: FakeCell | None) -> object:
        if cell is None:
            return None
        if isinstance(cell.value, ExcelError):
            return cell.value.text if self._options.get("err_to_str") else None
        return cell.value

    @property
    def value(self) -> object:
        grid = [[self._read(self.sheet.cells.get((r, c))) for c in range(self.c1, self.c2 + 1)]
                for r in range(self.r1, self.r2 + 1)]
        if self._options.get("ndim") == 2:
            return grid
        if len(grid) == 1 and len(grid[0]) == 1:
            return grid[0][0]
        return grid[0] if len(grid) == 1 else grid

    @value.setter
    def value(self, data: object) -> None:
        if not isinstance(data, list):
            rows = [[data]]                      # one cell
        elif data and isinstance(data[0], list):
            rows = data                          # rows of cells
        else:
            rows = [data]                        # one row
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                old = self.sheet.cells.get((self.r1 + i, self.c1 + j), FakeCell())
                new = typed(v)
                new.number_format, new.bold = old.number_format, old.bold
                if isinstance(v, (date, datetime)) and old.number_format == "General":
                    new.number_format = "yyyy-mm-dd"  # Excel formats a cell given a date
                self.sheet.cells[(self.r1 + i, self.c1 + j)] = new

    @property
    def formula(self) -> object:
        def text(cell: FakeCell | None) -> str:
            if cell is None or cell.value is None and cell.formula is None:
                return ""
            if cell.formula is not None:
                return cell.formula
            v = cell.value
            return v.text if isinstance(v, ExcelError) else str(v)
        grid = tuple(tuple(text(self.sheet.cells.get((r, c))) for c in range(self.c1, self.c2 + 1))
                     for r in range(self.r1, self.r2 + 1))
        return grid[0][0] if len(grid) == 1 and len(grid[0]) == 1 else grid

    def clear_contents(self) -> None:
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                cell = self.sheet.cells.get((r, c))
                if cell is not None:
                    cell.value, cell.formula = None, None

    @property
    def number_format(self) -> str:
        return self.sheet.cells.get((self.r1, self.c1), FakeCell()).number_format

    @number_format.setter
    def number_format(self, value: str) -> None:
        for cell in self._cells(create=True):
            cell.number_format = value

    @property
    def font(self) -> Font:
        return Font(self)

    @property
    def column_width(self) -> float | None:
        return self.sheet.widths.get(self.c1)

    @column_width.setter
    def column_width(self, value: float) -> None:
        for c in range(self.c1, self.c2 + 1):
            self.sheet.widths[c] = value

    @property
    def address(self) -> str:
        from openpyxl.utils import get_column_letter as L
        return f"${L(self.c1)}${self.r1}:${L(self.c2)}${self.r2}"


@dataclass
class FakeTable:
    name: str
    ref: tuple[int, int, int, int]      # r1, c1, r2, c2

    def resize(self, rng: FakeRange) -> None:
        self.ref = (rng.r1, rng.c1, rng.r2, rng.c2)


@dataclass
class FakeSheet:
    name: str
    cells: dict[tuple[int, int], FakeCell] = field(default_factory=dict)
    tables: list[FakeTable] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    visible: bool = True

    def range(self, first: tuple[int, int], last: tuple[int, int] | None = None) -> FakeRange:
        last = last or first
        return FakeRange(self, first[0], first[1], last[0], last[1])

    @property
    def used_range(self) -> FakeRange:
        used = [k for k, c in self.cells.items() if c.value is not None or c.formula is not None]
        if not used:
            return FakeRange(self, 1, 1, 1, 1)
        rows, cols = [r for r, _ in used], [c for _, c in used]
        return FakeRange(self, min(rows), min(cols), max(rows), max(cols))

    def grid(self) -> list[list[object]]:
        """Values as a comparison sees them: formulas as their text, trailing blanks cut."""
        rng = self.used_range
        out = []
        for r in range(1, rng.r2 + 1):
            row = []
            for c in range(1, rng.c2 + 1):
                cell = self.cells.get((r, c))
                row.append(None if cell is None else cell.formula or (
                    cell.value.text if isinstance(cell.value, ExcelError) else cell.value))
            out.append(row)
        return out


class FakeSheets:
    def __init__(self) -> None:
        self._sheets: list[FakeSheet] = []

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._sheets)

    def __len__(self) -> int:
        return len(self._sheets)

    def __getitem__(self, key: int | str) -> FakeSheet:
        if isinstance(key, int):
            return self._sheets[key]
        for sheet in self._sheets:
            if sheet.name.lower() == key.lower():   # Excel's sheet names are case-blind
                return sheet
        raise KeyError(key)

    def add(self, name: str, before: FakeSheet | None = None, after: FakeSheet | None = None) -> FakeSheet:
        if any(s.name.lower() == name.lower() for s in self._sheets):
            raise ValueError(f"a sheet {name!r} exists")
        sheet = FakeSheet(name)
        at = self._sheets.index(after) + 1 if after is not None else (
            self._sheets.index(before) if before is not None else 0)
        self._sheets.insert(at, sheet)
        return sheet


class FakeBook:
    def __init__(self, name: str) -> None:
        self.name = name
        self.fullname = name
        self.sheets = FakeSheets()

    @classmethod
    def load(cls, path: Path) -> FakeBook:
        book = cls(path.name)
        book.fullname = str(path)
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            sheet = book.sheets.add(ws.title, after=book.sheets[len(book.sheets) - 1] if len(book.sheets) else None)
            sheet.visible = ws.sheet_state == "visible"
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value is None:
                        continue
                    if cell.data_type == "f":
                        fake = FakeCell(None, formula=str(cell.value))
                    elif cell.data_type == "e":
                        fake = FakeCell(ExcelError(str(cell.value)))
                    else:
                        fake = typed(cell.value if not isinstance(cell.value, str) else "'" + cell.value)
                    fake.number_format = cell.number_format
                    sheet.cells[(cell.row, cell.column)] = fake
            for name, ref in ws.tables.items():
                c1, r1, c2, r2 = range_boundaries(ref)
                sheet.tables.append(FakeTable(name, (r1, c1, r2, c2)))
        return book
