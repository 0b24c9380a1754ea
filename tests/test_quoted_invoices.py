"""The invoices a bank line can name (domain.cash.quoted_invoices), from open items alone: no
database. An invoice paid in installments is one invoice to its payer; a fapiao number names it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from xlar.domain.cash import OpenInvoice, quoted_invoices
from xlar.domain.items import OpenItem
from xlar.domain.money import Money


def item(number: str, installment: int, due: date, open_: str, *, customer: str = "C001", currency: str = "CNY",
         document: int = 1) -> OpenItem:
    money = Money(D(open_), currency)
    return OpenItem(document * 10 + installment, document, customer, number, "invoice", "posted", installment,
                    date(2026, 1, 5), due, money, money, Money(D(open_), "CNY"), False)


def test_installments_are_one_invoice_open_by_their_sum_and_due_on_the_earliest():
    found = quoted_invoices([(item("INV-1", 2, date(2026, 3, 5), "30.01"), None),
                             (item("INV-2", 1, date(2026, 2, 20), "5.00", document=2), None),
                             (item("INV-1", 1, date(2026, 2, 5), "70.00"), None),
                             (item("INV-1", 3, date(2026, 4, 5), "0.99"), None)])
    assert found == [OpenInvoice("INV-1", "C001", "CNY", D("101.00"), date(2026, 2, 5)),
                     OpenInvoice("INV-2", "C001", "CNY", D("5.00"), date(2026, 2, 20))]   # in the order of its first item
    assert isinstance(found[0].open, D) and str(found[0].open) == "101.00"               # exact, in the currency's places


def test_a_fapiao_number_names_the_invoice_and_currencies_and_customers_stay_apart():
    found = quoted_invoices([(item("INV-1", 1, date(2026, 2, 5), "70"), "04412345"),
                             (item("INV-1", 2, date(2026, 3, 5), "30"), "04412345"),
                             (item("INV-9", 1, date(2026, 2, 1), "12", currency="JPY", document=9), None),
                             (item("INV-9", 1, date(2026, 2, 1), "8", customer="C002", document=19), None)])
    assert found == [OpenInvoice("04412345", "C001", "CNY", D("100.00"), date(2026, 2, 5)),
                     OpenInvoice("INV-9", "C001", "JPY", D(12), date(2026, 2, 1)),
                     OpenInvoice("INV-9", "C002", "CNY", D("8.00"), date(2026, 2, 1))]
    assert quoted_invoices([]) == []
