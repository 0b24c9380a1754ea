"""Benchmark: 10,000 =AR_BALANCE cells over the reports bench's book (10,000 customers, 100,000 invoices).

Times, as of 2025-12-31, best of --repeat, next to the set-based balances report (one query
for every customer, xlar.reports.ledger.balances) measured in the same run:
- cold: a recalculation of --cells AR_BALANCE cells on an empty cache (the snapshot's one statement included);
- warm: the same cells again within the recalculation (Python time per 10,000 cells; target <= 0.2 s);
- next recalculation: after a pause, the change counter checked (store unchanged);
- --formulas: a workbook of --cells =AR_BALANCE(A…) formulas computed by the `formulas` package
  (test-only) with our functions registered: the store statements it costs, and its time.
The statements each phase runs are counted (SQLite's explicit BEGIN is transaction control, not counted).

    python bench/udfs.py [--customers 10000] [--invoices 100000] [--cells 10000] [--repeat 3]
                         [--postgres URL] [--formulas]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aging import best
from reports import AS_OF, generate, load

from tests.counting import Clock, Statements
from xlar.excel import udfs
from xlar.reports import ledger as reports
from xlar.reports.facts import FACTS
from xlar.store.engine import Store


def recalc(codes: list[str]) -> list[object]:
    return [udfs.AR_BALANCE(code, AS_OF) for code in codes]


def measure(store: Store, cells: int, repeat: int, with_formulas: bool, tag: str) -> None:
    os.environ["XLAR_STORE"] = store.url
    with store.read() as conn:
        codes = [c for (c,) in conn.execute(sa.text("SELECT code FROM customers ORDER BY code"))]
    asked = [codes[i % len(codes)] for i in range(cells)]
    base, found = best(lambda: _balances(store), repeat)
    print(f"[{tag}] baseline: balances report, {len(found):,} rows: {base:.3f} s", flush=True)
    clock = Clock()
    FACTS.clock = clock

    def cold() -> list[object]:
        FACTS.forget()
        return recalc(asked)
    cold_s, values = best(cold, repeat)
    with Statements() as n_cold:
        cold()
    warm_s, _ = best(lambda: recalc(asked), repeat)
    with Statements() as n_warm:
        recalc(asked)
    clock.now += 10

    def next_recalc() -> list[object]:
        clock.now += 10
        return recalc(asked)
    next_s, _ = best(next_recalc, repeat)
    with Statements() as n_next:
        next_recalc()
    assert all(isinstance(v, float) for v in values), "a cell gave an error code"
    per = 10_000 / cells
    print(f"[{tag}] {cells:,} AR_BALANCE cells over {len(codes):,} customers:")
    print(f"  cold (snapshot loaded): {cold_s:.3f} s = {cold_s / base:.2f}x baseline, {n_cold.count} statement(s)")
    print(f"  warm (same recalc):     {warm_s:.3f} s, {warm_s * per:.3f} s per 10,000 cells, {n_warm.count} statement(s)")
    print(f"  next recalc (counter):  {next_s:.3f} s = {next_s / base:.2f}x baseline, {n_next.count} statement(s)")
    if with_formulas:
        _formulas(asked, tag)


def _balances(store: Store) -> list[reports.Balance]:
    with store.read() as conn:
        return reports.balances(conn, AS_OF)


def _formulas(asked: list[str], tag: str) -> None:
    import openpyxl

    from tests.formulas_udfs import evaluate, registered

    registered(["AR_BALANCE"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cells.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        ws["C1"] = AS_OF
        for r, code in enumerate(asked, start=1):
            ws.cell(r, 1, code)
            ws.cell(r, 2, f"=AR_BALANCE(A{r},$C$1)")
        wb.save(path)
        FACTS.forget()
        t = time.perf_counter()
        with Statements() as n:
            cells = evaluate(str(path))
        took = time.perf_counter() - t
    answers = [v for k, v in cells.items() if re.search(r"!B\d+$", k)]
    errors = sum(1 for v in answers if not isinstance(v, float))
    print(f"  formulas workbook of {len(asked):,} cells: {took:.1f} s (the evaluator's own time included), "
          f"{n.count} statement(s), {len(answers):,} cells computed, {errors} of them not a number")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=None, help="also run on this PostgreSQL URL (an empty database)")
    parser.add_argument("--formulas", action="store_true", help="also evaluate a workbook with the formulas package")
    args = parser.parse_args()
    data = generate(args.customers, args.invoices)
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        targets += [("postgresql", args.postgres)] if args.postgres else []
        for tag, url in targets:
            store = Store.connect(url)
            store.upgrade()
            load(store, data)
            measure(store, args.cells, args.repeat, args.formulas, tag)
            FACTS.forget()
            store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
