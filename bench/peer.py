"""Benchmark: xlar vs python-accounting 2.0 on the same receivables book (posting and aging).

Both libraries build the same ledger, each on its own SQLite file in a temp dir: N customers
(in python-accounting a customer is a receivable account), N invoices of one line at 13% VAT,
N/2 receipts each paying one invoice in full and matched to it. Timed in the same run, CPU
(process_time) and wall:

  posting  xlar in batches, as a workbook sync does it: `documents.prepare` + `store_new` with
           the invoices posted in one transaction, then the receipts (their reference names the
           invoice), then `receipts.approve` by the approver, which matches each receipt to its
           invoice; and one document at a time, each step in its own transaction as the CLI
           does it: `create_draft`, then `post_many` (`xlar invoice post DRAFT-n`), receipts
           then `receipts.approve` (`xlar receipt approve`). python-accounting through its
           documented path (README): ClientInvoice / ClientReceipt with a LineItem, `post`, and
           an Assignment of each receipt to its invoice.
  aging    `xlar.reports.ledger.aging` vs `python_accounting.reports.AgingSchedule` for
           receivables, as of one date, best of --repeat.

Prints per-document times, the ratios python-accounting / xlar (issue 23's goals: posting
>= 100x, aging >= 1,000x), SQL statements per document, the load average before and after,
and checks that the two books agree to the cent, customer by customer (integer minor units).
Both stores run with xlar's SQLite settings (WAL, synchronous=NORMAL) unless
--peer-sqlite-defaults gives python-accounting SQLite's own (rollback journal, fsync on each
of its commits). --profile runs cProfile over xlar's posting instead of the timed run.

    python bench/peer.py [--n 1000] [--repeat 3] [--peer-sqlite-defaults] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from xlar.domain.customers import Customer
from xlar.domain.documents import DocKind, LineInput
from xlar.reports import ledger as reports
from xlar.services import documents as docs
from xlar.services import receipts
from xlar.services.customers import save_customer
from xlar.store.engine import Store
from xlar.store.settings import write_settings
from xlar.store.tables import documents

YEAR = date.today().year   # python-accounting books into the reporting period of this calendar year
START = date(YEAR, 1, 2)   # (its period starts on 1 January; a transaction may not be dated on that instant)
AS_OF = date(YEAR, 11, 30)
VAT = Decimal("0.13")
CLERK, APPROVER = "clerk", "approver"


@dataclass(frozen=True, slots=True)
class Invoice:
    customer: int          # 0 .. N-1
    on: date
    net: Decimal           # whole yuan, so 13% VAT is exact in cents in both libraries

    @property
    def total(self) -> Decimal:
        return self.net + (self.net * VAT).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class Receipt:
    invoice: int           # index into the invoices
    on: date


def generate(n: int) -> tuple[list[Invoice], list[Receipt]]:
    """N invoices, one per customer (dated over 40 weeks); every other one paid 20 days later."""
    invoices = [Invoice(i, START + timedelta(days=(i * 7) % 280), Decimal(100 + (i * 37) % 9_900))
                for i in range(n)]
    paid = [Receipt(i, invoices[i].on + timedelta(days=20)) for i in range(0, n, 2)]
    return invoices, paid


def code(i: int) -> str:
    return f"C{i:06d}"


def minor(amount: Decimal) -> int:
    """AMOUNT in cents, refusing anything finer (the books must agree exactly)."""
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise AssertionError(f"{amount} is not a whole number of cents")
    return int(cents)


@contextmanager
def timed(into: dict[str, float]) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into["wall"], into["cpu"] = time.perf_counter() - wall, time.process_time() - cpu


class Counter:
    """SQL statements sent to the driver (an executemany counts once) and rows they carried."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements = self.rows = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, _sql: str, params: Any, _context: Any, executemany: bool) -> None:
        self.statements += 1
        self.rows += len(params) if executemany else 1

    def reset(self) -> tuple[int, int]:
        done = (self.statements, self.rows)
        self.statements = self.rows = 0
        return done


# ---------------------------------------------------------------- xlar

def xlar_book(path: Path, n: int) -> Store:
    store = Store.connect(f"sqlite:///{path}")
    store.upgrade()
    with store.write() as conn:
        write_settings(conn, {"company": "Bench Co", "base_currency": "CNY",
                              "current_period": f"{AS_OF:%Y-%m}", "clerks": CLERK, "approvers": APPROVER}, APPROVER)
    with store.write() as conn:
        for i in range(n):
            save_customer(conn, Customer(code(i), f"Customer {i}", "CNY"), CLERK)
    return store


