"""What every bank-statement reader shares: the refusal, exact amounts, text decoding, a line's details."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from xlar.domain.codes import Code
from xlar.domain.errors import InvalidAmount, XlarError
from xlar.domain.money import CURRENCY_EXPONENTS, from_minor, to_minor


class InvalidImport(XlarError):
    """A bank file that cannot be read as it stands."""

    code = Code.E080



def shown(value: str) -> str:
    """VALUE quoted for a one-line message, cut at 60 characters."""
    return repr(value if len(value) <= 60 else value[:60] + "...")


def exact(amount: Decimal, currency: str, where: str) -> Decimal:
    """AMOUNT at its currency's minor unit; more decimals than it has are refused."""
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidImport(f"{where}: currency {shown(currency)} is not an ISO 4217 code")
    if currency not in CURRENCY_EXPONENTS:
        return amount  # a currency we do not trade in still travels exactly as written
    try:
        return from_minor(to_minor(amount, currency), currency)
    except InvalidAmount:
        raise InvalidImport(f"{where}: {amount} has more decimals than {currency} allows") from None


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM dropped), else Latin-1, which SWIFT texts fall back to; LF lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True, slots=True)
class Details:
    counterparty: str = ""
    counterparty_account: str = ""
    end_to_end: str = ""
    reference: str = ""
