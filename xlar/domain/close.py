"""Month-end close (应收月结) and FX revaluation (期末调汇), as pure rules.

A customer's monthly statistics split the movement of its balance by what moved it; they
add up: opening + invoiced + credited + received + adjusted + fx = closing, in the document
currency (where fx is always 0) and in the base currency. A revaluation brings each open
foreign-currency item to the period-end rate; what it books is reversed on the 1st of the
next month, so the next revaluation and the realized difference at matching both start
again from the item's own rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from xlar.domain.documents import DocKind
from xlar.domain.money import exponent

# What moved a balance, by the kind of document (a reversal counts with what it reverses).
CATEGORY: Mapping[DocKind, str] = {
    DocKind.INVOICE: "invoiced", DocKind.DEBIT_NOTE: "invoiced", DocKind.DEPOSIT_INVOICE: "invoiced",
    DocKind.CREDIT_NOTE: "credited",
    DocKind.RECEIPT: "received", DocKind.REFUND: "received",
    DocKind.WRITE_OFF: "adjusted", DocKind.TRANSFER_DEBIT: "adjusted", DocKind.TRANSFER_CREDIT: "adjusted",
    DocKind.NETTING: "adjusted", DocKind.DEPOSIT_OFFSET: "adjusted", DocKind.OPENING_BALANCE: "adjusted",
    DocKind.FX_ADJUSTMENT: "fx", DocKind.FX_REALIZED: "fx",
}
MOVEMENTS = ("invoiced", "credited", "received", "adjusted", "fx")
COLUMNS = ("opening", *MOVEMENTS, "closing")


@dataclass(frozen=True, slots=True)
class Stat:
    """One customer's month in one currency; amounts in minor units (document, then base)."""

    customer: str
    currency: str
    amounts: Mapping[str, int]       # COLUMNS -> document currency
    base: Mapping[str, int]          # COLUMNS -> base currency

    def adds_up(self) -> bool:
        return all(v["opening"] + sum(v[m] for m in MOVEMENTS) == v["closing"] for v in (self.amounts, self.base))


@dataclass(frozen=True, slots=True)
class Difference:
    """A figure of the stored snapshot that the ledger no longer gives."""

    customer: str
    currency: str
    column: str          # e.g. "invoiced" or "base_closing"
    stored: int | None   # None: the snapshot has no row for this customer and currency
    computed: int | None


def _amounts(stat: Stat) -> Mapping[str, int]:
    return stat.amounts


def _base(stat: Stat) -> Mapping[str, int]:
    return stat.base


def differences(stored: Mapping[tuple[str, str], Stat], computed: Mapping[tuple[str, str], Stat]) -> list[Difference]:
    """Every figure that differs between two snapshots, customer by customer."""
    found = []
    for key in sorted(stored.keys() | computed.keys()):
        old, new = stored.get(key), computed.get(key)
        for prefix, pick in (("", _amounts), ("base_", _base)):
            for column in COLUMNS:
                a = pick(old)[column] if old else None
                b = pick(new)[column] if new else None
                if (a or 0) != (b or 0):
                    found.append(Difference(key[0], key[1], prefix + column, a, b))
    return found


def revalued_minor(open_minor: int, currency: str, rate: Decimal, base_currency: str) -> int:
    """What an open amount (minor units of CURRENCY) is worth at RATE, in minor units of the base
    currency, rounded once (ROUND_HALF_UP): the same as converting the amount itself."""
    shift = exponent(base_currency) - exponent(currency)
    return int((Decimal(open_minor) * rate).scaleb(shift).quantize(Decimal(1), ROUND_HALF_UP))
