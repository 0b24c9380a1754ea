"""What customers owe on a date, item by item or bucket by bucket: customer and salesperson
aging with the bad-debt allowance (账龄分析, 坏账准备), overdue detail (超期明细), uncollected
detail (未收款明细) and customer due detail (到期明细). One set-based query each."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.aging import UNAPPLIED, AgingPolicy, Basis
from xlar.domain.money import exponent, from_minor
from xlar.reports.accounts import only
from xlar.reports.collection import open_by_due
from xlar.reports.ledger import AgingReport, aging
from xlar.store.ledger import OPEN, OPEN_BASE, open_items_stmt
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import customers, documents

ZERO = Decimal(0)
ITEM_COLUMNS = ["item_id", "customer", "name", "salesperson", "credit_class", "contact", "phone", "email",
                "document", "kind", "installment", "date", "due", "expected", "disputed", "currency", "amount",
                "open", "base_open", "customer_id", "doc_due"]


def items(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None,
          *, open_only: bool = True) -> pd.DataFrame:
    """Every item dated on or before AS_OF with what was open of it then (exchange-difference
    items, which hold no document-currency amount, left out)."""
    listing = open_items_stmt(as_of).subquery("listing")
    d, c = documents.c, customers.c
    stmt = (sa.select(listing.c.id, c.code, c.name, c.salesperson, c.credit_class, c.contact, c.phone, c.email,
                      d.number, d.kind, listing.c.installment_no, listing.c.doc_on, listing.c.due_on, d.expected_on,
                      d.disputed, listing.c.currency, listing.c.amount_minor, listing.c[OPEN], listing.c[OPEN_BASE],
                      c.id, d.due_on)
            .join_from(listing, documents, d.id == listing.c.document_id)
            .join(customers, c.id == listing.c.customer_id)
            .where(listing.c.revalues_id.is_(None))
            .order_by(c.code, listing.c.due_on, d.number, listing.c.installment_no))
    if open_only:
        stmt = stmt.where(listing.c[OPEN] != 0)
    found = pd.DataFrame([tuple(r) for r in conn.execute(only(stmt, customer, salesperson))], columns=ITEM_COLUMNS)
    base = read_settings(conn).base_currency
    for column, minor in (("amount", "amount"), ("open", "open"), ("base_open", "base_open")):
        found[column] = [from_minor(int(v), base if column == "base_open" else cur)
                         for v, cur in zip(found[minor], found["currency"])]
    found["disputed"] = [v if isinstance(v, str) else "" for v in found["disputed"]]
    for column in ("salesperson", "credit_class", "contact", "phone", "email"):
        found[column] = [v if isinstance(v, str) else "" for v in found[column]]
    # a document's expected date defaults to its due date, which is the last installment's: each
    # installment is expected on its own due date unless the user typed another date
    found["expected"] = [e if e != doc_due else due for e, doc_due, due in
                         zip(found["expected"], found["doc_due"], found["due"])]
    return found


def _percent_of(amount: Decimal, pct: Decimal, currency: str) -> Decimal:
    return (amount * pct / 100).quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


def allowance_rates(book: BookSettings, policy: AgingPolicy) -> dict[str, Decimal]:
    """The setting's percentages on POLICY's buckets (a policy given on the command line may
    differ from the book's)."""
    return BookSettings.from_mapping({"aging_basis": policy.basis.value,
                                      "aging_buckets": ",".join(map(str, policy.edges)),
                                      "bad_debt_allowance": ",".join(map(str, book.bad_debt_allowance))}
                                     ).allowance_rates()


def net_of_credits(buckets: dict[str, Decimal], labels: tuple[str, ...]) -> dict[str, Decimal]:
    """A customer's age buckets with its unapplied receipts and credits taken off the oldest
    debts first: what it still owes, bucket by bucket (the allowance is on that)."""
    credit = -min(buckets.get(UNAPPLIED, ZERO), ZERO)
    net = {label: max(buckets[label], ZERO) for label in labels}
    for label in reversed(labels):
        take = min(credit, net[label])
        net[label] -= take
        credit -= take
    return net


def allowance_of(report: AgingReport, rates: dict[str, Decimal]) -> dict[str, Decimal]:
    """Per age bucket, in base currency: the allowance on what every customer still owes
    (its unapplied credits taken off its oldest debts)."""
    labels = report.policy.age_labels
    nets = [net_of_credits(r.base_buckets, labels) for r in report.rows]
    return {label: sum((_percent_of(net[label], pct, report.base_currency) for net in nets), ZERO)
            for label, pct in rates.items()}


def customer_aging(conn: Connection, as_of: date, customer: str | None = None,
                   salesperson: str | None = None, policy: AgingPolicy | None = None) -> pd.DataFrame:
    """Aging per customer and currency, buckets in document currency, the balance in base
    currency and the bad-debt allowance on it (percent per bucket: setting bad_debt_allowance);
    a total row in base currency, the percentages and the allowance per bucket below it."""
    book = read_settings(conn)
    report = aging(conn, as_of, policy, customer=customer)
    rows_in = [r for r in report.rows if not salesperson or r.salesperson == salesperson]
    report = AgingReport(report.as_of, report.policy, report.base_currency, rows_in)
    rates = allowance_rates(book, report.policy)
    labels = list(report.policy.labels)
    base = report.base_currency
    rows = []
    for r in report.rows:
        net = net_of_credits(r.base_buckets, report.policy.age_labels)
        allowance = sum((_percent_of(net[k], pct, base) for k, pct in rates.items()), ZERO)
        rows.append([r.customer, r.name, r.salesperson or "", r.currency, *(r.buckets[k] for k in labels), r.balance,
                     r.base_balance, allowance])
    balance, buckets = report.total_base
    per_bucket = allowance_of(report, rates)
    rows.append(["TOTAL", "", "", base, *(buckets[k] for k in labels), balance, balance,
                 sum(per_bucket.values(), ZERO)])
    rows.append(["ALLOWANCE %", "", "", "", *(rates.get(k) for k in labels), None, None, None])
    rows.append(["ALLOWANCE", "", "", base, *(per_bucket.get(k) for k in labels), None, None,
                 sum(per_bucket.values(), ZERO)])
    return pd.DataFrame(rows, columns=["customer", "name", "salesperson", "currency", *labels, "balance",
                                       "base_balance", "allowance"])


def salesperson_aging(conn: Connection, as_of: date, customer: str | None = None,
                      salesperson: str | None = None, policy: AgingPolicy | None = None) -> pd.DataFrame:
    """Aging per salesperson in base currency, with the bad-debt allowance."""
    book = read_settings(conn)
    report = aging(conn, as_of, policy, customer=customer)
    rates = allowance_rates(book, report.policy)
    labels = list(report.policy.labels)
    people = sorted({r.salesperson or "" for r in report.rows if not salesperson or r.salesperson == salesperson})
    rows = []
    for person in people:
        mine = [r for r in report.rows if (r.salesperson or "") == person]
        part = AgingReport(as_of, report.policy, report.base_currency, mine)
        balance, buckets = part.total_base
        rows.append([person, len({r.customer for r in mine}), *(buckets[k] for k in labels), balance,
                     sum(allowance_of(part, rates).values(), ZERO)])
    return pd.DataFrame(rows, columns=["salesperson", "customers", *labels, "base_balance", "allowance"], dtype=object)


def overdue(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None,
            history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every item past its due date on AS_OF and still open, oldest first, with its age bucket.
    HISTORY: collection.history as of AS_OF for the same customers, when the caller has it."""
    book = read_settings(conn)
    if history is None:
        found = items(conn, as_of, customer, salesperson)
        found = found[(found["amount"] > 0) & (found["due"] < as_of)].copy()
    else:
        found = _overdue_of(history, as_of, book.base_currency)
    found["days_overdue"] = [(as_of - due).days for due in found["due"]]
    policy = book.aging
    found["bucket"] = [policy.bucket_of(due if policy.basis is Basis.DUE else on, as_of)
                       for due, on in zip(found["due"], found["date"])]
    found = found.sort_values(["days_overdue", "customer"], ascending=[False, True], kind="stable")
    return found[["customer", "name", "salesperson", "document", "kind", "installment", "date", "due",
                  "days_overdue", "bucket", "currency", "open", "base_open", "disputed"]].reset_index(drop=True)


def _overdue_of(history: pd.DataFrame, as_of: date, base: str) -> pd.DataFrame:
    """What `overdue` reads of `items`, taken from a history frame: the open invoices (positive
    amounts) due before AS_OF, in the order `items` reads them."""
    owed = open_by_due(history)
    owed = owed[(owed["amount_minor"] > 0).to_numpy() & np.fromiter((due < as_of for due in owed["due"]), bool, len(owed))]
    found = owed[["customer", "name", "salesperson", "document", "kind", "installment", "date", "due", "currency",
                  "disputed"]].copy()
    found["open"] = [from_minor(int(v), cur) for v, cur in zip(owed["open_minor"], owed["currency"], strict=True)]
    found["base_open"] = [from_minor(int(v), base) for v in owed["base_open_minor"]]
    return found


def uncollected(conn: Connection, as_of: date, customer: str | None = None, salesperson: str | None = None
                ) -> pd.DataFrame:
    """Everything open on AS_OF per customer: invoices with what was collected of them, and
    unapplied receipts and credit notes (negative); days to due (negative: overdue)."""
    found = items(conn, as_of, customer, salesperson)
    found["collected"] = found["amount"] - found["open"]
    found["days_to_due"] = [(due - as_of).days for due in found["due"]]
    return found[["customer", "name", "document", "kind", "installment", "date", "due", "days_to_due", "currency",
                  "amount", "collected", "open", "base_open", "disputed"]].reset_index(drop=True)


def due_detail(conn: Connection, date_from: date, date_to: date, as_of: date, customer: str | None = None,
               salesperson: str | None = None) -> pd.DataFrame:
    """What falls due FROM..TO and is still open on AS_OF, by due date (a collection plan)."""
    found = items(conn, as_of, customer, salesperson)
    found = found[(found["amount"] > 0) & (found["due"] >= date_from) & (found["due"] <= date_to)]
    found = found.sort_values(["due", "customer", "document"], kind="stable")
    return found[["due", "customer", "name", "salesperson", "document", "installment", "date", "expected",
                  "currency", "open", "base_open", "disputed"]].reset_index(drop=True)
