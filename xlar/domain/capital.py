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
_SECTIONS = ("", "万", "亿", "万亿")


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


def _integer(n: int) -> str:
    if n == 0:
        return DIGITS[0]
    parts: list[str] = []
    sections = []
    while n:
        n, rest = divmod(n, 10_000)
        sections.append(rest)
    if len(sections) > len(_SECTIONS):
        raise ValueError("amount too large for capital numerals")
    need_zero = False
    for index in range(len(sections) - 1, -1, -1):
        value = sections[index]
        if value == 0:
            need_zero = bool(parts)
            continue
        if parts and (need_zero or value < 1000):
            parts.append(DIGITS[0])
        parts.append(_section(value) + _SECTIONS[index])
        need_zero = False
    return "".join(parts)


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
