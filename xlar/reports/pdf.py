"""Statements of account and dunning letters as PDF, drawn with fpdf2 on A4 in millimetres.

Chinese papers (and any paper whose text leaves Windows-1252) need a font with CJK glyphs,
found by `find_cjk_font` or named in XLAR_PDF_FONT; the rest use the core Helvetica, so an
English paper looks the same on every machine and needs no font file at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.table import Table

from xlar.domain.money import CURRENCY_EXPONENTS
from xlar.reports.papers import (
    LETTER_LABELS,
    STATEMENT_LABELS,
    Letter,
    Party,
    Statement,
    StatementSection,
)
from xlar.reports.pdf_fonts import CJK_FAMILY, BatchFonts, add_cjk_font, paper_strings

_CORE_ENCODING = "windows-1252"   # the core fonts' widest encoding: has – and … that Latin-1 lacks
MARGIN = 15.0
GREY_FILL = 232
RULE_GREY = 140
TABLE_PT = 8.0
_HEADINGS = FontFace(emphasis="BOLD", fill_color=GREY_FILL)
_SUM_ROW = FontFace(emphasis="BOLD", fill_color=245)
_STATEMENT_COLUMNS = (("date", 18, "L"), ("document", 27, "L"), ("kind", 18, "L"), ("reference", 27, "L"),
                      ("due", 18, "L"), ("debit", 24, "R"), ("credit", 24, "R"), ("balance", 24, "R"))
_STATEMENT_WIDTH = sum(w for _, w, _ in _STATEMENT_COLUMNS)
_LETTER_COLUMNS = (("document", 40, "L"), ("date", 24, "L"), ("due", 24, "L"), ("days", 24, "R"),
                   ("currency", 20, "C"), ("open", 48, "R"))


def statement_pdf(statement: Statement, path: Path, fonts: BatchFonts | None = None) -> Path:
    """Write STATEMENT to PATH as an A4 statement of account with a sign-back block; return PATH."""
    labels = _labels(STATEMENT_LABELS, statement.locale, statement.labels)
    pdf = _Paper.open(statement.locale, [*paper_strings(statement), *labels.values()], statement.company, labels,
                      statement.issued_on, fonts)
    _company_header(pdf, statement.company, labels)
    _title(pdf, labels["title"])
    _statement_parties(pdf, statement, labels)
    for section in statement.sections:
        _section(pdf, statement, section, labels)
    _sign_back(pdf, labels)
    pdf.output(str(path))
    return path


def letter_pdf(letter: Letter, path: Path, fonts: BatchFonts | None = None) -> Path:
    """Write LETTER to PATH as an A4 payment reminder listing the overdue items; return PATH."""
    labels = _labels(LETTER_LABELS, letter.locale, letter.labels)
    pdf = _Paper.open(letter.locale, [*paper_strings(letter), *labels.values()], letter.company, labels, letter.issued_on,
                      fonts)
    _company_header(pdf, letter.company, labels)
    _write(pdf, _day(letter.issued_on), 9.5, align="R")
    _letter_address(pdf, letter.customer, labels)
    _title(pdf, labels["title"])
    if letter.subject:
        _write(pdf, letter.subject, 10.5, "B", align="C")
    pdf.ln(4)
    _write(pdf, labels["dear"].format(name=letter.customer.name), 10)
    pdf.ln(1)
    _write(pdf, letter.body, 10, h=5.5)
    pdf.ln(3)
    _letter_items(pdf, letter, labels)
    _letter_closing(pdf, letter, labels)
    pdf.output(str(path))
    return path


class _Paper(FPDF):
    """An A4 page whose footer carries the company name and 'page n of m' on every page."""

    def __init__(self, family: str, chinese: bool, footer_left: str, page_label: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.xlar_family, self.chinese = family, chinese
        self.colon = "：" if chinese else ": "
        self.wrap = WrapMode.CHAR if chinese else WrapMode.WORD   # Chinese has no spaces to break at
        self.footer_left, self.page_label = footer_left, page_label
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=20)
        self.set_line_width(0.2)

    @classmethod
    def open(cls, locale: str, texts: Iterable[str], company: Party, labels: dict[str, str],
             issued_on: date, fonts: BatchFonts | None = None) -> _Paper:
        """A blank paper with the font its text needs and a creation date fixed by ISSUED_ON."""
        chinese = locale.lower().startswith("zh")
        family = CJK_FAMILY if chinese or not all(map(_core_can_draw, texts)) else "helvetica"
        pdf = cls(family, chinese, company.name, labels["page"])
        if family == CJK_FAMILY and fonts is not None and fonts.files:
            pdf.add_font(CJK_FAMILY, "", fname=fonts.files[""])
            pdf.add_font(CJK_FAMILY, "B", fname=fonts.files["B"])
        elif family == CJK_FAMILY:
            add_cjk_font(pdf)
        else:
            pdf.core_fonts_encoding = _CORE_ENCODING
        # the same paper gives the same bytes: fpdf2 also derives the file /ID from this date
        pdf.set_creation_date(datetime.combine(issued_on, time(), tzinfo=UTC))
        pdf.set_title(labels["title"])
        pdf.set_author(company.name)
        pdf.set_creator("xlar")
        pdf.set_lang(locale)
        pdf.add_page()
        return pdf

    def font(self, size: float, style: str = "") -> None:
        """Switch to SIZE points of the paper's family."""
        self.set_font(self.xlar_family, style, size)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_draw_color(RULE_GREY)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.font(7.5)
        self.set_text_color(90)
        self.cell(self.epw / 2, 5, self.footer_left, align="L")
        self.cell(self.epw / 2, 5, self.page_label.format(page=self.page_no(), pages="{nb}"), align="R")
        self.set_text_color(0)


