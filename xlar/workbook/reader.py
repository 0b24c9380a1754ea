"""Reading input sheets into typed rows and issues (python-calamine for speed).

Headers are matched in either language and any order; columns the user added are kept
(their values travel with the row and are written back untouched). Every bad cell
becomes an Issue naming sheet, row, column and value; its row is held back, the rest
goes through.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from python_calamine import CalamineError

from xlar.domain.codes import Code, is_warning
from xlar.domain.errors import Issue
from xlar.schema.cells import MISS, Parsed, fast_parser, is_blank, parse_cell, proves_locale_mixup
from xlar.schema.columns import ID_COLUMN, REV_COLUMN, Column, Kind, SheetSchema, normalize_header
from xlar.schema.hashing import content_hash
from xlar.schema.sheets import find_sheet
from xlar.workbook.gateway import FileGrids, Grids
from xlar.workbook.package import (
    BrokenWorkbook,
    FormulaText,
    SpecialCell,
    column_letters,
    first_line,
)
from xlar.workbook.shown import CONFLICTS_TITLES, ERRORS_TITLES, plain_cell, sync_state
from xlar.workbook.state import STATE_SHEET, SyncState

HEADER_SEARCH_ROWS = 20


@dataclass(frozen=True, slots=True)
class Row:
    excel_row: int
    values: dict[str, object]
    row_id: str | None
    rev: int | None                 # the store's revision when this row was last synced
    synced_hash: str | None         # the row's content hash then: a different hash is an edit
    extras: tuple[object, ...]
    content: str                    # the content hash of its values now (schema.hashing), worked out once
    raw: tuple[object, ...] = ()    # the cells as read, to write back untouched if held

    @property
    def edited(self) -> bool:
        """True when its values differ from what the last sync wrote (or it never had any)."""
        return self.content != self.synced_hash


@dataclass(slots=True)
class SheetData:
    schema: SheetSchema
    title: str
    header_row: int                       # 1-based Excel row of the header
    layout: list[str]                     # per sheet column: a key, _id, _rev or '+' + extra header
    rows: list[Row] = field(default_factory=list)
    held: dict[int, list[object]] = field(default_factory=dict)   # excel row -> raw cells
    issues: list[Issue] = field(default_factory=list)

    @property
    def extra_headers(self) -> list[str]:
        return [c[1:] for c in self.layout if c.startswith("+")]


@dataclass(slots=True)
class WorkbookData:
    sheets: dict[str, SheetData]
    issues: list[Issue]
    state: SyncState = field(default_factory=SyncState)   # what the last sync wrote
    locale: str = "en"
    errors_shown: list[tuple[str, ...]] = field(default_factory=list)  # the Errors sheet as it stands
    conflicts_shown: list[list[object]] = field(default_factory=list)  # kept until the user clears them


def read_workbook(path: Path) -> WorkbookData:
    """Every input sheet found in the workbook at PATH (by either language's title)."""
    with FileGrids(path) as grids:   # a file calamine cannot open is a BrokenWorkbook
        return read_book(grids)


class _Checked:
    """GRIDS whose reader errors (a damaged part, a cell value it does not know) become
    BrokenWorkbook, naming the sheet, instead of a library exception."""

    def __init__(self, grids: Grids) -> None:
        self.grids = grids

    def titles(self) -> list[str]:
        return self.grids.titles()

    def prefetch(self, titles: Iterable[str]) -> None:
        self.grids.prefetch(titles)

    def grid(self, title: str) -> list[list[object]]:
        try:
            return self.grids.grid(title)
        except CalamineError as exc:
            raise BrokenWorkbook(f"sheet {title!r} cannot be read ({first_line(exc)}); "
                                 "open the workbook in Excel and save it again") from None

    def special(self, title: str) -> Mapping[tuple[int, int], SpecialCell]:
        return self.grids.special(title)


def read_book(source: Grids) -> WorkbookData:
    """Every input sheet SOURCE holds (found by either language's title), the sync state and what
    the Errors and Conflicts sheets show."""
    grids = _Checked(source)
    titles = grids.titles()
    if not titles:   # every workbook has a sheet: its list of them (xl/workbook.xml) is missing or empty
        raise BrokenWorkbook("the workbook has no sheets; the file is damaged: open it in Excel and save it again")
    grids.prefetch(t for t in titles if find_sheet(t) is not None)
    sheets: dict[str, SheetData] = {}
    issues: list[Issue] = []
    state = SyncState()
    errors_shown: list[tuple[str, ...]] = []
    conflicts_shown: list[list[object]] = []
    for title in titles:
        if title == STATE_SHEET:
            state = sync_state(grids)
            continue
        if title in CONFLICTS_TITLES:
            conflicts_shown = [row for row in grids.grid(title)[1:] if any(not is_blank(c) for c in row)]
            continue
        if title in ERRORS_TITLES:
            errors_shown = [tuple(plain_cell(c) for c in row[:5]) for row in grids.grid(title)[1:]]
            continue
        schema = find_sheet(title)
        if schema is None:
            continue
        if schema.name in sheets:
            issues.append(Issue(title, 1, None, Code.E120, f"a second {schema.name} sheet; only "
                                f"'{sheets[schema.name].title}' is read"))
            continue
        data = read_sheet(grids, title, schema)
        sheets[schema.name] = data
        issues += data.issues
    return WorkbookData(sheets, issues, state, book_locale(titles), errors_shown, conflicts_shown)


def book_locale(titles: Iterable[str]) -> str:
    """zh-CN when most of the input sheets a workbook has go by their Chinese titles, else en."""
    found = [(title, schema) for title in titles if (schema := find_sheet(title)) is not None]
    zh_titles = sum(title == schema.zh for title, schema in found)
    return "zh-CN" if zh_titles * 2 > len({schema.name for _, schema in found}) else "en"


def _find_header(grid: list[list[object]], index: Mapping[str, str], schema: SheetSchema) -> int | None:
    """The first row naming every required column, or with mostly known names."""
    required = {c.key for c in schema.columns if c.required}
    for i, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        keys = [index.get(normalize_header(str(c))) for c in row if not is_blank(c)]
        known = [k for k in keys if k is not None]
        if keys and (required <= set(known) or len(known) * 2 >= len(keys)):
            return i
    return None


def read_sheet(grids: Grids, title: str, schema: SheetSchema,
               aliases: Mapping[str, str] | None = None) -> SheetData:
    """One sheet as SCHEMA's rows. ALIASES maps other header texts to column keys (imports)."""
    grid = grids.grid(title)
    special = grids.special(title)
    index = schema.header_index() | {normalize_header(ID_COLUMN): ID_COLUMN, normalize_header(REV_COLUMN): REV_COLUMN}
    index |= {normalize_header(k): v for k, v in (aliases or {}).items()}
    at = _find_header(grid, index, schema)
    if at is None:
        data = SheetData(schema, title, 1, [])
        data.issues.append(Issue(title, 1, None, Code.E121, "no header row with this sheet's column names"))
        return data
    layout, issues = header_layout(grid[at], index, title, at + 1, schema)
    data = SheetData(schema, title, at + 1, layout, issues=issues)
    if any(i.code == Code.E122 for i in issues):
        return data  # without a required column no row can be read
    parsed = []
    plan = _Plan.of(schema, title, layout)
    for r in range(at + 1, len(grid)):
        raw = grid[r] + [""] * (len(layout) - len(grid[r]))
        if all(is_blank(c) for c in raw):
            continue
        parsed.append(_parse_row(plan, title, r, raw, special))
    _check_ambiguous_dates(schema, title, grid, at, layout, parsed)
    _check_duplicates(schema, title, layout, parsed)
    for excel_row, raw, row, row_issues in parsed:
        data.issues += row_issues
        if any(not is_warning(i.code) for i in row_issues):
            data.held[excel_row] = raw
        else:
            data.rows.append(row)
    return data


def header_layout(header: list[object], index: Mapping[str, str], title: str, excel_row: int,
            schema: SheetSchema) -> tuple[list[str], list[Issue]]:
    layout: list[str] = []
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = index.get(normalize_header(str(cell))) if not is_blank(cell) else None
        if key is None:
            layout.append("+" + str(cell))
        elif key in seen:
            issues.append(Issue(title, excel_row, str(cell), Code.E123,
                                f"column {cell!r} appears twice (columns {column_letters(seen[key])} and "
                                f"{column_letters(i)}); the second is kept as your own column"))
            layout.append("+" + str(cell))
        else:
            seen[key] = i
            layout.append(key)
    for col in schema.columns:
        if col.required and col.key not in seen:
            issues.append(Issue(title, excel_row, None, Code.E122,
                                f"required column {col.en!r} ({col.zh}) is missing"))
    return layout, issues


def _label(schema: SheetSchema, title: str, col: Column) -> str:
    """The column's name in the language of the sheet's title."""
    return col.label("zh-CN" if title == schema.zh else "en")


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one sheet's rows are read: per schema column, where it is and how it is named."""

    schema: SheetSchema
    columns: tuple[tuple[Column, int | None, str, Callable[[object, str | None], object]], ...]
    # per column: the column, its index in the row, its label, its fast parser
    currency_at: int | None
    id_at: int | None
    rev_at: int | None
    extras: tuple[int, ...]
    limits: tuple[tuple[str, int, str], ...]   # per text column the store keeps in a String(n): key, n, label

    @classmethod
    def of(cls, schema: SheetSchema, title: str, layout: list[str]) -> _Plan:
        by_key = {key: i for i, key in enumerate(layout)}
        return cls(schema, tuple((col, by_key.get(col.key), _label(schema, title, col), fast_parser(col))
                         for col in schema.columns),
                     by_key.get("currency"), by_key.get(ID_COLUMN), by_key.get(REV_COLUMN),
                     tuple(i for i, key in enumerate(layout) if key.startswith("+")),
                     tuple((col.key, col.max_len, _label(schema, title, col))
                           for col in schema.columns if col.max_len is not None and col.key in by_key))


def _check_lengths(plan: _Plan, title: str, excel_row: int, values: dict[str, object], issues: list[Issue]) -> None:
    """A text longer than its store column holds is refused here, not by the database mid-sync."""
    for key, limit, label in plan.limits:
        value = values.get(key)
        if isinstance(value, str) and len(value) > limit:
            issues.append(Issue(title, excel_row, label, Code.E105,
                                f"{_cut(value)!r} has {len(value):,} characters; the book keeps at most {limit} here"))


def _cut(text: str) -> str:
    return text if len(text) <= 30 else text[:27] + "..."


def _parse_row(plan: _Plan, title: str, r: int, raw: list[object],
               special: Mapping[tuple[int, int], SpecialCell]) -> tuple[int, list[object], Row, list[Issue]]:
    excel_row = r + 1
    issues: list[Issue] = []
    values: dict[str, object] = {}
    currency = None
    typed = raw[plan.currency_at] if plan.currency_at is not None else None
    if isinstance(typed, str):
        currency = typed.strip().upper() or None
        if currency and len(currency) != 3:
            currency = None
    for col, i, label, fast in plan.columns:
        if i is None:
            values[col.key] = None
            continue
        if not special or (r, i) not in special:
            value = fast(raw[i], currency)
            if value is not MISS:
                values[col.key] = value
                continue
        cell = special.get((r, i)) if special else None
        if cell is not None:
            shown = f"={cell.text}" if cell.kind == "formula" else cell.text
            message = (f"the cell shows the error {cell.text}" if cell.kind == "error" else
                       f"formula {shown!r}: input cells take values (a sync would replace the formula); "
                       "paste it as a value")
            issues.append(Issue(title, excel_row, label,
                                Code.E101 if cell.kind == "error" else Code.E119, message))
            raw[i] = FormulaText(shown) if cell.kind == "formula" else shown
            continue
        result = parse_cell(col, raw[i], currency)
        if col.computed:  # xlar rewrites it; what is typed there is not input
            values[col.key] = result.value if isinstance(result, Parsed) else None
        elif isinstance(result, Parsed):
            values[col.key] = result.value
            if result.warning:
                issues.append(Issue(title, excel_row, label, result.warning.code, result.warning.message))
        else:
            issues.append(Issue(title, excel_row, label, result.code, result.message))
    if plan.limits:
        _check_lengths(plan, title, excel_row, values, issues)
    row_id = _row_id(raw, plan.id_at, title, excel_row, issues)
    rev, synced_hash = parse_rev(raw[plan.rev_at] if plan.rev_at is not None else None)
    row = Row(excel_row, values, row_id, rev, synced_hash, tuple(raw[i] for i in plan.extras),
              content_hash(plan.schema, values), tuple(raw))
    return excel_row, raw, row, issues


_ROW_ID = re.compile(r"[0-9]{1,18}")


def _row_id(raw: list[object], at: int | None, title: str, excel_row: int, issues: list[Issue]) -> str | None:
    """The row's store id from the hidden _id column. Anything but the whole number a sync wrote
    there (typed over, pasted from elsewhere) names no row: it is cleared, and the row is new."""
    cell = raw[at] if at is not None else None
    if at is None or is_blank(cell):
        return None
    text = str(cell).strip().removesuffix(".0")
    if _ROW_ID.fullmatch(text) and int(text) > 0:
        return text
    issues.append(Issue(title, excel_row, ID_COLUMN, Code.W102, f"_id {_cut(text)!r} is not a row id a sync wrote: "
                        "it was cleared and the row is taken as a new row"))
    raw[at] = ""
    return None


def parse_rev(raw: object) -> tuple[int | None, str | None]:
    """'3:9f2c1a7b' -> (3, '9f2c1a7b'): the revision and content hash of the last sync."""
    text = str(raw).strip() if raw is not None else ""
    if not text:
        return None, None
    rev, _, digest = text.partition(":")
    try:
        return int(float(rev)), digest or None
    except (ValueError, OverflowError):   # typed over ('x:y', 'inf'): no revision
        return None, None


MIXUP_MIN_CELLS = 3        # text dates that prove a day/month mix-up before a column is suspect
MIXUP_MIN_SHARE = 0.05     # ... and their share of the column's dates


def _check_ambiguous_dates(schema: SheetSchema, title: str, grid: list[list[object]], at: int,
                           layout: list[str], parsed: list[tuple[int, list[object], Row, list[Issue]]]) -> None:
    """A date column holding many M/D/Y texts like '1/15/2013' was typed in one day/month order
    and read in the other: every real date in it whose day could be its month may be swapped,
    so none of those is accepted. One stray text date does not make a column suspect."""
    for i, key in enumerate(layout):
        col = schema.by_key.get(key)
        if col is None or col.kind is not Kind.DATE:
            continue
        cells = [row[i] for row in grid[at + 1:] if i < len(row) and not is_blank(row[i])]
        proofs = [c for c in cells if proves_locale_mixup(c)]
        if len(proofs) < MIXUP_MIN_CELLS or len(proofs) < MIXUP_MIN_SHARE * len(cells):
            continue
        for excel_row, raw, _row, issues in parsed:
            value = raw[i]
            if isinstance(value, datetime):
                value = value.date()
            if isinstance(value, date) and value.day <= 12 and value.day != value.month:
                issues.append(Issue(title, excel_row, _label(schema, title, col),
                                    Code.E117, f"date {value.isoformat()} may have day and month swapped: "
                                    f"this column also holds {len(proofs)} dates typed as text like "
                                    f"{proofs[0]!r}; check it and re-enter it"))


def _check_duplicates(schema: SheetSchema, title: str, layout: list[str],
                      parsed: list[tuple[int, list[object], Row, list[Issue]]]) -> None:
    if not schema.key or not all(k in layout for k in schema.key):
        return
    rows_by_key: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for n, (_excel_row, _raw, row, _issues) in enumerate(parsed):
        key = tuple(row.values.get(k) for k in schema.key)
        if None not in key:
            rows_by_key[key].append(n)
    for key, members in rows_by_key.items():
        if len(members) < 2:
            continue
        where = ", ".join(str(parsed[n][0]) for n in members)
        shown = "/".join(str(k) for k in key)
        for n in members:
            parsed[n][3].append(Issue(title, parsed[n][0], _label(schema, title, schema.by_key[schema.key[0]]), Code.E118,
                f"duplicate {shown!r} on rows {where}: none of them is taken until one remains"))

