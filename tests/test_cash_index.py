"""The indexed cash application gives what a scan over every customer and invoice gives
(issue 23): line by line on generated statements (names near and far, contained, Chinese,
codes, accounts, invoice and fapiao numbers, shared numbers, partial and repeated payments)
and on the four real bank statements."""

import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import cash_reference as reference
from xlar.domain.bank import BankLine
from xlar.domain.cash import CashIndex, CustomerRef, OpenInvoice
from xlar.imports.bank import parse_statement

BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank"
WORDS = ["Acme", "Beta", "Gamma", "Delta", "Media", "Party", "Trading", "Hong", "Kong", "Pacific", "Rim", "Lyon",
         "Textiles", "Osaka", "Seiki", "Rhein", "Maschinen", "Golden", "Gate", "Imports", "Maple", "Leaf"]
LEGAL = ["Ltd", "GmbH", "BV", "Inc.", "Co., Ltd.", "SARL", ""]
HANZI = "华为技术深圳市广州上海电子科技贸易北京苏州杭州精密机械制造东方新材料"
CJK_SUFFIX = ["有限公司", "股份有限公司", "公司", ""]


def _name(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return "".join(rng.choice(HANZI) for _ in range(rng.randint(2, 8))) + rng.choice(CJK_SUFFIX)
    return " ".join(rng.sample(WORDS, rng.randint(1, 3))) + " " + rng.choice(LEGAL)


def _payer_name(rng: random.Random, name: str) -> str:
    """A payer as banks write one: the name itself, cased or trimmed, a typo, a part, a longer one."""
    how = rng.random()
    if how < 0.2:
        return name.upper()
    if how < 0.4 and len(name) > 3:                               # a typo or two
        chars = list(name)
        for _ in range(rng.randint(1, 2)):
            chars[rng.randrange(len(chars))] = rng.choice("aeiouxyz华东")
        return "".join(chars)
    if how < 0.55:                                                # a part of it
        words = name.split()
        return " ".join(words[: max(1, len(words) - 1)]) if len(words) > 1 else name[: max(2, len(name) // 2)]
    if how < 0.7:                                                 # more than it
        return f"{rng.choice(WORDS)} {name}"
    if how < 0.8:
        return _name(rng)                                          # somebody else entirely
    return name


def book(seed: int, customers: int, invoices: int):
    rng = random.Random(seed)
    refs = []
    for i in range(customers):
        code = rng.choice([f"C{i:04d}", f"K-{i:03d}", f"{i:02d}", f"客{i}"])
        account = rng.choice(["", f"NL{rng.randint(10, 99)} ABNA {rng.randint(1000, 9999)} {i:04d}"])
        refs.append(CustomerRef(code, _name(rng), account))
    start = date(2026, 1, 1)
    opens = []
    for j in range(invoices):
        owner = rng.choice(refs)
        number = rng.choice([f"INV-2026-{j:05d}", f"{rng.randint(10_000_000, 99_999_999)}", f"INV-2026-{j % 7:05d}"])
        opens.append(OpenInvoice(number, owner.code, rng.choice(["CNY", "CNY", "USD"]),
                                 Decimal(rng.randint(1, 500_000)) / 100, start + timedelta(days=rng.randint(0, 200))))
    return rng, refs, opens


def lines(rng: random.Random, refs, opens, count: int) -> list[BankLine]:
    made = []
    for seq in range(count):
        who = rng.choice(refs)
        mine = [inv for inv in opens if inv.customer == who.code] or opens
        inv = rng.choice(mine)
        kind = rng.random()
        reference_text, account, payer = "", "", _payer_name(rng, who.name)
        amount = inv.open
        if kind < 0.3:
            reference_text = f"payment {inv.number.replace('-', rng.choice(['-', '', ' ']))}"
        elif kind < 0.4:
            two = rng.sample(mine, min(2, len(mine)))
            reference_text = " ".join(i.number for i in two)
            amount = sum((i.open for i in two), Decimal(0)) + rng.choice([Decimal(0), Decimal("0.5"), Decimal(-3)])
        elif kind < 0.5:
            account = who.bank_account.lower()
        elif kind < 0.6:
            reference_text = f"cust {who.code} thanks"
        elif kind < 0.65:
            amount = -amount
        if rng.random() < 0.3:
            amount = amount * rng.choice([Decimal("0.5"), Decimal(2)])
        made.append(BankLine("NL00TEST", "S1", seq, date(2026, 3, 1), None, amount or Decimal(1), inv.currency,
                             payer, account, reference_text, "", f"B{seq}", reversal=rng.random() < 0.03))
    return made


def agree(refs, opens, statement, tolerance=Decimal("0.5")):
    """Every line scored alike by the index and the scan, each after the lines before it paid."""
    index, left = CashIndex(refs, opens), list(opens)
    for line in statement:
        expected = reference.suggest(line, refs, left, tolerance)
        found = index.suggest(line, tolerance)
        assert found == expected, (line, found, expected)
        left = reference.consume(left, expected)
        index.consume(found)
    return index


@pytest.mark.parametrize("seed", range(6))
def test_the_index_scores_every_line_as_the_scan_does(seed):
    rng, refs, opens = book(seed, customers=300, invoices=1_500)
    statement = lines(rng, refs, opens, 400)
    index = agree(refs, opens, statement)
    kinds = {s for s in ("ambiguous", "no customer found")
             if any((f := index.suggest(ln)).exception and f.exception.startswith(s) for ln in statement)}
    assert kinds == {"ambiguous", "no customer found"}   # the hard tiers were reached


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(2, 40), st.integers(1, 60))
def test_any_small_book_is_scored_as_the_scan_does(seed, customers, count):
    rng, refs, opens = book(seed, customers, customers * 3)
    agree(refs, opens, lines(rng, refs, opens, count))


def test_the_real_statements_are_scored_as_the_scan_does():
    files = sorted(p for p in BANK.glob("*") if p.suffix in (".sta", ".xml")) if BANK.is_dir() else []
    if not files:
        pytest.skip("the shared bank statements are not here")
    _rng, refs, opens = book(7, customers=200, invoices=800)
    refs += [CustomerRef("3P", "3rd Party Media BV", "NL69ABNA0522123643"),
             CustomerRef("CUSNO", "Cusno Trading", "")]
    for path in files:
        statement = parse_statement(path.read_bytes())
        assert statement, path
        agree(refs, opens, statement)
