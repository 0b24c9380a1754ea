"""Opening-balance files (期初余额): a CSV (UTF-8 or GBK) or the first sheet of an xlsx, read into
rows, and the columns their header names (layout OPENING_BALANCES, headers in English or
Chinese). What the rows become is xlar.services.opening."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from python_calamine import CalamineWorkbook

from xlar.domain.codes import Code
from xlar.domain.errors import InvalidDocument, Issue
from xlar.schema.sheets import OPENING_BALANCES
from xlar.workbook.reader import header_layout


def read_rows(path: Path) -> list[list[object]]:
    """The file's rows (the header first): a CSV (UTF-8, with or without BOM) or the first sheet
    of an xlsx."""
    if path.suffix.lower() == ".csv":
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):   # Excel in China saves CSV as GBK
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InvalidDocument(f"{path.name}: not UTF-8 or GBK text")
        return _csv_rows(path.name, text)
    try:
        sheet = CalamineWorkbook.from_path(str(path))
        return [list(row) for row in sheet.get_sheet_by_index(0).to_python(skip_empty_area=False)]
    except Exception as exc:  # noqa: BLE001  (calamine raises its own errors for what is not a workbook)
        raise InvalidDocument(f"{path.name} is not a CSV or a workbook xlar can read: {exc}") from None


def _csv_rows(name: str, text: str) -> list[list[object]]:
    """The rows of a CSV file's TEXT; refused whole when a quote left open swallows rows after it
    (they would be lost as one cell) or a cell is beyond what the csv module reads."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[object]] = []
    try:
        for row in reader:
            width = len(rows[0]) if rows else len(row)
            swallowed = [line for cell in row for line in cell.splitlines()[1:] if line.count(",") >= max(width - 1, 1)]
            if rows and swallowed:
                first = reader.line_num - sum(c.rstrip("\r\n").count("\n") for c in row)
                raise InvalidDocument(f"{name} row {first}: a quote opened here is not closed before "
                                      f"{swallowed[0][:60]!r}; close it and import again")
            rows.append(list(row))
    except csv.Error as exc:
        raise InvalidDocument(f"{name} row {reader.line_num}: not CSV xlar can read ({exc})") from None
    return rows


def columns_of(rows: list[list[object]], name: str) -> tuple[dict[str, int] | None, list[Issue]]:
    """Column key -> its position, from the header (ROWS' first), and the issues the header has;
    no columns when the file is empty or its header cannot be read."""
    if not rows:
        # as a sheet without its header row (XLAR-E122 is a required column missing from one)
        return None, [Issue(name, 1, None, Code.E121, "the file is empty: no header row")]
    keys, issues = header_layout(rows[0], OPENING_BALANCES.header_index(), name, 1, OPENING_BALANCES)
    if any(i.code == Code.E122 for i in issues):
        return None, issues
    return {key: at for at, key in enumerate(keys) if not key.startswith("+")}, issues
