"""The cash-application scan xlar used before its indexes (issue 23): every customer and every
open invoice looked at for every line. Kept as the reference the indexed scorer
(xlar.domain.cash.CashIndex) must agree with, line by line, on generated statements."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from xlar.domain.bank import BankLine
from xlar.domain.cash import (
    MIN_CODE,
    CustomerRef,
    OpenInvoice,
    Payer,
    Suggestion,
    by_name,
    choose,
    code_payer,
    not_a_receipt,
    scored,
    strong_payer,
)
from xlar.domain.names import bank_account, compact, has_token, name_score, token_keys


def suggest(line: BankLine, customers: Sequence[CustomerRef], invoices: Sequence[OpenInvoice],
            tolerance: Decimal = Decimal(0)) -> Suggestion:
    refused = not_a_receipt(line)
    if refused is not None:
        return refused
    text = f"{line.reference} {line.end_to_end}"
    named = _named_invoices(text, invoices)
    payer = _payer(line, text, customers, named)
    if isinstance(payer, Suggestion):
        return payer
    return scored(line, payer, choose(line, payer.code, named, invoices, tolerance))


def _payer(line: BankLine, text: str, customers: Sequence[CustomerRef], named: list[OpenInvoice]) -> Payer | Suggestion:
    account = bank_account(line.counterparty_account)
    by_account = {c.code for c in customers if account and bank_account(c.bank_account) == account}
    by_invoice = {inv.customer for inv in named}
    strong = sorted(by_account | by_invoice)
    if strong:
        return strong_payer(strong, by_account, by_invoice, account)
    upper = text.upper()
    by_code = sorted({c.code for c in customers if len(c.code) >= MIN_CODE
                      and c.code.upper() in upper and has_token(text, c.code)})
    if by_code:
        return code_payer(by_code)
    return by_name(line.counterparty, [(c.code, s) for c in customers
                                       if (s := name_score(line.counterparty, c.name)) is not None])


def _named_invoices(text: str, invoices: Sequence[OpenInvoice]) -> list[OpenInvoice]:
    first_at = token_keys(text)
    hits = [(first_at[key], inv.number, inv) for inv in invoices
            if inv.open > 0 and (key := compact(inv.number)) and key in first_at]
    return [inv for _, _, inv in sorted(hits, key=lambda hit: hit[:2])]


def consume(invoices: list[OpenInvoice], found: Suggestion) -> list[OpenInvoice]:
    """The invoices still open once FOUND's line paid what it names."""
    paid = dict(found.invoices)
    if not paid:
        return invoices
    return [inv if inv.number not in paid else OpenInvoice(inv.number, inv.customer, inv.currency,
                                                           inv.open - paid[inv.number], inv.due_on)
            for inv in invoices if inv.number not in paid or inv.open > paid[inv.number]]
