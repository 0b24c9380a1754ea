"""Benchmark: syncing a large workbook, against the floor of its building blocks.

Builds a workbook of N invoices (one line each) + N receipts over C customers, then
prints in one run:
 (a) full sync into an empty store vs the floor: python-calamine read of the same file +
     sqlite3 executemany of the same rows + XlsxWriter writing the same cells (target <= 2);
 (b) a no-op re-sync vs the calamine read alone (target <= 1.3): the file is as the last
     sync wrote it and the store unchanged, which sync tells from the parts' CRC-32s and the
     store's version without reading a cell;
 (b') for comparison, a no-op sync of the same cells after another program re-saved the file
     (openpyxl here; every part's bytes differ): every cell is read and compared;
 (c) a sync after changing 1,000 rows vs the floor of (a);
 (d) peak memory (max RSS) of the process.

    pip install -e '.[bench]' && python bench/sync.py [--invoices 100000] [--receipts 100000] [--customers 5000]
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import xlsxwriter
from python_calamine import CalamineWorkbook

from xlar.schema.sheets import CUSTOMERS, INVOICE_LINES, INVOICES, RECEIPTS
from xlar.store.engine import Store
from xlar.store.settings import write_settings
from xlar.sync.engine import sync_workbook
from xlar.workbook.template import HEADER_ROW, build_template

AS_OF = date(2026, 6, 30)


def build_input(path: Path, invoices: int, receipts: int, customers: int) -> None:
    build_template(path, "en")
    wb = openpyxl.load_workbook(path)
    rng = random.Random(3)
    sheets = {  # rows by column key: they follow the sheets' declarations
        CUSTOMERS: [{"code": f"C{i:05d}", "name": f"Customer {i}", "currency": "CNY"} for i in range(customers)],
        INVOICES: [{"number": f"T{i}", "kind": "invoice", "date": date(2026, 1, 1) + timedelta(days=rng.randint(0, 150)),
                    "customer": f"C{rng.randrange(customers):05d}", "status": "posted"} for i in range(invoices)],
        INVOICE_LINES: [{"invoice": f"T{i}", "line": 1, "item": "ITEM", "qty": rng.randint(1, 50),
                         "unit_price": rng.randint(100, 99999) / 100, "tax_rate": 0.13} for i in range(invoices)],
        RECEIPTS: [{"number": f"R{i}", "date": date(2026, 1, 1) + timedelta(days=rng.randint(0, 170)),
                    "customer": f"C{rng.randrange(customers):05d}", "method": "bank",
                    "amount": rng.randint(100, 999999) / 100, "status": "posted"} for i in range(receipts)],
    }
    for schema, rows in sheets.items():
        ws = wb[schema.name]
        at = {col.key: c for c, col in enumerate(schema.columns, start=1)}
        for r, row in enumerate(rows, start=HEADER_ROW + 1):
            for key, value in row.items():
                ws.cell(r, at[key], value)
    wb.save(path)


def floor(path: Path, tmp: Path) -> float:
    """Read with calamine, insert the rows with executemany, write the cells with XlsxWriter."""
    t = time.perf_counter()
    book = CalamineWorkbook.from_path(str(path))
    grids = {name: book.get_sheet_by_name(name).to_python() for name in ("Customers", "Invoices",
                                                                          "InvoiceLines", "Receipts")}
    db = sqlite3.connect(tmp / "floor.db")
    for name, grid in grids.items():
        grid = grid[HEADER_ROW - 1:]   # the headers and rows, below the legend
        width = len(grid[0])
        db.execute(f"CREATE TABLE {name} ({', '.join(f'c{i}' for i in range(width))})")
        db.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in range(width))})",
                       [[str(v) if isinstance(v, date) else v for v in row] for row in grid[1:]])
    db.commit()
    db.close()
    out = xlsxwriter.Workbook(str(tmp / "floor.xlsx"), {"constant_memory": True})
    for name, grid in grids.items():
        ws = out.add_worksheet(name)
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                if value not in ("", None):
                    ws.write(r, c, value)
    out.close()
    return time.perf_counter() - t


def read_only(path: Path) -> float:
    t = time.perf_counter()
    book = CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()
    return time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "AR.xlsx"
        t = time.perf_counter()
        build_input(path, args.invoices, args.receipts, args.customers)
        print(f"input: {args.invoices:,} invoices + {args.receipts:,} receipts over {args.customers:,} customers "
              f"built in {time.perf_counter() - t:.1f} s")
        store = Store.connect(f"sqlite:///{tmp / 'xlar.db'}")
        store.upgrade()
        with store.write() as conn:
            write_settings(conn, {"base_currency": "CNY"}, "bench")
        t_floor = floor(path, tmp)
        t = time.perf_counter()
        first = sync_workbook(path, store, "bench", as_of=AS_OF)
        t_full = time.perf_counter() - t
        print(f"(a) full sync {t_full:.1f} s ({first.summary()}) vs floor {t_floor:.1f} s: "
              f"ratio {t_full / t_floor:.2f} (target <= 2)")
        t_read = read_only(path)
        t = time.perf_counter()
        noop = sync_workbook(path, store, "bench", as_of=AS_OF)
        t_noop = time.perf_counter() - t
        print(f"(b) no-op sync {t_noop:.1f} s ({noop.summary()}) vs calamine read {t_read:.1f} s: "
              f"ratio {t_noop / t_read:.2f} (target <= 1.3)")
        openpyxl.load_workbook(path).save(path)
        t = time.perf_counter()
        resaved = sync_workbook(path, store, "bench", as_of=AS_OF)
        t_resaved = time.perf_counter() - t
        print(f"(b') no-op sync of a re-saved file {t_resaved:.1f} s ({resaved.summary()}) vs calamine read "
              f"{t_read:.1f} s: ratio {t_resaved / t_read:.2f} (no target)")
        wb = openpyxl.load_workbook(path)
        ws = wb["Customers"]
        phone = [c.value for c in ws[HEADER_ROW]].index("Phone") + 1
        for r in range(HEADER_ROW + 1, min(1000, args.customers) + HEADER_ROW + 1):
            ws.cell(r, phone, f"555-{r}")
        wb.save(path)
        t = time.perf_counter()
        changed = sync_workbook(path, store, "bench", as_of=AS_OF)
        t_changed = time.perf_counter() - t
        print(f"(c) sync after changing {min(1000, args.customers):,} rows {t_changed:.1f} s "
              f"({changed.summary()}) vs floor {t_floor:.1f} s: ratio {t_changed / t_floor:.2f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"(d) peak memory {peak:,.0f} MiB")
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
