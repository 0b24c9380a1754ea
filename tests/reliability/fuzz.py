"""Bad input on purpose (issue 9, "proof under load"): malformed inputs against the workbook
reader, the sync, and the importers, counted as tried / crashes / rows lost.

    python -m tests.reliability.fuzz [--inputs 500] [--seed 1] [--targets a,b] [--store-url URL]

Targets: book_read (read_workbook), book_sync (sync_workbook into a store), book_sync_file
(sync_workbook of a damaged file), bank_csv, mt940, camt053 and bank_sample (parse_statement;
every 4th also through import_statement), opening (import_opening, CSV and xlsx). Inputs
come from a seeded random.Random (no hypothesis: its .example() is not reproducible): a
seed gives the same inputs on every machine.

The rules:
- An input is one malformed thing — a bad cell, row, header, XML part or file — among valid
  rows generated around it (the kinds: wrong types, missing and duplicated headers, merged
  cells, formulas, error values, 32k-character strings, huge and negative numbers, dates
  before 1900, unknown enum values, control characters, entity bombs, truncated and
  corrupted zips and files, random bytes, wrong encodings).
- A crash is any exception but the product's user error (XlarError) with a one-line
  message, or no answer within judge.TIME_LIMIT seconds (an alarm in the main thread; a
  hang inside C code is caught when it returns). An issue whose message is not one line is
  counted apart (untidy): it breaks the Errors sheet's and the CLI's one line per issue.
- Rows lost are the valid rows that did not come through intact: not in the parse result,
  not among the sheet's rows read, not in the store after a sync (and after a second sync
  of the workbook the first one wrote) or an import. A valid row held back with an issue
  is lost, except in a damaged file (a workbook without its styles has no dates), where
  it may be held with an issue on its sheet. Refusing the whole file with a one-line XlarError, or the
  whole sheet with a sheet-level issue (XLAR-E120..E122; E121 or E122 for an opening file),
  loses nothing: the user is told and nothing half-done is kept. The bank parsers refuse a
  statement whole when one entry is bad, by design. A truncated file's valid rows are the
  ones wholly before the cut; a file damaged at random bytes is checked for crashes only.
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from tests.reliability.fuzz_bank import TextInput, bank_inputs, parsed, sample_inputs
from tests.reliability.fuzz_book import Keys, read_outcomes
from tests.reliability.fuzz_opening import opening_outcomes
from tests.reliability.fuzz_sync import sync_file_outcomes, sync_outcomes
from tests.reliability.judge import Found, Outcome, judge
from tests.reliability.xlsx import Template
from xlar.domain.money import from_minor
from xlar.services.bank import import_statement
from xlar.store.engine import Store
from xlar.store.settings import write_settings
from xlar.store.tables import bank_lines
from xlar.workbook.template import build_template

SETTINGS = {"company": "Fuzz Co.", "base_currency": "CNY", "current_period": "2026-03"}
SHARES = {"book_read": 20, "book_sync": 14, "book_sync_file": 4, "bank_csv": 13, "mt940": 11, "camt053": 13,
          "bank_sample": 4, "opening": 21}
IMPORT_EVERY = 4              # every 4th bank input also goes through import_statement into a store
StoreFactory = Callable[[], AbstractContextManager[Store]]


@dataclass(slots=True)
class FuzzFigures:
    """What a run tried and what went wrong: the figures issue 9 asks for, and each failure."""

    tried: int = 0
    crashes: int = 0
    rows_lost: int = 0
    untidy: int = 0               # inputs that gave an issue whose message is not one line
    failures: list[str] = field(default_factory=list)    # each crash or loss, with the input that caused it
    by_target: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, target: str, outcome: Outcome) -> None:
        self.tried += outcome.tried
        self.by_target[target] += outcome.tried
        if outcome.crash is not None:
            self.crashes += 1
            self.failures.append(f"CRASH {outcome.case[:300]} -> {outcome.crash}")
        elif outcome.lost:
            self.rows_lost += outcome.lost
            self.failures.append(f"LOST {outcome.lost} {outcome.case[:300]}")
        if outcome.untidy is not None:
            self.untidy += 1
            self.failures.append(f"UNTIDY {outcome.case[:300]} -> issue {outcome.untidy!r}")

    def summary(self) -> str:
        return (f"malformed inputs tried {self.tried} / crashes {self.crashes} / rows lost {self.rows_lost}"
                f" (issues not on one line {self.untidy}; {self.seconds:.1f} s; "
                + ", ".join(f"{t} {n}" for t, n in sorted(self.by_target.items())) + ")")


def sqlite_stores(folder: Path) -> StoreFactory:
    """A new migrated SQLite store in FOLDER for each call."""
    count = itertools.count()

    @contextmanager
    def make() -> Iterator[Store]:
        store = Store.connect(f"sqlite:///{folder / f'fuzz{next(count)}.db'}")
        try:
            store.upgrade()
            with store.write() as conn:
                write_settings(conn, SETTINGS, "setup")
            yield store
        finally:
            store.dispose()
    return make


def pg_stores(url: str) -> StoreFactory:
    """A new migrated store in a fresh schema of the PostgreSQL server at URL for each call."""

    @contextmanager
    def make() -> Iterator[Store]:
        schema = f"xlar_fuzz_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        store = Store.connect(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
        try:
            store.upgrade()
            with store.write() as conn:
                write_settings(conn, SETTINGS, "setup")
            yield store
        finally:
            store.dispose()
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()
    return make


def split(inputs: int, targets: Collection[str]) -> dict[str, int]:
    """INPUTS shared among TARGETS by their SHARES (each gets at least one)."""
    shares = {name: share for name, share in SHARES.items() if name in targets}
    total = sum(shares.values())
    counts = {name: max(1, inputs * share // total) for name, share in shares.items()}
    first = next(iter(counts))
    counts[first] += max(0, inputs - sum(counts.values()))
    return counts


def _bank_stored(store: Store, item: TextInput, source: str) -> Found:
    with store.write() as conn:
        import_statement(conn, item.data, source, "fuzz", fmt=item.fmt)
        b = bank_lines.c
        rows = conn.execute(sa.select(b.reference, b.amount_minor, b.currency).where(b.source == source)).all()
    return Found(frozenset(f"{ref or ''}|{from_minor(minor, cur)}" for ref, minor, cur in rows))


def bank_outcomes(target: str, rng: random.Random, n: int, stores: StoreFactory) -> Iterator[Outcome]:
    items = sample_inputs(rng, n) if target == "bank_sample" else bank_inputs(target, rng, n)
    with stores() as store:
        for i, item in enumerate(items):
            outcome = judge(item.case, item.expected, lambda item=item: parsed(item))  # type: ignore[misc]
            yield outcome
            if i % IMPORT_EVERY == 0 and outcome.crash is None:
                yield judge(f"{item.case} (imported)", item.expected,
                            lambda item=item, i=i: _bank_stored(store, item, f"{target}-{i}.dat"),  # type: ignore[misc]
                            tried=0)


def run_fuzz(inputs: int, seed: int, workdir: Path, store_factory: StoreFactory | None = None,
             targets: Collection[str] = tuple(SHARES)) -> FuzzFigures:
    """Try INPUTS malformed inputs made from SEED (files go to WORKDIR) against TARGETS; count
    crashes and rows lost. STORE_FACTORY makes an empty migrated store per call (default: SQLite
    files in WORKDIR)."""
    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    stores = store_factory or sqlite_stores(workdir)
    counts = split(inputs, targets)
    template = Template(build_template(workdir / "template.xlsx", "en"))
    keys = Keys()
    figures = FuzzFigures()

    def rng(target: str) -> random.Random:
        return random.Random(f"{seed}:{target}")

    runs: dict[str, Callable[[], Iterator[Outcome]]] = {
        "book_read": lambda: read_outcomes(rng("book_read"), counts["book_read"], workdir, template, keys),
        "book_sync": lambda: sync_outcomes(rng("book_sync"), counts["book_sync"], workdir, template, keys, stores),
        "book_sync_file": lambda: sync_file_outcomes(rng("book_sync_file"), counts["book_sync_file"], workdir,
                                                     template, keys, stores),
        "opening": lambda: opening_outcomes(rng("opening"), counts["opening"], workdir / "opening", stores),
        **{name: (lambda name=name: bank_outcomes(name, rng(name), counts[name], stores))  # type: ignore[misc]
           for name in ("bank_csv", "mt940", "camt053", "bank_sample")},
    }
    for target in counts:
        for outcome in runs[target]():
            figures.add(target, outcome)
    figures.seconds = time.perf_counter() - started
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="kept afterwards [default: a temporary folder]")
    parser.add_argument("--show", type=int, default=20, help="failures to list")
    parser.add_argument("--targets", default=",".join(SHARES), help="comma-separated [default: all]")
    parser.add_argument("--store-url", default=None, help="a PostgreSQL server: each store is a fresh "
                        "schema there [default: SQLite files in the work folder]")
    args = parser.parse_args(argv)
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="xlar-fuzz-"))
    stores = pg_stores(args.store_url) if args.store_url else None
    try:
        figures = run_fuzz(args.inputs, args.seed, folder, stores, args.targets.split(","))
    finally:
        if args.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)
    for failure in figures.failures[: args.show]:
        print(failure)
    print(figures.summary())
    return 0 if figures.crashes == figures.rows_lost == figures.untidy == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
