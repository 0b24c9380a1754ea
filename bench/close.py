"""Benchmark: month-end close of 10,000 customers with 100,000 documents, xlar vs the floor.

xlar's close is timed whole: the checks that refuse an unfinished month (drafts, draft
deliveries, unapproved receipts, the revaluation preview of every open foreign item), the
MonthlyStats query, writing the snapshot and moving the periods; each run is rolled back so
the next one closes the same month again. The floor is one hand-written aggregate query over
the same rows computing the same per-customer statistics (opening, invoiced, received, FX,
closing, in document and base currency), through the bare DB-API cursor. Both are timed in
the same run, best of --repeat, and the ratio is printed (target: <= 2).

    python bench/close.py [--documents 100000] [--customers 10000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aging import best, generate, load

from xlar.domain.periods import first_day, last_day
from xlar.services import close, fx
from xlar.store.engine import Store

PERIOD = "2025-09"
TODAY = date(2025, 10, 15)


def floor_sql(paramstyle: str) -> tuple[str, list[object]]:
    """What an expert would type: per customer and currency, the month's statistics."""
    mark = "?" if paramstyle == "qmark" else "%s"
    start, end = first_day(PERIOD), last_day(PERIOD)
    cats = "CASE d.kind WHEN 'receipt' THEN 'received' WHEN 'invoice' THEN 'invoiced' ELSE 'adjusted' END"
    figures = []
    for col, prefix in (("amount", ""), ("base", "base_")):
        figures += [f"SUM(CASE WHEN m.on_ < {mark} THEN m.{col} ELSE 0 END) AS {prefix}opening"]
        figures += [f"SUM(CASE WHEN m.on_ >= {mark} AND m.cat = '{c}' THEN m.{col} ELSE 0 END) AS {prefix}{c}"
                    for c in ("invoiced", "credited", "received", "adjusted", "fx")]
        figures += [f"SUM(m.{col}) AS {prefix}closing"]
    sql = f"""
SELECT c.code, m.currency, {", ".join(figures)}
  FROM (SELECT oi.customer_id, oi.currency, {cats} AS cat, oi.doc_on AS on_, oi.amount_minor AS amount,
               oi.base_amount_minor AS base
          FROM open_items oi JOIN documents d ON d.id = oi.document_id WHERE oi.doc_on <= {mark}
        UNION ALL
        SELECT o.customer_id, o.currency, 'fx', a.effective_on, 0, a.credit_base_minor - a.debit_base_minor
          FROM allocations a JOIN open_items o ON o.id = a.debit_item_id
         WHERE a.effective_on <= {mark} AND a.credit_base_minor <> a.debit_base_minor) m
  JOIN customers c ON c.id = m.customer_id
 GROUP BY c.code, m.currency ORDER BY c.code, m.currency"""
    fmt = (lambda d: d.isoformat()) if paramstyle == "qmark" else (lambda d: d)
    params = [fmt(start)] + [fmt(start)] * 5 + [fmt(start)] + [fmt(start)] * 5 + [fmt(end), fmt(end)]
    return sql, params


def measure(store: Store, repeat: int) -> tuple[float, float, int]:
    def via_xlar() -> close.Closed:
        with store.engine.connect() as conn:
            trans = conn.begin()
            try:
                return close.close(conn, PERIOD, "bench", today=TODAY)
            finally:
                trans.rollback()

    def via_floor() -> list[tuple[object, ...]]:
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            sql, params = floor_sql("qmark" if store.dialect == "sqlite" else "format")
            cur.execute(sql, params)
            return cur.fetchall()
        finally:
            raw.close()

    via_floor()
    t_floor, rows = best(via_floor, repeat)
    t_xlar, closed = best(via_xlar, repeat)
    assert not closed.blockers, closed.blockers[:3]
    active = [r for r in rows if any(r[2:])]
    assert closed.customers == len(active), (closed.customers, len(active))
    with store.read() as conn:   # the two agree, figure by figure
        computed = close.compute(conn, PERIOD)
    for r in active[:500]:
        stat = computed[(r[0], r[1])]
        assert (stat.amounts["opening"], stat.amounts["closing"], stat.base["closing"]) == (r[2], r[8], r[15])
    return t_xlar, t_floor, closed.customers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=None, help="also run on this PostgreSQL URL (an empty database)")
    args = parser.parse_args()
    t = time.perf_counter()
    customers, docs, opens, allocs = generate(args.documents, args.customers)
    docs = [(*d[:2], "approved" if d[1] == "receipt" else d[2], *d[3:]) for d in docs]   # receipts approved
    print(f"generated {len(docs):,} documents, {len(allocs):,} allocations, {args.customers:,} customers "
          f"in {time.perf_counter() - t:.1f} s")
    targets = [("sqlite", None)]
    if args.postgres:
        targets.append(("postgresql", args.postgres))
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in targets:
            store = Store.connect(url or f"sqlite:///{Path(tmp) / 'bench.db'}")
            store.upgrade()
            load(store, (customers, docs, opens, allocs))
            with store.write() as conn:
                fx.set_rate(conn, "USD", PERIOD, Decimal("7.1"), "bench")
                booked = fx.revalue(conn, PERIOD, "bench")
            print(f"[{name}] revalued {PERIOD}: {len(booked):,} FX adjustment documents")
            t_xlar, t_floor, count = measure(store, args.repeat)
            ratio = t_xlar / t_floor
            worst = max(worst, ratio)
            print(f"[{name}] close {PERIOD} ({count:,} customer-currencies): xlar {t_xlar:.3f} s, "
                  f"hand-written aggregate {t_floor:.3f} s, ratio {ratio:.2f} (target <= 2)")
            store.dispose()
    return 0 if worst <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
