"""Malformed workbooks synced into a store (`xlar sync`), end to end.

A batch workbook holds BATCH bad rows, each one input, spread over the sheets among good
rows; after the sync every good row must be in the store, and a second sync of the
workbook the first one wrote must keep them all. Header and file damage need a workbook
each (they touch everything in it), so they come one to a sync.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tests.reliability.badvalues import XCell, text
from tests.reliability.book_damage import FILE_KINDS, SHEET_KINDS, damage_file, damage_sheet
from tests.reliability.fuzz_book import PLANS, ROW_KINDS, Keys, Sheetful, bad_row
from tests.reliability.judge import WHOLE_SHEET, Found, Outcome, judge
from tests.reliability.xlsx import Template
from xlar.store import tables as t
from xlar.store.engine import Store
from xlar.sync.engine import sync_workbook

USER = "fuzz"
AS_OF = date(2026, 3, 31)
BATCH = 8
SYNC_SHEETS = ("Customers", "PaymentTerms", "FxRates", "Receipts", "Contacts", "Invoices", "InvoiceLines")
SINGLE_SHARE = 0.1            # of the sync inputs: header damage, one workbook each
ANYONE = text("{customer}")   # in a bad row: the customer of the book it lands in


@dataclass(frozen=True, slots=True)
class BadRow:
    sheet: str
    kind: str
    detail: str
    cells: list[XCell | None]
    span: list[int]

    @property
    def case(self) -> str:
        return f"book_sync {self.kind} on {self.sheet}: {self.detail}"


def store_keys(conn: Connection) -> set[str]:
    """Every key the good rows could leave in the store, as 'Sheet:key'."""
    d = t.documents.c
    found = {f"Customers:{c}" for c in conn.execute(sa.select(t.customers.c.code)).scalars()}
    found |= {f"PaymentTerms:{c}" for c in conn.execute(sa.select(t.payment_terms.c.code)).scalars()}
    found |= {f"FxRates:{c}/{p}" for c, p in conn.execute(sa.select(t.fx_rates.c.currency, t.fx_rates.c.period))}
    found |= {f"Contacts:{r}" for r in conn.execute(sa.select(t.contacts.c.result)).scalars()}
    found |= {f"InvoiceLines:{i}" for i in conn.execute(sa.select(t.document_lines.c.item)).scalars()}
    for kind, memo in conn.execute(sa.select(d.kind, d.memo).where(d.kind.in_(["receipt", "invoice"]))):
        found.add(f"{'Receipts' if kind == 'receipt' else 'Invoices'}:{memo}")
    return found


class Book:
    """One sync workbook being planned: its sheets' rows, and the good keys in it."""

    def __init__(self, keys: Keys, tag: str) -> None:
        self.keys, self.tag = keys, tag
        self.sheets: dict[str, Sheetful] = {}
        self.customer = self.good("Customers")

    def good(self, sheet: str) -> str:
        if sheet == "InvoiceLines":   # a good line needs its good invoice
            sheet = "Invoices"
        key = self.keys.new(sheet, self.tag)
        self._sheet(sheet).add_good(key, getattr(self, "customer", key))
        if sheet == "Invoices":
            self._sheet("InvoiceLines").add_good(key, self.customer)
        return key

    def _sheet(self, name: str) -> Sheetful:
        return self.sheets.setdefault(name, Sheetful(PLANS[name]))

    def bad(self, row: BadRow) -> None:
        """A good row, then ROW: naming this book's customer, so that it goes as far as it can."""
        self.good(row.sheet)
        cells = [text(self.customer) if cell == ANYONE else cell for cell in row.cells]
        self._sheet(row.sheet).add_bad(cells, row.span)

    @property
    def expected(self) -> list[str]:
        return [f"{name}:{key}" for name, sheet in self.sheets.items() for key in sheet.good]

    def parts(self, template: Template) -> dict[str, bytes]:
        return {template.sheets[name]: sheet.part(template) for name, sheet in self.sheets.items()}


