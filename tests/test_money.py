from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlar.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency
from xlar.domain.money import (
    CURRENCY_EXPONENTS,
    Money,
    convert,
    decimal_from_number,
    exponent,
    from_minor,
    parse_decimal,
    parse_rate,
    round_money,
    split,
    to_minor,
)

D = Decimal


def test_iso_exponents_of_the_currencies_we_trade_in():
    assert {c: exponent(c) for c in ["CNY", "USD", "EUR", "HKD", "TWD", "JPY", "GBP", "KRW", "KWD"]} == {
        "CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "TWD": 2, "JPY": 0, "GBP": 2, "KRW": 0, "KWD": 3}
    with pytest.raises(UnknownCurrency, match="'XXY'"):
        exponent("XXY")


def test_round_half_up_as_excel():
    assert round_money(D("2.665"), "CNY") == D("2.67")
    assert round_money(D("-2.665"), "CNY") == D("-2.67")
    assert round_money(D("0.5"), "JPY") == D("1")
    assert round_money(D("1.0005"), "KWD") == D("1.001")
    # the float 2.665 is 2.66499999…; through the boundary it is the typed 2.665
    assert round_money(decimal_from_number(2.665), "CNY") == D("2.67")


def test_minor_units_round_trip_and_refuse_extra_places():
    assert to_minor(D("1234.56"), "CNY") == 123456
    assert to_minor(D("1234"), "JPY") == 1234
    assert to_minor(D("1.234"), "KWD") == 1234
    assert from_minor(123456, "CNY") == D("1234.56")
    assert str(from_minor(5, "CNY")) == "0.05"
    assert str(from_minor(-7, "KWD")) == "-0.007"
    with pytest.raises(InvalidAmount, match="more decimals"):
        to_minor(D("1.005"), "CNY")
    with pytest.raises(TypeError):
        to_minor(1.5, "CNY")  # type: ignore[arg-type]


def test_the_float_boundary():
    assert decimal_from_number(0.1) == D("0.1")
    assert decimal_from_number(1234.5) == D("1234.5")
    assert decimal_from_number(7) == D(7)
    assert decimal_from_number("12.30") == D("12.30")
    with pytest.raises(InvalidAmount, match="significant digits"):
        decimal_from_number(D("1234567890.123456"))
    with pytest.raises(InvalidAmount, match="significant digits"):
        decimal_from_number(0.1 + 0.2)  # 0.30000000000000004: 17 digits, not what anyone typed
    for bad in [float("nan"), float("inf"), True, None, "1,234.5", "1e5", ""]:
        with pytest.raises(InvalidAmount):
            decimal_from_number(bad)


def test_parse_decimal_is_strict():
    assert parse_decimal(" -3.50 ") == D("-3.50")
    for bad in ["1.2.3", "abc", "1 000", "+", "-."]:
        with pytest.raises(InvalidAmount):
            parse_decimal(bad)


def test_rates_are_exact_with_many_places():
    assert parse_rate("7.123456") == D("7.123456")
    assert parse_rate(0.047215) == D("0.047215")
    assert parse_rate(D("70")) == D("70")
    assert convert(D("100.00"), D("7.123456"), "CNY") == D("712.35")
    with pytest.raises(InvalidAmount):
        parse_rate("0")
    with pytest.raises(InvalidAmount, match="more than 10"):
        parse_rate("1.00000000001")


def test_money_refuses_mixed_currencies():
    assert Money(D("1.10"), "USD") + Money(D("2.20"), "USD") == Money(D("3.30"), "USD")
    with pytest.raises(CurrencyMismatch):
        Money(D("1"), "USD") + Money(D("1"), "CNY")
    with pytest.raises(InvalidAmount):
        Money(D("1.5"), "JPY")


def test_split_gives_the_remainder_to_the_largest_remainders():
    assert split(D("100.00"), [D(1), D(1), D(1)], "CNY") == [D("33.34"), D("33.33"), D("33.33")]
    assert split(D("-100"), [D(30), D(30), D(40)], "JPY") == [D(-30), D(-30), D(-40)]
    with pytest.raises(InvalidAmount):
        split(D("1"), [], "CNY")


currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))


@given(currencies, st.integers(-10**12, 10**12), st.lists(st.integers(0, 1000), min_size=1, max_size=12))
def test_split_parts_always_add_up(currency, minor, weights):
    if sum(weights) == 0:
        weights[0] = 1
    total = from_minor(minor, currency)
    parts = split(total, [D(w) for w in weights], currency)
    assert sum(parts) == total
    unit = from_minor(1, currency)
    for part, w in zip(parts, weights):
        assert abs(part - total * w / sum(weights)) < unit
        assert part == round_money(part, currency)


@given(currencies, st.integers(-10**15, 10**15))
def test_minor_round_trip(currency, minor):
    assert to_minor(from_minor(minor, currency), currency) == minor


def test_money_holds_minor_units_with_its_currency_and_refuses_to_compare_across_currencies():
    price = Money(D("12.50"), "CNY")
    assert (price.minor, price.currency, price.amount) == (1250, "CNY", D("12.50"))
    assert Money.of_minor(1250, "CNY") == price and hash(Money.of_minor(1250, "CNY")) == hash(price)
    assert Money.of_minor(5, "JPY").amount == D(5) and Money.of_minor(5, "KWD").amount == D("0.005")
    assert (-price).minor == -1250 and abs(-price) == price and not Money.zero("CNY") and price
    assert Money.of_minor(1, "CNY") < price <= Money.of_minor(1250, "CNY") and price > Money.zero("CNY")
    assert price != Money.of_minor(1250, "USD") and price != D("12.50")   # never equal to a bare number
    with pytest.raises(CurrencyMismatch):
        _ = price < Money.of_minor(1, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = price - Money.of_minor(1, "USD")
    with pytest.raises(AttributeError):
        price.minor = 1   # Money cannot be changed
    assert str(Money(D("1234.5"), "USD")) == "1,234.50 USD"
