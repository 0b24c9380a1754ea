"""The matching rule (xlar/domain/allocation.py), pure: which pairs of open items may be matched."""

from __future__ import annotations

import pytest

from xlar.domain.allocation import Side, clears, match_refusal

INVOICE = Side("invoice", "INV-1", 1, 11300, "posted", "C001", "CNY")
RECEIPT = Side("receipt", "RC-1", 1, -5000, "approved", "C001", "CNY")


def test_a_live_pair_of_one_customer_and_currency_is_allowed():
    assert match_refusal(INVOICE, RECEIPT, "approved", "manual") is None


@pytest.mark.parametrize("debit, credit, why", [
    (Side("credit_note", "CN-1", 1, -100, "posted", "C001", "CNY"), RECEIPT,
     "credit_note CN-1 is a credit, not something to be paid"),
    (INVOICE, Side("invoice", "INV-2", 2, 100, "posted", "C001", "CNY"), "invoice INV-2 #2 is not a receipt or credit"),
    (Side("invoice", "INV-1", 1, 11300, "draft", "C001", "CNY"), RECEIPT,
     "invoice INV-1 is draft: only posted documents can be matched"),
    (INVOICE, Side("receipt", "RC-1", 1, -5000, "posted", "C001", "CNY"),
     "receipt RC-1 is not approved yet: only approved receipts clear invoices (setting receipt_clearing)"),
    (INVOICE, Side("receipt", "RC-9", 1, -5000, "approved", "C002", "CNY"), "receipt RC-9 of C002 cannot pay invoice INV-1 of C001"),
    (INVOICE, Side("receipt", "RC-9", 1, -5000, "approved", "C001", "USD"), "receipt RC-9 in USD cannot pay invoice INV-1 in CNY"),
])
def test_each_refusal_says_which_side_and_why(debit, credit, why):
    assert match_refusal(debit, credit, "approved", "manual") == why


def test_a_confirmed_receipt_clears_only_where_the_book_says_so_and_a_void_needs_only_live_sides():
    confirmed = Side("receipt", "RC-2", 1, -5000, "posted", "C001", "CNY")
    assert clears("receipt", "posted", "confirmed") and not clears("receipt", "posted", "approved")
    assert clears("invoice", "posted", "approved") and not clears("invoice", "void", "confirmed")
    assert match_refusal(INVOICE, confirmed, "confirmed", "manual") is None
    assert match_refusal(INVOICE, confirmed, "approved", "void") is None
