"""Benchmark: aging of 1,000,000 open items over 10,000 customers, xlar vs the floor.

The floor is one hand-written SQL GROUP BY over the same tables computing the same
buckets (document and base currency), run through the bare DB-API cursor. xlar's time
includes building its statement, running it and shaping Decimal rows. Both are timed in
the same run, best of --repeat, and the ratio is printed (target: <= 1.5).

    python bench/aging.py [--items 1000000] [--customers 10000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from xlar.domain.aging import AgingPolicy
from xlar.reports import ledger as reports
from xlar.store.engine import Store
from xlar.store.settings import write_settings

START = date(2025, 1, 1)
AS_OF = date(2025, 9, 30)  # a past date: later allocations must not count


def generate(items: int, n_customers: int, seed: int = 7):
    """Rows for customers, documents, open items and allocations (FIFO-like, some undone)."""
    rng = random.Random(seed)
    customers = [(i, f"C{i:05d}", f"Customer {i}", "USD" if i % 10 == 0 else "CNY") for i in range(1, n_customers + 1)]
    docs, opens, allocs = [], [], []
    per = items // n_customers
    item_id = alloc_id = 0
    for cid, _code, _name, cur in customers:
        outstanding: list[list[int]] = []  # [item id, open, doc day]
        for _ in range(per):
            item_id += 1
            day = rng.randint(0, 600)
            on = START + timedelta(days=day)
            due = on + timedelta(days=rng.choice([0, 30, 60, 90]))
            if rng.random() < 0.7:
                amount = rng.randint(100, 5_000_000)
                outstanding.append([item_id, amount, day])
                kind = "invoice"
            else:
                amount = -rng.randint(100, 5_000_000)
                kind = "receipt"
            base = amount if cur == "CNY" else amount * 7
            docs.append((item_id, kind, "posted", f"D{item_id:08d}", cid, on, due, cur, "1",
                         abs(amount), 0, abs(amount), abs(base), "bench", "2025-01-01 00:00:00"))
            opens.append((item_id, item_id, cid, 1, cur, amount, base, on, due))
            if amount < 0:
                left = -amount
                while left and outstanding:
                    debit = outstanding[0]
                    take = min(left, debit[1])
                    alloc_id += 1
                    eff = START + timedelta(days=max(day, debit[2]))
                    share = take if cur == "CNY" else take * 7
                    allocs.append((alloc_id, 1, debit[0], item_id, take, share, share, eff, None))
                    if rng.random() < 0.02:  # undone a month later
                        alloc_id += 1
                        allocs.append((alloc_id, 1, debit[0], item_id, -take, -share, -share,
                                       eff + timedelta(days=30), alloc_id - 1))
                        break
                    debit[1] -= take
                    left -= take
                    if debit[1] == 0:
                        outstanding.pop(0)
    return customers, docs, opens, allocs


COLUMNS = {
    "customers": "id, code, name, currency",
    "documents": "id, kind, status, number, customer_id, doc_on, due_on, currency, fx_rate, net_minor, tax_minor, "
                 "amount_minor, base_amount_minor, created_by, created_at",
    "open_items": "id, document_id, customer_id, installment_no, currency, amount_minor, base_amount_minor, doc_on, due_on",
    "allocations": "id, batch_id, debit_item_id, credit_item_id, amount_minor, debit_base_minor, credit_base_minor, "
                   "effective_on, reverses_id",
}


def insert_rows(conn, dialect: str, table: str, cols: str, rows) -> None:  # type: ignore[no-untyped-def]
    """ROWS (ids given) straight into TABLE: COPY on PostgreSQL, else one executemany."""
    cur = conn.connection.dbapi_connection.cursor()
    if dialect == "postgresql":
        with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in cols.split(","))
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                        [tuple(v.isoformat() if isinstance(v, date) else v for v in r) for r in rows])


def restart_sequences(conn, dialect: str, tables) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: rows given explicit ids leave the id sequences behind; move them past the ids."""
    if dialect == "postgresql":
        for table in tables:
            conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")


def load(store: Store, data) -> None:
    with store.write() as conn:
        write_settings(conn, {"base_currency": "CNY"}, "bench")
        conn.exec_driver_sql("INSERT INTO allocation_batches (id, method, user_name, created_at) "
                             "VALUES (1, 'fifo', 'bench', '2025-01-01 00:00:00')")
        for (table, cols), rows in zip(COLUMNS.items(), data):
            insert_rows(conn, store.dialect, table, cols, rows)
        restart_sequences(conn, store.dialect, COLUMNS)
    with store.write() as conn:
        conn.exec_driver_sql("ANALYZE")


