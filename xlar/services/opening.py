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

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.codes import Code
from xlar.domain.documents import DocKind, DocStatus
from xlar.domain.drafts import DraftDocument
from xlar.domain.errors import InvalidDocument, Issue, NotFound, XlarError
from xlar.imports.opening import columns_of, read_rows
from xlar.schema.cells import CellError, is_blank, parse_cell
from xlar.schema.columns import Kind
from xlar.schema.records import OpeningBalanceRow
from xlar.schema.sheets import OPENING_BALANCES
from xlar.services import documents as docs
from xlar.store.tables import customers, documents

COLUMNS = OPENING_BALANCES.columns
SOURCE = "opening balance import"


@dataclass(slots=True)
class Imported:
    documents: list[str] = field(default_factory=list)     # numbers of the OB-… documents posted
    skipped: list[str] = field(default_factory=list)       # original numbers imported before
    issues: list[Issue] = field(default_factory=list)


def import_opening(conn: Connection, path: Path, user: str) -> Imported:
    """Import the open items in PATH (see the module's doc) inside the caller's transaction."""
    rows = read_rows(path)
    name = path.name
    result = Imported()
    layout, result.issues = columns_of(rows, name)
    if layout is None:
        return result
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
            result.issues.append(Issue(name, excel_row, "Original number", Code.E118,
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


def _draft(values: dict[str, object], source: str) -> DraftDocument:
    row = OpeningBalanceRow.of(values)
    amount, open_, number = row.amount, row.open_amount, row.number
    if open_ == 0:
        raise InvalidDocument(f"{number}: nothing is open (open amount 0): leave the row out")
    if (amount < 0) != (open_ < 0) or abs(open_) > abs(amount):
        raise InvalidDocument(f"{number}: open amount {open_} must have the sign of the amount {amount} "
                              "and not exceed it")
    memo = f"opening balance of {number} (original {amount}) from {source}"
    if row.memo:
        memo += f": {row.memo}"
    return DraftDocument(
        DocKind.OPENING_BALANCE, row.customer, row.date, amount=open_, currency=row.currency, fx_rate=row.fx_rate,
        due_on=row.due_date or row.date, reference=number, memo=memo, source=SOURCE)
