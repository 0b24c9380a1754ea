"""Concurrency: several processes sync their own workbooks against one store at once.

Every worker is a process with its own workbook (a copy of one synced with the shared rows),
looping until the time is up: it types a new customer and two invoices (one posted, which
takes the next number from the series, one draft), posts one of its earlier drafts, writes a
token of its own into the contact of two shared customers (and now and then into the source
of a shared draft invoice), syncs, and notes in its journal which edits the sync took and
which came back as conflicts. Then every workbook is synced once more and checked against
the store and the audit log:

- no lost update: each shared row's updates, in the audit log's order, are exactly the edits
  the syncs took, each made on the very value the one before it left (an edit made on an
  older value must have come back as a conflict); the store and every workbook end with the
  last one; every row anyone added is in the store and in every workbook exactly once;
- no document number used twice, in the store or in any workbook;
- every conflict recorded: each edit that came back is on its workbook's Conflicts sheet.

    python -m tests.reliability.concurrency --processes 8 --seconds 60   # prints the figures
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from python_calamine import CalamineWorkbook

from tests.reliability.crash import (
    AS_OF,
    Edit,
    Key,
    Shown,
    book_view,
    check_book,
    mismatches,
    ready_store,
    run_on_each,
    store_view,
    type_into,
)
from xlar.store import tables as t
from xlar.store.engine import Store
from xlar.sync.engine import sync_workbook
from xlar.workbook.template import build_template

REPO = Path(__file__).resolve().parents[2]
SHARED_CUSTOMERS = [f"S{j}" for j in range(6)]
SHARED_DRAFTS = [f"SD{j}" for j in range(4)]
SEED_VALUE = "seed"
EDITED = {"Customers": "contact", "Invoices": "source"}   # the shared rows' column the workers edit


@dataclass(slots=True)
class ConcurrencyFigures:
    processes: int = 0
    syncs: int = 0                 # syncs that completed, all workers together
    lost_updates: int = 0          # edits or new rows the store lost, or edits made on a value never seen
    duplicate_numbers: int = 0     # document numbers shown on two documents (store or any workbook)
    conflicts_expected: int = 0    # edits made on a value the store had moved on from
    conflicts_recorded: int = 0    # ... of which on their workbook's Conflicts sheet
    failures: list[str] = field(default_factory=list)
    edits: int = 0                 # edits of shared rows typed
    accepted: int = 0              # ... which the store took
    added: int = 0                 # new rows typed
    sync_errors: int = 0           # syncs that failed (and were tried again)
    slowest: float = 0.0           # the longest a round waited for its sync, retries included
    seconds: float = 0.0

    @property
    def good(self) -> bool:
        return (self.lost_updates == self.duplicate_numbers == 0 and not self.failures
                and self.conflicts_expected == self.conflicts_recorded and self.syncs >= self.processes)

    def text(self) -> str:
        return (f"concurrent syncs {self.processes} / lost updates {self.lost_updates} / duplicate numbers "
                f"{self.duplicate_numbers} ({self.syncs} syncs; {self.added} rows added; {self.edits} edits of "
                f"shared rows, {self.accepted} taken, conflicts expected {self.conflicts_expected}, recorded "
                f"{self.conflicts_recorded}; {self.sync_errors} syncs failed; slowest sync {self.slowest:.1f} s; "
                f"{self.seconds:.0f} s)")


# ---- a worker (its own process) ----


def _typed(rng: random.Random, tag: str, drafts: list[str]) -> tuple[dict[str, list[dict[str, object]]],
                                                                      list[Edit], dict[str, Any]]:
    """One round of typing: the rows, the edits, and what the journal says of the new rows."""
    code = f"{tag}C"
    adds: dict[str, list[dict[str, object]]] = {
        "Customers": [{"code": code, "name": f"Customer {code}", "currency": "CNY"}],
        "Invoices": [], "InvoiceLines": []}
    new = {"customers": [code], "invoices": {}}
    for j, (customer, status) in enumerate(((code, "posted"), (rng.choice(SHARED_CUSTOMERS), "draft"))):
        memo, number = f"{tag}I{j}", f"{tag}T{j}"
        adds["Invoices"].append({"number": number, "date": AS_OF.replace(day=rng.randint(1, 28)),
                                 "customer": customer, "status": status, "memo": memo})
        adds["InvoiceLines"].append({"invoice": number, "line": 1, "item": "X", "qty": rng.randint(1, 9),
                                     "unit_price": rng.randint(1, 900)})
        new["invoices"][memo] = status
    edits = [Edit("Customers", ("code", c), {"contact": f"{tag}E{c}"}) for c in rng.sample(SHARED_CUSTOMERS, 2)]
    if rng.random() < 0.5:
        edits.append(Edit("Invoices", ("memo", rng.choice(SHARED_DRAFTS)), {"source": f"{tag}S"}))
    if drafts:
        edits.append(Edit("Invoices", ("memo", drafts.pop(0)), {"status": "posted"}))
    return adds, edits, new


def _round(store: Store, book: Path, rng: random.Random, user: str, tag: str, drafts: list[str],
           deadline: float) -> dict[str, Any]:
    """Type, sync (again after a failure, until the deadline's grace is over), and journal it."""
    adds, edits, new = _typed(rng, tag, drafts)
    before = type_into(book, adds, edits)
    entry: dict[str, Any] = {"tag": tag, "new": new, "errors": [], "edits": [
        {"sheet": e.sheet, "row": e.match[1], "column": column, "token": token, "base": old[column]}
        for e, old in zip(edits, before, strict=True) for column, token in e.changes.items()]}
    started = time.time()
    while True:
        try:
            report = sync_workbook(book, store, user, as_of=AS_OF)
            break
        except Exception as exc:  # noqa: BLE001  (a sync that fails is a finding: journal it and try again)
            entry["errors"].append(f"{type(exc).__name__}: {exc}")
            if time.time() > deadline + 60:
                entry["unsynced"] = True
                return entry
            time.sleep(0.2)
    entry["seconds"] = time.time() - started
    taken = []
    for edit in entry["edits"]:
        lost = next((c for c in report.conflicts if c.sheet == edit["sheet"]
                     and c.yours.get(edit["column"]) == edit["token"]), None)
        edit["outcome"] = "accepted" if lost is None else "rejected"
        edit["theirs"] = None if lost is None or lost.theirs is None else str(lost.theirs.get(edit["column"]))
        taken.append(lost)
    entry["other_conflicts"] = [f"{c.sheet} {c.key}: {c.reason}" for c in report.conflicts if c not in taken]
    entry["issues"] = [str(i) for i in report.issues if not i.code.startswith("XLAR-W")]
    drafts += [memo for memo, status in new["invoices"].items() if status == "draft"]
    return entry


def work(index: int, url: str, book: Path, go: Path, seed: int) -> None:
    """A worker: wait for GO (it holds the deadline), then type and sync BOOK until then."""
    rng = random.Random(seed * 1000 + index)
    store = Store.open(url)
    journal = book.with_suffix(".jsonl")
    go.with_name(f"ready-{index}").touch()
    while not go.exists():
        time.sleep(0.02)
    deadline = float(go.read_text())
    drafts: list[str] = []
    with journal.open("w") as out:
        n = 0
        while time.time() < deadline:
            entry = _round(store, book, rng, f"w{index}", f"W{index}N{n}", drafts, deadline)
            out.write(json.dumps(entry) + "\n")
            out.flush()
            n += 1
    store.dispose()


# ---- the run and its checks ----


def _seed(store: Store, workdir: Path, processes: int) -> list[Path]:
    """The shared rows, synced in one workbook; each worker starts from a copy of it."""
    seed = build_template(workdir / "seed.xlsx", "en")
    type_into(seed, {
        "Customers": [{"code": c, "name": f"Shared {c}", "currency": "CNY", "contact": SEED_VALUE}
                      for c in SHARED_CUSTOMERS],
        "Invoices": [{"number": f"{m}T", "date": AS_OF.replace(day=1), "customer": SHARED_CUSTOMERS[0],
                      "status": "draft", "memo": m, "source": SEED_VALUE} for m in SHARED_DRAFTS],
        "InvoiceLines": [{"invoice": f"{m}T", "line": 1, "item": "X", "qty": 1, "unit_price": 100}
                         for m in SHARED_DRAFTS]})
    report = sync_workbook(seed, store, "seed", as_of=AS_OF)
    assert not report.issues and report.counts["Customers added"] == len(SHARED_CUSTOMERS), report.summary()
    books = []
    for i in range(processes):
        books.append(workdir / f"book-{i}.xlsx")
        shutil.copyfile(seed, books[-1])
    return books


def _start(url: str, books: list[Path], go: Path, seconds: float, seed: int) -> list[subprocess.Popen[str]]:
    """Start the workers, wait until each is ready, then give them all the same deadline."""
    procs = [subprocess.Popen([sys.executable, "-m", "tests.reliability.concurrency", "--worker", str(i),
                               "--store", url, "--book", str(book), "--go", str(go), "--seed", str(seed)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i, book in enumerate(books)]
    waited = time.monotonic()
    while not all(go.with_name(f"ready-{i}").exists() for i in range(len(books))):
        if time.monotonic() - waited > 180 or any(p.poll() is not None for p in procs):
            break
        time.sleep(0.05)
    staged = go.with_suffix(".staged")
    staged.write_text(repr(time.time() + seconds))
    staged.replace(go)  # the workers never read half a deadline
    return procs


def run_concurrent(url: str, processes: int, seconds: float, workdir: Path) -> ConcurrencyFigures:
    """PROCESSES workers sync for SECONDS against the store at URL (created if new); see the module doc."""
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    figures = ConcurrencyFigures(processes=processes)
    store = ready_store(url)
    try:
        books = _seed(store, workdir, processes)
        procs = _start(url, books, workdir / "go", seconds, seed=processes * 7919 + int(seconds))
        for i, proc in enumerate(procs):
            output, _ = proc.communicate(timeout=seconds + 600)
            if proc.returncode != 0:
                figures.failures.append(f"worker {i} exit {proc.returncode}: {output.strip()[-2000:]}")
        journals = [_journal(book) for book in books]
        for i, book in enumerate(books):  # every workbook shows the store as it is now
            report = sync_workbook(book, store, "final", as_of=AS_OF)
            if report.counts or report.conflicts or report.issues:
                figures.failures.append(f"book-{i}: the final sync still had work: {report.summary()}")
        Checker(store, books, journals, figures).check(url)
    finally:
        store.dispose()
    figures.seconds = time.monotonic() - started
    return figures


def _journal(book: Path) -> list[dict[str, Any]]:
    path = book.with_suffix(".jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class Checker:
    """Checks the end state against the journals and the audit log (see the module doc)."""

    def __init__(self, store: Store, books: list[Path], journals: list[list[dict[str, Any]]],
                 figures: ConcurrencyFigures) -> None:
        self.store, self.books, self.journals, self.f = store, books, journals, figures

    def check(self, url: str) -> None:
        f = self.f
        for i, journal in enumerate(self.journals):
            for entry in journal:
                f.syncs += not entry.get("unsynced")
                f.sync_errors += len(entry["errors"])
                f.slowest = max(f.slowest, entry.get("seconds", 0.0))
                f.failures += [f"w{i} {entry['tag']}: sync failed: {e}" for e in entry["errors"]]
                f.failures += [f"w{i} {entry['tag']}: {p}" for p in entry.get("issues", [])]
                f.failures += [f"w{i} {entry['tag']}: unexpected conflict {c}"
                               for c in entry.get("other_conflicts", [])]
        finals = self._edits()
        self._rows(finals)
        proof = check_book(url)
        if proof:
            f.failures.append(proof)

    def _chains(self) -> dict[tuple[str, str], list[str]]:
        """Each shared row's values, in the order the store took them (the audit log's)."""
        a, c, d = t.audit_log.c, t.customers.c, t.documents.c
        with self.store.read() as conn:
            ids = {("customers", str(i)): ("Customers", code) for i, code in
                   conn.execute(sa.select(c.id, c.code).where(c.code.in_(SHARED_CUSTOMERS)))}
            ids |= {("document", str(i)): ("Invoices", memo) for i, memo in
                    conn.execute(sa.select(d.id, d.memo).where(d.memo.in_(SHARED_DRAFTS)))}
            updates = conn.execute(sa.select(a.entity, a.entity_id, a.after).where(
                a.action == "update", a.entity.in_(("customers", "document"))).order_by(a.seq)).all()
        chains: dict[tuple[str, str], list[str]] = {row: [SEED_VALUE] for row in ids.values()}
        for entity, entity_id, after in updates:
            row = ids.get((entity, entity_id))
            values = json.loads(after or "{}")
            if row and EDITED[row[0]] in values:
                chains[row].append(str(values[EDITED[row[0]]]))
        return chains

    def _edits(self) -> dict[tuple[str, str], str]:
        """Replay every edit against its row's chain; returns each shared row's last value."""
        f, chains = self.f, self._chains()
        accepted: dict[str, tuple[int, dict[str, Any]]] = {}
        for i, journal in enumerate(self.journals):
            recorded = _conflicts_shown(self.books[i])
            for entry in journal:
                for edit in entry["edits"]:
                    if edit["column"] == "status":  # an own draft posted: checked with the rows
                        if edit.get("outcome") != "accepted":
                            f.failures.append(f"w{i} posting its own draft {edit['row']} was not taken")
                        continue
                    f.edits += 1
                    chain = chains[(edit["sheet"], edit["row"])]
                    if edit.get("outcome") == "accepted":
                        f.accepted += 1
                        accepted[edit["token"]] = (i, edit)
                    elif edit.get("outcome") == "rejected":
                        self._rejected(i, edit, chain, recorded)
        for row, chain in chains.items():
            self._chain(row, chain, accepted)
        return {row: chain[-1] for row, chain in chains.items()}

    def _rejected(self, i: int, edit: dict[str, Any], chain: list[str], recorded: set[tuple[str, str, str]]) -> None:
        f = self.f
        f.conflicts_expected += 1
        said = f"w{i} {edit['sheet']} {edit['row']} {edit['column']} := {edit['token']} (made on {edit['base']!r})"
        if (edit["sheet"], edit["column"], edit["token"]) in recorded:
            f.conflicts_recorded += 1
        else:
            f.failures.append(f"{said}: came back as a conflict but is not on book-{i}'s Conflicts sheet")
        if edit["token"] in chain:
            f.failures.append(f"{said}: came back as a conflict, yet the store took it")
        base = chain.index(edit["base"]) if edit["base"] in chain else None
        theirs = chain.index(edit["theirs"]) if edit["theirs"] in chain else None
        if base is None or theirs is None or theirs <= base:
            f.failures.append(f"{said}: a conflict with {edit['theirs']!r}, which is not newer than what "
                              f"the edit was made on (the row's values: {chain})")

    def _chain(self, row: tuple[str, str], chain: list[str], accepted: dict[str, tuple[int, dict[str, Any]]]) -> None:
        """Each update of ROW was an accepted edit made on the value just before it."""
        f = self.f
        taken = [(n, accepted.get(value)) for n, value in enumerate(chain) if n > 0]
        for n, found in taken:
            if found is None:
                f.failures.append(f"{row[0]} {row[1]}: the store holds {chain[n]!r}, which no sync reported taking")
            elif found[1]["base"] != chain[n - 1]:
                f.lost_updates += 1
                f.conflicts_expected += 1
                f.failures.append(f"{row[0]} {row[1]}: w{found[0]}'s {chain[n]!r} (made on {found[1]['base']!r}) "
                                  f"overwrote {chain[n - 1]!r}, which it never saw: a lost update")
        for token, (i, edit) in accepted.items():
            if (edit["sheet"], edit["row"]) == row and chain.count(token) != 1:
                f.lost_updates += 1
                f.failures.append(f"{row[0]} {row[1]}: w{i}'s {token!r} was taken {chain.count(token)} times "
                                  f"(the row's values: {chain})")

    def _rows(self, finals: dict[tuple[str, str], str]) -> None:
        """Every row anyone added (and the shared ones) once in the store and in every workbook."""
        f = self.f
        want: dict[Key, Shown] = {("customer", c): (finals[("Customers", c)],) for c in SHARED_CUSTOMERS}
        want |= {("invoice", m): ("draft", finals[("Invoices", m)], 1) for m in SHARED_DRAFTS}
        for journal in self.journals:
            for entry in journal:
                f.added += len(entry["new"]["customers"]) + len(entry["new"]["invoices"])
                want |= {("customer", code): (None,) for code in entry["new"]["customers"]}
                want |= {("invoice", memo): (status, None, 1) for memo, status in entry["new"]["invoices"].items()}
                for edit in entry["edits"]:
                    if edit["column"] == "status" and edit.get("outcome") == "accepted":
                        want[("invoice", edit["row"])] = ("posted", None, 1)
        with self.store.read() as conn:
            in_store = store_view(conn)
        views = [("store", in_store)]
        for i, book in enumerate(self.books):
            try:
                views.append((f"book-{i}", book_view(book)))
            except Exception as exc:  # noqa: BLE001  (a workbook that cannot be read is a finding, not a crash)
                f.failures.append(f"book-{i} cannot be read: {type(exc).__name__}: {exc}")
        for where, view in views:
            problems = mismatches(view, want, set(want) | set(view.rows), where)
            f.lost_updates += sum(1 for p in problems if "missing" in p.message and where == "store")
            f.failures += [p.message for p in problems]
            f.failures += [f"{where}: held back {row}" for row in view.held]
            twice = [n for n, k in Counter(n for ns in view.numbers.values() for n in ns).items() if k > 1]
            f.duplicate_numbers += len(twice)
            f.failures += [f"{where}: number {n} names two documents" for n in twice]
            if where != "store" and dict(view.numbers) != dict(in_store.numbers):
                differ = {k for k in view.numbers.keys() | in_store.numbers.keys()
                          if view.numbers.get(k) != in_store.numbers.get(k)}
                f.failures.append(f"{where}: numbers differ from the store's for {sorted(differ)[:5]}")


def _conflicts_shown(book: Path) -> set[tuple[str, str, str]]:
    """(sheet, column, your value) of each row of BOOK's Conflicts sheet."""
    grid = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Conflicts").to_python()
    at = {name: n for n, name in enumerate(grid[0])} if grid else {}
    return {(str(r[at["Sheet"]]), str(r[at["Column"]]), str(r[at["Yours"]])) for r in grid[1:]} if at else set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sync many workbooks at once; print the figures")
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--book", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--go", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        work(args.worker, args.store, args.book, args.go, args.seed)
        return 0
    return run_on_each(args.backend, lambda url, place: run_concurrent(url, args.processes, args.seconds, place))


if __name__ == "__main__":
    sys.exit(main())