def floor_sql(policy: AgingPolicy, as_of: date, paramstyle: str) -> tuple[str, list[object]]:
    """The hand-written query: what an expert would type for the same buckets."""
    mark = "?" if paramstyle == "qmark" else "%s"
    bounds = policy.lower_bounds(as_of)
    cases = " ".join(f"WHEN oi.due_on >= {mark} THEN {i}" for i in range(len(bounds)))
    n = len(policy.labels)
    sums = ", ".join(f"SUM(CASE WHEN bucket = {i} THEN open ELSE 0 END)" for i in range(n))
    base_sums = ", ".join(f"SUM(CASE WHEN bucket = {i} THEN open_base ELSE 0 END)" for i in range(n))
    sql = f"""
WITH moved AS (
  SELECT item_id, SUM(amount) AS amount, SUM(base) AS base FROM (
    SELECT debit_item_id AS item_id, -amount_minor AS amount, -debit_base_minor AS base
      FROM allocations WHERE effective_on <= {mark}
    UNION ALL
    SELECT credit_item_id, amount_minor, credit_base_minor FROM allocations WHERE effective_on <= {mark}
  ) m GROUP BY item_id),
o AS (
  SELECT oi.customer_id, oi.currency,
         oi.amount_minor + COALESCE(mv.amount, 0) AS open,
         oi.base_amount_minor + COALESCE(mv.base, 0) AS open_base,
         CASE WHEN oi.amount_minor < 0 THEN {n - 1} {cases} ELSE {n - 2} END AS bucket
    FROM open_items oi LEFT JOIN moved mv ON mv.item_id = oi.id
   WHERE oi.doc_on <= {mark}),
g AS (
  SELECT customer_id, currency, SUM(open) AS balance, SUM(open_base) AS base_balance, {sums}, {base_sums}
    FROM o GROUP BY customer_id, currency)
SELECT c.code, c.name, g.* FROM g JOIN customers c ON c.id = g.customer_id ORDER BY c.code, g.currency"""
    fmt = (lambda d: d.isoformat()) if paramstyle == "qmark" else (lambda d: d)
    params = [fmt(as_of), fmt(as_of), *(fmt(d) for _l, d in bounds), fmt(as_of)]
    return sql, params


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def measure(store: Store, repeat: int) -> tuple[float, float, int]:
    policy = AgingPolicy()

    def via_xlar():
        with store.read() as conn:
            return reports.aging(conn, AS_OF, policy)

    def via_floor():
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            sql, params = floor_sql(policy, AS_OF, "qmark" if store.dialect == "sqlite" else "format")
            cur.execute(sql, params)
            return cur.fetchall()
        finally:
            raw.close()

    via_floor()  # warm the cache for both
    t_floor, rows = best(via_floor, repeat)
    t_xlar, report = best(via_xlar, repeat)
    assert len(report.rows) == len(rows), (len(report.rows), len(rows))
    check = {r[0]: r[4] for r in rows}  # code -> balance minor units
    for row in report.rows[:200]:
        assert int(row.balance.scaleb(2)) == check[row.customer]
    return t_xlar, t_floor, len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=None, help="also run on this PostgreSQL URL (an empty database)")
    args = parser.parse_args()
    t = time.perf_counter()
    data = generate(args.items, args.customers)
    print(f"generated {len(data[2]):,} open items, {len(data[3]):,} allocations, "
          f"{args.customers:,} customers in {time.perf_counter() - t:.1f} s")
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}"))
        if args.postgres:
            targets.append(("postgresql", args.postgres))
        worst = 0.0
        for name, url in targets:
            store = Store.connect(url)
            store.upgrade()
            t = time.perf_counter()
            load(store, data)
            print(f"[{name}] loaded in {time.perf_counter() - t:.1f} s")
            t_xlar, t_floor, rows = measure(store, args.repeat)
            ratio = t_xlar / t_floor
            worst = max(worst, ratio)
            print(f"[{name}] aging as of {AS_OF} ({rows:,} rows): xlar {t_xlar:.3f} s, "
                  f"hand-written SQL {t_floor:.3f} s, ratio {ratio:.2f} (target <= 1.5)")
            store.dispose()
    return 0 if worst <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
