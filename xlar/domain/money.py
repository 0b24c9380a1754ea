"""Exact money: Decimal in Python, integer minor units in the store.

Every amount is rounded once, where it is created, with ROUND_HALF_UP at the currency's
ISO 4217 exponent (Excel's ROUND: 2.665 -> 2.67). Floats enter only through
`decimal_from_number`, the single boundary for numbers typed into cells.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Self

from xlar.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

# ISO 4217 minor-unit exponents of the currencies our users trade in.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
    "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "INR": 2,
    "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "LYD": 3, "MOP": 2,
    "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "RUB": 2,
    "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "USD": 2,
    "VND": 0, "ZAR": 2,
}

MAX_SIGNIFICANT_DIGITS = 15  # what an Excel cell holds exactly
RATE_MAX_PLACES = 10
_QUANTS = {e: Decimal(1).scaleb(-e) for e in range(4)}


def exponent(currency: str) -> int:
    """The ISO 4217 exponent of CURRENCY; unknown codes are refused, never guessed."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(f"unknown currency {currency!r}") from None


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half away from zero (Excel's ROUND)."""
    return amount.quantize(_QUANTS[exponent(currency)], rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Integer minor units of an amount that is already exact at the currency's exponent."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    scaled = amount.scaleb(exponent(currency))
    minor = int(scaled)
    if minor != scaled:
        raise InvalidAmount(
            f"{amount} has more decimals than {currency} allows ({exponent(currency)})"
        )
    return minor


def from_minor(minor: int, currency: str) -> Decimal:
    """The Decimal amount of MINOR units, with exactly the currency's number of places."""
    # scaleb keeps the integer's digits and sets the exponent: 5 CNY minor -> 0.05, 0 -> 0.00
    return Decimal(minor).scaleb(-exponent(currency))


def decimal_from_number(value: object) -> Decimal:
    """The one boundary where cell numbers become Decimal.

    A float goes through its shortest repr (0.1 -> Decimal('0.1'), never the binary
    expansion); more than 15 significant digits, NaN, infinities and bools are refused.
    """
    if type(value) is float:
        text = repr(value)
        if len(text) <= MAX_SIGNIFICANT_DIGITS and math.isfinite(value):  # not nan/inf,
            return Decimal(text)  # and too short to hold more digits than Excel keeps
    if isinstance(value, bool):
        raise InvalidAmount(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        result = parse_decimal(value)
    else:
        raise InvalidAmount(f"{value!r} is not a number")
    if not result.is_finite():
        raise InvalidAmount(f"{value!r} is not a finite number")
    digits = len(result.normalize().as_tuple().digits)
    if result != 0 and digits > MAX_SIGNIFICANT_DIGITS:
        raise InvalidAmount(
            f"{value!r} has {digits} significant digits; Excel keeps only {MAX_SIGNIFICANT_DIGITS}"
        )
    return result


def parse_decimal(text: str) -> Decimal:
    """Strict parse of a plain decimal string ('1234.50', '-3'); no grouping, no exponent."""
    cleaned = text.strip()
    body = cleaned[1:] if cleaned[:1] in "+-" else cleaned
    if not body or body.count(".") > 1 or not body.replace(".", "").isdigit():
        raise InvalidAmount(f"{text!r} is not a plain decimal number")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise InvalidAmount(f"{text!r} is not a plain decimal number") from None


def tidy(value: Decimal) -> Decimal:
    """The same number without trailing zeros (2.0 -> 2, 1.50 -> 1.5, 100 stays 100)."""
    plain = value.normalize()
    return plain.quantize(Decimal(1)) if plain.as_tuple().exponent > 0 else plain  # type: ignore[operator]  # a finite Decimal's exponent is an int


def parse_rate(value: object) -> Decimal:
    """An exchange rate: positive, exact, at most RATE_MAX_PLACES decimals."""
    rate = decimal_from_number(value)
    if rate <= 0:
        raise InvalidAmount(f"exchange rate {value!r} must be positive")
    exp = rate.normalize().as_tuple().exponent
    assert isinstance(exp, int)  # finite, checked above
    if -exp > RATE_MAX_PLACES:
        raise InvalidAmount(f"exchange rate {value!r} has more than {RATE_MAX_PLACES} decimals")
    return rate.normalize() if exp < 0 else rate.quantize(Decimal(1))


def convert(amount: Decimal, rate: Decimal, to_currency: str) -> Decimal:
    """AMOUNT times RATE, rounded once in the target currency."""
    return round_money(amount * rate, to_currency)


def split(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split TOTAL in proportion to WEIGHTS; the parts always add up to TOTAL exactly.

    Each part is the floor of its exact share in minor units; the leftover units go to
    the parts with the largest remainders (ties to the earlier part).
    """
    if not weights:
        raise InvalidAmount("cannot split an amount into zero parts")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise InvalidAmount("split weights must be non-negative and not all zero")
    minor = to_minor(total, currency)
    sign, magnitude = (-1 if minor < 0 else 1), abs(minor)
    weight_sum = sum(weights)
    exact = [Decimal(magnitude) * w / weight_sum for w in weights]
    parts = [int(x.to_integral_value(rounding=ROUND_FLOOR)) for x in exact]
    leftover = magnitude - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return [from_minor(sign * p, currency) for p in parts]


class Money(tuple[int, str]):
    """An amount in integer minor units together with its currency; mixing currencies refuses.

    `Money(Decimal("1.10"), "USD")` checks that the amount is exact in the currency;
    `Money.of_minor(110, "USD")` takes minor units as the store holds them, unchecked (the
    store only holds exact amounts). Sums, differences and comparisons of two currencies
    raise CurrencyMismatch; `amount` is the Decimal with the currency's places. It is a
    tuple underneath (immutable, and made at C speed: a snapshot holds hundreds of
    thousands), but equal only to Money and never added to or repeated as a tuple.
    """

    __slots__ = ()

    def __new__(cls, amount: Decimal, currency: str) -> Self:
        return tuple.__new__(cls, (to_minor(amount, currency), currency))

    @classmethod
    def of_minor(cls, minor: int, currency: str) -> Money:
        return tuple.__new__(cls, (minor, currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of_minor(0, currency)

    @property
    def minor(self) -> int:
        return self[0]

    @property
    def currency(self) -> str:
        return self[1]

    @property
    def amount(self) -> Decimal:
        return from_minor(self[0], self[1])

    def __getnewargs__(self) -> tuple[Decimal, str]:   # pickling goes through the checked constructor
        return (self.amount, self[1])

    def _same(self, other: object) -> int:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine money with {type(other).__name__}")
        if other[1] != self[1]:
            raise CurrencyMismatch(f"cannot combine {self[1]} and {other[1]}")
        return other[0]

    def __add__(self, other: object) -> Money:
        return Money.of_minor(self[0] + self._same(other), self[1])

    def __sub__(self, other: object) -> Money:
        return Money.of_minor(self[0] - self._same(other), self[1])

    def __mul__(self, other: object) -> Money:
        raise TypeError("money is not multiplied: convert its amount, then make Money of the result")

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money.of_minor(-self[0], self[1])

    def __abs__(self) -> Money:
        return self if self[0] >= 0 else Money.of_minor(-self[0], self[1])

    def __bool__(self) -> bool:
        return self[0] != 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return False
        return self[0] == other[0] and self[1] == other[1]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((Money, self[0], self[1]))

    def __lt__(self, other: object) -> bool:
        return self[0] < self._same(other)

    def __le__(self, other: object) -> bool:
        return self[0] <= self._same(other)

    def __gt__(self, other: object) -> bool:
        return self[0] > self._same(other)

    def __ge__(self, other: object) -> bool:
        return self[0] >= self._same(other)

    def __repr__(self) -> str:
        return f"Money({self.amount!r}, {self[1]!r})"

    def __str__(self) -> str:
        return f"{self.amount:,} {self[1]}"
