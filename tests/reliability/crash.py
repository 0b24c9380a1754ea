"""Crash safety: SIGKILL a running `xlar sync` at chosen points, then prove nothing was damaged.

Each kill cycle types a fresh batch into one workbook (new customers, invoices with lines and
receipts; edits and postings of earlier rows), starts `xlar sync` as a process and kills it:
anywhere in its run, in the last fifth of its work, while it stages the synced workbook, or
the moment it starts the backup copy (the store has committed, the rename comes next). Then
the book proves (`xlar check`), the batch is in the store entirely or not at all, the
workbook is the old file byte for byte or a complete synced workbook, and a second sync
finishes the job: every row typed so far is in the store and the workbook exactly once,
with the values typed last, and no document number is shown twice.

The first half of the module types into workbooks and reads the store and the workbook back
as comparable views; concurrency.py uses it too.

    python -m tests.reliability.crash --kills 100      # both stores; prints the figures
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import sqlalchemy as sa
from click.testing import CliRunner
from python_calamine import CalamineWorkbook
from sqlalchemy.engine import Connection

from tests.pgserver import DEFAULT_URL, answers
from tests.sheets import grid_rows, top_row
from xlar.cli import main as xlar
from xlar.schema.sheets import INPUT_SHEETS
from xlar.store import tables as t
from xlar.store.engine import Store
from xlar.store.settings import write_settings
from xlar.sync.engine import sync_workbook
from xlar.workbook.reader import read_workbook
from xlar.workbook.state import STATE_SHEET
from xlar.workbook.template import build_template
from xlar.workbook.writer import staged_backup_path, staged_path

AS_OF = date(2026, 3, 31)
SETTINGS = {"company": "Reliability Co.", "base_currency": "CNY", "current_period": "2026-03"}
Key = tuple[str, str]        # ("customer", code), ("invoice", memo) or ("receipt", memo)
Shown = tuple[object, ...]   # a customer's (contact,); an invoice's (status, source, lines); a receipt's (status,)

# ---- typing into a workbook and looking at the store and the workbook (concurrency.py too) ----


@dataclass(frozen=True, slots=True)
class Edit:
    sheet: str                      # an input sheet's name
    match: tuple[str, object]       # the row whose cell in this column (key) holds this value
    changes: dict[str, object]      # column key -> the value typed


def type_into(path: Path, adds: dict[str, list[dict[str, object]]],
              edits: Sequence[Edit] = ()) -> list[dict[str, object]]:
    """Type ADDS (sheet -> rows by column key) below each sheet's last row and make EDITS, in
    one opening and saving of the file, as a user would; returns what each edit's cells held."""
    wb = openpyxl.load_workbook(path)
    before = []
    for edit in edits:
        ws, cols = _sheet(wb, edit.sheet)
        column, value = cols[edit.match[0]], edit.match[1]
        row = next(r for r in range(top_row(ws) + 1, ws.max_row + 1) if ws.cell(r, column).value == value)
        before.append({key: ws.cell(row, cols[key]).value for key in edit.changes})
        for key, typed in edit.changes.items():
            ws.cell(row, cols[key], typed)
    for sheet, rows in adds.items():
        ws, cols = _sheet(wb, sheet)
        top = top_row(ws)
        last = max((n for n, cells in enumerate(ws.iter_rows(values_only=True), start=1)
                    if n >= top and any(cells[c - 1] is not None for c in cols.values() if c <= len(cells))),
                   default=top)
        for i, row_values in enumerate(rows, start=1):
            for key, typed in row_values.items():
                ws.cell(last + i, cols[key], typed)
    wb.save(path)
    return before


def _sheet(wb: openpyxl.Workbook, name: str) -> tuple[Any, dict[str, int]]:
    schema = next(s for s in INPUT_SHEETS if s.name == name)
    ws = wb[schema.title("en")]
    header = [c.value for c in ws[top_row(ws)]]
    return ws, {c.key: header.index(c.label("en")) + 1 for c in schema.columns if c.label("en") in header}


