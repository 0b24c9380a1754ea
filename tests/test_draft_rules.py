"""The rules a draft must meet before it is stored (domain.drafts), without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from xlar.domain.documents import DocKind
from xlar.domain.drafts import DraftDocument, checked_due, draft_rate, enterable, receipt_method
from xlar.domain.errors import InvalidAmount, InvalidDocument

ON = date(2026, 3, 10)


def draft(kind: DocKind = DocKind.INVOICE, **kw: object) -> DraftDocument:
    return DraftDocument(kind, "C001", ON, **kw)


def test_only_the_kinds_a_user_enters_are_entered():
    enterable(draft(DocKind.RECEIPT))
    with pytest.raises(InvalidDocument, match="write_off documents cannot be entered directly"):
        enterable(draft(DocKind.WRITE_OFF))


def test_the_rate_is_one_in_the_base_currency_and_typed_in_any_other():
    assert draft_rate(draft(), "CNY", "CNY") == 1
    assert draft_rate(draft(fx_rate=D(1)), "CNY", "CNY") == 1
    with pytest.raises(InvalidDocument, match="has rate 1, not 7.1"):
        draft_rate(draft(fx_rate=D("7.1")), "CNY", "CNY")
    with pytest.raises(InvalidDocument, match="invoice for C001 in USD needs an exchange rate to CNY"):
        draft_rate(draft(), "USD", "CNY")
    assert draft_rate(draft(fx_rate=D("7.10")), "USD", "CNY") == D("7.1")
    with pytest.raises(InvalidAmount):
        draft_rate(draft(fx_rate=D(-7)), "USD", "CNY")


def test_a_receipt_is_paid_by_a_known_method_and_only_a_note_matures():
    assert receipt_method(draft(DocKind.RECEIPT)) == "bank"
    assert receipt_method(draft()) is None
    assert receipt_method(draft(DocKind.RECEIPT, method="note", maturity_on=date(2026, 9, 10))) == "note"
    with pytest.raises(InvalidDocument, match="receipt method 'cheque' is not one of bank, cash, note, offset"):
        receipt_method(draft(DocKind.RECEIPT, method="cheque"))
    with pytest.raises(InvalidDocument, match="needs the note's maturity date"):
        receipt_method(draft(DocKind.RECEIPT, method="note"))
    with pytest.raises(InvalidDocument, match="the note matures 2026-03-01, before it was received 2026-03-10"):
        receipt_method(draft(DocKind.RECEIPT, method="note", maturity_on=date(2026, 3, 1)))
    with pytest.raises(InvalidDocument, match="only bank acceptance notes have a maturity date"):
        receipt_method(draft(maturity_on=date(2026, 9, 10)))


def test_a_due_date_is_never_before_the_documents_date_but_for_an_opening_balance():
    assert checked_due(draft(), None) == ON
    assert checked_due(draft(), date(2026, 4, 9)) == date(2026, 4, 9)
    with pytest.raises(InvalidDocument, match="due date 2026-03-01 is before its date 2026-03-10"):
        checked_due(draft(), date(2026, 3, 1))
    assert checked_due(draft(DocKind.OPENING_BALANCE), date(2025, 12, 1)) == date(2025, 12, 1)