def invoice_draft(inv: Invoice) -> docs.DraftDocument:
    return docs.DraftDocument(DocKind.INVOICE, code(inv.customer), inv.on,
                              (LineInput("SVC", Decimal(1), inv.net, VAT, "services"),),
                              due_on=inv.on + timedelta(days=30))


def receipt_draft(rec: Receipt, inv: Invoice, number: str) -> docs.DraftDocument:
    return docs.DraftDocument(DocKind.RECEIPT, code(inv.customer), rec.on, amount=inv.total, method="bank",
                              reference=number)


def _stored(conn: sa.Connection, prepared: list[docs.Prepared | Any]) -> list[docs.Prepared]:
    refused = [p for p in prepared if not isinstance(p, docs.Prepared)]
    if refused:
        raise AssertionError(f"{len(refused)} drafts refused, e.g. {refused[0]}")
    return prepared


def xlar_batch(store: Store, invoices: list[Invoice], paid: list[Receipt]) -> None:
    """As a sync of a workbook with every row new: one transaction per sheet, then approval."""
    with store.write() as conn:
        prepared = _stored(conn, docs.prepare(conn, [invoice_draft(inv) for inv in invoices]))
        ids = docs.store_new(conn, prepared, CLERK, [True] * len(prepared))
        numbers = dict(conn.execute(sa.select(documents.c.id, documents.c.number)
                                    .where(documents.c.id.in_(ids[0::2]))).all())
    with store.write() as conn:
        prepared = _stored(conn, docs.prepare(conn, [receipt_draft(r, invoices[r.invoice], numbers[ids[r.invoice]])
                                                     for r in paid]))
        receipt_ids = docs.store_new(conn, prepared, CLERK, [True] * len(prepared))
    with store.write() as conn:
        receipts.approve(conn, receipt_ids, APPROVER)   # each matched to the invoice its reference names


def _enter_and_post(store: Store, draft: docs.DraftDocument) -> str:
    with store.write() as conn:
        doc_id = docs.create_draft(conn, draft, CLERK)
    with store.write() as conn:   # xlar invoice post DRAFT-<id>
        return docs.post_many(conn, [docs.find(conn, f"DRAFT-{doc_id}", lock=True)], CLERK, docs.Posting())[0]


def xlar_one_by_one(store: Store, invoices: list[Invoice], paid: list[Receipt]) -> None:
    """Each document entered, posted and (receipts) approved in transactions of its own."""
    numbers = [_enter_and_post(store, invoice_draft(inv)) for inv in invoices]
    for rec in paid:
        number = _enter_and_post(store, receipt_draft(rec, invoices[rec.invoice], numbers[rec.invoice]))
        with store.write() as conn:   # xlar receipt approve <number>
            receipts.approve(conn, [docs.find(conn, number, lock=True).id], APPROVER)


def xlar_aging(store: Store) -> dict[str, int]:
    with store.read() as conn:
        report = reports.aging(conn, AS_OF)
    return {row.customer: minor(row.balance) for row in report.rows if row.balance}   # settled: no row in the peer's


# ---------------------------------------------------------------- python-accounting

