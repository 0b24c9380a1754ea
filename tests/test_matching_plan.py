"""The matching planner alone (pure): strategies, references, and what no plan may ever do."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.items import opened
from xlar.domain.matching import STRATEGIES, Candidate, named_in, plan

D = Decimal
DAY = date(2026, 3, 1)


def item(id_, customer, amount, days=0, number=None, text="", currency="CNY", installment=1, items=None):
    return Candidate(opened(id_, customer, currency, D(amount), D(amount), DAY + timedelta(days=days),
                            DAY + timedelta(days=days + 30), number=number or f"N{id_}", installment_no=installment),
                     text, installment > 1, items or {})


def test_references_are_found_as_whole_tokens_in_the_order_written():
    numbers = ["INV-2026-00001", "INV-2026-00012", "INV-2026-0001", "04405678"]
    assert named_in("pay inv-2026-00012, INV202600001 & fapiao 04405678", numbers) == [
        "INV-2026-00012", "INV-2026-00001", "04405678"]
    assert named_in("INV-2026-000123 and 044056789", numbers) == []     # longer numbers are other numbers
    assert named_in("", numbers) == []


def test_auto_applies_what_is_named_first_and_the_rest_oldest_due_first():
    debits = [item(1, "C", "100", 0), item(2, "C", "200", 1), item(3, "C", "300", 2)]
    credit = item(9, "C", "450", 5, text="for N3")
    got = [(p.debit.id, p.amount, p.method) for p in plan([credit], debits, "auto")]
    assert got == [(3, D("300"), "auto"), (1, D("100"), "auto"), (2, D("50"), "auto")]


def test_exact_finds_one_invoice_else_a_pair():
    debits = [item(1, "C", "100"), item(2, "C", "250"), item(3, "C", "70")]
    assert [(p.debit.id, p.amount) for p in plan([item(9, "C", "250")], debits, "exact")] == [(2, D("250"))]
    assert [(p.debit.id, p.amount) for p in plan([item(9, "C", "170")], debits, "exact")] == [
        (1, D("100")), (3, D("70"))]
    assert plan([item(9, "C", "171")], debits, "exact") == []


amounts = st.integers(1, 100_000).map(lambda m: D(m) / 100)
opens = st.lists(st.tuples(st.sampled_from("AB"), amounts, st.integers(0, 40), st.sampled_from(["CNY", "USD"])),
                 min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(opens, opens, st.sampled_from(STRATEGIES), st.integers(0, 11), st.sampled_from([D(0), D("5")]))
def test_no_plan_spends_more_than_is_open_or_crosses_customers(debit_specs, credit_specs, strategy, named, tol):
    debits = [item(i, c, a, d, currency=cur, items={"X": a}) for i, (c, a, d, cur) in enumerate(debit_specs)]
    credits = [item(100 + i, c, a, d, currency=cur, text=f"N{(named + i) % len(debits)}")
               for i, (c, a, d, cur) in enumerate(credit_specs)]
    proposals = plan(credits, debits, strategy, tol, "ROUNDING")
    spent: dict[int, Decimal] = defaultdict(Decimal)
    for p in proposals:
        assert p.amount > 0
        spent[p.debit.id] += p.amount
        if p.credit is not None:
            assert (p.credit.customer, p.credit.currency) == (p.debit.customer, p.debit.currency)
            spent[p.credit.id] += p.amount
        else:
            assert p.amount <= tol and p.reason_code == "ROUNDING"
    for it in (*debits, *credits):
        assert spent[it.id] <= abs(it.item.open).amount
