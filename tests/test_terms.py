from datetime import date
from decimal import Decimal

import pytest

from xlar.domain.errors import InvalidTerms
from xlar.domain.terms import PaymentTerms, TermsBasis, cycle_end, discount_deadline, due_date

NET30 = PaymentTerms("NET30", "net 30", TermsBasis.INVOICE_DATE, 30, 10, Decimal(2))
EOM60 = PaymentTerms("EOM60", "月结60天", TermsBasis.MONTH_END, 60)
PROX10 = PaymentTerms("PROX10", "结账日次月10日", TermsBasis.CLOSING_DATE, 10)
PROX31 = PaymentTerms("PROX31", "next month end", TermsBasis.CLOSING_DATE, 31)


def test_n_days_after_the_document():
    assert due_date(date(2026, 1, 15), NET30) == date(2026, 2, 14)
    assert discount_deadline(date(2026, 1, 15), NET30) == date(2026, 1, 25)
    assert discount_deadline(date(2026, 1, 15), EOM60) is None


def test_end_of_month_plus_days():
    assert due_date(date(2026, 1, 3), EOM60) == date(2026, 4, 1)   # 31 Jan + 60
    assert due_date(date(2026, 2, 28), EOM60) == date(2026, 4, 29)


def test_proximo_with_the_customers_closing_day():
    # closing day 25: up to the 25th falls due on the 10th of next month, later a month after
    assert due_date(date(2026, 5, 20), PROX10, closing_day=25) == date(2026, 6, 10)
    assert due_date(date(2026, 5, 25), PROX10, closing_day=25) == date(2026, 6, 10)
    assert due_date(date(2026, 5, 26), PROX10, closing_day=25) == date(2026, 7, 10)
    assert due_date(date(2026, 12, 28), PROX10, closing_day=25) == date(2027, 2, 10)
    # no closing day: the month end is the cutoff; day 31 means the month's last day
    assert due_date(date(2026, 1, 31), PROX31) == date(2026, 2, 28)
    assert due_date(date(2028, 1, 5), PROX31) == date(2028, 2, 29)


def test_billing_cycle_end_clamps_to_short_months():
    assert cycle_end(date(2026, 2, 27), 30) == date(2026, 2, 28)
    assert cycle_end(date(2026, 6, 28), 25) == date(2026, 7, 25)
    assert cycle_end(date(2026, 6, 28), None) == date(2026, 6, 30)


def test_bad_terms_are_refused_with_their_code():
    with pytest.raises(InvalidTerms, match="'X'"):
        PaymentTerms("X", "x", TermsBasis.CLOSING_DATE, 0)
    with pytest.raises(InvalidTerms, match="both"):
        PaymentTerms("Y", "y", TermsBasis.INVOICE_DATE, 30, 10, None)
    with pytest.raises(InvalidTerms):
        PaymentTerms("Z", "z", TermsBasis.INVOICE_DATE, -1)
