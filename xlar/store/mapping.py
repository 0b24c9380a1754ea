"""Where each sheet's columns live in the store: one entry per input sheet.

Column keys come from the sheet declarations (xlar.schema.sheets); a test checks that
every mapped store column exists with a fitting type and every store column is either
shown on its sheet or named here as internal.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from xlar.schema.columns import SheetSchema
from xlar.schema.sheets import (
    ALLOCATIONS,
    CONTACTS,
    CONTRACTS,
    CUSTOMERS,
    DELIVERIES,
    FX_RATES,
    INSTALLMENT_TERMS,
    INVOICE_LINES,
    INVOICES,
    ORDERS,
    PAYABLES,
    PAYMENT_TERMS,
    RECEIPTS,
    REMINDER_LEVELS,
    SETTINGS,
)
from xlar.store import tables as t


@dataclass(frozen=True, slots=True)
class SheetMapping:
    sheet: SheetSchema
    table: sa.Table
    columns: dict[str, str]          # sheet column key -> store column
    derived: frozenset[str] = frozenset()   # shown on the sheet, computed from other rows
    internal: frozenset[str] = frozenset()  # store columns the sheet does not show


_BOOKKEEPING = frozenset({"id", "rev"})
_DOC_INTERNAL = _BOOKKEEPING | {
    "base_amount_minor", "payment_terms", "reverses_id", "created_at", "posted_by", "posted_at",
    "voided_by", "voided_at", "approved_at", "related_id", "installment_terms", "batch_id",
}


def _same(*keys: str) -> dict[str, str]:
    return {k: k for k in keys}


MAPPINGS: dict[str, SheetMapping] = {m.sheet.name: m for m in (
    SheetMapping(SETTINGS, t.settings, _same("key", "value")),
    SheetMapping(CUSTOMERS, t.customers, _same(
        "code", "name", "category", "parent_code", "salesperson", "currency", "payment_terms", "closing_day",
        "credit_class", "tax_id", "contact", "phone", "email", "address", "vendor_code", "status",
        "bank_account", "ar_account")
        | {"credit_limit": "credit_limit_minor"}, internal=_BOOKKEEPING),
    SheetMapping(PAYMENT_TERMS, t.payment_terms, _same(
        "code", "name", "basis", "days", "discount_days", "discount_pct"), internal=_BOOKKEEPING),
    SheetMapping(INSTALLMENT_TERMS, t.installment_terms, _same(
        "code", "period_no", "percent", "offset_months", "offset_days"), internal=_BOOKKEEPING),
    SheetMapping(CONTRACTS, t.contracts, _same("number", "currency", "payment_terms", "installment_terms", "status")
                 | {"customer": "customer_id", "sign_date": "sign_on", "amount": "amount_minor"},
                 internal=_BOOKKEEPING),
    SheetMapping(ORDERS, t.orders, _same("number", "currency", "deposit_pct", "contract", "installment_terms")
                 | {"customer": "customer_id", "date": "order_on", "amount": "amount_minor"},
                 internal=_BOOKKEEPING),
    SheetMapping(DELIVERIES, t.deliveries, _same(
        "number", "kind", "item", "qty", "unit_price", "tax_rate", "currency", "salesperson", "status", "billed_qty")
        | {"line": "line_no", "date": "delivered_on", "customer": "customer_id", "order": "order_number"},
        internal=_BOOKKEEPING | {"net_minor", "tax_minor", "accrual_id"}),
    SheetMapping(INVOICES, t.documents, _same("number", "kind", "currency", "fx_rate", "source", "fapiao_no",
                                              "status", "memo", "disputed")
                 | {"date": "doc_on", "customer": "customer_id", "net": "net_minor", "tax": "tax_minor",
                    "total": "amount_minor", "due_date": "due_on", "expected_date": "expected_on",
                    "order": "order_number", "your_ref": "user_ref"},
                 derived=frozenset({"original", "open"}),
                 internal=_DOC_INTERNAL | {"method", "reference", "created_by", "approved_by", "maturity_on"}),
    SheetMapping(INVOICE_LINES, t.document_lines, _same(
        "delivery", "delivery_line", "item", "qty", "unit_price", "tax_rate")
        | {"invoice": "document_id", "line": "line_no", "net": "net_minor", "tax": "tax_minor"},
        internal=frozenset({"id", "description", "delivered_net_minor", "delivered_tax_minor"})),
    SheetMapping(RECEIPTS, t.documents, _same("number", "method", "currency", "fx_rate", "reference", "status",
                                              "approved_by", "memo")
                 | {"date": "doc_on", "customer": "customer_id", "amount": "amount_minor",
                    "entered_by": "created_by", "maturity_date": "maturity_on", "your_ref": "user_ref"},
                 internal=_DOC_INTERNAL | {"kind", "net_minor", "tax_minor", "due_on", "source", "fapiao_no",
                                           "order_number", "expected_on", "disputed"}),
    SheetMapping(ALLOCATIONS, t.allocations,
                 {"credit_doc": "credit_item_id", "invoice": "debit_item_id", "amount": "amount_minor",
                  "date": "effective_on", "item": "item"},
                 derived=frozenset({"installment_no", "method", "reason_code", "memo", "batch", "undo_on"}),
                 internal=frozenset({"id", "batch_id", "debit_base_minor", "credit_base_minor", "reverses_id"})),
    SheetMapping(PAYABLES, t.payables, _same("number", "currency", "reference", "memo")
                 | {"customer": "customer_id", "date": "payable_on", "due_date": "due_on", "amount": "amount_minor"},
                 derived=frozenset({"netted"}), internal=_BOOKKEEPING | {"created_by"}),
    SheetMapping(FX_RATES, t.fx_rates, _same("currency", "period", "rate"), internal=_BOOKKEEPING),
    SheetMapping(CONTACTS, t.contacts, _same("method", "person", "result", "next_action")
                 | {"customer": "customer_id", "date": "contacted_on", "promise_date": "promise_on",
                    "promise_amount": "promise_amount_minor"}, internal=_BOOKKEEPING),
    SheetMapping(REMINDER_LEVELS, t.reminder_levels, _same(
        "credit_class", "level", "days", "channel", "letter_zh", "letter_en"), internal=_BOOKKEEPING),
)}
