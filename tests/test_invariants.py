"""Random days of work through the services: whatever is accepted or refused, the book holds.

Money is conserved (the AR journal equals the open items), no item is ever applied
beyond its amount on any date, and aging buckets add up to every balance.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.books import USER, customer, invoice, line, receipt
from tests.items import opened
from xlar.domain import ledger as ref
from xlar.domain.aging import AgingPolicy, Basis
from xlar.domain.documents import DocKind
from xlar.domain.errors import XlarError
from xlar.domain.money import from_minor
from xlar.reports import ledger as reports
from xlar.services import documents as docs
from xlar.services import matching, settle, suggest
from xlar.store.settings import write_settings
from xlar.store.tables import (
    allocation_batches,
    allocations,
    customers,
    documents,
    journal_lines,
    open_items,
)

START = date(2026, 3, 1)
CUSTOMERS = {"C1": ("CNY", None), "C2": ("CNY", None), "U1": ("USD", "7.1")}

days = st.integers(0, 60)
amounts = st.integers(1, 500_000).map(lambda m: str(from_minor(m, "CNY")))
ops = st.one_of(
    st.tuples(st.just("invoice"), st.sampled_from(sorted(CUSTOMERS)), days, amounts, st.sampled_from(["0", "0.13"])),
    st.tuples(st.just("credit_note"), st.sampled_from(sorted(CUSTOMERS)), days, amounts, st.just("0.13")),
    st.tuples(st.just("receipt"), st.sampled_from(sorted(CUSTOMERS)), days, amounts, st.sampled_from(["7.0", "7.25"])),
    st.tuples(st.just("fifo"), st.integers(0, 30)),
    st.tuples(st.just("manual"), st.integers(0, 60), st.integers(0, 60), st.integers(1, 150)),
    st.tuples(st.just("undo"), st.integers(0, 30), days),
    st.tuples(st.just("void"), st.integers(0, 30), days),
    st.tuples(st.just("suggest"), st.sampled_from(["auto", "reference", "exact", "fifo", "installment", "product"]),
              st.sampled_from(sorted(CUSTOMERS)), days),
    st.tuples(st.just("undo_one"), st.integers(0, 60), days),
    st.tuples(st.just("transfer"), st.integers(0, 30), st.sampled_from(sorted(CUSTOMERS)), days, st.integers(1, 100)),
    st.tuples(st.just("refund"), st.integers(0, 30), days, st.integers(1, 100)),
    st.tuples(st.just("write_off"), st.integers(0, 30), days, st.integers(1, 500)),
)


def _apply(conn, op, made):
    kind = op[0]
    if kind in ("invoice", "credit_note"):
        _, cust, day, amount, tax = op
        rate = CUSTOMERS[cust][1]
        made.append(invoice(conn, cust, START + timedelta(days=day), line("1", amount, tax), rate=rate,
                            kind=DocKind(kind)))
    elif kind == "receipt":
        _, cust, day, amount, rate = op
        made.append(receipt(conn, cust, START + timedelta(days=day), amount,
                            rate=rate if CUSTOMERS[cust][0] != "CNY" else None))
    elif kind == "fifo" and made:
        matching.match_fifo(conn, made[op[1] % len(made)], user=USER)
    elif kind == "manual":
        items = conn.execute(sa.select(open_items.c.id, open_items.c.amount_minor).order_by(open_items.c.id)).all()
        debits = [(i, a) for i, a in items if a > 0]
        credits = [i for i, a in items if a < 0]
        if debits and credits:  # up to 150% of the invoice: some must be refused
            debit, debit_minor = debits[op[1] % len(debits)]
            amount = from_minor(max(1, debit_minor * op[3] // 100), "CNY")
            matching.allocate(conn, [matching.Match(debit, credits[op[2] % len(credits)], amount)],
                              method="manual", user=USER)
    elif kind == "undo":
        batches = conn.execute(sa.select(allocation_batches.c.id).order_by(allocation_batches.c.id)).scalars().all()
        if batches:
            matching.undo(conn, batches[op[1] % len(batches)], on=START + timedelta(days=op[2]), user=USER)
    elif kind == "void" and made:
        docs.void(conn, made[op[1] % len(made)], START + timedelta(days=op[2]), USER, "test")
    elif kind == "suggest":
        _, strategy, cust, day = op
        suggest.apply(conn, suggest.propose(conn, strategy, customer=cust), USER, on=START + timedelta(days=day))
    elif kind == "undo_one":
        live = list(matching._live_of(conn, allocations.c.id > 0))
        if live:
            matching.undo_allocations(conn, [live[op[1] % len(live)]], on=START + timedelta(days=op[2]), user=USER)
    elif kind in ("transfer", "refund", "write_off") and made:
        number = conn.execute(sa.select(documents.c.number).where(documents.c.id == made[op[1] % len(made)])).scalar()
        if number is None:
            return
        item = settle.open_item(conn, number)
        part = from_minor(max(1, abs(item.open.minor) * op[-1] // 100), item.currency)
        on = START + timedelta(days=op[-2])
        if kind == "transfer":
            settle.transfer(conn, number, op[2], on, USER, amount=part)
        elif kind == "refund":
            settle.refund(conn, number, on, USER, amount=part)
        else:
            settle.write_off(conn, number, from_minor(op[-1], item.currency), "ROUNDING", on, USER)


def _ledger(conn):
    rows = conn.execute(sa.select(open_items, customers.c.code)
                        .join(customers, customers.c.id == open_items.c.customer_id)).mappings().all()
    items = [opened(r["id"], r["code"], r["currency"], from_minor(r["amount_minor"], r["currency"]),
                      from_minor(r["base_amount_minor"], "CNY"), r["doc_on"], r["due_on"]) for r in rows]
    cur = {r["id"]: r["currency"] for r in rows}
    allocs = [ref.AllocationEntry(a["debit_item_id"], a["credit_item_id"], from_minor(a["amount_minor"], cur[a["debit_item_id"]]),
                                  from_minor(a["debit_base_minor"], "CNY"), from_minor(a["credit_base_minor"], "CNY"),
                                  a["effective_on"]) for a in conn.execute(sa.select(allocations)).mappings()]
    return items, allocs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=25))
def test_the_book_holds_whatever_happens(backend, operations):
    with backend.reused_store() as store:
        with store.write() as conn:
            for code, (currency, _rate) in CUSTOMERS.items():
                customer(conn, code, currency)
            write_settings(conn, {"write_off_tolerance": "5"}, "setup")
        made: list[int] = []
        for op in operations:
            try:
                with store.write() as conn:
                    _apply(conn, op, made)
            except XlarError:
                pass  # refused whole: the transaction rolled back
        with store.read() as conn:
            items, allocs = _ledger(conn)
            by_id = {it.id: it for it in items}
            checkpoints = sorted({a.effective_on for a in allocs} | {it.doc_on for it in items} | {START})
            for as_of in checkpoints:
                for oa in ref.open_amounts(items, allocs, as_of):
                    low, high = sorted([Decimal(0), oa.amount.amount])
                    assert low <= oa.open.amount <= high, f"item {oa.id} overdrawn on {as_of}: {oa.open}"
            for as_of in checkpoints[-1:] + checkpoints[:1]:
                for policy in (AgingPolicy(), AgingPolicy(Basis.DOCUMENT, (7, 30))):
                    report = reports.aging(conn, as_of, policy)
                    for row in report.rows:
                        assert sum(row.buckets.values()) == row.balance
                        assert sum(row.base_buckets.values()) == row.base_balance
                    total, buckets = report.total_base
                    assert sum(buckets.values()) == total
            # money is conserved: the AR control account equals the sum of the open items
            journal = defaultdict(int)
            for doc_id, cur, dr, cr in conn.execute(sa.select(
                    journal_lines.c.document_id, journal_lines.c.currency, journal_lines.c.debit_minor,
                    journal_lines.c.credit_minor).where(journal_lines.c.account == "1122")):
                journal[cur] += dr - cr
            subledger = defaultdict(int)
            for r in conn.execute(sa.select(open_items.c.currency, open_items.c.amount_minor)):
                subledger[r[0]] += r[1]
            assert {k: v for k, v in journal.items() if v} == {k: v for k, v in subledger.items() if v}
            # ... in base currency too: realized exchange differences keep AR equal to the open items
            base_journal = conn.execute(sa.select(sa.func.sum(journal_lines.c.base_debit_minor
                                                              - journal_lines.c.base_credit_minor))
                                        .where(journal_lines.c.account == "1122")).scalar() or 0
            open_base = sum(b.base_balance for b in reports.balances(conn, date(2100, 1, 1)))
            assert from_minor(base_journal, "CNY") == open_base
            assert all(by_id[a.debit_item].currency == by_id[a.credit_item].currency for a in allocs)
