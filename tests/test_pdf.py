"""Statements and letters rendered to PDF: they open, say what they should, and break pages."""

from __future__ import annotations

import gc
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from xlar.domain.errors import InvalidSetting
from xlar.reports import pdf as pdf_module
from xlar.reports import pdf_fonts
from xlar.reports.papers import (
    LETTER_LABELS,
    STATEMENT_LABELS,
    Letter,
    LetterItem,
    Party,
    Statement,
    StatementLine,
    StatementSection,
)
from xlar.reports.pdf import letter_pdf, statement_pdf
from xlar.reports.pdf_fonts import FONT_ENV, find_cjk_font

D = Decimal
COMPANY_ZH = Party("SELF", "上海明远贸易有限公司", address="上海市浦东新区世纪大道100号 8楼", phone="021-5888 1234",
                   tax_id="91310115MA1K4XXXXX", email="ar@mingyuan.example")
CUSTOMER_ZH = Party("C-001", "杭州青禾电子科技有限公司", address="浙江省杭州市西湖区文三路 90 号",
                    contact="王会计", phone="0571-8888 6666")
COMPANY_EN = Party("SELF", "Harbour Trading Ltd.", address="12 Quay Street, Auckland 1010", phone="+64 9 555 0100",
                   tax_id="123-456-789")
CUSTOMER_EN = Party("C-200", "Kiwi Orchards Limited", address="4 Orchard Road, Hastings 4120", contact="Jane Smith",
                    phone="+64 6 555 0199")
CLOSING = D("12345.67")
IN_WORDS = "人民币壹万贰仟叁佰肆拾伍元陆角柒分"
USD_IN_WORDS = "美元捌佰元伍角"


def running_lines(opening: Decimal, count: int, closing: Decimal, zh: bool) -> list[StatementLine]:
    """COUNT lines, invoices and receipts in turn, the last one landing the balance on CLOSING."""
    kinds = ("销售发票", "收款") if zh else ("Invoice", "Receipt")
    memo = "发票 {} 第{}批货物及运输、保险、装卸等全部费用" if zh else "Fapiao {} batch {} goods, freight and insurance"
    lines, balance, on = [], opening, date(2026, 1, 2)
    for n in range(count):
        last = n == count - 1
        amount = closing - balance if last else D(1000 + 37 * n) + D("0.25")
        debit, credit = (amount, D(0)) if amount >= 0 and (last or n % 3) else (D(0), abs(amount))
        balance = balance + debit - credit
        lines.append(StatementLine(on, f"INV-2026-{n:05d}" if debit else f"RCT-2026-{n:05d}",
                                   kinds[0] if debit else kinds[1],
                                   memo.format(44000000 + n, n) if n % 2 else "",
                                   on + timedelta(days=30) if debit else None, debit, credit, balance))
        on += timedelta(days=1)
    return lines


def section(currency: str, opening: Decimal, count: int, closing: Decimal, words: str | None) -> StatementSection:
    zh = words is not None
    lines = running_lines(opening, count, closing, zh)
    buckets = ("未到期", "1-30天", "31-60天", "61-90天", "90天以上") if zh else (
        "Current", "1-30", "31-60", "61-90", "Over 90")
    shares = [(closing * D(share) / 100).quantize(D("0.01")) for share in (40, 30, 15, 10)]
    aging = tuple(zip(buckets, (*shares, closing - sum(shares))))
    return StatementSection(currency, opening, tuple(lines), closing, aging, words)


def zh_statement(lines: int = 60) -> Statement:
    return Statement("zh-CN", COMPANY_ZH, CUSTOMER_ZH, date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 2),
                     (section("CNY", D("1000.00"), lines, CLOSING, IN_WORDS),
                      section("USD", D("0"), 4, D("800.50"), USD_IN_WORDS)),
                     STATEMENT_LABELS["zh-CN"])


def en_statement() -> Statement:
    jpy = StatementSection("JPY", D(0), (StatementLine(date(2026, 3, 3), "INV-2026-00900", "Invoice", "PO 7781",
                                                      date(2026, 4, 2), D(150000), D(0), D(150000)),),
                           D(150000), (("Current", D(150000)),), None)
    return Statement("en", COMPANY_EN, CUSTOMER_EN, date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 2),
                     (section("USD", D("500.00"), 8, CLOSING, None), jpy), STATEMENT_LABELS["en"])


def letter(locale: str) -> Letter:
    zh = locale == "zh-CN"
    items = (LetterItem("INV-2026-00012", date(2026, 1, 5), date(2026, 2, 4), 56, "CNY", D("10345.67")),
             LetterItem("INV-2026-00019", date(2026, 1, 20), date(2026, 2, 19), 41, "CNY", D("2000.00")),
             LetterItem("INV-2026-00031", date(2026, 2, 1), date(2026, 3, 3), 29, "USD", D("800.50")))
    body = ("截至本函发出之日，贵司下列款项已逾期未付，合计如下。请于收到本函后七日内安排付款。\n如已付款，请忽略本函并告知付款日期。"
            if zh else "Our records show that the invoices below are overdue. Please arrange payment within "
                       "seven days.\nIf you have already paid, please disregard this letter and tell us the date.")
    return Letter(locale, COMPANY_ZH if zh else COMPANY_EN, CUSTOMER_ZH if zh else CUSTOMER_EN, date(2026, 4, 2),
                  1, "email", "关于逾期应收账款的提醒" if zh else "Overdue account C-200", body, items,
                  (("CNY", CLOSING), ("USD", D("800.50"))),
                  (IN_WORDS, USD_IN_WORDS) if zh else (), LETTER_LABELS[locale])


