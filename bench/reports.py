"""Benchmark: every report over a year's book of 10,000 customers and 100,000 invoices, against aging.

The book: invoices over 2025 due 30 days on (terms NET30), about 80% of them paid by a receipt
matched to them (each customer pays with its own habit of lateness, some partly), a few
hundred disputed, a few hundred receipts left unapplied, Contacts rows (some with promises
to pay), the journal lines posting writes and a year-end USD rate for the revaluation. It is
loaded straight into the tables (COPY / executemany), as posting and matching would have
written it. Each report is timed as of 2025-12-31 (the span reports over the whole year),
best of --repeat, on its own connection, and printed with its ratio to the aging of
xlar.reports.ledger measured in the same run. --profile N runs the N slowest once more under
cProfile and prints where the time goes in xlar.

    python bench/reports.py [--customers 10000] [--invoices 100000] [--repeat 3] [--postgres URL]
                            [--only NAME ...] [--profile 3] [--keep PATH]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aging import best, insert_rows, restart_sequences

from xlar.reports import catalog, kpis
from xlar.reports import ledger as reports
from xlar.services import fx
from xlar.store.engine import Store
from xlar.store.settings import write_settings
from xlar.sync.outputs import _collections

START = date(2025, 1, 1)
AS_OF = date(2025, 12, 31)
DATE_FROM = START                 # the span reports cover the whole year
RATE = {"CNY": 1.0, "USD": 7.1}   # every USD document at one rate: matches realize no exchange difference
YEAR_END_RATE = Decimal("7.2")    # FxRates for 2025-12: what the revaluation reports on
VAT = 0.13
# customer habits: share of customers, mean and spread of days late, share of invoices they pay
HABITS = ((0.35, -2, 3, 0.97), (0.35, 8, 8, 0.93), (0.20, 25, 15, 0.88), (0.10, 70, 30, 0.75))
NO_DATA = ("delivery-difference", "price-difference", "installments")   # need deliveries, lines, orders


def _half_up(minor: int, rate: float) -> int:
    """MINOR x RATE rounded half up (rates of one decimal: exact in tenths)."""
    tenths = round(rate * 10)
    return (minor * tenths + 5) // 10 if minor >= 0 else -((-minor * tenths + 5) // 10)


def _customers(rng: random.Random, n: int) -> tuple[list[tuple[object, ...]], list[tuple[float, ...]]]:
    rows, habits = [], []
    for i in range(1, n + 1):
        cur = "USD" if i % 20 == 0 else "CNY"
        rows.append((i, f"C{i:05d}", f"Customer {i}", "trade", None if i % 50 == 0 else f"S{i % 25:02d}", cur,
                     "NET30", rng.choice([5, 10, 50, 200]) * 1_000_000, rng.choice("ABBCD"), f"Contact {i}",
                     f"138{i:08d}", f"ap{i}@customer.example"))
        pick, acc = rng.random(), 0.0
        for share, *habit in HABITS:
            acc += share
            if pick <= acc:
                break
        habits.append(tuple(habit))
    return rows, habits


def _invoices_and_receipts(rng: random.Random, n_invoices: int, customers, habits):  # type: ignore[no-untyped-def]
    """Invoices [customer id, doc_on, amount, currency, disputed] and receipts [customer id, doc_on,
    amount, currency, invoice index or None]: a receipt per paid invoice (5% of them part of
    it), paid on the due date plus the customer's lateness; a few receipts left unapplied."""
    weights = [rng.paretovariate(1.5) for _ in customers]   # a few large customers, many small
    owners = rng.choices(range(len(customers)), weights, k=n_invoices)
    invoices, receipts = [], []
    for k, who in enumerate(owners):
        cid, cur = customers[who][0], customers[who][5]
        on = START + timedelta(days=rng.randrange(365))
        amount = max(1000, int(rng.lognormvariate(11, 1.3))) // 100 * 100
        invoices.append([cid, on, amount, cur, None])
        mean, spread, paid = habits[who]
        if rng.random() < paid:
            pay_on = max(on, on + timedelta(days=30 + round(rng.gauss(mean, spread))))
            if pay_on <= AS_OF:
                part = amount if rng.random() > 0.05 else amount * rng.randint(30, 70) // 100
                receipts.append([cid, pay_on, part, cur, k])
    for _ in range(max(1, n_invoices // 300)):
        who = customers[rng.randrange(len(customers))]
        cid, cur = who[0], who[5]
        receipts.append([cid, START + timedelta(days=rng.randrange(365)), rng.randint(10, 5000) * 100, cur, None])
    paid_by = {r[4]: r[2] for r in receipts if r[4] is not None}
    overdue_open = [k for k, inv in enumerate(invoices)
                    if paid_by.get(k, 0) < inv[2] and inv[1] + timedelta(days=30) < AS_OF]
    for k in rng.sample(overdue_open, min(len(overdue_open), max(1, n_invoices * 3 // 1000))):
        invoices[k][4] = "yes"
    return invoices, receipts


COLUMNS = {
    "payment_terms": "id, code, name, basis, days",
    "customers": "id, code, name, category, salesperson, currency, payment_terms, credit_limit_minor, credit_class, "
                 "contact, phone, email",
    "documents": "id, kind, status, number, customer_id, doc_on, due_on, currency, fx_rate, net_minor, tax_minor, "
                 "amount_minor, base_amount_minor, payment_terms, method, reference, created_by, created_at, "
                 "posted_by, posted_at, approved_by, approved_at, expected_on, disputed",
    "open_items": "id, document_id, customer_id, installment_no, currency, amount_minor, base_amount_minor, doc_on, "
                  "due_on",
    "allocation_batches": "id, method, user_name, created_at",
    "allocations": "id, batch_id, debit_item_id, credit_item_id, amount_minor, debit_base_minor, credit_base_minor, "
                   "effective_on",
    "journal_lines": "id, document_id, line_no, account, customer_id, currency, debit_minor, credit_minor, "
                     "base_debit_minor, base_credit_minor, posted_on",
    "contacts": "id, customer_id, contacted_on, method, person, result, promise_on, promise_amount_minor, next_action",
    "number_series": "kind, year, prefix, last_no",
}


def _journal(doc_id: int, kind: str, cid: int, cur: str, on: date, amount: int, base: int) -> list[list[object]]:
    """What posting writes (journal_for): Dr AR / Cr revenue / Cr VAT, or Dr bank / Cr AR (no ids yet)."""
    if kind == "receipt":
        return [[doc_id, 1, "1002", cid, cur, amount, 0, base, 0, on], [doc_id, 2, "1122", cid, cur, 0, amount, 0, base, on]]
    tax = amount - round(amount / (1 + VAT))
    base_tax = _half_up(tax, RATE[cur])
    return [[doc_id, 1, "1122", cid, cur, amount, 0, base, 0, on],
            [doc_id, 2, "6001", cid, cur, 0, amount - tax, 0, base - base_tax, on],
            [doc_id, 3, "222101", cid, cur, 0, tax, 0, base_tax, on]]


def _documents(invoices, receipts):  # type: ignore[no-untyped-def]
    """Documents, open items (one each, id = the document's) and journal lines, numbered in date order."""
    order = sorted([(inv[1], 0, k) for k, inv in enumerate(invoices)] + [(r[1], 1, k) for k, r in enumerate(receipts)])
    docs, items, journal, ids = [], [], [], {}
    counts = {"invoice": 0, "receipt": 0}
    for doc_id, (on, is_receipt, k) in enumerate(order, start=1):
        kind = "receipt" if is_receipt else "invoice"
        cid, _on, amount, cur, extra = (receipts if is_receipt else invoices)[k]
        ids[(kind, k)] = doc_id
        counts[kind] += 1
        number = f"{'RC' if is_receipt else 'INV'}-{on.year}-{counts[kind]:05d}"
        due = on if is_receipt else on + timedelta(days=30)
        base = _half_up(amount, RATE[cur])
        tax = 0 if is_receipt else amount - round(amount / (1 + VAT))
        stamp = f"{on} 09:00:00"
        docs.append((doc_id, kind, "approved" if is_receipt else "posted", number, cid, on, due, cur,
                     str(RATE[cur]).removesuffix(".0"), amount - tax, tax, amount, base, "NET30",
                     "bank" if is_receipt else None, None if is_receipt else f"PO-{doc_id}", "bench", stamp,
                     "bench", stamp, "bench" if is_receipt else None, stamp if is_receipt else None, due,
                     None if is_receipt else extra))
        sign = -1 if is_receipt else 1
        items.append((doc_id, doc_id, cid, 1, cur, sign * amount, sign * base, on, due))
        journal += _journal(doc_id, kind, cid, cur, on, amount, base)
    journal = [(i, *line) for i, line in enumerate(journal, start=1)]
    series = [("invoice", 2025, "INV", counts["invoice"]), ("receipt", 2025, "RC", counts["receipt"])]
    return docs, items, journal, series, ids


def _allocations(invoices, receipts, ids):  # type: ignore[no-untyped-def]
    """A match batch per applied receipt (as approving it with a reference does) and its allocation."""
    applied = sorted((max(r[1], invoices[r[4]][1]), k) for k, r in enumerate(receipts) if r[4] is not None)
    batches, allocs = [], []
    for n, (effective, k) in enumerate(applied, start=1):
        _cid, on, amount, cur, invoice = receipts[k]
        share = _half_up(amount, RATE[cur])
        batches.append((n, "reference", "bench", f"{on} 10:00:00"))
        allocs.append((n, n, ids[("invoice", invoice)], ids[("receipt", k)], amount, share, share, effective))
    return batches, allocs


def _contacts(rng: random.Random, invoices, receipts) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    """For a third of the customers with overdue invoices: one to three calls in the last two
    months, the latest with a promise to pay half the time (some kept, some broken, some pending)."""
    paid = {r[4]: r[2] for r in receipts if r[4] is not None}
    owing: dict[int, int] = {}
    for k, (cid, on, amount, _cur, _disputed) in enumerate(invoices):
        if on + timedelta(days=30) < AS_OF and paid.get(k, 0) < amount:
            owing[cid] = owing.get(cid, 0) + amount - paid.get(k, 0)
    rows = []
    for cid in sorted(rng.sample(sorted(owing), len(owing) // 3)):
        days = sorted(rng.sample(range(1, 61), rng.randint(1, 3)), reverse=True)
        for n, back in enumerate(days):
            on = AS_OF - timedelta(days=back)
            promise = n == len(days) - 1 and rng.random() < 0.5
            rows.append((len(rows) + 1, cid, on, rng.choice(["phone", "email", "wechat"]), f"Contact {cid}",
                         "promised to pay" if promise else "no answer", on + timedelta(days=rng.randint(3, 30))
                         if promise else None, owing[cid] // 200 * 100 if promise else None, "follow up"))
    return rows


def generate(n_customers: int, n_invoices: int, seed: int = 11) -> dict[str, list[tuple[object, ...]]]:
    rng = random.Random(seed)
    customers, habits = _customers(rng, n_customers)
    invoices, receipts = _invoices_and_receipts(rng, n_invoices, customers, habits)
    docs, items, journal, series, ids = _documents(invoices, receipts)
    batches, allocs = _allocations(invoices, receipts, ids)
    return {"payment_terms": [(1, "NET30", "Net 30 days", "invoice_date", 30)], "customers": customers,
            "documents": docs, "open_items": items, "allocation_batches": batches, "allocations": allocs,
            "journal_lines": journal, "contacts": _contacts(rng, invoices, receipts), "number_series": series}


def load(store: Store, data: dict[str, list[tuple[object, ...]]]) -> None:
    """Straight into the tables: COPY on PostgreSQL (sequences moved past the ids given), else executemany."""
    with store.write() as conn:
        write_settings(conn, {"base_currency": "CNY", "company": "Bench Trading Co."}, "bench")
        for table, cols in COLUMNS.items():
            insert_rows(conn, store.dialect, table, cols, data[table])
        restart_sequences(conn, store.dialect, [t for t in COLUMNS if t != "number_series"])
        fx.set_rate(conn, "USD", AS_OF.isoformat()[:7], YEAR_END_RATE, "bench")
    with store.write() as conn:
        conn.exec_driver_sql("ANALYZE")


def _size(result: object) -> str:
    if isinstance(result, catalog.Result):
        return f"{len(result.frame):>8,} rows"
    if isinstance(result, reports.AgingReport):
        return f"{len(result.rows):>8,} rows"
    if isinstance(result, list):   # output sheets
        return f"{sum(len(out.rows) for out in result):>8,} rows in {len(result)} sheets"
    return ""


def subjects(only: list[str] | None) -> list[tuple[str, Callable[[object], object]]]:
    """(name, function of a connection) for the baseline and every report timed."""
    params = catalog.Params(AS_OF, DATE_FROM, AS_OF)
    found: list[tuple[str, Callable[[object], object]]] = [("ledger.aging", lambda c: reports.aging(c, AS_OF))]
    found += [(name, lambda c, name=name: catalog.run(c, name, params)) for name in catalog.REPORTS]
    found += [("sync _collections zh-CN", lambda c: _collections(c, AS_OF, "zh-CN")),
              ("kpis.dashboard_data en", lambda c: kpis.dashboard_data(c, AS_OF, "en"))]
    return [s for s in found if s[0] == "ledger.aging" or not only or s[0] in only]


def measure(store: Store, repeat: int, only: list[str] | None, tag: str) -> list[tuple[float, str]]:
    timed = []
    baseline = None
    for name, fn in subjects(only):
        def once(fn=fn):  # type: ignore[no-untyped-def]
            with store.read() as conn:
                return fn(conn)
        try:
            seconds, result = best(once, repeat)
        except Exception as exc:  # noqa: BLE001  (a report that needs data this book lacks: say so, go on)
            print(f"[{tag}] {name:<26} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:100]}", flush=True)
            continue
        baseline = baseline or seconds
        empty = isinstance(result, catalog.Result) and result.frame.empty and name in NO_DATA
        print(f"[{tag}] {name:<26} {seconds:9.3f} s  {seconds / baseline:8.1f} x aging  {_size(result)}"
              f"{'  (no data in this book)' if empty else ''}", flush=True)
        timed.append((seconds, name))
    return timed


def profile(store: Store, names: list[str], top: int = 25) -> None:
    """Each of NAMES once under cProfile: the xlar functions by cumulative time, then everything by own time."""
    table = dict(subjects(None))
    for name in names:
        prof = cProfile.Profile()
        with store.read() as conn:
            prof.runcall(table[name], conn)
        for sort, pattern in (("cumulative", r"xlar/"), ("tottime", "")):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(sort).print_stats(pattern, top)
            print(f"\n--- profile of {name}, by {sort} ---")
            print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="time only these (aging is always timed: the baseline)")
    parser.add_argument("--profile", type=int, default=0, help="profile the N slowest after timing")
    parser.add_argument("--keep", type=Path, help="build the SQLite book at this path, or reuse it when it exists")
    parser.add_argument("--postgres", default=None, help="also run on this PostgreSQL URL (an empty database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        targets = [("sqlite", f"sqlite:///{path}")] + ([("postgresql", args.postgres)] if args.postgres else [])
        data = None
        for tag, url in targets:
            store = Store.connect(url)
            if tag != "sqlite" or not path.exists() or args.keep is None:
                if data is None:
                    t = time.perf_counter()
                    data = generate(args.customers, args.invoices)
                    print(f"generated {args.customers:,} customers, {len(data['documents']):,} documents, "
                          f"{len(data['allocations']):,} allocations, {len(data['contacts']):,} contacts "
                          f"in {time.perf_counter() - t:.1f} s", flush=True)
                store.upgrade()
                t = time.perf_counter()
                load(store, data)
                print(f"[{tag}] loaded in {time.perf_counter() - t:.1f} s", flush=True)
            timed = measure(store, args.repeat, args.only, tag)
            if args.profile:
                profile(store, [name for _s, name in sorted(timed, reverse=True)[:args.profile]])
            store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
