"""Opening balances (期初余额): the open items of the system the book replaces.

Each row of a CSV or xlsx file (layout OPENING_BALANCES: customer, original number, date,
due date, currency, FX rate, original amount, open amount, memo; headers in English or
Chinese) becomes a posted opening-balance document for what is still open, dated and due as
in the old system, so aging is right on day one; the original number is its reference and
the original amount is kept in its memo. Bad rows are reported with file, row, column and
value; the good ones are imported. A row already imported (same customer and original
number) is skipped, so importing a file twice adds nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from python_calamine import CalamineWorkbook
from sqlalchemy.engine import Connection

from xlar.domain.documents import DocKind, DocStatus
from xlar.domain.errors import InvalidDocument, Issue, NotFound, XlarError
from xlar.schema.cells import CellError, is_blank, parse_cell
from xlar.schema.columns import Kind
from xlar.schema.sheets import OPENING_BALANCES
from xlar.services import documents as docs
from xlar.store.tables import customers, documents
from xlar.workbook.reader import header_layout

COLUMNS = OPENING_BALANCES.columns
SOURCE = "opening balance import"


@dataclass(slots=True)
class Imported:
    documents: list[str] = field(default_factory=list)     # numbers of the OB-… documents posted
    skipped: list[str] = field(default_factory=list)       # original numbers imported before
    issues: list[Issue] = field(default_factory=list)


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


def import_opening(conn: Connection, path: Path, user: str) -> Imported:
    """Import the open items in PATH (see the module's doc) inside the caller's transaction."""
    rows = read_rows(path)
    name = path.name
    result = Imported()
    if not rows:
        result.issues.append(Issue(name, 1, None, "XLAR-E122", "the file is empty"))
        return result
    keys, result.issues = header_layout(rows[0], OPENING_BALANCES.header_index(), name, 1, OPENING_BALANCES)
    if any(i.code == "XLAR-E122" for i in result.issues):
        return result
    layout = {key: at for at, key in enumerate(keys) if not key.startswith("+")}
    currencies = dict(conn.execute(sa.select(customers.c.code, customers.c.currency)).all())
    d = documents.c
    done = set(conn.execute(sa.select(customers.c.code, d.reference).join(customers, customers.c.id == d.customer_id)
                            .where(d.kind == DocKind.OPENING_BALANCE.value, d.source == SOURCE,
                                   d.status != DocStatus.VOID.value)).all())
    drafts, at = [], []
    seen: dict[tuple[str, str], int] = {}
    for excel_row, raw in enumerate(rows[1:], start=2):
        cells = {key: raw[i] if i < len(raw) else None for key, i in layout.items()}
        if all(is_blank(v) for v in cells.values()):
            continue
        if path.suffix.lower() == ".csv":
            cells = {key: _csv_number(key, value) for key, value in cells.items()}
        values, bad = _parse(name, excel_row, cells, currencies)
        if bad:
            result.issues += bad
            continue
        key = (str(values["customer"]), str(values["number"]))
        if key in done:
            result.skipped.append(key[1])
            continue
        if key in seen:
            result.issues.append(Issue(name, excel_row, "Original number", "XLAR-E118",
                                       f"{key[1]!r} of {key[0]} is also on row {seen[key]}"))
            continue
        seen[key] = excel_row
        try:
            drafts.append(_draft(values, name))
        except XlarError as exc:
            result.issues.append(Issue(name, excel_row, None, exc.code, exc.message))
            continue
        at.append(excel_row)
    good = []
    for excel_row, prepared in zip(at, docs.prepare(conn, drafts), strict=True):
        if isinstance(prepared, XlarError):
            result.issues.append(Issue(name, excel_row, None, prepared.code, prepared.message))
        else:
            good.append(prepared)
    ids = docs.store_new(conn, good, user, [True] * len(good))
    if ids:
        result.documents = list(conn.execute(sa.select(d.number).where(d.id.in_(ids)).order_by(d.id)).scalars())
    return result


_NUMERIC = {col.key for col in COLUMNS if col.kind in (Kind.MONEY, Kind.RATE)}
_CSV_NUMBER = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def _csv_number(key: str, value: object) -> object:
    """A CSV has only text: a number column's plain number text (1234.50, -80, 1,234.50) is a number."""
    if key in _NUMERIC and isinstance(value, str) and _CSV_NUMBER.match(value.strip()):
        return Decimal(value.strip().replace(",", ""))
    return value


def _parse(name: str, excel_row: int, cells: dict[str, object], currencies: dict[str, str]
           ) -> tuple[dict[str, object], list[Issue]]:
    values: dict[str, object] = {}
    issues = []
    for col in COLUMNS:
        if col.key not in cells:
            continue
        currency = values.get("currency") or currencies.get(str(values.get("customer")))
        parsed = parse_cell(col, cells[col.key], str(currency) if currency else None)
        if isinstance(parsed, CellError):
            issues.append(Issue(name, excel_row, col.en, parsed.code, f"{parsed.message}"))
        else:
            values[col.key] = parsed.value
    if issues:
        return values, issues
    if values["customer"] not in currencies:
        issues.append(Issue(name, excel_row, "Customer", NotFound.code, f"unknown customer {values['customer']!r}"))
    return values, issues


def _draft(values: dict[str, object], source: str) -> docs.DraftDocument:
    amount, open_ = values["amount"], values["open_amount"]
    assert isinstance(amount, Decimal) and isinstance(open_, Decimal)
    number = str(values["number"])
    if open_ == 0:
        raise InvalidDocument(f"{number}: nothing is open (open amount 0): leave the row out")
    if (amount < 0) != (open_ < 0) or abs(open_) > abs(amount):
        raise InvalidDocument(f"{number}: open amount {open_} must have the sign of the amount {amount} "
                              "and not exceed it")
    memo = f"opening balance of {number} (original {amount}) from {source}"
    if values.get("memo"):
        memo += f": {values['memo']}"
    return docs.DraftDocument(
        DocKind.OPENING_BALANCE, str(values["customer"]), values["date"], amount=open_,  # type: ignore[arg-type]
        currency=values.get("currency"), fx_rate=values.get("fx_rate"),  # type: ignore[arg-type]
        due_on=values.get("due_date") or values["date"], reference=number, memo=memo,  # type: ignore[arg-type]
        source=SOURCE)
