"""Amounts in Chinese capital numerals (大写金额), as written on statements, receipts and cheques.

    1234.56 -> 壹仟贰佰叁拾肆元伍角陆分     1000 -> 壹仟元整     100.05 -> 壹佰元零伍分

The rules an accountant checks: a zero between non-zero digits is written once (零), zeros at
the end of a section are not written, 万 and 亿 close their four-digit sections, and an amount
without cents ends in 整. Negative amounts are prefixed 负.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_IN_SECTION = ("", "拾", "佰", "仟")


def _section(n: int) -> str:
    """A number below 10,000 in capitals, with inner zeros written once and end zeros omitted."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        digit = n // 10 ** pos % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += DIGITS[0]
            zero = False
        out += DIGITS[digit] + _IN_SECTION[pos]
    return out


def _below_yi(n: int) -> str:
    """A number below 100,000,000: its 万 section, then the rest (零 where a zero falls between)."""
    high, low = divmod(n, 10_000)
    if not high:
        return _section(low)
    return _section(high) + "万" + ("" if low == 0 else (DIGITS[0] if low < 1000 else "") + _section(low))


def _integer(n: int) -> str:
    """A whole number in capitals; above 亿 the part before it is read the same way (壹万贰仟亿 …)."""
    if n == 0:
        return DIGITS[0]
    if n < 100_000_000:
        return _below_yi(n)
    high, low = divmod(n, 100_000_000)
    return _integer(high) + "亿" + ("" if low == 0 else (DIGITS[0] if low < 10_000_000 else "") + _below_yi(low))


def capital_amount(amount: Decimal, currency_word: str = "") -> str:
    """AMOUNT in capitals to the fen, rounded half up (CURRENCY_WORD such as 人民币 goes first)."""
    value = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "负" if value < 0 else ""
    fen_total = int(abs(value) * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    if yuan == 0 and cents == 0:
        return f"{currency_word}零元整"
    text = _integer(yuan) + "元" if yuan else ""
    if cents == 0:
        return f"{sign}{currency_word}{text}整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif yuan:
        text += DIGITS[0]
    if fen:
        text += DIGITS[fen] + "分"
    else:
        text += "整"
    return f"{sign}{currency_word}{text}"
