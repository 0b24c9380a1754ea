"""A bank statement's line: the record the file readers (xlar.imports.bank) make of each booked
entry and the scorer (xlar.domain.cash) reads to find who paid and for what."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class BankLine:
    """One booked bank entry: + credit (money in), - debit."""

    account: str
    statement: str
    seq: int
    booked_on: date
    value_on: date | None
    amount: Decimal
    currency: str
    counterparty: str
    counterparty_account: str
    reference: str
    end_to_end: str
    bank_ref: str
    reversal: bool = False

    @property
    def key(self) -> str:
        """A digest of what the entry says (not where it stands in the file): the same entry in a
        second import, or in an export that overlaps an earlier one, has the same key. Entries
        identical in every field are told apart by the importer (their occurrence count)."""
        parts = (self.account, self.booked_on.isoformat(), format(self.amount, "f"), self.currency,
                 self.counterparty, self.counterparty_account, self.reference, self.end_to_end, self.bank_ref)
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def squash(text: str) -> str:
    """TEXT with every run of white space made one space, none at either end."""
    return " ".join(text.split())


def join_parts(parts: Sequence[str]) -> str:
    """The non-empty parts, squashed and de-duplicated in order, joined by spaces."""
    seen: list[str] = []
    for part in map(squash, parts):
        if part and part not in seen:
            seen.append(part)
    return " ".join(seen)
