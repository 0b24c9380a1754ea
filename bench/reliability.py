"""Proof under load, faults, bad input and misuse (issue 9): the figures of one run.

- kills: `xlar sync` SIGKILLed at random points (--kills per store: SQLite file and
  PostgreSQL); after each kill the store passes `xlar check`, the workbook is the old one or
  the new one, and the next sync finishes the job with nothing lost or doubled;
- concurrency: --processes workers syncing their own workbooks against one store for
  --seconds (each store): lost updates, duplicate document numbers, conflicts recorded;
- bad input: --inputs malformed workbooks and CSV / MT940 / CAMT.053 / opening-balance files:
  crashes, valid rows lost around the bad ones;
- audit tampering: every case of tests/reliability/tamper.py on each store: detected;
- copy and paste: --copies seeded cases of rows copied, pasted, typed over, sorted without
  their hidden columns and deleted, then synced (tests/reliability/copypaste.py): store rows
  changed or deleted without the user's edit;
- full disks and read-only places: every case of tests/reliability/diskfaults.py (ENOSPC,
  EDQUOT, EPERM, EACCES, EBUSY, EROFS at each write of a sync) on each store: tracebacks, rows
  entered twice, books that do not prove;
- direct edits: every case of tests/reliability/direct_edit.py (rows of the book inserted,
  changed or deleted in the database, with their seals too) on each store: detected.

    python bench/reliability.py [--kills 100] [--processes 8] [--seconds 30] [--inputs 500]
                                [--copies 100] [--seed 9] [--backend sqlite --backend postgresql]
                                [--phase kills --phase direct ...]

PostgreSQL is the server at $XLAR_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test);
without one it is left out and the script says so. Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.reliability.concurrency import run_concurrent
from tests.reliability.copypaste import run_copy_paste
from tests.reliability.crash import ready_store, run_kills, stores
from tests.reliability.direct_edit import fill as fill_ledger
from tests.reliability.direct_edit import run_direct_edits
from tests.reliability.diskfaults import run_disk_faults
from tests.reliability.fuzz import run_fuzz
from tests.reliability.tamper import fill, run_tampering


def on_filled_book(url: str, fill_book, run):
    """RUN's figures on the store at URL, filled by FILL_BOOK first."""
    store = ready_store(url)
    try:
        fill_book(store)
        return run(store)
    finally:
        store.dispose()


PHASES = ("kills", "concurrency", "tamper", "direct", "disk", "copypaste", "fuzz")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs per store")
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the concurrent syncs run, per store")
    parser.add_argument("--inputs", type=int, default=500, help="malformed inputs")
    parser.add_argument("--copies", type=int, default=100, help="copy/paste cases per store")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--phase", action="append", choices=PHASES, help="only these phases (repeatable) [all]")
    args = parser.parse_args()
    started = time.monotonic()
    lines: list[str] = []
    good = True
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for phase in args.phase or PHASES:
            if phase == "fuzz":
                continue
            with stores(work / phase, args.backend) as found:
                for name, url in found:
                    place = work / phase / name
                    place.mkdir(parents=True, exist_ok=True)
                    if phase == "kills":
                        k = run_kills(url, args.kills, args.seed, place)
                        ok = k.good and k.kills >= args.kills
                        line = (f"kills tried / stores consistent / workbooks intact [{name}]: "
                                f"{k.kills} / {k.consistent} / {k.intact}   (re-syncs finished {k.finished}; "
                                f"{k.landed} landed mid-sync; {k.seconds:.0f} s)")
                        failures = k.failures
                    elif phase == "concurrency":
                        c = run_concurrent(url, args.processes, args.seconds, place)
                        ok = c.good
                        line = (f"concurrent syncs / lost updates / duplicate numbers [{name}]: "
                                f"{c.processes} / {c.lost_updates} / {c.duplicate_numbers}   ({c.syncs} syncs, "
                                f"{c.sync_errors} failed and retried, slowest {c.slowest:.1f} s; "
                                f"conflicts expected {c.conflicts_expected}, recorded {c.conflicts_recorded}; "
                                f"{c.seconds:.0f} s)")
                        failures = c.failures
                    elif phase == "copypaste":
                        p = run_copy_paste(name, args.copies, args.seed, place)
                        ok = p.changed_without_edit == 0 and p.tried >= args.copies
                        line = (f"copy/paste cases tried / rows changed without an edit [{name}]: "
                                f"{p.tried} / {p.changed_without_edit}   ({p.seconds:.0f} s)")
                        failures = p.failures
                    elif phase == "direct":
                        e = on_filled_book(url, fill_ledger, run_direct_edits)
                        ok = not e.failures and e.tried == e.detected
                        line = f"direct-edit cases tried / detected [{name}]: {e.tried} / {e.detected}"
                        failures = e.failures
                    elif phase == "disk":
                        d = run_disk_faults(url, place)
                        ok = d.good
                        line = (f"ENOSPC/EPERM cases tried / tracebacks / rows entered twice [{name}]: "
                                f"{d.tried} / {d.tracebacks} / {d.entered_twice}   (books not proved "
                                f"{d.not_proved}; {d.seconds:.0f} s)")
                        failures = d.failures
                    else:
                        t = on_filled_book(url, fill, run_tampering)
                        ok = not t.failures and t.tried == t.detected
                        line = f"audit tampering cases tried / detected [{name}]: {t.tried} / {t.detected}"
                        failures = t.failures
                    print(line + ("" if ok else "   <-- MISSED"), flush=True)
                    for failure in failures[:20]:
                        print(f"    {failure}", flush=True)
                    lines.append(line)
                    good = good and ok
        if args.phase and "fuzz" not in args.phase:
            print(f"targets: only {', '.join(args.phase)} -- {'all good' if good else 'NOT all met'} "
                  f"({time.monotonic() - started:.0f} s)")
            return 0 if good else 1
        f = run_fuzz(args.inputs, args.seed, work / "fuzz")
        ok = f.tried >= args.inputs and f.crashes == 0 and f.rows_lost == 0
        line = (f"malformed inputs tried / crashes / rows lost: {f.tried} / {f.crashes} / {f.rows_lost}   "
                f"({', '.join(f'{k} {v}' for k, v in sorted(f.by_target.items()))}; {f.seconds:.0f} s)")
        print(line + ("" if ok else "   <-- MISSED"), flush=True)
        for failure in f.failures[:20]:
            print(f"    {failure}", flush=True)
        good = good and ok
    full = args.kills >= 100 and args.processes >= 8 and args.inputs >= 500 and args.copies >= 100
    verdict = ("all met" if full else "all good, but this run is smaller than the targets") if good else "NOT all met"
    print(f"targets: kills 100/100/100 per store; concurrency 8/0/0; inputs >= 500/0/0; tampering all detected; "
          f"direct edits all detected; disk faults 0 tracebacks / 0 twice; copy/paste >= 100/0"
          f" -- {verdict} ({time.monotonic() - started:.0f} s)")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
