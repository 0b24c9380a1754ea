"""Payment habits are worked out column by column (sums, counts and extremes per customer and
currency); a plain loop over the rows, the way a person would tally them, is the reference. On
generated history rows both must agree to the cent and the day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from xlar.domain.collections import PaymentHabits, dso
from xlar.domain.money import from_minor
from xlar.reports.collection import HISTORY_COLUMNS, SALES_KINDS, habits
from xlar.services.collections import OWED_KINDS

AS_OF = date(2026, 6, 30)
KINDS = (*OWED_KINDS, "invoice", "invoice", "receipt", "credit_note", "transfer_credit")


def _mean(values: list[int]) -> Decimal:
    return (Decimal(sum(values)) / len(values) if values else Decimal(0)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def reference(found: pd.DataFrame, as_of: date, months: int, dso_days: int) -> dict[tuple[str, str], PaymentHabits]:
    since = as_of - timedelta(days=round(months * 365 / 12))
    recent, dso_from = as_of - timedelta(days=91), as_of - timedelta(days=dso_days - 1)
    tallies: dict[tuple[str, str], dict] = {}
    for r in found.itertuples(index=False):
        t = tallies.setdefault((r.customer, r.currency), {
            "terms": r.terms_days, "balance": 0, "late": [], "recent": [], "earlier": [], "worst": 0, "sales": 0,
            "window": 0, "first": None, "spans": []})
        t["balance"] += int(r.open_minor)
        if r.kind not in OWED_KINDS or r.status == "void" or r.amount_minor <= 0:
            continue
        if r.open_minor > 0:
            t["worst"] = max(t["worst"], (as_of - r.due).days)
        if r.settled_on is not None and r.settled_on > since:
            late = max(0, (r.settled_on - r.due).days)
            t["late"].append(late)
            (t["recent"] if r.settled_on > recent else t["earlier"]).append(late)
        if r.kind in SALES_KINDS:
            if r.date >= dso_from:
                t["sales"] += int(r.amount_minor)
            if r.date > since:
                t["window"] += int(r.amount_minor)
                t["first"] = r.date if t["first"] is None else min(t["first"], r.date)
                t["spans"].append((r.doc_due - r.date).days)
    result = {}
    for (code, cur), t in sorted(tallies.items()):
        covered = min(months, max(1, round((as_of - (t["first"] or as_of)).days / (365 / 12))))
        spans = t["spans"]
        terms = int((Decimal(sum(spans)) / len(spans)).quantize(Decimal(1), ROUND_HALF_UP)) if spans else \
            int(t["terms"]) if t["terms"] is not None and not pd.isna(t["terms"]) else 0
        result[(code, cur)] = PaymentHabits(
            settled=len(t["late"]), avg_days_late=_mean(t["late"]),
            on_time_share=Decimal(sum(1 for n in t["late"] if n == 0)) / len(t["late"]) if t["late"] else Decimal(0),
            max_days_overdue=max([*t["late"], t["worst"], 0]),
            trend=_mean(t["recent"]) - _mean(t["earlier"]) if t["recent"] and t["earlier"] else Decimal("0.00"),
            dso=dso(from_minor(t["balance"], cur), from_minor(t["sales"], cur), dso_days),
            monthly_sales=from_minor(t["window"], cur) / covered, terms_days=terms)
    return result


# the windows' edges (the recent quarter, the DSO window, the look-back) and any day of the last 500
EDGES = [AS_OF - timedelta(days=n) for n in (0, 1, 29, 30, 89, 90, 91, 92, 182, 183, 184, 364, 365, 366)]
edge = st.sampled_from(EDGES)
day = edge | st.integers(-500, 0).map(lambda n: AS_OF + timedelta(days=n))


@st.composite
def rows(draw: st.DrawFn) -> dict[str, object]:
    on = draw(day)
    due = on + timedelta(days=draw(st.integers(0, 95)))
    amount = draw(st.integers(-50_000, 500_000))
    settled = draw(st.none() | edge | day | st.integers(0, 200).map(lambda n: on + timedelta(days=n)))
    customer = draw(st.sampled_from(["C1", "C1", "C2", "C3"]))
    return {"customer": customer, "name": customer, "salesperson": "", "credit_class": "", "credit_limit_minor": 0,
            "terms_days": {"C1": 30, "C2": 60, "C3": None}[customer], "document": "D", "reference": "",
            "kind": draw(st.sampled_from(KINDS)), "status": draw(st.sampled_from(["posted", "posted", "void"])),
            "installment": 1, "date": on, "due": due, "expected": None, "disputed": "",
            "currency": draw(st.sampled_from(["CNY", "CNY", "USD"])), "amount_minor": amount,
            "open_minor": draw(st.sampled_from([0, amount, amount // 2])), "base_open_minor": 0,
            "settled_on": settled if settled is None or on <= settled <= AS_OF else None, "base_amount_minor": amount,
            "doc_due": due + timedelta(days=draw(st.integers(0, 20))), "reverses_kind": ""}


@settings(max_examples=300, deadline=None)
@given(st.lists(rows(), max_size=60), st.sampled_from([3, 6, 12]), st.sampled_from([30, 90]))
def test_habits_column_by_column_are_the_tally_row_by_row(found_rows, months, dso_days):
    found = pd.DataFrame(found_rows, columns=HISTORY_COLUMNS)
    assert habits(found, AS_OF, months, dso_days) == reference(found, AS_OF, months, dso_days)