def _labels(table: dict[str, dict[str, str]], locale: str, own: dict[str, str]) -> dict[str, str]:
    """The paper's captions over the defaults of its language, so a missing key never breaks a print."""
    return {**table.get(locale, table["en"]), **own}


def _core_can_draw(text: str) -> bool:
    try:
        text.encode(_CORE_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _amount(value: Decimal, currency: str) -> str:
    """1,234.56 at the currency's own decimals (JPY 0, KWD 3); never '-0.00'."""
    places = CURRENCY_EXPONENTS.get(currency, 2)
    exact = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{abs(exact) if exact == 0 else exact:,.{places}f}"


def _amount_or_blank(value: Decimal, currency: str) -> str:
    return "" if value == 0 else _amount(value, currency)


def _day(on: date | None) -> str:
    return on.isoformat() if on else ""


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """TEXT on one line of WIDTH mm in the current font, cut with an ellipsis when it is longer."""
    text = " ".join(text.split())
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _write(pdf: _Paper, text: str, size: float, style: str = "", align: str = "L", h: float | None = None,
           w: float = 0) -> None:
    """A wrapped paragraph at the current x; the next one starts on the left margin below it."""
    pdf.font(size, style)
    pdf.multi_cell(w, h or size * 0.5, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=pdf.wrap)


def _keep_room(pdf: _Paper, height: float) -> None:
    """Start a new page unless HEIGHT mm fit above the bottom margin, so a block is not split."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _company_header(pdf: _Paper, company: Party, labels: dict[str, str]) -> None:
    """Company name large and bold, its address and numbers small underneath, then a rule."""
    _write(pdf, company.name, 15, "B", h=7)
    numbers = _captioned(pdf, labels, [("phone", company.phone), ("tax_id", company.tax_id)])
    pdf.set_text_color(70)
    for line in (company.address or "", "    ".join([*numbers, company.email or ""]).strip()):
        if line:
            _write(pdf, line, 8.5, h=4.2)
    pdf.set_text_color(0)
    pdf.ln(1.5)
    pdf.set_draw_color(RULE_GREY)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)


def _title(pdf: _Paper, title: str) -> None:
    _write(pdf, title, 15, "B", align="C", h=8)
    pdf.ln(3)


def _captioned(pdf: _Paper, labels: dict[str, str], pairs: Sequence[tuple[str, str | None]]) -> list[str]:
    return [f"{labels[key]}{pdf.colon}{value}" for key, value in pairs if value]


def _statement_parties(pdf: _Paper, statement: Statement, labels: dict[str, str]) -> None:
    """The customer on the left, the period and issue date on the right, top-aligned."""
    customer, top, left_w = statement.customer, pdf.get_y(), pdf.epw * 0.6
    _write(pdf, f"{labels['customer']}{pdf.colon}{customer.name}", 10.5, "B", h=6, w=left_w)
    for line in _captioned(pdf, labels, [("code", customer.code), ("address", customer.address),
                                         ("contact", customer.contact), ("phone", customer.phone)]):
        _write(pdf, line, 9, h=4.8, w=left_w)
    bottom = pdf.get_y()
    right = _captioned(pdf, labels, [("period", f"{_day(statement.date_from)} – {_day(statement.date_to)}"),
                                     ("issued", _day(statement.issued_on))])
    pdf.set_xy(pdf.l_margin + left_w + 5, top + 0.6)
    for line in right:
        pdf.font(9)
        pdf.multi_cell(0, 4.8, line, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT, wrapmode=pdf.wrap)
    pdf.set_xy(pdf.l_margin, max(bottom, pdf.get_y()) + 4)


def _table(pdf: _Paper, columns: Sequence[tuple[str, float, str]], width: float) -> AbstractContextManager[Table]:
    """A ruled table in TABLE_PT headed by the COLUMNS' captions on grey, repeated on each new page."""
    pdf.font(TABLE_PT)
    pdf.set_draw_color(RULE_GREY)
    return pdf.table(
        [[caption for caption, _, _ in columns]], col_widths=[w for _, w, _ in columns],
        text_align=[a for _, _, a in columns], width=width, align="L", line_height=4.2, padding=(0.9, 1.2),
        headings_style=_HEADINGS, repeat_headings=1, wrapmode=pdf.wrap)


def _columns(spec: Sequence[tuple[str, float, str]], labels: dict[str, str]) -> list[tuple[str, float, str]]:
    return [(labels[key], w, align) for key, w, align in spec]


def _section(pdf: _Paper, statement: Statement, section: StatementSection, labels: dict[str, str]) -> None:
    """One currency: heading, the lines between opening and closing, the aging, the amount in words."""
    _keep_room(pdf, 40)
    _write(pdf, f"{labels['currency']}{pdf.colon}{section.currency}", 10.5, "B", h=6)
    pdf.ln(1)
    _lines_table(pdf, statement, section, labels)
    pdf.ln(3)
    _aging_table(pdf, section, labels)
    if section.closing_in_words is not None:
        _write(pdf, f"{labels['in_words']}{pdf.colon}{section.closing_in_words}", 9.5, "B", h=5)
    pdf.ln(5)


def _lines_table(pdf: _Paper, statement: Statement, section: StatementSection, labels: dict[str, str]) -> None:
    cur, ref_width = section.currency, pdf.epw * _STATEMENT_COLUMNS[3][1] / _STATEMENT_WIDTH - 2.6
    with _table(pdf, _columns(_STATEMENT_COLUMNS, labels), pdf.epw) as table:
        opening = table.row()
        opening.cell(_day(statement.date_from))
        opening.cell(labels["opening"], colspan=6)
        opening.cell(_amount(section.opening, cur))
        for ln in section.lines:
            table.row([_day(ln.on), ln.document, ln.kind, _fit(pdf, ln.reference, ref_width), _day(ln.due_on),
                       _amount_or_blank(ln.debit, cur), _amount_or_blank(ln.credit, cur), _amount(ln.balance, cur)])
        totals = table.row(style=_SUM_ROW)
        totals.cell(labels["totals"], colspan=5)
        for value in (section.debits, section.credits):
            totals.cell(_amount(value, cur))
        totals.cell("")
        closing = table.row(style=_SUM_ROW)
        closing.cell(_day(statement.date_to))
        closing.cell(labels["closing"], colspan=6)
        closing.cell(_amount(section.closing, cur))


def _aging_table(pdf: _Paper, section: StatementSection, labels: dict[str, str]) -> None:
    """The open amount by age bucket as a small one-row table under its caption."""
    if not section.aging:
        return
    _keep_room(pdf, 22)
    _write(pdf, labels["aging"], 8.5, "B", h=5)
    width = min(pdf.epw, 28.0 * len(section.aging))
    columns = [(label, width / len(section.aging), "R") for label, _ in section.aging]
    with _table(pdf, columns, width) as table:
        table.row([_amount(value, section.currency) for _, value in section.aging])
    pdf.ln(2)


def _sign_back(pdf: _Paper, labels: dict[str, str]) -> None:
    """A framed block the customer signs and returns: text, agree / disagree with room, signature, date."""
    inner = pdf.epw - 10
    pdf.font(9)
    text_h = pdf.multi_cell(inner, 4.8, labels["sign_back_text"], dry_run=True, output="HEIGHT",
                            wrapmode=pdf.wrap)
    assert isinstance(text_h, (int, float))   # output="HEIGHT" gives the height alone
    _keep_room(pdf, text_h + 62)
    top = pdf.get_y()
    pdf.set_left_margin(MARGIN + 5)
    pdf.set_xy(MARGIN + 5, top + 4)
    _write(pdf, labels["sign_back"], 10.5, "B", h=6, w=inner)
    _write(pdf, labels["sign_back_text"], 9, h=4.8, w=inner)
    pdf.ln(3)
    _write(pdf, labels["agree"], 9.5, h=6, w=inner)
    _write(pdf, labels["disagree"], 9.5, h=6, w=inner)
    for _ in range(2):
        pdf.ln(7)
        pdf.line(pdf.l_margin + pdf.c_margin, pdf.get_y(), pdf.l_margin + inner, pdf.get_y())
    pdf.ln(12)
    _signature_line(pdf, labels["signature"], pdf.l_margin, inner * 0.62 - 6)
    _signature_line(pdf, labels["sign_date"], pdf.l_margin + inner * 0.62, inner * 0.38)
    pdf.set_left_margin(MARGIN)
    pdf.set_draw_color(RULE_GREY)
    pdf.rect(MARGIN, top, pdf.epw, pdf.get_y() + 8 - top)
    pdf.set_xy(MARGIN, pdf.get_y() + 10)


def _signature_line(pdf: _Paper, caption: str, x: float, width: float) -> None:
    """CAPTION then a line to write on, filling WIDTH mm from X on the current line."""
    pdf.font(9.5)
    text = f"{caption}{pdf.colon}"
    pdf.set_x(x)
    pdf.cell(pdf.get_string_width(text) + 2 * pdf.c_margin, 6, text)
    pdf.set_draw_color(0)
    pdf.line(pdf.get_x(), pdf.get_y() + 5.2, x + width, pdf.get_y() + 5.2)


def _letter_address(pdf: _Paper, customer: Party, labels: dict[str, str]) -> None:
    """The addressee block: name, address, and the contact person when there is one."""
    _write(pdf, customer.name, 10.5, "B", h=5.5)
    if customer.address:
        _write(pdf, customer.address, 9.5, h=5)
    if customer.contact:
        _write(pdf, f"{labels['attention']}{pdf.colon}{customer.contact}", 9.5, h=5)
    pdf.ln(5)


def _letter_items(pdf: _Paper, letter: Letter, labels: dict[str, str]) -> None:
    """The overdue items, then one bold total row per currency."""
    with _table(pdf, _columns(_LETTER_COLUMNS, labels), pdf.epw) as table:
        for item in letter.items:
            table.row([item.document, _day(item.on), _day(item.due_on), str(item.days_overdue), item.currency,
                       _amount(item.open, item.currency)])
        for currency, total in letter.totals:
            row = table.row(style=_SUM_ROW)
            row.cell(labels["total"], colspan=4)
            row.cell(currency)
            row.cell(_amount(total, currency))
    pdf.ln(2)


def _letter_closing(pdf: _Paper, letter: Letter, labels: dict[str, str]) -> None:
    """Amounts in words (zh-CN), the complimentary close and the company; right-aligned in Chinese."""
    for words in letter.totals_in_words:
        _write(pdf, f"{labels['in_words']}{pdf.colon}{words}", 9.5, "B", h=5)
    _keep_room(pdf, 30)
    pdf.ln(6)
    _write(pdf, labels["regards"], 10, h=5.5)
    pdf.ln(8)
    align = "R" if pdf.chinese else "L"
    _write(pdf, letter.company.name, 10.5, "B", align=align, h=5.5)
    if align == "R":
        _write(pdf, _day(letter.issued_on), 10, align="R", h=5.5)
