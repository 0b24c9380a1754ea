"""Copy, paste, type over, sort and delete rows as an accountant does in Excel, then sync:
no store row the user did not edit may change or go (tests/test_row_identity_property.py runs
it under hypothesis; bench/reliability.py counts seeded random cases).

A store row X may change only when exactly one row carries X's _id and that row has X's key;
it may go only when no row carries X's _id; otherwise X stays exactly as it was.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import openpyxl

from tests.reliability.crash import ready_store, stores
from tests.sheets import add_rows, top_row
from xlar.schema.hashing import content_hash
from xlar.schema.sheets import INPUT_SHEETS
from xlar.store.engine import Store
from xlar.sync.context import Context
from xlar.sync.engine import adapters, sync_workbook
from xlar.sync.identity import key_of
from xlar.workbook.template import build_template

AS_OF = date(2026, 3, 31)
SHEETS = ("Customers", "PaymentTerms", "FxRates", "Invoices", "Receipts")
OPS = ("copy", "copy", "type", "delete", "swap")     # a copy is pasted below and one of its cells typed over
COLUMNS = ("Code", "Name", "Customer", "Currency", "Period", "Rate", "Days", "Memo", "Amount", "Invoice no.",
           "Receipt no.", "Date")
SCHEMAS = {s.name: s for s in INPUT_SHEETS}
# values typed over a cell: valid ones mostly, so that edits go through, and a few that are not
TYPED: dict[str, list[object]] = {
    "Code": ["K1", "K2", "C1", "X9"], "Name": ["Acme", "Beta", "新名称"], "Currency": ["CNY", "USD"],
    "Days": [10, 30, 45], "Rate": [7.1, 7.25], "Period": ["2026-02", "2026-03"], "Customer": ["C1", "C2", "C3"],
    "Memo": ["paid?", "check"], "Amount": [50, 100, 120], "Invoice no.": ["T9", "INV-2026-00001"],
    "Receipt no.": ["R9", "R1"], "Date": [date(2026, 3, 2)]}
Step = tuple[str, int, int, str, int]      # op, row a, row b, column, which typed value


def base_book(folder: Path) -> Path:
    path = build_template(folder / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": f"C{i}", "name": f"Customer {i}", "currency": "CNY"} for i in (1, 2, 3)])
    add_rows(path, "PaymentTerms", [{"code": "N30", "name": "net 30", "basis": "invoice_date", "days": 30},
                                    {"code": "N60", "name": "net 60", "basis": "invoice_date", "days": 60}])
    add_rows(path, "FxRates", [{"currency": "USD", "period": "2026-02", "rate": 7.2},
                               {"currency": "USD", "period": "2026-03", "rate": 7.3}])
    add_rows(path, "Invoices", [{"number": f"T{i}", "date": date(2026, 3, i), "customer": f"C{i}", "status": "draft"}
                                for i in (1, 2)])
    add_rows(path, "InvoiceLines", [{"invoice": f"T{i}", "line": 1, "item": "A", "qty": 1, "unit_price": 100}
                                    for i in (1, 2)])
    add_rows(path, "Receipts", [{"number": "R1", "date": date(2026, 3, 10), "customer": "C1", "amount": 100,
                                 "status": "draft"}])
    return path


def edit(path: Path, sheet: str, steps: list[Step]) -> tuple[list[str], dict[int, list[tuple[object, ...]]]]:
    """Apply STEPS to SHEET's rows as Excel would (hidden columns go with a copied or deleted
    row, not with a sort of the visible ones); returns the header and _id -> the rows carrying it."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    top = top_row(ws)
    header = [c.value for c in ws[top]]
    rows = [list(r) for r in ws.iter_rows(min_row=top + 1, values_only=True) if any(v is not None for v in r)]
    hidden = {header.index("_id"), header.index("_rev")}
    for op, a, b, column, pick in steps:
        if not rows:
            break
        i, j = a % len(rows), b % len(rows)
        typed = TYPED[column][pick % len(TYPED[column])]
        if op == "copy":
            rows.append(list(rows[i]))
            if column in header:
                rows[-1][header.index(column)] = typed
        elif op == "type" and column in header:
            rows[i][header.index(column)] = typed
        elif op == "delete":
            rows.pop(i)
        elif op == "swap":
            for c in range(len(header)):
                if c not in hidden:
                    rows[i][c], rows[j][c] = rows[j][c], rows[i][c]
    ws.delete_rows(top + 1, ws.max_row)
    for r, values in enumerate(rows, start=top + 1):
        for c, value in enumerate(values, start=1):
            ws.cell(r, c, value)
    wb.save(path)
    carriers: dict[int, list[tuple[object, ...]]] = {}
    for values in rows:
        row_id = values[header.index("_id")]
        if row_id not in (None, ""):
            carriers.setdefault(int(str(row_id).removesuffix(".0")), []).append(tuple(values))
    return header, carriers


