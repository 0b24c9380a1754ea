"""How customers pay: payment history per invoice, collection analysis (回款分析), DSO, the
credit score and the cash forecast (回款预测). Each is built on one set-based query: every
item dated up to a date with what was open of it then and when it was settled."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.collections import PaymentHabits, credit_score, dso, expected_on
from xlar.domain.money import from_minor
from xlar.domain.periods import first_day, last_day, next_period, period_of
from xlar.reports.accounts import only
from xlar.store.ledger import OPEN, OPEN_BASE, open_items_stmt
from xlar.store.settings import read_settings
from xlar.store.tables import allocations, customers, documents, payment_terms

ZERO = Decimal(0)
# Documents that leave the customer owing: their items are what a customer pays, late or not.
OWED_KINDS = ("invoice", "debit_note", "deposit_invoice", "opening_balance", "transfer_debit")
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
    a = allocations.c
    settled = (sa.select(a.debit_item_id.label("item_id"), sa.func.max(a.effective_on).label("settled_on"))
               .where(a.effective_on <= as_of).group_by(a.debit_item_id).subquery("settled"))
    listing = open_items_stmt(as_of).subquery("listing")
    d, c, t = documents.c, customers.c, payment_terms.c
    original = documents.alias("original")
    stmt = (sa.select(c.code, c.name, c.salesperson, c.credit_class, c.credit_limit_minor, t.days, d.number,
                      sa.func.coalesce(d.fapiao_no, d.reference), d.kind,
                      d.status, listing.c.installment_no, listing.c.doc_on, listing.c.due_on, d.expected_on,
                      d.disputed, listing.c.currency, listing.c.amount_minor, listing.c[OPEN], listing.c[OPEN_BASE],
                      sa.case((listing.c[OPEN] == 0, settled.c.settled_on), else_=None), listing.c.base_amount_minor,
                      d.due_on, original.c.kind)
            .join_from(listing, documents, d.id == listing.c.document_id)
            .outerjoin(original, original.c.id == d.reverses_id)
            .join(customers, c.id == listing.c.customer_id)
            .outerjoin(payment_terms, t.code == c.payment_terms)
            .outerjoin(settled, settled.c.item_id == listing.c.id)
            .where(listing.c.revalues_id.is_(None))
            .order_by(c.code, listing.c.doc_on, d.number, listing.c.installment_no))
    found = pd.DataFrame(conn.execute(only(stmt, customer, salesperson)).all(), columns=HISTORY_COLUMNS)
    for column in ("disputed", "reference", "credit_class", "salesperson", "reverses_kind"):
        found[column] = [v if isinstance(v, str) else "" for v in found[column]]
    found["settled_on"] = [v if isinstance(v, date) else None for v in found["settled_on"]]
    # the expected date the user typed; by default it is the document's due date, which is not an
    # installment's own (the last one's)
    found["expected"] = [e if isinstance(e, date) and e != doc_due else None
                         for e, doc_due in zip(found["expected"], found["doc_due"])]
    return found


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
            for r in done.itertuples(index=False)]
    return pd.DataFrame(rows, columns=["customer", "name", "document", "reference", "installment", "date", "due",
                                       "settled_on",
                                       "currency", "amount", "days_to_settle", "days_late", "disputed"])


def _where(frame: pd.DataFrame, column: str, low: date | None, high: date | None) -> pd.DataFrame:
    """FRAME's rows whose date COLUMN is set and within LOW..HIGH (either end open when None)."""
    mask = [on is not None and not pd.isna(on) and (low is None or on >= low) and (high is None or on <= high)
            for on in frame[column]]
    return frame[pd.Series(mask, index=frame.index, dtype=bool)]


def _mean(values: list[int]) -> Decimal:
    return (Decimal(sum(values)) / len(values) if values else ZERO).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def habits(found: pd.DataFrame, as_of: date, months: int = 12, dso_days: int = 90) -> dict[tuple[str, str], PaymentHabits]:
    """Per customer and currency, from HISTORY rows: payment habits over the last MONTHS."""
    since = as_of - timedelta(days=round(months * 365 / 12))
    recent = as_of - timedelta(days=91)
    result = {}
    for (code, cur), group in found.groupby(["customer", "currency"], sort=True):
        owed = _owed(group)
        done = _where(owed, "settled_on", since + timedelta(days=1), None)
        late = [max(0, (s - due).days) for s, due in zip(done["settled_on"], done["due"])]
        new = [n for n, s in zip(late, done["settled_on"]) if s > recent]
        old = [n for n, s in zip(late, done["settled_on"]) if s <= recent]
        still_open = owed[(owed["open_minor"] > 0)]
        worst_open = max([(as_of - due).days for due in still_open["due"]] or [0])
        balance = from_minor(int(group["open_minor"].sum()), cur)
        sold = owed[owed["kind"].isin(SALES_KINDS)]
        sales_window = _where(sold, "date", as_of - timedelta(days=dso_days - 1), None)
        sales = from_minor(int(sales_window["amount_minor"].sum()), cur)
        in_window = _where(sold, "date", since + timedelta(days=1), None)
        first = min(in_window["date"], default=as_of)
        covered = min(months, max(1, round((as_of - first).days / (365 / 12))))   # a newer customer: its months
        result[(code, cur)] = PaymentHabits(
            settled=len(late), avg_days_late=_mean(late),
            on_time_share=(Decimal(sum(1 for n in late if n == 0)) / len(late)) if late else ZERO,
            max_days_overdue=max([*late, worst_open, 0]),
            trend=(_mean(new) - _mean(old)) if new and old else Decimal("0.00"),
            dso=dso(balance, sales, dso_days),
            monthly_sales=from_minor(int(in_window["amount_minor"].sum()), cur) / covered,
            terms_days=_terms_days(in_window, group["terms_days"].iloc[0]))
    return result


