"""Malformed workbooks: the template with bad cells, rows, headers or parts, read and synced.

`book_read` reads one damaged workbook per input (read_workbook): its good rows must be
among the sheet's rows. `book_sync` syncs a workbook holding several bad rows (one input
each) among good rows into a store and counts the good rows there; a second sync of the
workbook it wrote must keep them. A batch that crashes is re-run input by input to name
the input that crashed it.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tests.reliability.badvalues import CELL_KINDS, NUMERIC, XCell, day, num, shown, text
from tests.reliability.book_damage import FILE_KINDS, SHEET_KINDS, damage_file, damage_sheet
from tests.reliability.judge import Found, Outcome, judge, sheet_found
from tests.reliability.xlsx import Template, header, layout, row_of
from xlar.schema.columns import Kind, SheetSchema
from xlar.schema.sheets import (
    CONTACTS,
    CUSTOMERS,
    FX_RATES,
    INVOICE_LINES,
    INVOICES,
    PAYMENT_TERMS,
    RECEIPTS,
)
from xlar.workbook.package import column_letters
from xlar.workbook.reader import read_workbook

FX_CURRENCIES = ("USD", "EUR", "HKD", "JPY", "GBP", "AUD", "CAD", "SGD", "CHF")
ROW_KINDS = (*CELL_KINDS, "merged_cells", "structure")


@dataclass(frozen=True, slots=True)
class Plan:
    """How one sheet's good rows look and how a read row is known again."""

    schema: SheetSchema
    good: Callable[[str, str], dict[str, XCell]]      # (key, customer code) -> the row's cells
    key: Callable[[dict[str, object]], str]            # a read row's values -> its key


def _fx(key: str) -> tuple[str, str]:
    currency, _, period = key.partition("/")
    return currency, period


PLANS = {p.schema.name: p for p in (
    Plan(CUSTOMERS, lambda k, _c: {"code": text(k), "name": text(f"Customer {k}"), "currency": text("CNY"),
                                    "closing_day": num(25), "credit_limit": num(5000.5), "status": text("active")},
         lambda v: str(v["code"])),
    Plan(PAYMENT_TERMS, lambda k, _c: {"code": text(k), "name": text("net 30"), "basis": text("invoice_date"),
                                        "days": num(30)}, lambda v: str(v["code"])),
    Plan(FX_RATES, lambda k, _c: {"currency": text(_fx(k)[0]), "period": text(_fx(k)[1]), "rate": num(7.1)},
         lambda v: f"{v['currency']}/{v['period']}"),
    Plan(RECEIPTS, lambda k, c: {"number": text(f"R{k}"), "date": day(date(2026, 3, 10)), "customer": text(c),
                                  "method": text("bank"), "amount": num(100.5), "memo": text(k)},
         lambda v: str(v["memo"])),
    Plan(CONTACTS, lambda k, c: {"customer": text(c), "date": day(date(2026, 3, 9)), "method": text("phone"),
                                  "result": text(k)}, lambda v: str(v["result"])),
    Plan(INVOICES, lambda k, c: {"number": text(k), "date": day(date(2026, 3, 5)), "customer": text(c),
                                  "memo": text(k)}, lambda v: str(v["memo"])),
    Plan(INVOICE_LINES, lambda k, _c: {"invoice": text(k), "line": num(1), "item": text(k), "qty": num(2),
                                        "unit_price": num(50)}, lambda v: str(v["item"])),
)}
READ_SHEETS = tuple(PLANS)


@dataclass(slots=True)
class Keys:
    """Unique keys for a whole run (rows accumulate in one store)."""

    counter: Iterator[int] = field(default_factory=itertools.count)

    def new(self, sheet: str, tag: str) -> str:
        n = next(self.counter)
        if sheet == FX_RATES.name:
            month = n // len(FX_CURRENCIES)
            return f"{FX_CURRENCIES[n % len(FX_CURRENCIES)]}/{2000 + month // 12}-{month % 12 + 1:02d}"
        return f"G{tag}-{n}"


PREFERRED = {
    "huge_number": NUMERIC, "negative_number": NUMERIC, "pre_1900_date": (Kind.DATE,),
    "unknown_enum": (Kind.CHOICE, Kind.CODE), "long_text": (Kind.TEXT, Kind.CODE),
}