def text_of(path: Path) -> str | None:
    """The PDF's text by pdftotext, or None where poppler-utils is not installed."""
    if shutil.which("pdftotext") is None:
        return None
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def cjk_font_here() -> bool:
    try:
        return find_cjk_font() is not None
    except InvalidSetting:   # a bad XLAR_PDF_FONT fails the tests that render, not the collection
        return True


needs_cjk_font = pytest.mark.skipif(not cjk_font_here(), reason=f"no CJK font; set {FONT_ENV}")


@needs_cjk_font
def test_zh_statement_runs_over_pages_and_says_what_it_should(tmp_path):
    out = statement_pdf(zh_statement(), tmp_path / "statement.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    text = text_of(out)
    if text is None:
        pytest.skip("pdftotext not installed")
    for expected in (CUSTOMER_ZH.name, "12,345.67", IN_WORDS, USD_IN_WORDS, "对账确认", "币种：USD", "…"):
        assert expected in text
    pages = text.count("\f")
    assert pages >= 2
    assert f"第1页/共{pages}页" in text.replace(" ", "")  # pdftotext drops the spaces between CJK glyphs


def test_en_statement_uses_helvetica_without_any_cjk_font(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_fonts, "find_cjk_font", lambda: None)
    out = statement_pdf(en_statement(), tmp_path / "statement.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    assert b"/Helvetica" in out.read_bytes()
    text = text_of(out)
    if text is not None:
        for expected in (CUSTOMER_EN.name, "12,345.67", "Balance confirmation", "150,000", "2026-03-01 – 2026-03-31"):
            assert expected in text
        assert "150,000.00" not in text


def test_zh_paper_without_a_cjk_font_asks_for_the_setting(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_fonts, "find_cjk_font", lambda: None)
    with pytest.raises(InvalidSetting, match=FONT_ENV):
        statement_pdf(zh_statement(lines=3), tmp_path / "statement.pdf")
    with pytest.raises(InvalidSetting, match=FONT_ENV):
        letter_pdf(letter("zh-CN"), tmp_path / "letter.pdf")


def test_a_chinese_name_on_an_english_paper_needs_the_cjk_font_too(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_fonts, "find_cjk_font", lambda: None)
    english_letter_to_chinese_customer = Letter(**{**_fields(letter("en")), "customer": CUSTOMER_ZH})
    with pytest.raises(InvalidSetting, match=FONT_ENV):
        letter_pdf(english_letter_to_chinese_customer, tmp_path / "letter.pdf")


@needs_cjk_font
def test_zh_letter_lists_items_totals_and_words(tmp_path):
    out = letter_pdf(letter("zh-CN"), tmp_path / "letter.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    text = text_of(out)
    if text is not None:
        for expected in ("付款提醒函", CUSTOMER_ZH.name + "：", "INV-2026-00019", "12,345.67", IN_WORDS, "此致 敬礼"):
            assert expected in text


def test_en_letter(tmp_path):
    out = letter_pdf(letter("en"), tmp_path / "letter.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    text = text_of(out)
    if text is not None:
        for expected in ("Payment reminder", "Dear Kiwi Orchards Limited,", "12,345.67", "800.50", "Page 1 of 1"):
            assert expected in text


@needs_cjk_font
def test_the_same_paper_gives_the_same_bytes(tmp_path):
    first = statement_pdf(zh_statement(lines=5), tmp_path / "a.pdf").read_bytes()
    assert statement_pdf(zh_statement(lines=5), tmp_path / "b.pdf").read_bytes() == first


def test_font_setting_names_file_and_face(tmp_path, monkeypatch):
    font = tmp_path / "font.ttc"
    font.write_bytes(b"")
    monkeypatch.setenv(FONT_ENV, f"{font}#3")
    assert find_cjk_font() == (font, 3)
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "missing.ttf"))
    with pytest.raises(InvalidSetting, match="not a font file"):
        find_cjk_font()


# fontTools leaves the file open when it refuses it; the ResourceWarning comes at garbage collection
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_font_that_cannot_draw_chinese_is_refused(tmp_path, monkeypatch):
    not_a_font = tmp_path / "notes.ttf"
    not_a_font.write_text("not a font")
    monkeypatch.setenv(FONT_ENV, str(not_a_font))
    with pytest.raises(InvalidSetting, match="cannot be read as a font"):
        letter_pdf(letter("zh-CN"), tmp_path / "letter.pdf")
    latin_only = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if latin_only.is_file():
        monkeypatch.setenv(FONT_ENV, str(latin_only))
        with pytest.raises(InvalidSetting, match="has no Chinese glyphs"):
            letter_pdf(letter("zh-CN"), tmp_path / "letter.pdf")
    gc.collect()   # here, under this test's filter, not in whichever test runs next


@pytest.mark.parametrize(("value", "currency", "shown"), [
    (D("1234.5"), "CNY", "1,234.50"), (D("150000"), "JPY", "150,000"), (D("1.2345"), "KWD", "1.235"),
    (D("-0.001"), "USD", "0.00"), (D("-98765.43"), "EUR", "-98,765.43")])
def test_amounts_use_the_currency_decimals(value, currency, shown):
    assert pdf_module._amount(value, currency) == shown


def _fields(paper: Letter) -> dict[str, object]:
    return {name: getattr(paper, name) for name in Letter.__dataclass_fields__}