def synced(store: Store, path: Path, whole_sheet: str | None = None,
           held: Sequence[str] = ()) -> Found:
    """Sync PATH; the good rows in the store. WHOLE_SHEET: the sheet whose refusal whole is allowed.
    HELD: good keys ('Sheet:key') that may instead be held back, if their sheet has an issue."""
    report = sync_workbook(path, store, USER, as_of=AS_OF)
    with store.read() as conn:
        keys = store_keys(conn)
    told = {i.sheet for i in report.issues}
    if "Invoices" in told:        # an invoice held back holds its lines without an issue of their own
        told.add("InvoiceLines")
    keys |= {k for k in held if k.partition(":")[0] in told}
    whole = next((str(i) for i in report.issues if i.code in WHOLE_SHEET and i.sheet == whole_sheet), None)
    return Found(frozenset(keys), whole, tuple(i.message for i in report.issues))


def _bad_rows(rng: random.Random, n: int, keys: Keys) -> list[BadRow]:
    rows = []
    for i in range(n):
        kind, sheet = ROW_KINDS[i % len(ROW_KINDS)], rng.choice(SYNC_SHEETS)
        cells, detail, span = bad_row(rng, PLANS[sheet], kind, keys.new(sheet, "bad"), ANYONE.value)
        rows.append(BadRow(sheet, kind, detail, cells, span))
    return rows


def _batch(rows: Sequence[BadRow], store: Store, template: Template, keys: Keys, path: Path,
           tag: str) -> Iterator[Outcome]:
    book = Book(keys, tag)
    for row in rows:
        book.bad(row)
    for name in list(book.sheets):
        book.good(name)
    template.write(path, book.parts(template))
    case = f"book_sync batch {tag}: " + " | ".join(r.case.removeprefix("book_sync ") for r in rows)
    first = judge(case, book.expected, lambda: synced(store, path), tried=len(rows))
    if first.crash is None:
        yield first
        yield judge(f"book_sync again {tag} (the workbook the sync wrote)", book.expected,
                    lambda: synced(store, path), tried=0)
        return
    for n, row in enumerate(rows):   # which of them crashed it: each alone
        alone = Book(keys, f"{tag}.{n}")
        alone.bad(row)
        template.write(path, alone.parts(template))
        yield judge(row.case, alone.expected, lambda: synced(store, path))


def _single(rng: random.Random, kind: str, store: Store, template: Template, keys: Keys, path: Path,
            tag: str) -> Outcome:
    sheet = rng.choice(SYNC_SHEETS)
    book = Book(keys, tag)
    for _ in range(rng.randint(1, 3)):
        book.good(sheet)
    changed = book.parts(template)
    detail, whole = kind, None
    if kind in SHEET_KINDS:
        damaged, detail, _good = damage_sheet(rng, kind, template, book.sheets[sheet])
        changed |= damaged
        whole = sheet
    template.write(path, changed)
    expected = book.expected
    if kind in FILE_KINDS:
        detail, kept = damage_file(rng, kind, template, path, changed, expected, sheet)
        expected = kept
    held = expected if kind in FILE_KINDS else []
    target = "book_sync_file" if kind in FILE_KINDS else "book_sync"
    return judge(f"{target} {kind} on {sheet}: {detail}", expected, lambda: synced(store, path, whole, held))


def sync_outcomes(rng: random.Random, n: int, folder: Path, template: Template, keys: Keys,
                  stores: Callable[[], AbstractContextManager[Store]]) -> Iterator[Outcome]:
    """N bad rows in batches, and header damage one workbook at a time."""
    singles = round(n * SINGLE_SHARE)
    path = folder / "sync.xlsx"
    with stores() as store:
        rows = _bad_rows(rng, n - singles, keys)
        for b in range(0, len(rows), BATCH):
            path.unlink(missing_ok=True)
            yield from _batch(rows[b:b + BATCH], store, template, keys, path, f"b{b // BATCH}")
        for i in range(singles):
            path.unlink(missing_ok=True)
            yield _single(rng, SHEET_KINDS[i % len(SHEET_KINDS)], store, template, keys, path, f"s{i}")


def sync_file_outcomes(rng: random.Random, n: int, folder: Path, template: Template, keys: Keys,
                       stores: Callable[[], AbstractContextManager[Store]]) -> Iterator[Outcome]:
    """N damaged workbook files (a cut zip, a broken part, ...) synced one at a time."""
    path = folder / "sync-file.xlsx"
    with stores() as store:
        for i in range(n):
            path.unlink(missing_ok=True)
            yield _single(rng, FILE_KINDS[i % len(FILE_KINDS)], store, template, keys, path, f"f{i}")
