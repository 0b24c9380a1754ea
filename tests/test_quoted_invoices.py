"""The invoices a bank line can name (domain.cash.quoted_invoices), from open items alone: no
database. An invoice paid in installments is one invoice to its payer; a fapiao number names it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from xlar.domain.cash import OpenInvoice, QuotedItem, quoted_invoices


def item(number: str, due: date, open_minor: int, *, fapiao: str | None = None, customer: str = "C001",
         currency: str = "CNY") -> QuotedItem:
    return (number, fapiao, customer, currency, open_minor, due)


def test_installments_are_one_invoice_open_by_their_sum_and_due_on_the_earliest():
    found = quoted_invoices([item("INV-1", date(2026, 3, 5), 3001), item("INV-2", date(2026, 2, 20), 500),
                             item("INV-1", date(2026, 2, 5), 7000), item("INV-1", date(2026, 4, 5), 99)])
    assert found == [OpenInvoice("INV-1", "C001", "CNY", D("101.00"), date(2026, 2, 5)),
                     OpenInvoice("INV-2", "C001", "CNY", D("5.00"), date(2026, 2, 20))]   # in the order of its first item
    assert str(found[0].open) == "101.00"                                                # exact, in the currency's places


def test_a_fapiao_number_names_the_invoice_and_currencies_and_customers_stay_apart():
    found = quoted_invoices([item("INV-1", date(2026, 2, 5), 7000, fapiao="04412345"),
                             item("INV-1", date(2026, 3, 5), 3000, fapiao="04412345"),
                             item("INV-9", date(2026, 2, 1), 12, currency="JPY"),
                             item("INV-9", date(2026, 2, 1), 800, customer="C002")])
    assert found == [OpenInvoice("04412345", "C001", "CNY", D("100.00"), date(2026, 2, 5)),
                     OpenInvoice("INV-9", "C001", "JPY", D(12), date(2026, 2, 1)),
                     OpenInvoice("INV-9", "C002", "CNY", D("8.00"), date(2026, 2, 1))]
    assert quoted_invoices([]) == []
