"""Writing a synced workbook: input sheets rewritten in place, output sheets regenerated.

Only the sheets the sync owns are regenerated (their <sheetData>, streamed as XML text:
see parts.py); the user's Tables, lists, formats, other sheets and everything else in the
package are kept. The result goes to a temporary file beside the workbook and is renamed
over it (after a backup of the previous file) only once the store has committed.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import chain
from pathlib import Path

from xlar.domain.money import CURRENCY_EXPONENTS
from xlar.schema.columns import Column, Kind, SheetSchema
from xlar.schema.sheets import CHOICE_ZH, OUTPUT_SHEETS
from xlar.workbook.package import column_letters, reading
from xlar.workbook.parts import ColumnStyles, Package, SheetPart, rows_xml
from xlar.workbook.printing import page_layout
from xlar.workbook.state import STATE_SHEET, SyncState
from xlar.workbook.styles import StyleSheet


@dataclass(frozen=True, slots=True)
class SheetRows:
    schema: SheetSchema
    title: str
    header_row: int
    layout: list[str]                 # per sheet column: key, _id, _rev or '+extra'
    rows: list[list[object]]          # cells in layout order
    shown: bool = False               # the sheet shows these very rows already: not written again


@dataclass(frozen=True, slots=True)
class Output:
    name: str                         # English name (OUTPUT_SHEETS key)
    headers: list[str]
    rows: list[list[object]]
    formats: dict[int, str]           # column index -> number format
    currency_of: dict[int, int] = field(default_factory=dict)   # amount column -> its row's currency column
    totals: int = 0                   # the last rows are totals: bold, below the filter


def places_format(number_format: str, places: int) -> str:
    """NUMBER_FORMAT (two decimals, as MONEY) with PLACES decimals: JPY 0, KWD 3."""
    return number_format.replace("0.00", "0" + ("." + "0" * places if places else ""))


def _by_currency(out: Output, body: ColumnStyles, styles: StyleSheet) -> Callable[[Sequence[object]], ColumnStyles]:
    """The column styles for a row: its amounts with as many decimals as its currency has."""
    variants: dict[tuple[tuple[int, int], ...], ColumnStyles] = {(): body}

    def pick(row: Sequence[object]) -> ColumnStyles:
        key = []
        for amount, currency in out.currency_of.items():
            code = row[currency] if currency < len(row) else None
            places = CURRENCY_EXPONENTS.get(code, 2) if isinstance(code, str) else 2
            if places != 2 and amount in out.formats:
                key.append((amount, places))
        found = variants.get(tuple(key))
        if found is None:
            changed = dict(key)
            found = variants[tuple(key)] = ColumnStyles(styles, [
                styles.style(number_format=places_format(out.formats[c], changed[c])) if c in changed
                else body.plain[c] for c in range(len(body.plain))])
        return found
    return pick


def translated(col: Column, locale: str) -> bool:
    """Whether COL's values are shown in LOCALE's words (choices, in a zh-CN workbook)."""
    return col.kind is Kind.CHOICE and locale == "zh-CN"


def cell_value(schema: SheetSchema, key: str, value: object, locale: str) -> object:
    col = schema.by_key.get(key)
    if col is not None and translated(col, locale) and isinstance(value, str):
        return CHOICE_ZH.get(value, value)
    return value


def _write_input(pkg: Package, sheet: SheetRows) -> None:
    part = pkg.sheets[sheet.title]
    xml = SheetPart(pkg.read(part))
    first, width = sheet.header_row + 1, len(sheet.layout)
    found = xml.column_styles() | xml.cell_styles(first)  # the first data row's look is the column's
    dates = [i for i, key in enumerate(sheet.layout)
             if key in sheet.schema.by_key and sheet.schema.by_key[key].kind is Kind.DATE]
    styles = ColumnStyles(pkg.styles, [found.get(i, 0) for i in range(width)], dates)
    last_row = max(first, first + len(sheet.rows) - 1)  # a Table keeps one (empty) data row
    pkg.replaced[part] = xml.stream(rows_xml(sheet.rows, first, styles), keep_through=sheet.header_row,
                                    last_row=last_row, last_col=width - 1)
    pkg.set_table_ref(part, sheet.schema.table, f"A{sheet.header_row}:{column_letters(width - 1)}{last_row}")


def display_width(text: str) -> int:
    """Columns TEXT takes on screen: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown_width(value: object) -> int:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return len(f"{value:,.2f}") + 1
    if isinstance(value, date):
        return 10
    return display_width("" if value is None else str(value))


def output_title(out: Output, locale: str) -> str:
    return OUTPUT_SHEETS[out.name] if locale == "zh-CN" else out.name


def output_widths(out: Output) -> list[int]:
    """Each column's width: its widest header or value (of the first 2,000 rows), within 8..60."""
    widths = []
    for c, header in enumerate(out.headers):
        widest = max([display_width(header), *(_shown_width(row[c]) for row in out.rows[:2000] if c < len(row))])
        widths.append(min(max(widest + 2, 8), 60))
    return widths


