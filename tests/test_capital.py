"""Amounts in Chinese capital numerals as an accountant writes them (大写金额)."""

from decimal import Decimal

import pytest

from xlar.domain.capital import capital_amount


@pytest.mark.parametrize(("amount", "words"), [
    ("0", "零元整"), ("0.1", "壹角整"), ("0.05", "伍分"), ("10", "壹拾元整"), ("1010", "壹仟零壹拾元整"),
    ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"), ("100.05", "壹佰元零伍分"), ("20300.70", "贰万零叁佰元柒角整"),
    ("100000", "壹拾万元整"), ("105000", "壹拾万伍仟元整"), ("1000001", "壹佰万零壹元整"),
    ("1000000.01", "壹佰万元零壹分"), ("10000000", "壹仟万元整"), ("20000000.02", "贰仟万元零贰分"),
    ("100000000", "壹亿元整"), ("100200300", "壹亿零贰拾万零叁佰元整"), ("105000000", "壹亿零伍佰万元整"),
    ("1000500000000", "壹万零伍亿元整"), ("1234567890123.45", "壹万贰仟叁佰肆拾伍亿陆仟柒佰捌拾玖万零壹佰贰拾叁元肆角伍分"),
    ("-88.8", "负捌拾捌元捌角整"), ("2.665", "贰元陆角柒分"),
])
def test_capital_amounts(amount, words):
    assert capital_amount(Decimal(amount)) == words


def test_the_currency_word_goes_first():
    assert capital_amount(Decimal(800), "人民币") == "人民币捌佰元整"