class Peer:
    """A python-accounting book: entity, currency, chart of accounts, VAT, one account per client."""

    def __init__(self, path: Path, n: int, sqlite_defaults: bool) -> None:
        from python_accounting.database.session import get_session
        from python_accounting.models import Account, Base, Currency, Entity, Tax

        self.engine = sa.create_engine(f"sqlite:///{path}")
        if not sqlite_defaults:
            sa.event.listen(self.engine, "connect", _xlar_pragmas)
        Base.metadata.create_all(self.engine)
        self.session = session = get_session(self.engine)
        entity = Entity(name="Bench Co")
        session.add(entity)
        session.commit()     # sets up the reporting period of this year
        self.entity_id = entity.id
        currency = Currency(name="Chinese Yuan", code="CNY", entity_id=entity.id)
        session.add(currency)
        session.commit()

        def account(name: str, kind: Any) -> Any:
            return Account(name=name, account_type=kind, currency_id=currency.id, entity_id=entity.id)
        tax_account = account("Output VAT", Account.AccountType.CONTROL)
        self.bank, self.revenue = account("Bank", Account.AccountType.BANK), account("Revenue",
                                                                                     Account.AccountType.OPERATING_REVENUE)
        session.add_all([tax_account, self.bank, self.revenue])
        session.commit()
        tax = Tax(name="VAT", code="VAT", account_id=tax_account.id, rate=13, entity_id=entity.id)
        session.add(tax)
        session.commit()
        self.bank_id, self.revenue_id, self.tax_id = self.bank.id, self.revenue.id, tax.id
        self.clients: list[int] = []
        for start in range(0, n, 500):
            chunk = [account(f"Customer {i}", Account.AccountType.RECEIVABLE) for i in range(start, min(n, start + 500))]
            session.add_all(chunk)
            session.commit()
            self.clients += [a.id for a in chunk]
        self.code_of = {account_id: code(i) for i, account_id in enumerate(self.clients)}

    def post(self, invoices: list[Invoice], paid: list[Receipt]) -> None:
        """The README's way: each transaction added, flushed, given its line item and posted;
        each receipt assigned to the invoice it pays."""
        from python_accounting.models import Assignment, LineItem
        from python_accounting.transactions import ClientInvoice, ClientReceipt

        session, entity_id = self.session, self.entity_id
        invoice_ids: list[int] = []
        for inv in invoices:
            invoice = ClientInvoice(narration=f"Invoice to {code(inv.customer)}", transaction_date=_at(inv.on),
                                    account_id=self.clients[inv.customer], entity_id=entity_id)
            session.add(invoice)
            session.flush()
            line = LineItem(narration="services", account_id=self.revenue_id, amount=inv.net, quantity=1,
                            tax_id=self.tax_id, entity_id=entity_id)
            session.add(line)
            session.flush()
            invoice.line_items.add(line)
            session.add(invoice)
            invoice.post(session)
            invoice_ids.append(invoice.id)
        for rec in paid:
            inv = invoices[rec.invoice]
            receipt = ClientReceipt(narration=f"Receipt from {code(inv.customer)}", transaction_date=_at(rec.on),
                                    account_id=self.clients[inv.customer], entity_id=entity_id)
            session.add(receipt)
            session.flush()
            line = LineItem(narration="bank transfer", account_id=self.bank_id, amount=inv.total, quantity=1,
                            entity_id=entity_id)
            session.add(line)
            session.flush()
            receipt.line_items.add(line)
            session.add(receipt)
            receipt.post(session)
            session.add(Assignment(assignment_date=_at(rec.on), transaction_id=receipt.id,
                                   assigned_id=invoice_ids[rec.invoice], assigned_type="ClientInvoice",
                                   entity_id=entity_id, amount=inv.total))
            session.commit()

    def aging(self) -> dict[str, int]:
        from python_accounting.models import Account
        from python_accounting.reports import AgingSchedule

        schedule = AgingSchedule(self.session, Account.AccountType.RECEIVABLE, _at(AS_OF))
        by_customer = {self.code_of[a.id]: minor(sum(a.balances.values(), Decimal(0))) for a in schedule.accounts}
        assert sum(by_customer.values()) == minor(sum(schedule.balances.values(), Decimal(0)))
        return by_customer

    def closing_balances(self) -> int:
        """The receivable accounts' closing balances as of AS_OF, summed: the ledger's side."""
        from python_accounting.models import Account

        accounts = self.session.scalars(sa.select(Account).where(
            Account.account_type == Account.AccountType.RECEIVABLE)).all()
        return sum(minor(a.closing_balance(self.session, _at(AS_OF))) for a in accounts)

    def close(self) -> None:
        self.session.close()
        self.engine.dispose()


def _at(on: date) -> datetime:
    return datetime(on.year, on.month, on.day)


def _xlar_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# ---------------------------------------------------------------- the run

def best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Lowest wall and CPU time of REPEAT runs (each its own minimum), and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        got: dict[str, float] = {}
        with timed(got):
            result = fn()
        walls.append(got["wall"])
        cpus.append(got["cpu"])
    return min(walls), min(cpus), result


