"""Every table of the store, as SQLAlchemy Core. Migrations must match this (a test checks)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING)

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Minor = sa.BigInteger  # money in the currency's minor unit


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """A Decimal stored as its exact text: no float on any backend."""

    impl = sa.String(40)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"exact decimals must be Decimal, not {type(value).__name__}")
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _pk() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _rev() -> sa.Column[int]:
    return sa.Column("rev", sa.Integer, nullable=False, server_default="1")


settings = sa.Table(
    "settings", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

payment_terms = sa.Table(
    "payment_terms", metadata,
    _pk(),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("basis", sa.String(20), nullable=False),
    sa.Column("days", sa.Integer, nullable=False),
    sa.Column("discount_days", sa.Integer),
    sa.Column("discount_pct", ExactDecimal),
    _rev(),
)

customers = sa.Table(
    "customers", metadata,
    _pk(),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("category", sa.String(64)),
    sa.Column("parent_code", sa.String(32)),
    sa.Column("salesperson", sa.String(64)),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("payment_terms", sa.String(32), sa.ForeignKey("payment_terms.code")),
    sa.Column("closing_day", sa.Integer),
    sa.Column("credit_limit_minor", Minor),
    sa.Column("credit_class", sa.String(16)),
    sa.Column("tax_id", sa.String(64)),
    sa.Column("contact", sa.String(100)),
    sa.Column("phone", sa.String(64)),
    sa.Column("email", sa.String(200)),
    sa.Column("address", sa.Text),
    sa.Column("vendor_code", sa.String(32)),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("bank_account", sa.String(64)),  # the account it pays from (bank statement matching)
    _rev(),
    sa.Column("ar_account", sa.String(32)),    # its own receivable account (default: the book's)
)

documents = sa.Table(
    "documents", metadata,
    _pk(),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("number", sa.String(40), unique=True),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("doc_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("fx_rate", ExactDecimal, nullable=False),
    sa.Column("net_minor", Minor, nullable=False),
    sa.Column("tax_minor", Minor, nullable=False),
    sa.Column("amount_minor", Minor, nullable=False),
    sa.Column("base_amount_minor", Minor, nullable=False),
    sa.Column("payment_terms", sa.String(32)),
    sa.Column("method", sa.String(24)),
    sa.Column("reference", sa.String(200)),
    sa.Column("memo", sa.Text),
    sa.Column("reverses_id", Id, sa.ForeignKey("documents.id")),
    sa.Column("source", sa.String(100)),
    sa.Column("fapiao_no", sa.String(40)),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("posted_by", sa.String(64)),
    sa.Column("posted_at", sa.DateTime(timezone=True)),
    sa.Column("voided_by", sa.String(64)),
    sa.Column("voided_at", sa.DateTime(timezone=True)),
    sa.Column("approved_by", sa.String(64)),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Column("related_id", Id, sa.ForeignKey("documents.id")),  # credit note: its invoice; offset: its invoice
    sa.Column("order_number", sa.String(40)),
    sa.Column("installment_terms", sa.String(32)),
    sa.Column("expected_on", sa.Date),
    sa.Column("maturity_on", sa.Date),  # bank acceptance notes: when the note falls due
    sa.Column("batch_id", Id, sa.ForeignKey("allocation_batches.id")),  # realized FX: the match batch
    _rev(),
    sa.Column("disputed", sa.String(8)),  # 'yes': the customer disputes it; held out of dunning
    sa.Column("user_ref", sa.String(40)),  # the number the user typed on the new row (Your ref.)
    sa.Index("ix_documents_status_kind", "status", "kind"),   # drafts and unapproved receipts block a close
)

document_lines = sa.Table(
    "document_lines", metadata,
    _pk(),
    sa.Column("document_id", Id, sa.ForeignKey("documents.id"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("item", sa.String(64), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("qty", ExactDecimal, nullable=False),
    sa.Column("unit_price", ExactDecimal, nullable=False),
    sa.Column("tax_rate", ExactDecimal, nullable=False),
    sa.Column("net_minor", Minor, nullable=False),
    sa.Column("tax_minor", Minor, nullable=False),
    sa.Column("delivery", sa.String(40)),
    sa.Column("delivery_line", sa.Integer),
    sa.Column("delivered_net_minor", Minor),  # the delivery's value of the quantity this line bills
    sa.Column("delivered_tax_minor", Minor),
    sa.UniqueConstraint("document_id", "line_no"),
)

open_items = sa.Table(
    "open_items", metadata,
    _pk(),
    sa.Column("document_id", Id, sa.ForeignKey("documents.id"), nullable=False),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("installment_no", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_minor", Minor, nullable=False),
    sa.Column("base_amount_minor", Minor, nullable=False),
    sa.Column("doc_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    # an exchange difference booked at a month end (or its reversal): the item it revalues
    sa.Column("revalues_id", Id, sa.ForeignKey("open_items.id"), index=True),
    sa.UniqueConstraint("document_id", "installment_no"),
)

allocation_batches = sa.Table(
    "allocation_batches", metadata,
    _pk(),
    sa.Column("method", sa.String(24), nullable=False),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("memo", sa.Text),
    sa.Column("reverses_batch_id", Id, sa.ForeignKey("allocation_batches.id"), unique=True),
)

allocations = sa.Table(
    "allocations", metadata,
    _pk(),
    sa.Column("batch_id", Id, sa.ForeignKey("allocation_batches.id"), nullable=False, index=True),
    sa.Column("debit_item_id", Id, sa.ForeignKey("open_items.id"), nullable=False, index=True),
    sa.Column("credit_item_id", Id, sa.ForeignKey("open_items.id"), nullable=False, index=True),
    sa.Column("amount_minor", Minor, nullable=False),
    sa.Column("debit_base_minor", Minor, nullable=False),
    sa.Column("credit_base_minor", Minor, nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("reverses_id", Id, sa.ForeignKey("allocations.id"), unique=True),
    sa.Column("item", sa.String(64)),  # matched by product: the invoice lines' item it pays
)

journal_lines = sa.Table(
    "journal_lines", metadata,
    _pk(),
    sa.Column("document_id", Id, sa.ForeignKey("documents.id"), nullable=False),  # uq below indexes it
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("account", sa.String(32), nullable=False),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("debit_minor", Minor, nullable=False),
    sa.Column("credit_minor", Minor, nullable=False),
    sa.Column("base_debit_minor", Minor, nullable=False),
    sa.Column("base_credit_minor", Minor, nullable=False),
    sa.Column("posted_on", sa.Date, nullable=False),
    sa.UniqueConstraint("document_id", "line_no"),
)

number_series = sa.Table(
    "number_series", metadata,
    sa.Column("kind", sa.String(24), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("last_no", sa.Integer, nullable=False),
)

audit_log = sa.Table(
    "audit_log", metadata,
    _pk(),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("seq", Id),                         # place in the hash chain (store.audit)
    sa.Column("prev_hash", sa.String(64)),
    sa.Column("hash", sa.String(64)),
    sa.Index("uq_audit_log_seq", "seq", unique=True),
    sa.Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),
)

audit_head = sa.Table(
    "audit_head", metadata,                     # one row: the chain's newest place and hash
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", Id, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

installment_terms = sa.Table(
    "installment_terms", metadata,
    _pk(),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("period_no", sa.Integer, nullable=False),
    sa.Column("percent", ExactDecimal, nullable=False),
    sa.Column("offset_months", sa.Integer),
    sa.Column("offset_days", sa.Integer),
    _rev(),
    sa.UniqueConstraint("code", "period_no"),
)

contracts = sa.Table(
    "contracts", metadata,
    _pk(),
    sa.Column("number", sa.String(40), nullable=False, unique=True),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("sign_on", sa.Date),
    sa.Column("amount_minor", Minor),
    sa.Column("currency", sa.String(3)),
    sa.Column("payment_terms", sa.String(32)),
    sa.Column("installment_terms", sa.String(32)),
    sa.Column("status", sa.String(16)),
    _rev(),
)

orders = sa.Table(
    "orders", metadata,
    _pk(),
    sa.Column("number", sa.String(40), nullable=False, unique=True),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("order_on", sa.Date, nullable=False),
    sa.Column("amount_minor", Minor),
    sa.Column("currency", sa.String(3)),
    sa.Column("deposit_pct", ExactDecimal),
    sa.Column("contract", sa.String(40)),
    sa.Column("installment_terms", sa.String(32)),
    _rev(),
)

deliveries = sa.Table(
    "deliveries", metadata,
    _pk(),
    sa.Column("number", sa.String(40), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, server_default="delivery"),
    sa.Column("delivered_on", sa.Date, nullable=False),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("order_number", sa.String(40)),
    sa.Column("item", sa.String(64), nullable=False),
    sa.Column("qty", ExactDecimal, nullable=False),
    sa.Column("unit_price", ExactDecimal),
    sa.Column("tax_rate", ExactDecimal),
    sa.Column("currency", sa.String(3)),
    sa.Column("salesperson", sa.String(64)),
    sa.Column("billed_qty", ExactDecimal, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False, server_default="posted"),
    sa.Column("net_minor", Minor),   # qty x unit price, rounded once; tax on it
    sa.Column("tax_minor", Minor),
    sa.Column("accrual_id", Id, sa.ForeignKey("documents.id")),  # revenue booked at delivery
    _rev(),
    sa.UniqueConstraint("number", "line_no"),
)

fx_rates = sa.Table(
    "fx_rates", metadata,
    _pk(),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("rate", ExactDecimal, nullable=False),
    _rev(),
    sa.UniqueConstraint("currency", "period"),
)

contacts = sa.Table(
    "contacts", metadata,
    _pk(),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("contacted_on", sa.Date, nullable=False),
    sa.Column("method", sa.String(16)),
    sa.Column("person", sa.String(100)),
    sa.Column("result", sa.Text),
    sa.Column("promise_on", sa.Date),
    sa.Column("promise_amount_minor", Minor),
    sa.Column("next_action", sa.Text),
    _rev(),
)

reminder_levels = sa.Table(
    "reminder_levels", metadata,
    _pk(),
    sa.Column("credit_class", sa.String(16), nullable=False),   # '*' = every class without its own
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("days", sa.Integer, nullable=False),              # after the due date; negative = before
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("letter_zh", sa.Text),
    sa.Column("letter_en", sa.Text),
    _rev(),
    sa.UniqueConstraint("credit_class", "level"),
)

payables = sa.Table(
    "payables", metadata,
    _pk(),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("number", sa.String(40), nullable=False),   # the vendor's invoice number
    sa.Column("payable_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_minor", Minor, nullable=False),
    sa.Column("reference", sa.String(200)),
    sa.Column("memo", sa.Text),
    sa.Column("created_by", sa.String(64), nullable=False),
    _rev(),
    sa.UniqueConstraint("customer_id", "number"),
)

payable_allocations = sa.Table(
    "payable_allocations", metadata,
    _pk(),
    sa.Column("payable_id", Id, sa.ForeignKey("payables.id"), nullable=False, index=True),
    sa.Column("document_id", Id, sa.ForeignKey("documents.id"), nullable=False, index=True),  # the netting
    sa.Column("amount_minor", Minor, nullable=False),   # negative when a netting is voided
)

bank_lines = sa.Table(
    "bank_lines", metadata,
    _pk(),
    sa.Column("line_key", sa.String(64), nullable=False, unique=True),  # importing twice adds nothing
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("statement", sa.String(64), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("booked_on", sa.Date, nullable=False),
    sa.Column("value_on", sa.Date),
    sa.Column("amount_minor", Minor, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("counterparty", sa.String(200)),
    sa.Column("counterparty_account", sa.String(64)),
    sa.Column("reference", sa.Text),
    sa.Column("end_to_end", sa.String(100)),
    sa.Column("bank_ref", sa.String(100)),
    sa.Column("reversal", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id")),
    sa.Column("invoices", sa.Text),       # "INV-1=100.00; INV-2=5.00"
    sa.Column("confidence", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("exception", sa.Text),      # why it waits in the exception queue; NULL = applied
    sa.Column("receipt_id", Id, sa.ForeignKey("documents.id")),
    sa.Column("imported_by", sa.String(64), nullable=False),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
)


STAT_NAMES = ("opening", "invoiced", "credited", "received", "adjusted", "fx", "closing")

monthly_stats = sa.Table(
    "monthly_stats", metadata,
    _pk(),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    *[sa.Column(f"{prefix}{name}_minor", Minor, nullable=False) for prefix in ("", "base_") for name in STAT_NAMES],
    sa.Column("computed_by", sa.String(64), nullable=False),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("period", "customer_id", "currency"),
)

period_closes = sa.Table(
    "period_closes", metadata,
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),     # closed | reopened
    sa.Column("closed_by", sa.String(64), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reopened_by", sa.String(64)),
    sa.Column("reopened_at", sa.DateTime(timezone=True)),
    sa.Column("reason", sa.Text),
    sa.Column("chain_seq", Id),                   # the audit chain's head it was closed on
    sa.Column("chain_hash", sa.String(64)),
)

# Seals (store.seals): every row of the book under the audit chain.
row_seals = sa.Table(
    "row_seals", metadata,
    sa.Column("tbl", sa.String(32), primary_key=True),
    sa.Column("row_key", sa.String(200), primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
)

seal_heads = sa.Table(
    "seal_heads", metadata,                     # per table: its rows and the sum of their hashes
    sa.Column("tbl", sa.String(32), primary_key=True),
    sa.Column("rows", Id, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
)

seal_dirty = sa.Table(
    "seal_dirty", metadata,                     # rows this transaction changed: empty between them
    sa.Column("tbl", sa.String(32), primary_key=True),
    sa.Column("row_key", sa.String(200), primary_key=True),
)