def snapshot(store: Store, sheet: str) -> dict[int, tuple[tuple[object, ...], str]]:
    adapter = next(a for a in adapters() if a.sheet.name == sheet)
    with store.read() as conn:
        rows = adapter.load(conn, Context.load(conn, "alice"))
    return {r.id: (key_of(adapter.sheet, r.values), content_hash(adapter.sheet, r.values)) for r in rows}


def _same_key(shown: tuple[object, ...], stored: tuple[object, ...]) -> bool:
    return [str(s).removesuffix(".0") for s in shown] == [str(s) for s in stored]


def violations(sheet: str, header: list[str], carriers: dict[int, list[tuple[object, ...]]],
               before: dict[int, tuple[tuple[object, ...], str]],
               after: dict[int, tuple[tuple[object, ...], str]]) -> list[str]:
    """The store rows that changed or went though the user did not edit them (see the module doc)."""
    schema = SCHEMAS[sheet]
    found = []
    for row_id, (key, digest) in before.items():
        held_by = carriers.get(row_id, [])
        shown = [tuple(values[header.index(schema.by_key[k].en)] for k in schema.key) for values in held_by]
        if not held_by:
            if row_id in after and after[row_id] != (key, digest):
                found.append(f"{sheet} {key} changed though no row carries it")
        elif len(held_by) == 1 and _same_key(shown[0], key):
            if row_id not in after or after[row_id][0] != key:
                found.append(f"{sheet} {key}, edited in place, lost its key or went")
        elif after.get(row_id) != (key, digest):
            found.append(f"{sheet} {key} changed though the user did not edit it")
    return found


def one_case(store: Store, folder: Path, template: Path, sheet: str, steps: list[Step]) -> list[str]:
    """Sync TEMPLATE (a base book) into STORE, edit a copy of it by STEPS, sync it: what went wrong."""
    issues = sync_workbook(template, store, "alice", as_of=AS_OF).issues
    bad = [i for i in issues if i.code.startswith("XLAR-E")]
    if bad:
        return [f"the base book did not sync: {bad[0]}"]
    path = folder / "mine.xlsx"
    shutil.copyfile(template, path)
    before = snapshot(store, sheet)
    header, carriers = edit(path, sheet, steps)
    sync_workbook(path, store, "alice", as_of=AS_OF)
    return violations(sheet, header, carriers, before, snapshot(store, sheet))


@dataclass
class CopyPasteFigures:
    tried: int = 0
    changed_without_edit: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def random_steps(rng: random.Random) -> list[Step]:
    return [(rng.choice(OPS), rng.randrange(10), rng.randrange(10), rng.choice(COLUMNS), rng.randrange(10))
            for _ in range(rng.randint(1, 5))]


@contextmanager
def fresh_store(backend: str, folder: Path) -> Iterator[Store]:
    """A new store of BACKEND (a SQLite file in FOLDER, or a PostgreSQL schema dropped afterwards)."""
    folder.mkdir(parents=True, exist_ok=True)
    with stores(folder, [backend]) as found:
        if not found:
            raise RuntimeError(f"no {backend} store can be made here")
        store = ready_store(found[0][1])
        try:
            yield store
        finally:
            store.dispose()


def run_copy_paste(backend: str, cases: int, seed: int, workdir: Path) -> CopyPasteFigures:
    """CASES seeded random cases, each in a new store of BACKEND."""
    rng = random.Random(seed)
    figures = CopyPasteFigures()
    started = time.monotonic()
    base = workdir / "base"
    base.mkdir(parents=True, exist_ok=True)
    template = base_book(base)
    for n in range(cases):
        sheet, steps = rng.choice(SHEETS), random_steps(rng)
        folder = workdir / f"case{n}"
        folder.mkdir()
        book = shutil.copyfile(template, folder / "AR.xlsx")
        with fresh_store(backend, folder / "store") as store:
            found = one_case(store, folder, book, sheet, steps)
        figures.tried += 1
        figures.changed_without_edit += len(found)
        figures.failures += [f"case {n} ({sheet}, {steps}): {f}" for f in found]
    figures.seconds = time.monotonic() - started
    return figures
