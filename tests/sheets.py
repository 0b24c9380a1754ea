"""Helpers that type into a workbook as a user would (openpyxl), by column key."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from python_calamine import CalamineWorkbook

from xlar.schema.sheets import CHOICE_ZH, INPUT_SHEETS


def _schema(name):
    return next(s for s in INPUT_SHEETS if s.name == name)


def header_row(ws, schema, locale="en") -> int:
    """The row of SCHEMA's headers (below the legend of a template's input sheet)."""
    first = schema.columns[0].label(locale)
    return next(r for r in range(1, 21) if any(c.value == first for c in ws[r]))


def _columns(ws, schema, locale):
    header = [c.value for c in ws[header_row(ws, schema, locale)]]
    return {col.key: header.index(col.label(locale)) + 1 for col in schema.columns if col.label(locale) in header}


def add_rows(path: Path, sheet: str, rows: list[dict], locale: str = "en") -> None:
    """Type ROWS (column key -> value) below the last used row of SHEET."""
    schema = _schema(sheet)
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.title(locale)]
    cols = _columns(ws, schema, locale)
    top = header_row(ws, schema, locale)
    last = max((r for r in range(top, ws.max_row + 1) if any(ws.cell(r, c).value is not None for c in cols.values())),
               default=top)
    for i, row in enumerate(rows, start=1):
        for key, value in row.items():
            if locale == "zh-CN" and isinstance(value, str) and value in CHOICE_ZH and key in ("status", "kind"):
                value = CHOICE_ZH[value]
            ws.cell(last + i, cols[key], value)
    wb.save(path)


def _find(path: Path, sheet: str, match: dict, locale: str):
    """The workbook, worksheet, columns and row number of the first row matching MATCH."""
    schema = _schema(sheet)
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.title(locale)]
    cols = _columns(ws, schema, locale)
    for r in range(header_row(ws, schema, locale) + 1, ws.max_row + 1):
        if all(ws.cell(r, cols[k]).value == v for k, v in match.items()):
            return wb, ws, cols, r
    raise AssertionError(f"no {sheet} row like {match}")


def edit(path: Path, sheet: str, match: dict, changes: dict, locale: str = "en") -> None:
    """Change the cells of the first row whose values match MATCH."""
    wb, ws, cols, r = _find(path, sheet, match, locale)
    for key, value in changes.items():
        ws.cell(r, cols[key], value)
    wb.save(path)


def delete_row(path: Path, sheet: str, match: dict, locale: str = "en") -> None:
    wb, ws, _cols, r = _find(path, sheet, match, locale)
    ws.delete_rows(r)
    wb.save(path)


def read(path: Path, title: str) -> list[dict]:
    """A sheet's rows as dicts by header text (calamine: what Excel would show)."""
    return grid_rows(CalamineWorkbook.from_path(str(path)).get_sheet_by_name(title).to_python())


def grid_rows(grid: list[list]) -> list[dict]:
    """A sheet's cells (a grid, first row first) as dicts by header text, below an input sheet's legend."""
    top = 1 if len(grid) > 1 and sum(c not in ("", None) for c in grid[0]) == 1 and \
        sum(c not in ("", None) for c in grid[1]) > 1 else 0
    header = grid[top]
    return [dict(zip(header, row)) for row in grid[top + 1:] if any(c not in ("", None) for c in row)]


def top_row(ws) -> int:
    """A worksheet's header row: below an input sheet's legend (a row of one cell)."""
    return next((r for r in range(1, 6) if sum(c.value is not None for c in ws[r]) > 1), 1)