def ready_store(url: str) -> Store:
    """The store at URL, created with the test company's settings when it is new."""
    store = Store.connect(url)
    if store.schema_revision() is None:
        store.upgrade()
        with store.write() as conn:
            write_settings(conn, SETTINGS, "setup")
    return store


def check_book(url: str) -> str | None:
    """`xlar check`: None when the book proves, else what it said."""
    result = CliRunner().invoke(xlar, ["--store", url, "check", "--as-of", AS_OF.isoformat()])
    return None if result.exit_code == 0 else f"xlar check exit {result.exit_code}: {result.output.strip()}"


def strays(book: Path) -> list[str]:
    """Files a sync of BOOK leaves beside it only when it did not finish: the staged workbook,
    or the one an interrupted sync wrote, set aside because BOOK had changed since."""
    return sorted(p.name for p in book.parent.iterdir() if p == staged_path(book)
                  or p.name.startswith(f"{book.stem}.synced-before-interruption"))


def _previous_versions(book: Path) -> list[bytes]:
    """Where the workbook before a sync is kept: BOOK.bak, or (a sync killed between its two
    renames) the backup it staged beside BOOK, which the next sync makes the .bak."""
    return [p.read_bytes() for p in (book.with_name(book.name + ".bak"), staged_backup_path(book)) if p.exists()]


def damage(book: Path, old: bytes) -> str:
    """'old' when BOOK is OLD byte for byte, 'new' when it is a complete synced workbook, else
    what is wrong with it."""
    try:
        data = book.read_bytes()
        if data == old:
            return "old"
        with zipfile.ZipFile(book) as package:
            broken = package.testzip()
        if broken:
            return f"the workbook is damaged: part {broken} fails its CRC"
        grids = CalamineWorkbook.from_path(str(book))
        for title in grids.sheet_names:
            grids.get_sheet_by_name(title).to_python()
        state = read_workbook(book).state
    except Exception as exc:  # noqa: BLE001  (whatever the reader trips on is damage to report)
        return f"the workbook is damaged: {type(exc).__name__}: {exc}"
    if STATE_SHEET not in grids.sheet_names or not state.store_version or state.as_of != AS_OF:
        return "the workbook was replaced by one without its sync state"
    return "new"


@dataclass(frozen=True, slots=True)
class Problem:
    key: Key | None
    message: str


@dataclass(slots=True)
class View:
    """What the store or the workbook shows of each key, and the documents' numbers."""

    rows: dict[Key, list[Shown]] = field(default_factory=lambda: defaultdict(list))
    numbers: dict[Key, list[str]] = field(default_factory=lambda: defaultdict(list))
    held: list[str] = field(default_factory=list)   # workbook rows without an _id

    def number_problems(self, book: View, bad: set[Key]) -> list[Problem]:
        """A number given twice (in the store or the workbook), or shown on another document."""
        problems = []
        for where, view in (("store", self), ("workbook", book)):
            twice = Counter(n for key, ns in view.numbers.items() for n in ns if key not in bad)
            problems += [Problem(None, f"number {n} used {c} times in the {where}") for n, c in twice.items() if c > 1]
        for key, numbers in self.numbers.items():
            if key not in bad and book.numbers.get(key, []) != numbers:
                problems.append(Problem(key, f"{key[0]} {key[1]} is {numbers} in the store, "
                                             f"{book.numbers.get(key, [])} in the workbook"))
        return problems


def store_view(conn: Connection) -> View:
    view = View()
    for code, contact in conn.execute(sa.select(t.customers.c.code, t.customers.c.contact)):
        view.rows[("customer", code)].append((contact or None,))
    lines = dict(conn.execute(sa.select(t.document_lines.c.document_id, sa.func.count())
                              .group_by(t.document_lines.c.document_id)).all())
    d = t.documents.c
    for doc_id, kind, memo, status, source, number in conn.execute(
            sa.select(d.id, d.kind, d.memo, d.status, d.source, d.number).where(d.kind.in_(("invoice", "receipt")))):
        key = (kind, memo)
        view.rows[key].append((status, source or None, lines.get(doc_id, 0)) if kind == "invoice" else (status,))
        if number:
            view.numbers[key].append(number)
    return view