def _write_output(pkg: Package, out: Output, locale: str) -> None:
    title = output_title(out, locale)
    part = pkg.sheets.get(title) or pkg.add_sheet(title, frozen_header=True)
    xml = SheetPart(pkg.read(part))
    width = len(out.headers)
    head = ColumnStyles(pkg.styles, [pkg.styles.style(bold=True, right=c in out.formats)  # numbers stand right:
                                     for c in range(width)])                              # so do their headers
    body = ColumnStyles(pkg.styles, [pkg.styles.style(number_format=out.formats[c]) if c in out.formats else 0
                                     for c in range(width)])
    widths = output_widths(out)
    cols = "<cols>" + "".join(f'<col min="{c + 1}" max="{c + 1}" width="{w}" customWidth="1"/>'
                              for c, w in enumerate(widths)) + "</cols>"
    listed = len(out.rows) - out.totals
    if out.currency_of:   # every row's styles found now: the style sheet is complete before rows stream
        pick = _by_currency(out, body, pkg.styles)
        styled = [pick(row) for row in out.rows[:listed]]
        data: Iterator[str] = chain.from_iterable(rows_xml([row], n, style)
                                                  for n, (row, style) in enumerate(zip(out.rows, styled), 2))
    else:
        data = rows_xml(out.rows[:listed], 2, body)
    total = ColumnStyles(pkg.styles, [pkg.styles.style(s, bold=True) for s in body.plain])
    rows: Iterator[str] = chain(rows_xml([out.headers], 1, head), data,
                                rows_xml(out.rows[listed:], listed + 2, total))
    page = page_layout(sum(widths))
    pkg.replaced[part] = xml.stream(rows, keep_through=0, last_row=len(out.rows) + 1, last_col=width - 1,
                                    cols=cols, auto_filter=f"A1:{column_letters(width - 1)}{listed + 1}", page=page)
    pkg.set_print_titles(title, first_column=page.repeat_first_column)


def _state_part(pkg: Package, state: SyncState) -> tuple[str, object]:
    part = pkg.sheets.get(STATE_SHEET) or pkg.add_sheet(STATE_SHEET, "veryHidden")
    xml = SheetPart(pkg.read(part))

    def make(crcs: dict[str, int]) -> Iterator[bytes]:
        state.parts = crcs
        rows = state.rows()
        styles = ColumnStyles(pkg.styles, [0] * max(len(r) for r in rows))
        return xml.stream(rows_xml(rows, 1, styles), keep_through=0, last_row=len(rows),
                          last_col=len(styles.plain) - 1)
    return part, make


def write_workbook(path: Path, sheets: Sequence[SheetRows], outputs: Sequence[Output],
                   state: SyncState, locale: str) -> Path:
    """Write the synced workbook to a temporary file beside PATH and return its path.
    STATE gets the CRC-32 of every part written (see state.py)."""
    temp = staged_path(path)
    try:
        with reading(path.name):   # the parts copied as they are come from the file as it stands
            pkg = Package(path)
            try:
                for sheet in sheets:
                    if not sheet.shown:   # else its part is copied as it is
                        _write_input(pkg, sheet)
                for out in outputs:
                    _write_output(pkg, out, locale)
                part, make = _state_part(pkg, state)
                pkg.save(temp, last={part: make})
            finally:
                pkg.close()
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def staged_path(path: Path) -> Path:
    """Where a sync writes PATH's next version before the store commits."""
    return path.with_name(f".{path.name}.xlar-tmp")


def staged_backup_path(path: Path) -> Path:
    """Where a sync keeps PATH's previous version, ready to become PATH.bak, before the commit."""
    return path.with_name(f".{path.name}.xlar-bak")


def stage_backup(path: Path) -> Path:
    """PATH's previous version beside it before the store commits (a hard link: no space, no
    copy; a copy where the file system has no links), so that after the commit only renames
    remain: a full disk or a read-only .bak can then only refuse the sync before it commits."""
    staged = staged_backup_path(path)
    staged.unlink(missing_ok=True)
    try:
        os.link(path, staged)
    except OSError:
        shutil.copy2(path, staged)
    return staged


def replace_with_backup(path: Path, temp: Path, backup_staged: Path | None = None) -> str | None:
    """Move TEMP (already on disk) over PATH in one rename, keeping the previous file as PATH.bak:
    PATH is the old workbook or the new one, never part of either. With BACKUP_STAGED (the
    previous file, linked beside PATH before the store committed) the workbook is renamed first
    and the backup after: a .bak that cannot be replaced (read-only, open in Excel) then costs
    only its name, and the note returned says where the previous version is. Without it, the
    previous file is copied to PATH.bak first. Raises OSError when PATH cannot be replaced."""
    backup = path.with_name(path.name + ".bak")
    staged = backup_staged is not None and backup_staged.exists()
    if not staged and not (backup.exists() and os.path.samefile(path, backup)):  # else a failed rename left it
        shutil.copy2(path, backup)
    os.replace(temp, path)
    _sync_folder(path.parent)
    if not staged:
        return None
    try:
        os.replace(backup_staged, backup)   # type: ignore[arg-type]  # staged implies a backup was staged beside it
    except OSError as exc:
        return (f"{path.name} was written, but {backup.name} could not be replaced ({exc.strerror or exc}): "
                f"the previous version is {backup_staged.name} beside it")   # type: ignore[union-attr]  # staged implies a backup was staged beside it
    _sync_folder(path.parent)
    return None


def _sync_folder(folder: Path) -> None:
    """The renames in FOLDER on disk (POSIX; NTFS journals them)."""
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