def bad_row(rng: random.Random, plan: Plan, kind: str, key: str, customer: str) -> tuple[list[XCell | None], str, list[int]]:
    """A row of PLAN's sheet damaged by KIND: (cells, what was done, columns to merge)."""
    schema = plan.schema
    cells = row_of(schema, plan.good(key, customer))
    columns = [i for i, col in enumerate(schema.columns) if not col.computed]
    liked = [i for i in columns if schema.columns[i].kind in PREFERRED.get(kind, ())]
    at = rng.choice(liked if liked and rng.random() < 0.8 else columns)
    if kind in CELL_KINDS:
        cells[at] = CELL_KINDS[kind](rng, schema.columns[at].kind)
        return cells, f"{schema.columns[at].en}={shown(cells[at])}", []   # type: ignore[arg-type]
    if kind == "merged_cells":
        span = list(range(at, min(at + rng.randint(2, 4), len(schema.columns))))
        for i in span[1:]:
            cells[i] = None
        return cells, f"merged over {', '.join(schema.columns[i].en for i in span)}", span
    what = rng.choice(["garbage _id", "garbage _rev", "cell far right", "only _id", "huge _id", "_id of nothing"])
    id_at = layout(schema).index("_id")
    if what == "garbage _id":
        cells[id_at] = rng.choice([text("abc"), num(1.5), num(-3), text("1 2"), XCell("b", "1")])
    elif what == "garbage _rev":
        cells[id_at + 1] = rng.choice([text("x:y"), text("::"), num(1e300), text("3:" + "f" * 5000)])
    elif what == "cell far right":
        cells += [None] * rng.randint(5, 200) + [text("far away")]
    elif what == "only _id":
        cells = [None] * id_at + [num(1)]
    elif what == "huge _id":
        cells[id_at] = rng.choice([num(1e300), text("99999999999999999999")])
    else:
        cells[id_at] = num(987654)
    return cells, what, []


@dataclass(slots=True)
class Sheetful:
    """Rows planned for one sheet: good keys, cells and merges."""

    plan: Plan
    rows: list[list[XCell | None]] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)
    good: list[str] = field(default_factory=list)

    def add_good(self, key: str, customer: str) -> None:
        self.rows.append(row_of(self.plan.schema, self.plan.good(key, customer)))
        self.good.append(key)

    def add_bad(self, cells: list[XCell | None], span: Sequence[int]) -> None:
        self.rows.append(cells)
        if span:
            r = len(self.rows) + 1
            self.merges.append(f"{column_letters(span[0])}{r}:{column_letters(span[-1])}{r}")

    def part(self, template: Template, head: Sequence[XCell | None] | None = None) -> bytes:
        return template.sheet(self.plan.schema.name, [list(head or header(self.plan.schema)), *self.rows],
                              self.merges)


# ---------------------------------------------------------------- read

def read_found(path: Path, plan: Plan, held_too: bool = False) -> Found:
    """The keys of the sheet's rows read; HELD_TOO: and of the rows held back with an issue (a damaged
    file may make good cells unreadable: a workbook without its styles has no dates)."""
    book = read_workbook(path)
    data = book.sheets.get(plan.schema.name)
    if data is None:
        return Found(frozenset(), messages=tuple(i.message for i in book.issues))
    keys = [plan.key(r.values) for r in data.rows]
    if held_too:
        named = {i.excel_row for i in data.issues}
        for excel_row, raw in data.held.items():
            values = {key: (raw[i] if i < len(raw) else None) for i, key in enumerate(data.layout)}
            if excel_row in named:
                keys.append(plan.key(values))
    return sheet_found(keys, book.issues, data.title)


def read_outcomes(rng: random.Random, n: int, folder: Path, template: Template, keys: Keys) -> Iterator[Outcome]:
    kinds = ROW_KINDS + SHEET_KINDS + FILE_KINDS
    path = folder / "read.xlsx"
    for i in range(n):
        kind = kinds[i % len(kinds)]
        plan = PLANS[rng.choice(READ_SHEETS)]
        sheet = Sheetful(plan)
        for _ in range(rng.randint(1, 3)):
            sheet.add_good(keys.new(plan.schema.name, "r"), "C1")
        detail = kind
        if kind in ROW_KINDS:
            cells, detail, span = bad_row(rng, plan, kind, keys.new(plan.schema.name, "x"), "C1")
            sheet.add_bad(cells, span)
        for _ in range(rng.randint(1, 3)):
            sheet.add_good(keys.new(plan.schema.name, "r"), "C1")
        changed = {template.sheets[plan.schema.name]: sheet.part(template)}
        if kind in SHEET_KINDS:
            changed, detail, sheet.good = damage_sheet(rng, kind, template, sheet)
        template.write(path, changed)
        if kind in FILE_KINDS:
            detail, sheet.good = damage_file(rng, kind, template, path, changed, sheet.good, plan.schema.name)
        yield judge(f"book_read {kind} on {plan.schema.name}: {detail}", sheet.good,
                    lambda plan=plan, held=kind in FILE_KINDS: read_found(path, plan, held))  # type: ignore[misc]