def book_view(book: Path) -> View:
    view = View()
    grids = CalamineWorkbook.from_path(str(book))

    def rows(title: str) -> list[dict[str, Any]]:
        return grid_rows(grids.get_sheet_by_name(title).to_python())

    lines = Counter(str(r["Invoice no."]) for r in rows("InvoiceLines") if r["_id"] != "")
    for title, kind, number in (("Customers", "customer", "Code"), ("Invoices", "invoice", "Invoice no."),
                                ("Receipts", "receipt", "Receipt no.")):
        for r in rows(title):
            if r["_id"] == "":
                view.held.append(f"{title} {r[number]}")
                continue
            shown = str(r[number])
            if kind == "customer":
                view.rows[(kind, shown)].append((r["Contact"] or None,))
                continue
            view.rows[(kind, str(r["Memo"]))].append(
                (r["Status"], r["Source"] or None, lines[shown]) if kind == "invoice" else (r["Status"],))
            if not shown.startswith("DRAFT-"):
                view.numbers[(kind, str(r["Memo"]))].append(shown)
    return view


def mismatches(view: View, want: dict[Key, Shown], keys: Iterable[Key], where: str) -> list[Problem]:
    """Each of KEYS shown once as WANT has it, or not at all when WANT does not have it."""
    problems = []
    for key in sorted(keys):
        found, expected = view.rows.get(key, []), [want[key]] if key in want else []
        if found == expected:
            continue
        if len(found) > 1:
            said = f"{len(found)} times (doubled): {found}"
        elif not found:
            said = f"missing (lost); typed {expected[0]}"
        elif not expected:
            said = f"present, {found[0]}, but never typed or not yet committed"
        else:
            said = f"{found[0]} where {expected[0]} was typed"
        problems.append(Problem(key, f"{key[0]} {key[1]} in the {where}: {said}"))
    return problems


@contextmanager
def stores(workdir: Path, names: Sequence[str] | None = None) -> Iterator[list[tuple[str, str]]]:
    """New store URLs (a SQLite file in WORKDIR; a PostgreSQL schema, dropped afterwards)."""
    found, schemas = [], []
    server = os.environ.get("XLAR_TEST_PG", DEFAULT_URL)
    admin = sa.create_engine(server) if "postgresql" in (names or BACKENDS) and answers(server) else None
    for name in names or BACKENDS:
        if name == "sqlite":
            found.append((name, f"sqlite:///{workdir / 'crash-store.db'}"))
        elif admin is None:
            print(f"postgresql: no server at {server}; skipped", file=sys.stderr)
        else:
            schemas.append(f"xlar_rel_{uuid.uuid4().hex[:12]}")
            with admin.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {schemas[-1]}")
            found.append((name, f"{server}?options=-csearch_path%3D{schemas[-1]}"))
    try:
        yield found
    finally:
        if admin is not None:
            with admin.begin() as conn:
                for schema in schemas:
                    conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()


# ---- the kill cycles ----

USER = "crash"
BACKENDS = ("sqlite", "postgresql")
MODES = ("anywhere", "tail", "staging", "backup")
AFTER_EVENT = {"staging": "staged", "backup": "backup"}   # modes that count from an event
PHASES = ("before the commit", "after the commit, before the rename", "after the rename",
          "ended before the kill")


@dataclass(slots=True)
class KillFigures:
    kills: int = 0          # kill cycles run
    consistent: int = 0     # after the kill: `xlar check` passes and the batch is all or nothing
    intact: int = 0         # after the kill: the old workbook byte for byte, or the synced one
    finished: int = 0       # the next sync finished the job: nothing lost, doubled or left over
    failures: list[str] = field(default_factory=list)
    landed: int = 0         # the SIGKILL found the sync still running
    phases: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def good(self) -> bool:
        return self.kills == self.consistent == self.intact == self.finished and not self.failures

    def text(self) -> str:
        where = ", ".join(f"{self.phases[p]} {p}" for p in PHASES if self.phases[p])
        return (f"kills tried {self.kills} / stores consistent {self.consistent} / workbooks intact "
                f"{self.intact} / re-syncs finished {self.finished} ({self.landed} killed mid-sync: "
                f"{where}; {self.seconds:.0f} s)")


