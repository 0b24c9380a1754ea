"""The set-based SQL gives exactly what the pure reference gives, on random ledgers."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.items import opened
from xlar.domain import ledger as ref
from xlar.domain.aging import AgingPolicy, Basis
from xlar.domain.money import from_minor
from xlar.reports import ledger as reports
from xlar.store.ledger import OPEN, OPEN_BASE, open_items_stmt
from xlar.store.tables import allocation_batches, allocations, customers, documents, open_items

START = date(2026, 1, 1)
CUSTOMERS = ["A", "B", "C"]
CURRENCIES = ["CNY", "JPY", "KWD"]
BASE = "CNY"


@dataclass(frozen=True)
class RawItem:
    """An item in minor units, as the store holds it (the reference takes it in units)."""

    id: int
    customer: str
    currency: str
    amount: Decimal
    base_amount: Decimal
    doc_on: date
    due_on: date
    revalues: int | None = None


@st.composite
def ledgers(draw):
    n = draw(st.integers(1, 25))
    items = []
    for i in range(n):
        sign = draw(st.sampled_from([1, 1, -1]))
        amount = draw(st.integers(1, 10**7))
        items.append(RawItem(
            id=i + 1, customer=draw(st.sampled_from(CUSTOMERS)), currency=draw(st.sampled_from(CURRENCIES)),
            amount=Decimal(sign * amount), base_amount=Decimal(sign * draw(st.integers(1, 10**7))),
            doc_on=START + timedelta(days=draw(st.integers(0, 150))),
            due_on=START + timedelta(days=draw(st.integers(-30, 270))),
        ))
    # exchange differences booked on some items (amount 0, base only), aging with their item
    for target in draw(st.lists(st.sampled_from(items), max_size=3)):
        items.append(RawItem(
            id=len(items) + 1, customer=target.customer, currency=target.currency, amount=Decimal(0),
            base_amount=Decimal(draw(st.integers(-10**5, 10**5))),
            doc_on=target.doc_on + timedelta(days=draw(st.integers(0, 60))),
            due_on=START + timedelta(days=draw(st.integers(-30, 270))), revalues=target.id))
    # amounts are held in minor units here; converted when compared
    allocs = []
    applied = {it.id: 0 for it in items}
    for debit in (it for it in items if it.amount > 0):
        for credit in (it for it in items if it.amount < 0):
            if (debit.customer, debit.currency) != (credit.customer, credit.currency) or not draw(st.booleans()):
                continue
            room = min(int(debit.amount) - applied[debit.id], -int(credit.amount) - applied[credit.id])
            if room <= 0:
                continue
            amount = draw(st.integers(1, room))
            on = max(debit.doc_on, credit.doc_on) + timedelta(days=draw(st.integers(0, 40)))
            shares = (draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)))
            allocs.append(ref.AllocationEntry(debit.id, credit.id, Decimal(amount), Decimal(shares[0]),
                                              Decimal(shares[1]), on))
            applied[debit.id] += amount
            applied[credit.id] += amount
            if draw(st.integers(0, 3)) == 0:  # undone later
                allocs.append(ref.AllocationEntry(debit.id, credit.id, Decimal(-amount), Decimal(-shares[0]),
                                                  Decimal(-shares[1]), on + timedelta(days=draw(st.integers(0, 30)))))
    return items, allocs


policies = st.builds(
    AgingPolicy,
    st.sampled_from(list(Basis)),
    st.lists(st.integers(1, 200), min_size=1, max_size=5, unique=True).map(lambda xs: tuple(sorted(xs))),
)


def _insert(conn, items, allocs):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ids = {}
    for code in CUSTOMERS:
        ids[code] = conn.execute(customers.insert().values(code=code, name=code, currency="CNY")).inserted_primary_key[0]
    conn.execute(documents.insert(), [
        {"id": it.id, "kind": "invoice" if it.amount > 0 else "receipt", "status": "posted", "number": f"D{it.id:03d}",
         "customer_id": ids[it.customer], "doc_on": it.doc_on, "due_on": it.due_on, "currency": it.currency,
         "fx_rate": Decimal(1), "net_minor": abs(int(it.amount)), "tax_minor": 0, "amount_minor": abs(int(it.amount)),
         "base_amount_minor": abs(int(it.base_amount)), "created_by": "t", "created_at": now} for it in items])
    conn.execute(open_items.insert(), [
        {"id": it.id, "document_id": it.id, "customer_id": ids[it.customer], "installment_no": 1,
         "currency": it.currency, "amount_minor": int(it.amount), "base_amount_minor": int(it.base_amount),
         "doc_on": it.doc_on, "due_on": it.due_on, "revalues_id": it.revalues} for it in items])
    if allocs:
        conn.execute(allocation_batches.insert().values(id=1, method="manual", user_name="t", created_at=now))
        conn.execute(allocations.insert(), [
            {"batch_id": 1, "debit_item_id": a.debit_item, "credit_item_id": a.credit_item,
             "amount_minor": int(a.amount), "debit_base_minor": int(a.debit_base),
             "credit_base_minor": int(a.credit_base), "effective_on": a.effective_on} for a in allocs])


def _in_units(items, allocs):
    """The same ledger with amounts as Decimal in each currency (the reference's view)."""
    cur = {it.id: it.currency for it in items}
    items_d = [opened(it.id, it.customer, it.currency, from_minor(int(it.amount), it.currency),
                      from_minor(int(it.base_amount), BASE), it.doc_on, it.due_on, revalues=it.revalues, base=BASE)
               for it in items]
    allocs_d = [ref.AllocationEntry(a.debit_item, a.credit_item, from_minor(int(a.amount), cur[a.debit_item]),
                                    from_minor(int(a.debit_base), BASE), from_minor(int(a.credit_base), BASE),
                                    a.effective_on) for a in allocs]
    return items_d, allocs_d


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledger=ledgers(), policy=policies, days=st.lists(st.integers(-5, 300), max_size=2), data=st.data())
def test_sql_equals_the_reference(backend, ledger, policy, days, data):
    items, allocs = ledger
    # the edges where off-by-one mistakes live: the ledger's own dates
    edges = sorted({a.effective_on for a in allocs} | {it.doc_on for it in items} | {it.due_on for it in items})
    dates = [START + timedelta(days=d) for d in days]
    dates += data.draw(st.lists(st.sampled_from(edges), min_size=1, max_size=3), label="edge dates")
    items_d, allocs_d = _in_units(items, allocs)
    with backend.reused_store() as store:
        with store.write() as conn:
            _insert(conn, items, allocs)
        with store.read() as conn:
            for as_of in dates:
                expected = ref.aging(items_d, allocs_d, as_of, policy)
                got = {(r.customer, r.currency): (r.balance, r.buckets, r.base_balance, r.base_buckets)
                       for r in reports.aging(conn, as_of, policy).rows}
                assert got == {k: (r.balance, r.buckets, r.base_balance, r.base_buckets) for k, r in expected.items()}
                assert {(b.customer, b.currency): (b.balance, b.base_balance)
                        for b in reports.balances(conn, as_of)} == ref.balances(items_d, allocs_d, as_of)
                sql_open = {r["id"]: (r[OPEN], r[OPEN_BASE]) for r in conn.execute(open_items_stmt(as_of)).mappings()}
                assert sql_open == {
                    it.id: (it.open.minor, it.open_base.minor) for it in ref.open_amounts(items_d, allocs_d, as_of)}
