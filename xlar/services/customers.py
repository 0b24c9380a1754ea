"""Customers and payment terms: create or update, audited."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.customers import Customer
from xlar.domain.errors import NotFound
from xlar.domain.money import to_minor
from xlar.domain.terms import PaymentTerms, TermsBasis
from xlar.store.audit import record
from xlar.store.ledger import keep_receivable_account
from xlar.store.tables import customers, payment_terms
from xlar.store.writes import insert_row


def _upsert(conn: Connection, table: sa.Table, code: str, values: dict[str, Any], user: str,
            entity: str) -> int:
    before = conn.execute(sa.select(table).where(table.c.code == code)).mappings().first()
    if before is None:
        new_id = insert_row(conn, table, {"code": code, **values})
        record(conn, user, "create", entity, code, None, values)
        return int(new_id)
    old = {k: before[k] for k in values}
    if old != values:
        conn.execute(table.update().where(table.c.id == before["id"])
                     .values(rev=table.c.rev + 1, **values))
        record(conn, user, "update", entity, code, old, values)
    return int(before["id"])


def save_terms(conn: Connection, terms: PaymentTerms, user: str) -> int:
    values = {"name": terms.name, "basis": terms.basis.value, "days": terms.days,
              "discount_days": terms.discount_days, "discount_pct": terms.discount_pct}
    return _upsert(conn, payment_terms, terms.code, values, user, "payment_terms")


def save_customer(conn: Connection, customer: Customer, user: str) -> int:
    values = asdict(customer)
    values.pop("code")
    limit = values.pop("credit_limit")
    values["credit_limit_minor"] = None if limit is None else to_minor(limit, customer.currency)
    if customer.payment_terms is not None:
        find_terms(conn, customer.payment_terms)
    known = conn.execute(sa.select(customers.c.id).where(customers.c.code == customer.code)).scalar()
    if known is not None:
        keep_receivable_account(conn, known, customer.ar_account)
    return _upsert(conn, customers, customer.code, values, user, "customer")


def find_terms(conn: Connection, code: str) -> PaymentTerms:
    row = conn.execute(sa.select(payment_terms).where(payment_terms.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"unknown payment terms {code!r}")
    return PaymentTerms(row["code"], row["name"], TermsBasis(row["basis"]), row["days"],
                        row["discount_days"], row["discount_pct"])


def customer_id(conn: Connection, code: str) -> int:
    found = conn.execute(sa.select(customers.c.id).where(customers.c.code == code)).scalar()
    if found is None:
        raise NotFound(f"unknown customer {code!r}")
    return int(found)