@dataclass(slots=True)
class Run:
    """One `xlar sync` process as seen from outside: when (seconds after its start) it began
    staging the synced workbook, began the backup copy and replaced the workbook."""

    events: dict[str, float]
    ended: float
    returncode: int
    output: str
    killed_at: float | None = None

    def where(self) -> str:
        seen = ", ".join(f"{name} {at:.3f}" for name, at in self.events.items()) or "nothing written"
        kill = f"killed at {self.killed_at:.3f} s" if self.killed_at is not None else "not killed"
        return f"{kill} ({seen}; exit {self.returncode} at {self.ended:.3f})"


@dataclass(frozen=True, slots=True)
class Plan:
    mode: str
    delay: float   # after the start (anywhere, tail), after staging began, after the backup began

    def text(self) -> str:
        return f"{self.mode} +{self.delay:.3f} s"


def _stamp(path: Path) -> tuple[int, ...] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def watch(command: list[str], book: Path, plan: Plan | None) -> Run:
    """Run COMMAND, noting from outside when the staged file, the backup and the workbook
    change; kill it (SIGKILL) as PLAN says."""
    files = {"staged": staged_path(book), "backup": book.with_name(book.name + ".bak"), "replaced": book}
    before = {name: _stamp(path) for name, path in files.items()}
    start = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    events: dict[str, float] = {}
    kill_at = plan.delay if plan and plan.mode in ("anywhere", "tail") else None
    killed_at = None
    while proc.poll() is None:
        now = time.monotonic() - start
        for name, path in files.items():
            if name not in events and _stamp(path) != before[name]:
                events[name] = now
                if plan and AFTER_EVENT.get(plan.mode) == name and kill_at is None:
                    kill_at = now + plan.delay
        if kill_at is not None and now >= kill_at:
            proc.send_signal(signal.SIGKILL)
            killed_at = now
            break
        if not (plan and plan.mode == "backup" and "staged" in events):
            time.sleep(0.0005)  # the backup copy takes a millisecond: watch it without pausing
    output, _ = proc.communicate()
    return Run(events, time.monotonic() - start, proc.returncode, output, killed_at)


def sync_command(url: str, book: Path, user: str = USER) -> list[str]:
    return [sys.executable, "-m", "xlar.cli", "--store", url, "--user", user, "sync", str(book),
            "--as-of", AS_OF.isoformat()]


def next_batch(rng: random.Random, want: dict[Key, Shown], bad: set[Key],
               tag: str) -> tuple[dict[str, list[dict[str, object]]], list[Edit], dict[Key, Shown]]:
    """New rows named after TAG, and edits of earlier rows; with what the store and the
    workbook must show once they are synced."""
    after = dict(want)
    codes = [f"{tag}C{j}" for j in range(2)]
    adds: dict[str, list[dict[str, object]]] = {
        "Customers": [{"code": c, "name": f"Customer {c}", "currency": "CNY"} for c in codes],
        "Invoices": [], "InvoiceLines": [], "Receipts": []}
    after.update({("customer", c): (None,) for c in codes})
    pool = codes + [k[1] for k in want if k[0] == "customer" and k not in bad]
    for j in range(3):
        memo, number, status = f"{tag}I{j}", f"{tag}T{j}", rng.choice(("posted", "draft"))
        lines = rng.randint(1, 3)
        adds["Invoices"].append({"number": number, "date": AS_OF.replace(day=rng.randint(1, 28)),
                                 "customer": rng.choice(pool), "status": status, "memo": memo})
        adds["InvoiceLines"] += [{"invoice": number, "line": n, "item": f"P{n}", "qty": rng.randint(1, 9),
                                  "unit_price": rng.randint(1, 900), "tax_rate": 0.13} for n in range(1, lines + 1)]
        after[("invoice", memo)] = (status, None, lines)
    memo, status = f"{tag}R", rng.choice(("posted", "draft"))
    adds["Receipts"].append({"number": memo, "date": AS_OF.replace(day=rng.randint(1, 28)),
                             "customer": rng.choice(pool), "amount": rng.randint(1, 500), "status": status,
                             "memo": memo})
    after[("receipt", memo)] = (status,)
    return adds, _edits(rng, want, bad, after, tag), after


