"""Concurrency (issue 9): eight processes sync their own workbooks against one store at once,
on a SQLite file and on PostgreSQL: no lost update, no document number used twice, every
conflict on the Conflicts sheet of the workbook that lost it (see concurrency.py).

A few seconds per store here; XLAR_RELIABILITY_FULL=1 makes it a minute. The figures are
printed; `python -m tests.reliability.concurrency` prints them without pytest."""

import os

from tests.reliability.concurrency import run_concurrent

FULL = os.environ.get("XLAR_RELIABILITY_FULL") == "1"
PROCESSES = 8
SECONDS = 60.0 if FULL else 12.0


def test_eight_workbooks_syncing_at_once_lose_nothing(backend, tmp_path, capsys):
    with backend.store() as store:
        figures = run_concurrent(store.url, PROCESSES, SECONDS, tmp_path)
    with capsys.disabled():
        print(f"\nconcurrency, {backend.name}: {figures.text()}")
    assert figures.failures == [], "\n".join(figures.failures)
    assert (figures.processes, figures.lost_updates, figures.duplicate_numbers) == (PROCESSES, 0, 0)
    assert figures.conflicts_recorded == figures.conflicts_expected > 0  # conflicts happened, all recorded
    assert figures.syncs >= PROCESSES
