"""Crash safety (issue 9): `xlar sync` killed with SIGKILL at chosen points, on SQLite and on
PostgreSQL: after each kill the book proves and the workbook is the old or the new one, and
the next sync finishes the job with nothing lost or doubled (see crash.py).

A few kills per store here; XLAR_RELIABILITY_FULL=1 makes it 100. The figures are printed;
`python -m tests.reliability.crash --kills 100` prints them without pytest."""

import os

from tests.reliability.crash import PHASES, run_kills

FULL = os.environ.get("XLAR_RELIABILITY_FULL") == "1"
KILLS = 100 if FULL else 8
SEED = 9


def test_killed_syncs_damage_nothing_and_the_next_sync_finishes_the_job(backend, tmp_path, capsys):
    with backend.store() as store:
        figures = run_kills(store.url, KILLS, SEED, tmp_path)
    with capsys.disabled():
        print(f"\ncrash safety, {backend.name}, seed {SEED}: {figures.text()}")
    assert figures.failures == [], "\n".join(figures.failures)
    assert (figures.kills, figures.consistent, figures.intact, figures.finished) == (KILLS,) * 4
    assert figures.landed >= KILLS // 2  # most kills found the sync still at work
    if FULL:  # enough kills that some land between the store's commit and the rename
        assert figures.phases[PHASES[1]] > 0, figures.text()