def _edits(rng: random.Random, want: dict[Key, Shown], bad: set[Key], after: dict[Key, Shown],
           tag: str) -> list[Edit]:
    """Two customers' contacts; one draft invoice's source; another draft posted."""
    edits = []
    customers = sorted(k for k in want if k[0] == "customer" and k not in bad)
    for j, key in enumerate(rng.sample(customers, min(2, len(customers)))):
        edits.append(Edit("Customers", ("code", key[1]), {"contact": f"{tag}E{j}"}))
        after[key] = (f"{tag}E{j}",)
    drafts = sorted(k for k, v in want.items() if k[0] == "invoice" and v[0] == "draft" and k not in bad)
    chosen = rng.sample(drafts, min(2, len(drafts)))
    if chosen:
        status, _, lines = want[chosen[0]]
        edits.append(Edit("Invoices", ("memo", chosen[0][1]), {"source": f"{tag}S"}))
        after[chosen[0]] = (status, f"{tag}S", lines)
    if len(chosen) > 1:
        _, source, lines = want[chosen[1]]
        edits.append(Edit("Invoices", ("memo", chosen[1][1]), {"status": "posted"}))
        after[chosen[1]] = ("posted", source, lines)
    return edits


class KillRun:
    """The state of one run: the store, the workbook (a new one after a failed cycle), what
    they must show, the rows already found broken, the timings of a sync left to finish."""

    def __init__(self, url: str, seed: int, workdir: Path) -> None:
        self.url, self.workdir, self.rng = url, workdir, random.Random(seed)
        self.store = ready_store(url)
        self.want: dict[Key, Shown] = {}
        self.bad: set[Key] = set()
        self.generation = 0
        self.figures = KillFigures()
        self.book = self._new_book()
        self.timing: Run | None = None

    def _new_book(self) -> Path:
        """A colleague's fresh workbook: the template, synced once (it shows the whole store)."""
        self.generation += 1
        book = build_template(self.workdir / f"AR-{self.generation}.xlsx", "en")
        sync_workbook(book, self.store, USER, as_of=AS_OF)
        return book

    def calibrate(self) -> None:
        """An unkilled sync of a batch of the usual size: when it stages, backs up, renames."""
        adds, edits, after = next_batch(self.rng, self.want, self.bad, f"G{self.generation}W")
        type_into(self.book, adds, edits)
        run = watch(sync_command(self.url, self.book), self.book, None)
        self.want = after
        problems = self._finished(run)
        if problems or {"staged", "backup", "replaced"} - run.events.keys():
            raise AssertionError(f"the calibration sync did not finish cleanly: {run.where()} {problems}")
        self.timing = run

    def plan(self, n: int) -> Plan:
        assert self.timing is not None
        mode, work = MODES[n % len(MODES)], self.timing.events["replaced"]
        if mode == "anywhere":
            return Plan(mode, self.rng.uniform(0, self.timing.ended))
        if mode == "tail":
            return Plan(mode, self.rng.uniform(0.8 * work, work))
        if mode == "staging":
            return Plan(mode, self.rng.uniform(0, work - self.timing.events["staged"]))
        return Plan(mode, 0.0)

    def cycle(self, n: int) -> None:
        tag = f"G{self.generation}K{n}"
        adds, edits, after = next_batch(self.rng, self.want, self.bad, tag)
        type_into(self.book, adds, edits)
        old = self.book.read_bytes()
        plan = self.plan(n)
        run = watch(sync_command(self.url, self.book), self.book, plan)
        f = self.figures
        f.kills += 1
        f.landed += run.returncode == -signal.SIGKILL
        said = f"kill {n} ({plan.text()}, {run.where()})"
        keys = {k for k in after if self.want.get(k) != after[k]}   # this batch's rows and edits
        committed = self._after_kill(said, old, after, keys, run)
        self.want = after
        rerun = watch(sync_command(self.url, self.book), self.book, None)
        problems = self._finished(rerun)
        if not problems:
            f.finished += 1
            if not committed and run.returncode == -signal.SIGKILL and len(rerun.events) == 3:
                self.timing = rerun  # it did the whole job: the timing of the next cycle
            return
        f.failures += [f"{said}, then the next sync: {p.message}" for p in problems]
        self.bad |= {p.key for p in problems if p.key is not None}
        self.book = self._new_book()

    def _after_kill(self, said: str, old: bytes, after: dict[Key, Shown], keys: set[Key], run: Run) -> bool:
        """Book the store's and the workbook's state right after the kill; True if committed."""
        f = self.figures
        with self.store.read() as conn:
            view = store_view(conn)
        done, undone = mismatches(view, after, keys, "store"), mismatches(view, self.want, keys, "store")
        committed = not done
        proof = check_book(self.url)
        problems = [p.message for p in done] if done and undone else []
        problems += [] if proof is None else [proof]
        if not problems:
            f.consistent += 1
        state = damage(self.book, old)
        if state == "new" and not committed:
            state = "the workbook was replaced but the store did not commit"
        elif state == "new" and old not in _previous_versions(self.book):
            state = "the workbook was replaced and the backup is not the workbook before the sync"
        if state in ("old", "new"):
            f.intact += 1
        else:
            problems.append(state)
        landed = run.returncode == -signal.SIGKILL
        f.phases[PHASES[3] if not landed else PHASES[2] if state == "new" else PHASES[int(committed)]] += 1
        f.failures += [f"{said}: {p}" for p in problems]
        return committed

    def _finished(self, run: Run) -> list[Problem]:
        """What is wrong once a sync has run to its end (nothing, when the job is done)."""
        problems = [] if run.returncode == 0 else [Problem(None, f"exit {run.returncode}: "
                                                                  f"{' | '.join(run.output.splitlines())}")]
        keys = set(self.want) - self.bad
        with self.store.read() as conn:
            in_store = store_view(conn)
        problems += mismatches(in_store, self.want, keys | (set(in_store.rows) - self.bad), "store")
        try:
            in_book = book_view(self.book)
        except Exception as exc:  # noqa: BLE001  (a workbook that cannot be read is what this harness looks for)
            problems.append(Problem(None, f"the workbook cannot be read: {type(exc).__name__}: {exc}"))
        else:
            problems += mismatches(in_book, self.want, keys | (set(in_book.rows) - self.bad), "workbook")
            problems += in_store.number_problems(in_book, self.bad)
            problems += [Problem(None, f"held back in the workbook: {row}") for row in in_book.held]
        proof = check_book(self.url)
        problems += [] if proof is None else [Problem(None, proof)]
        problems += [Problem(None, f"{name} was left beside the workbook") for name in strays(self.book)]
        return problems

    def close(self) -> None:
        self.store.dispose()


def run_kills(url: str, kills: int, seed: int, workdir: Path) -> KillFigures:
    """KILLS kill cycles against the store at URL (created if new) in WORKDIR; see the module doc."""
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    run = KillRun(url, seed, workdir)
    try:
        run.calibrate()
        for n in range(kills):
            run.cycle(n)
    finally:
        run.close()
    run.figures.seconds = time.monotonic() - started
    return run.figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="SIGKILL xlar sync again and again; print the figures")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    args = parser.parse_args(argv)
    return run_on_each(args.backend, lambda url, place: run_kills(url, args.kills, args.seed, place))


def run_on_each(backends: Sequence[str] | None, run: Callable[[str, Path], Any]) -> int:
    """RUN (a store URL, a folder) -> figures on a new store of each backend; print the figures
    (their text() and failures); 0 when all are good."""
    good = True
    with tempfile.TemporaryDirectory() as tmp, stores(Path(tmp), backends) as found:
        for name, url in found:
            figures = run(url, Path(tmp) / name)
            print(f"{name}: {figures.text()}", flush=True)
            for failure in figures.failures:
                print(f"  {failure}")
            good = good and figures.good
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
