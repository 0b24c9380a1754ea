"""Billing reports, each one query shaped with pandas: the delivery-vs-invoice difference
(出货与发票差异), the sales price difference (销售价格差异) and installment execution (分期收款执行)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.billing import schedule
from xlar.domain.money import from_minor
from xlar.services.booking import installment_plan
from xlar.store.ledger import OPEN, open_items_stmt
from xlar.store.settings import read_settings
from xlar.store.tables import contracts, customers, deliveries, document_lines, documents, orders

LIVE = ("posted", "approved")
ZERO = Decimal(0)


def _money(minor: float | Decimal | None, currency: str) -> Decimal:
    return ZERO if minor is None or pd.isna(minor) else from_minor(int(minor), currency)


def delivery_difference(conn: Connection, date_from: date, date_to: date, customer: str | None = None) -> pd.DataFrame:
    """Per posted delivery line dated FROM..TO: what was delivered, what invoices billed of it
    (quantity, the delivery's value of it, the invoiced net) and the difference; what is unbilled."""
    dl, ln, d = deliveries.c, document_lines.c, documents.c
    billed = (sa.select(ln.delivery, ln.delivery_line, ln.qty, ln.net_minor, ln.delivered_net_minor,
                        d.number.label("invoice"))
              .join(documents, d.id == ln.document_id).where(d.status.in_(LIVE), ln.delivery.is_not(None))
              .subquery("billed"))
    stmt = (sa.select(dl.number, dl.line_no, dl.kind, dl.delivered_on, customers.c.code.label("customer"), dl.item,
                      dl.qty, dl.unit_price, dl.currency, dl.net_minor, billed.c.qty.label("billed_qty"),
                      billed.c.net_minor.label("invoiced_net"), billed.c.delivered_net_minor.label("delivered_net"),
                      billed.c.invoice)
            .join(customers, customers.c.id == dl.customer_id)
            .outerjoin(billed, sa.and_(billed.c.delivery == dl.number, billed.c.delivery_line == dl.line_no))
            .where(dl.status == "posted", dl.delivered_on.between(date_from, date_to))
            .order_by(dl.delivered_on, dl.number, dl.line_no))
    if customer:
        stmt = stmt.where(customers.c.code == customer)
    found = pd.DataFrame(conn.execute(stmt).mappings().all(),
                         columns=["number", "line_no", "kind", "delivered_on", "customer", "item", "qty", "unit_price",
                                  "currency", "net_minor", "billed_qty", "invoiced_net", "delivered_net", "invoice"])
    rows = []
    for (number, line_no), group in found.groupby(["number", "line_no"], sort=False):
        first = group.iloc[0]
        cur, sign = first["currency"], -1 if first["kind"] == "return" else 1
        billed_rows = group[group["invoice"].notna()]
        qty_billed = sum((abs(q) for q in billed_rows["billed_qty"]), ZERO)
        delivered = sign * _money(first["net_minor"], cur)
        invoiced = sum((_money(v, cur) for v in billed_rows["invoiced_net"]), ZERO)
        value_billed = sum((_money(v, cur) for v in billed_rows["delivered_net"]), ZERO)
        unbilled_qty = first["qty"] - qty_billed
        rows.append({
            "delivery": number, "line": int(line_no), "line_kind": first["kind"], "date": first["delivered_on"],
            "customer": first["customer"], "item": first["item"], "currency": cur, "qty": first["qty"],
            "delivered_net": delivered, "billed_qty": qty_billed, "billed_delivered_net": value_billed,
            "invoiced_net": invoiced, "difference": invoiced - value_billed, "unbilled_qty": unbilled_qty,
            "invoices": ", ".join(sorted(set(billed_rows["invoice"]))),
        })
    return pd.DataFrame(rows, columns=list(DIFFERENCE_COLUMNS))


DIFFERENCE_COLUMNS = ("delivery", "line", "line_kind", "date", "customer", "item", "currency", "qty", "delivered_net",
                      "billed_qty", "billed_delivered_net", "invoiced_net", "difference", "unbilled_qty", "invoices")


def price_difference(conn: Connection, date_from: date, date_to: date, customer: str | None = None) -> pd.DataFrame:
    """Per posted invoice line dated FROM..TO that bills a delivery: the delivered and the invoiced
    unit price, and what the difference comes to on the quantity billed."""
    dl, ln, d = deliveries.c, document_lines.c, documents.c
    stmt = (sa.select(d.number.label("invoice"), d.doc_on, customers.c.code.label("customer"), d.currency,
                      ln.delivery, ln.delivery_line, ln.item, ln.qty, dl.unit_price.label("delivered_price"),
                      ln.unit_price.label("invoiced_price"), ln.net_minor, ln.delivered_net_minor)
            .join(document_lines, ln.document_id == d.id).join(customers, customers.c.id == d.customer_id)
            .join(deliveries, sa.and_(dl.number == ln.delivery, dl.line_no == ln.delivery_line))
            .where(d.status.in_(LIVE), d.doc_on.between(date_from, date_to))
            .order_by(d.doc_on, d.number, ln.line_no))
    if customer:
        stmt = stmt.where(customers.c.code == customer)
    rows = []
    for r in conn.execute(stmt).mappings():
        cur = r["currency"]
        rows.append({
            "invoice": r["invoice"], "date": r["doc_on"], "customer": r["customer"], "delivery": r["delivery"],
            "line": r["delivery_line"], "item": r["item"], "currency": cur, "qty": r["qty"],
            "delivered_price": r["delivered_price"], "invoiced_price": r["invoiced_price"],
            "price_difference": r["invoiced_price"] - r["delivered_price"],
            "amount_difference": _money(r["net_minor"], cur) - _money(r["delivered_net_minor"], cur),
        })
    return pd.DataFrame(rows, columns=["invoice", "date", "customer", "delivery", "line", "item", "currency", "qty",
                                       "delivered_price", "invoiced_price", "price_difference",
                                       "amount_difference"])


def installment_execution(conn: Connection, as_of: date, contract: str | None = None) -> pd.DataFrame:
    """Per contract (or order without one) and installment: scheduled (the contract amount over
    its plan), invoiced (installment open items of posted invoices), received, outstanding."""
    book = read_settings(conn)
    d, o = documents.c, orders.c
    listing = open_items_stmt(as_of).subquery("listing")
    stmt = (sa.select(sa.func.coalesce(o.contract, o.number).label("plan_of"), o.contract, d.currency,
                      listing.c.installment_no, listing.c.due_on, listing.c.amount_minor, listing.c[OPEN])
            .join(documents, d.id == listing.c.document_id).join(orders, o.number == d.order_number)
            .where(d.status.in_(LIVE), d.installment_terms.is_not(None)))
    found = pd.DataFrame(conn.execute(stmt).mappings().all(),
                         columns=["plan_of", "contract", "currency", "installment_no", "due_on", "amount_minor", OPEN])
    keys = set(found["plan_of"])
    c = contracts.c
    signed = conn.execute(sa.select(c.number, c.sign_on, c.amount_minor, c.currency, c.installment_terms)
                          .where(c.installment_terms.is_not(None), c.amount_minor.is_not(None))).all()
    scheduled: dict[tuple[str, int], tuple[date, Decimal, str]] = {}
    for number, sign_on, amount, currency, plan in signed:
        cur = currency or book.base_currency
        keys.add(number)
        total = from_minor(amount, cur)
        for part in schedule(total, total, sign_on or as_of, installment_plan(conn, plan), cur, cur, plan):
            scheduled[(number, part.no)] = (part.due_on, part.amount, cur)
    rows = []
    for key in sorted(k for k in keys if contract in (None, k)):
        mine = found[found["plan_of"] == key]
        numbers = sorted(set(mine["installment_no"].astype(int)) | {no for k, no in scheduled if k == key})
        for no in numbers:
            part = mine[mine["installment_no"] == no]
            cur = part["currency"].iloc[0] if len(part) else scheduled[(key, no)][2]
            invoiced = sum((_money(v, cur) for v in part["amount_minor"]), ZERO)
            open_now = sum((_money(v, cur) for v in part[OPEN]), ZERO)
            plan_due, plan_amount, _ = scheduled.get((key, no), (None, None, cur))
            rows.append({"contract": key, "installment": no, "currency": cur, "due": plan_due or (
                part["due_on"].min() if len(part) else None), "scheduled": plan_amount,
                "invoiced": invoiced, "received": invoiced - open_now, "outstanding": open_now})
    return pd.DataFrame(rows, columns=["contract", "installment", "currency", "due", "scheduled", "invoiced",
                                       "received", "outstanding"])
