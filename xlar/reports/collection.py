"""How customers pay: payment history per invoice, collection analysis (回款分析), DSO, the
credit score and the cash forecast (回款预测). Each is built on one set-based query: every
item dated up to a date with what was open of it then and when it was settled."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.collections import PaymentHabits, credit_score, dso, expected_on
from xlar.domain.money import from_minor
from xlar.domain.periods import first_day, last_day, next_period, period_of
from xlar.reports.accounts import columns_of, only, records
from xlar.services.collections import OWED_KINDS
from xlar.store.ledger import OPEN, OPEN_BASE, open_items_stmt
from xlar.store.reads import dates, driver_rows
from xlar.store.settings import read_settings
from xlar.store.tables import customers, documents, payment_terms

ZERO = Decimal(0)
SALES_KINDS = ("invoice", "debit_note", "deposit_invoice")   # what DSO and the monthly sales count
HISTORY_COLUMNS = ["customer", "name", "salesperson", "credit_class", "credit_limit_minor", "terms_days",
                   "document", "reference", "kind", "status", "installment", "date", "due", "expected", "disputed", "currency",
                   "amount_minor", "open_minor", "base_open_minor", "settled_on", "base_amount_minor", "doc_due",
                   "reverses_kind"]


def history(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None
            ) -> pd.DataFrame:
    """Every item dated on or before AS_OF (exchange differences left out) with its open amount
    then and, once nothing is open of it, the date it was settled: the latest match that moved
    it (a match takes effect on the later of its two documents' dates)."""
    listing = open_items_stmt(as_of, settled=True).subquery("listing")
    d, c, t = documents.c, customers.c, payment_terms.c
    original = documents.alias("original")
    # the whole book: every item read in its own order, its customer by key (SQLite otherwise walks
    # the customers in code order and each one's items by index, twice as slow; "+ 0" keeps it
    # from that index); one customer: through it
    customer_id = listing.c.customer_id if customer else listing.c.customer_id + 0
    stmt = (sa.select(c.code, c.name, c.salesperson, c.credit_class, c.credit_limit_minor, t.days, d.number,
                      sa.func.coalesce(d.fapiao_no, d.reference), d.kind,
                      d.status, listing.c.installment_no, listing.c.doc_on, listing.c.due_on, d.expected_on,
                      d.disputed, listing.c.currency, listing.c.amount_minor, listing.c[OPEN], listing.c[OPEN_BASE],
                      sa.case((listing.c[OPEN] == 0, listing.c.settled_on), else_=None), listing.c.base_amount_minor,
                      d.due_on, original.c.kind)
            .join_from(listing, documents, d.id == listing.c.document_id)
            .outerjoin(original, original.c.id == d.reverses_id)
            .join(customers, c.id == customer_id)
            .outerjoin(payment_terms, t.code == c.payment_terms)
            .where(listing.c.revalues_id.is_(None))
            .order_by(c.code, listing.c.doc_on, d.number, listing.c.installment_no))
    found = driver_rows(conn, only(stmt, customer, salesperson))
    if not found:
        return pd.DataFrame([], columns=HISTORY_COLUMNS)
    columns = columns_of(found, HISTORY_COLUMNS, ("disputed", "reference", "credit_class", "salesperson",
                                                  "reverses_kind"))
    for name in ("date", "due", "expected", "settled_on", "doc_due"):
        columns[name] = dates(columns[name])
    # the expected date the user typed; by default it is the document's due date, which is not an
    # installment's own (the last one's)
    columns["expected"] = [v if isinstance(v, date) and v != due else None
                           for v, due in zip(columns["expected"], columns["doc_due"], strict=True)]
    return pd.DataFrame(columns, columns=HISTORY_COLUMNS)


def open_by_due(found: pd.DataFrame) -> pd.DataFrame:
    """FOUND's (HISTORY rows') items with something open, per customer by due date, number and
    installment: the order the open-item queries of the overdue report and the worklist read them."""
    found = found[found["open_minor"] != 0]
    return found.sort_values(["customer", "due", "document", "installment"], kind="stable")


def _owed(found: pd.DataFrame) -> pd.DataFrame:
    return found[found["kind"].isin(OWED_KINDS) & (found["status"] != "void") & (found["amount_minor"] > 0)]


def payments(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None
             ) -> pd.DataFrame:
    """Per invoice (installment) settled by AS_OF: when, days to settle and days late."""
    owed = _owed(history(conn, as_of, customer, salesperson))
    done = owed[owed["settled_on"].notna()]
    rows = [{"customer": r.customer, "name": r.name, "document": r.document, "reference": r.reference or "",
             "installment": r.installment,
             "date": r.date, "due": r.due, "settled_on": r.settled_on, "currency": r.currency,
             "amount": from_minor(int(r.amount_minor), r.currency),
             "days_to_settle": (r.settled_on - r.date).days, "days_late": max(0, (r.settled_on - r.due).days),
             "disputed": r.disputed or ""}
            for r in records(done)]
    return pd.DataFrame(rows, columns=["customer", "name", "document", "reference", "installment", "date", "due",
                                       "settled_on",
                                       "currency", "amount", "days_to_settle", "days_late", "disputed"])


def _average(total: int, count: int) -> Decimal:
    return (Decimal(total) / count if count else ZERO).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _mean(values: list[int]) -> Decimal:
    return _average(sum(values), len(values))


def _ints(values: pd.Series) -> np.ndarray:
    """A column of whole numbers (PostgreSQL gives a sum as a Decimal) as int64."""
    if values.dtype.kind in "iu":
        ints: np.ndarray = values.to_numpy(np.int64)   # pandas has no stubs here: its values are typed Any
        return ints
    return np.fromiter(map(int, values.tolist()), np.int64, len(values))


def _days(values: pd.Series) -> np.ndarray:
    """A column of dates as day numbers (-1 for none), each distinct date converted once."""
    at, distinct = pd.factorize(values)   # none: at -1, the last number
    days: np.ndarray = np.array([on.toordinal() for on in distinct] + [-1], np.int64)[at]
    return days


class _Groups:
    """Per-group sums, counts and extremes of row columns, exact in int64 (GROUP: each row's group)."""

    def __init__(self, group: np.ndarray, size: int) -> None:
        self.group, self.size = group, size

    def sum(self, values: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        found = np.zeros(self.size, np.int64)
        np.add.at(found, self.group if where is None else self.group[where], values if where is None else values[where])
        return found

    def count(self, where: np.ndarray) -> np.ndarray:
        return np.bincount(self.group[where], minlength=self.size)

    def max(self, values: np.ndarray, where: np.ndarray, floor: int = 0) -> np.ndarray:
        found = np.full(self.size, floor, np.int64)
        np.maximum.at(found, self.group[where], values[where])
        return found

    def min(self, values: np.ndarray, where: np.ndarray, ceiling: int) -> np.ndarray:
        found = np.full(self.size, ceiling, np.int64)
        np.minimum.at(found, self.group[where], values[where])
        return found


def habits(found: pd.DataFrame, as_of: date, months: int = 12, dso_days: int = 90
           ) -> dict[tuple[str, str], PaymentHabits]:
    """Per customer and currency, from HISTORY rows: payment habits over the last MONTHS (column
    by column: every figure is a sum, count or extreme over the group's rows)."""
    if found.empty:
        return {}
    today = as_of.toordinal()
    since = today - round(months * 365 / 12)
    recent = today - 91
    dso_from = today - (dso_days - 1)
    by_key = found.groupby(["customer", "currency"], sort=True)
    keys, stated = list(by_key.size().index), by_key["terms_days"].first().tolist()
    groups = _Groups(by_key.ngroup().to_numpy(), len(keys))
    amount, open_minor = _ints(found["amount_minor"]), _ints(found["open_minor"])
    on, due, settled, doc_due = (_days(found[c]) for c in ("date", "due", "settled_on", "doc_due"))
    owed = found["kind"].isin(OWED_KINDS).to_numpy() & (found["status"] != "void").to_numpy() & (amount > 0)
    sales = owed & found["kind"].isin(SALES_KINDS).to_numpy()
    done = owed & (settled > since)                       # settled in the window (-1: not settled)
    late = np.maximum(settled - due, 0)
    in_window = sales & (on > since)
    balance = groups.sum(open_minor)
    worst_open = groups.max(today - due, owed & (open_minor > 0))
    settled_count, late_total = groups.count(done), groups.sum(late, done)
    on_time, worst_late = groups.count(done & (late == 0)), groups.max(late, done)
    recent_count, recent_total = groups.count(done & (settled > recent)), groups.sum(late, done & (settled > recent))
    earlier_count = settled_count - recent_count
    dso_sales, window_sales = groups.sum(amount, sales & (on >= dso_from)), groups.sum(amount, in_window)
    first = groups.min(on, in_window, today)
    span_count, span_total = groups.count(in_window), groups.sum(doc_due - on, in_window)
    result = {}
    for i, (code, cur) in enumerate(keys):
        n, recent_n, earlier_n = int(settled_count[i]), int(recent_count[i]), int(earlier_count[i])
        covered = min(months, max(1, round((today - int(first[i])) / (365 / 12))))  # a newer customer
        result[(code, cur)] = PaymentHabits(
            settled=n, avg_days_late=_average(int(late_total[i]), n),
            on_time_share=(Decimal(int(on_time[i])) / n) if n else ZERO,
            max_days_overdue=int(max(worst_late[i], worst_open[i])),
            trend=(_average(int(recent_total[i]), recent_n)
                   - _average(int(late_total[i] - recent_total[i]), earlier_n)) if recent_n and earlier_n
            else Decimal("0.00"),
            dso=dso(from_minor(int(balance[i]), cur), from_minor(int(dso_sales[i]), cur), dso_days),
            monthly_sales=from_minor(int(window_sales[i]), cur) / covered,
            terms_days=_terms_days(int(span_total[i]), int(span_count[i]), stated[i]))
    return result


def _terms_days(span_total: int, spans: int, stated: Any) -> int:   # stated: a numpy or pandas scalar, or None
    """The credit the customer is given, in days: how long its invoices of the window run from
    their date to their due date on average (month-end and closing-day terms run longer than
    their stated days); the stated days without invoices."""
    if spans:
        return int((Decimal(span_total) / spans).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return int(stated) if stated is not None and not pd.isna(stated) else 0


def credit_scores(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None,
                  months: int = 12) -> pd.DataFrame:
    """Per customer and currency: payment habits, a score, a suggested credit class and limit,
    next to the current class and limit."""
    found = history(conn, as_of, customer, salesperson)
    firsts = found.drop_duplicates("customer").set_index("customer")
    rows = []
    for (code, cur), h in habits(found, as_of, months).items():
        first = firsts.loc[code]
        scored = credit_score(h)
        limit = first["credit_limit_minor"]
        rows.append({"customer": code, "name": first["name"], "currency": cur, "settled": h.settled,
                     "avg_days_late": h.avg_days_late,
                     "on_time_pct": (h.on_time_share * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
                     "max_days_overdue": h.max_days_overdue, "trend": h.trend, "dso": h.dso,
                     "score": scored.score if scored else None,
                     "credit_class": first["credit_class"] or "", "suggested_class": scored.credit_class if scored else "",
                     "credit_limit": None if pd.isna(limit) else from_minor(int(limit), cur),
                     "suggested_limit": scored.limit if scored else None})
    return pd.DataFrame(rows, columns=["customer", "name", "currency", "settled", "avg_days_late", "on_time_pct",
                                       "max_days_overdue", "trend", "dso", "score", "credit_class",
                                       "suggested_class", "credit_limit", "suggested_limit"], dtype=object)


def _months(date_from: date, date_to: date) -> list[str]:
    months, period = [], period_of(date_from)
    while period <= period_of(date_to):
        months.append(period)
        period = next_period(period)
    return months


@dataclass(slots=True)
class _Month:
    amount: int = 0            # every item dated in the month (the balance moves by it)
    invoiced: int = 0
    received: int = 0
    fell_due: int = 0
    collected_of_due: int = 0
    sales_in_window: int = 0   # for the DSO at the month's end
    to_collect: list[int] = field(default_factory=list)
    late: list[int] = field(default_factory=list)


_NOTHING = _Month()   # a month nothing happened in (read, never written)


def _month(tally: dict[str, _Month], period: str) -> _Month:
    """TALLY's figures of PERIOD, made when first moved (most customers move in few months)."""
    if period not in tally:
        tally[period] = _Month()
    return tally[period]


def collection_analysis(conn: Connection, date_from: date, date_to: date, customer: str | None = None,
                        salesperson: str | None = None, dso_days: int = 90) -> pd.DataFrame:
    """Per customer, currency and month of FROM..TO: opening balance, invoiced and received
    (a void nets out in the month it is voided), credit notes and everything else, closing;
    what fell due in the month and how much of it was settled by the month's end; invoices
    settled in the month with their average days to collect and days late; the collected share
    of what was there to collect; DSO at the month's end. One pass over the rows."""
    found = history(conn, date_to, customer, salesperson)
    months = _months(date_from, date_to)
    ends = {m: last_day(m) for m in months}
    start = first_day(months[0])
    before: dict[tuple[str, str], int] = {}
    tally: dict[tuple[str, str], dict[str, _Month]] = {}
    names: dict[str, str] = {}
    month_of: dict[date, str] = {}      # a book has few distinct dates: each one's month, and the
    windows: dict[date, list[str]] = {}  # months whose DSO window holds it, worked out once

    def period(on: date) -> str:
        if on not in month_of:
            month_of[on] = period_of(on)
        return month_of[on]

    for r in records(found, ("customer", "currency", "name", "amount_minor", "date", "kind", "reverses_kind",
                             "status", "due", "settled_on")):
        key = (r.customer, r.currency)
        names[r.customer] = r.name
        mine = tally.get(key)
        if mine is None:
            mine = tally[key] = {}
        amount = int(r.amount_minor)
        if r.date < start:
            before[key] = before.get(key, 0) + amount
        else:
            month = _month(mine, period(r.date))
            month.amount += amount
            if r.kind in OWED_KINDS or r.reverses_kind in OWED_KINDS:
                month.invoiced += amount
            if r.kind == "receipt" or r.reverses_kind == "receipt":
                month.received -= amount
        if r.kind not in OWED_KINDS or r.status == "void" or amount <= 0:
            continue
        if (due := period(r.due)) in ends:
            due_month = _month(mine, due)
            due_month.fell_due += amount
            if r.settled_on is not None and r.settled_on <= ends[due]:
                due_month.collected_of_due += amount
        if r.settled_on is not None and (settled := period(r.settled_on)) in ends:
            settled_month = _month(mine, settled)
            settled_month.to_collect.append((r.settled_on - r.date).days)
            settled_month.late.append(max(0, (r.settled_on - r.due).days))
        if r.kind in SALES_KINDS:
            if r.date not in windows:
                windows[r.date] = [m for m, end in ends.items() if end - timedelta(days=dso_days - 1) <= r.date <= end]
            for m in windows[r.date]:
                _month(mine, m).sales_in_window += amount
    rows = []
    for (code, cur), mine in sorted(tally.items()):
        opening = before.get((code, cur), 0)
        for m in months:
            t = mine.get(m, _NOTHING)
            closing = opening + t.amount
            if opening or closing or t.invoiced or t.received or t.fell_due:
                to_collect = opening + t.invoiced
                rows.append({
                    "customer": code, "name": names[code], "currency": cur, "period": m,
                    "opening": from_minor(opening, cur), "invoiced": from_minor(t.invoiced, cur),
                    "received": from_minor(t.received, cur),
                    "other": from_minor(closing - opening - t.invoiced + t.received, cur),
                    "closing": from_minor(closing, cur),
                    "due_in_period": from_minor(t.fell_due, cur), "collected_of_due": from_minor(t.collected_of_due, cur),
                    "collection_rate": (Decimal(t.received) * 100 / to_collect).quantize(Decimal("0.1"), ROUND_HALF_UP)
                    if to_collect > 0 else None,
                    "settled": len(t.to_collect),
                    "avg_days_to_collect": _mean(t.to_collect) if t.to_collect else None,
                    "avg_days_late": _mean(t.late) if t.late else None,
                    "dso": dso(from_minor(closing, cur), from_minor(t.sales_in_window, cur), dso_days),
                })
            opening = closing
    return pd.DataFrame(rows, columns=["customer", "name", "currency", "period", "opening", "invoiced", "received",
                                       "other", "closing", "due_in_period", "collected_of_due", "collection_rate",
                                       "settled", "avg_days_to_collect", "avg_days_late", "dso"], dtype=object)


def forecast_detail(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None,
                    months: int = 12, found: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per open invoice (installment, each on its own schedule): when it is expected to be
    paid, the due date plus the customer's own average lateness (or the date the user typed);
    what the customer paid and is not matched yet is taken off its oldest items; disputed
    items are listed without an expected date. FOUND: the history as of AS_OF when the caller
    has it already."""
    if found is None:
        found = history(conn, as_of, customer, salesperson)
    late = {key: h.avg_days_late for key, h in habits(found, as_of, months).items()}
    owed = _owed(found)
    owed = owed[owed["open_minor"] > 0].sort_values(["customer", "currency", "due"], kind="stable")
    credits = found[found["open_minor"] < 0].groupby(["customer", "currency"])["open_minor"].sum()
    left = {key: -int(v) for key, v in credits.items()}   # paid, not matched yet: takes off the oldest
    base = read_settings(conn).base_currency
    rows = []
    for r in records(owed, ("open_minor", "base_open_minor", "customer", "currency", "disputed", "due", "expected",
                            "name", "document", "installment")):
        open_minor, base_minor = int(r.open_minor), int(r.base_open_minor)
        taken = min(left.get((r.customer, r.currency), 0), open_minor)
        if taken:
            left[(r.customer, r.currency)] -= taken
            base_minor -= int((Decimal(base_minor) * taken / open_minor).quantize(Decimal(1), ROUND_HALF_UP))
            open_minor -= taken
        if open_minor == 0:
            continue
        when = None if r.disputed else expected_on(r.due, r.expected, late.get((r.customer, r.currency), ZERO), as_of)
        rows.append({"expected": when, "week": None if when is None else when - timedelta(days=when.weekday()),
                     "month": None if when is None else period_of(when), "customer": r.customer, "name": r.name,
                     "document": r.document, "installment": r.installment, "due": r.due,
                     "avg_days_late": late.get((r.customer, r.currency), ZERO), "currency": r.currency,
                     "open": from_minor(open_minor, r.currency),
                     "base_open": from_minor(base_minor, base), "disputed": r.disputed})
    frame = pd.DataFrame(rows, columns=["expected", "week", "month", "customer", "name", "document", "installment",
                                        "due", "avg_days_late", "currency", "open", "base_open", "disputed"])
    return frame.sort_values(["expected", "customer", "document"], kind="stable", na_position="last"
                             ).reset_index(drop=True)


def forecast(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None,
             by: str = "week") -> pd.DataFrame:
    """Expected receipts in base currency per week (Monday) or month, from the detail."""
    detail = forecast_detail(conn, as_of, customer, salesperson)
    dated = detail[detail["expected"].notna()]
    rows = [{by: key, "count": len(group), "base_amount": sum(group["base_open"], ZERO)}
            for key, group in dated.groupby(by, sort=True)]
    for row in rows:
        row["held"] = ""
    held = detail[detail["expected"].isna()]
    if len(held):
        rows.append({by: None, "count": len(held), "base_amount": sum(held["base_open"], ZERO),
                     "held": "disputed"})
    return pd.DataFrame(rows, columns=[by, "count", "base_amount", "held"], dtype=object)