def _terms_days(sold: pd.DataFrame, stated: object) -> int:
    """The credit the customer is given, in days: how long its invoices of the window run from
    their date to their due date on average (month-end and closing-day terms run longer than
    their stated days); the stated days without invoices."""
    spans = [(due - on).days for due, on in zip(sold["doc_due"], sold["date"])]
    if spans:
        return int((Decimal(sum(spans)) / len(spans)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return int(stated) if stated is not None and not pd.isna(stated) else 0


def credit_scores(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None,
                  months: int = 12) -> pd.DataFrame:
    """Per customer and currency: payment habits, a score, a suggested credit class and limit,
    next to the current class and limit."""
    found = history(conn, as_of, customer, salesperson)
    rows = []
    for (code, cur), h in habits(found, as_of, months).items():
        first = found[(found["customer"] == code)].iloc[0]
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


def collection_analysis(conn: Connection, date_from: date, date_to: date, customer: str | None = None,
                        salesperson: str | None = None, dso_days: int = 90) -> pd.DataFrame:
    """Per customer, currency and month of FROM..TO: opening balance, invoiced and received
    (a void nets out in the month it is voided), credit notes and everything else, closing; what fell due in the month and how much of it was settled by the month's end;
    invoices settled in the month with their average days to collect and days late; the
    collected share of what was there to collect; DSO at the month's end."""
    found = history(conn, date_to, customer, salesperson)
    rows = []
    for (code, cur), group in found.groupby(["customer", "currency"], sort=True):
        owed = _owed(group)
        billed = group[group["kind"].isin(OWED_KINDS) | group["reverses_kind"].isin(OWED_KINDS)]   # voids net out
        paid = group[(group["kind"] == "receipt") | (group["reverses_kind"] == "receipt")]
        for month in _months(date_from, date_to):
            start, end = first_day(month), last_day(month)
            opening = int(group[group["date"] < start]["amount_minor"].sum())
            closing = int(group[group["date"] <= end]["amount_minor"].sum())
            invoiced = int(billed[(billed["date"] >= start) & (billed["date"] <= end)]["amount_minor"].sum())
            received = -int(paid[(paid["date"] >= start) & (paid["date"] <= end)]["amount_minor"].sum())
            fell_due = owed[(owed["due"] >= start) & (owed["due"] <= end)]
            paid_by_end = _where(fell_due, "settled_on", None, end)
            settled = _where(owed, "settled_on", start, end)
            sold = owed[owed["kind"].isin(SALES_KINDS)]
            window = _where(sold, "date", end - timedelta(days=dso_days - 1), end)
            to_collect = opening + invoiced
            if not (opening or closing or invoiced or received or len(fell_due)):
                continue
            rows.append({
                "customer": code, "name": group["name"].iloc[0], "currency": cur, "period": month,
                "opening": from_minor(opening, cur), "invoiced": from_minor(invoiced, cur),
                "received": from_minor(received, cur),
                "other": from_minor(closing - opening - invoiced + received, cur), "closing": from_minor(closing, cur),
                "due_in_period": from_minor(int(fell_due["amount_minor"].sum()), cur),
                "collected_of_due": from_minor(int(paid_by_end["amount_minor"].sum()), cur),
                "collection_rate": (Decimal(received) * 100 / to_collect).quantize(Decimal("0.1"), ROUND_HALF_UP)
                if to_collect > 0 else None,
                "settled": len(settled),
                "avg_days_to_collect": _mean([(s - d).days for s, d in zip(settled["settled_on"], settled["date"])])
                if len(settled) else None,
                "avg_days_late": _mean([max(0, (s - d).days) for s, d in zip(settled["settled_on"], settled["due"])])
                if len(settled) else None,
                "dso": dso(from_minor(closing, cur), from_minor(int(window["amount_minor"].sum()), cur), dso_days),
            })
    return pd.DataFrame(rows, columns=["customer", "name", "currency", "period", "opening", "invoiced", "received",
                                       "other", "closing", "due_in_period", "collected_of_due", "collection_rate", "settled",
                                       "avg_days_to_collect", "avg_days_late", "dso"], dtype=object)


def forecast_detail(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None,
                    months: int = 12) -> pd.DataFrame:
    """Per open invoice (installment, each on its own schedule): when it is expected to be
    paid, the due date plus the customer's own average lateness (or the date the user typed);
    what the customer paid and is not matched yet is taken off its oldest items; disputed
    items are listed without an expected date."""
    found = history(conn, as_of, customer, salesperson)
    late = {key: h.avg_days_late for key, h in habits(found, as_of, months).items()}
    owed = _owed(found)
    owed = owed[owed["open_minor"] > 0].sort_values(["customer", "currency", "due"], kind="stable")
    credits = found[found["open_minor"] < 0].groupby(["customer", "currency"])["open_minor"].sum()
    left = {key: -int(v) for key, v in credits.items()}   # paid, not matched yet: takes off the oldest
    base = read_settings(conn).base_currency
    rows = []
    for r in owed.itertuples(index=False):
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