def profile(tmp: Path, n: int, invoices: list[Invoice], paid: list[Receipt]) -> None:
    """cProfile over xlar's posting (batch, then one by one): the top entries in xlar/ code."""
    for name, post in (("batch", xlar_batch), ("one by one", xlar_one_by_one)):
        store = xlar_book(tmp / f"profile-{name.replace(' ', '-')}.db", n)
        counter = Counter(store.engine)
        prof = cProfile.Profile()
        prof.runcall(post, store, invoices, paid)
        statements, rows = counter.reset()
        docs_n = len(invoices) + len(paid)
        print(f"\n[profile] xlar posting {name}: {statements:,} SQL statements ({statements / docs_n:.1f} per "
              f"document), {rows:,} rows bound ({rows / docs_n:.1f} per document)")
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("cumulative").print_stats(r"/xlar/(?!.*bench)", 25)
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip()
                        and not line.startswith(("   Ordered", "   List reduced"))))
        store.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000, help="customers and invoices (receipts: half)")
    parser.add_argument("--repeat", type=int, default=3, help="aging runs, the best kept")
    parser.add_argument("--peer-sqlite-defaults", action="store_true",
                        help="python-accounting on SQLite's default journal and fsync, not xlar's settings")
    parser.add_argument("--profile", action="store_true", help="cProfile xlar's posting instead of the timed run")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} CPUs", flush=True)
    invoices, paid = generate(args.n)
    docs_n = len(invoices) + len(paid)
    print(f"{len(invoices):,} customers, {len(invoices):,} invoices, {len(paid):,} receipts; aging as of {AS_OF}",
          flush=True)
    warnings.filterwarnings("ignore", "Dialect sqlite\\+pysqlite does \\*not\\* support Decimal", sa.exc.SAWarning)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.profile:
            profile(tmp, args.n, invoices, paid)
            return 0
        post: dict[str, dict[str, float]] = {k: {} for k in ("batch", "single", "peer")}
        sql: dict[str, tuple[int, int]] = {}
        batch, single = xlar_book(tmp / "xlar-batch.db", args.n), xlar_book(tmp / "xlar-single.db", args.n)
        peer = Peer(tmp / "peer.db", args.n, args.peer_sqlite_defaults)
        for name, store, way in (("batch", batch, xlar_batch), ("single", single, xlar_one_by_one)):
            counter = Counter(store.engine)
            with timed(post[name]):
                way(store, invoices, paid)
            sql[name] = counter.reset()
            print(f"xlar {name:<6} posted in {post[name]['wall']:.2f} s wall, {post[name]['cpu']:.2f} s CPU", flush=True)
        counter = Counter(peer.engine)
        with timed(post["peer"]):
            peer.post(invoices, paid)
        sql["peer"] = counter.reset()
        print(f"python-accounting posted in {post['peer']['wall']:.2f} s wall, {post['peer']['cpu']:.2f} s CPU",
              flush=True)

        xlar_aging(batch)   # warm both
        t_xlar, c_xlar, ours = best(lambda: xlar_aging(batch), args.repeat)
        t_peer, c_peer, theirs = best(peer.aging, args.repeat)
        print(f"aging: xlar {t_xlar * 1e3:.1f} ms, python-accounting {t_peer:.2f} s", flush=True)

        # the two books agree, customer by customer, to the cent; so do xlar's two ways of posting
        assert ours == theirs, sorted(set(ours.items()) ^ set(theirs.items()))[:5]
        assert xlar_aging(single) == ours
        expected = sum(minor(invoices[i].total) for i in range(len(invoices)) if i % 2)
        closing = peer.closing_balances()
        assert sum(ours.values()) == expected == closing, (sum(ours.values()), expected, closing)
        print(f"books agree: {len(ours):,} customers owe {Decimal(expected).scaleb(-2):,} CNY in both "
              "(xlar aging = python-accounting aging schedule = its receivable accounts' closing balances)")

        print(f"\n{'posting':<28}{'wall s':>9}{'CPU s':>9}{'ms/doc':>9}{'SQL/doc':>9}"
              f"{'peer/xlar wall':>16}{'CPU':>8}")
        for name, label in (("batch", "xlar batch (sync)"), ("single", "xlar one by one (CLI)"),
                            ("peer", "python-accounting")):
            p = post[name]
            ratio = (f"{post['peer']['wall'] / p['wall']:>15.1f}x{post['peer']['cpu'] / p['cpu']:>7.1f}x"
                     if name != "peer" else "")
            print(f"{label:<28}{p['wall']:>9.2f}{p['cpu']:>9.2f}{p['wall'] / docs_n * 1e3:>9.2f}"
                  f"{sql[name][0] / docs_n:>9.1f}{ratio}")
        print(f"{'aging (best of ' + str(args.repeat) + ')':<28}{'wall ms':>9}{'CPU ms':>9}")
        print(f"{'xlar':<28}{t_xlar * 1e3:>9.1f}{c_xlar * 1e3:>9.1f}")
        print(f"{'python-accounting':<28}{t_peer * 1e3:>9.0f}{c_peer * 1e3:>9.0f}"
              f"{t_peer / t_xlar:>24.0f}x{c_peer / c_xlar:>7.0f}x")
        goals = {"posting batch": post["peer"]["wall"] / post["batch"]["wall"] >= 100,
                 "posting one by one": post["peer"]["wall"] / post["single"]["wall"] >= 100,
                 "aging": t_peer / t_xlar >= 1_000}
        print("goals (posting >= 100x, aging >= 1,000x, wall): "
              + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in goals.items()))
        peer.close()
        batch.dispose()
        single.dispose()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
