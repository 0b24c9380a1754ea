"""The template workbook an accountant can use without docs (xlar template).

Every input sheet is an Excel Table with one header row in the chosen language, a frozen
header, number and date formats, drop-down lists, hidden _id/_rev columns; overdue
invoices are highlighted; output sheets follow. Built with openpyxl from the schema.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from xlar.domain.money import CURRENCY_EXPONENTS
from xlar.schema.columns import HIDDEN, Column, Kind, SheetSchema
from xlar.schema.hashing import template_rev
from xlar.schema.notes import LEGEND, prompt
from xlar.schema.sheets import (
    CHOICE_ZH,
    INPUT_SHEETS,
    INVOICE_LINES,
    INVOICES,
    SETTINGS,
    setting_value,
)
from xlar.store.settings import CHOICES as SETTING_CHOICES
from xlar.workbook.package import column_letters
from xlar.workbook.printing import set_page
from xlar.workbook.styles import save_book

LOCALES = ("zh-CN", "en")
FORMATS = {
    Kind.MONEY: "#,##0.00;[Red]-#,##0.00", Kind.DECIMAL: "#,##0.######", Kind.RATE: "0.000000",
    Kind.PERCENT: "0.00%", Kind.DATE: "yyyy-mm-dd", Kind.INT: "0", Kind.CODE: "@", Kind.TEXT: "@",
    Kind.PERIOD: "@", Kind.CHOICE: "@",
}
LOOKUP_NAMES = {"customers": "xlar_customers", "currencies": "xlar_currencies", "terms": "xlar_terms",
                "installments": "xlar_installments"}
LIST_LIMIT = 255                    # Excel's longest list typed into a validation
LINES_NAME = "xlar_invoice_lines"   # InvoiceLines' Invoice no. column: which invoices have lines
# Validations, highlights and lists cover every row a sheet can have, however long the Table grows.
LIST_ROWS = 1_048_576
HEADER_ROW = 2      # row 1 holds the legend of the header colours
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
COMPUTED_FILL = PatternFill("solid", fgColor="808080")
COMPUTED_FONT = Font(color="595959", italic=True)
OVERDUE_FILL = PatternFill("solid", fgColor="F8CBAD")
FIXED_TIME = datetime(2026, 1, 1)
ABOUT = {
    "en": ("About", [
        "xlar accounts receivable workbook",
        "1. Type customers, payment terms, invoices (with their lines) and receipts in their sheets.",
        ("2. Run `xlar sync THIS_FILE` (or the AR ribbon's Sync): new rows go to the book of record, "
         "colleagues' work comes back."),
        "3. Set Status to 'posted' to post a document; xlar gives it its final number.",
        "4. Balances and Aging are rewritten on every sync; Errors lists every cell that could not be taken.",
        "Hidden columns _id and _rev link each row to the store: do not edit them.",
    ]),
    "zh-CN": ("说明", [
        "xlar 应收账款工作簿",
        "1. 在各工作表中录入客户、付款条件、发票（及明细）和收款单。",
        "2. 运行 `xlar sync 本文件`（或功能区“同步”）：新行写入账簿，同事的数据同步回来。",
        "3. 将“状态”设为“已审核”即过账；xlar 给出正式单号。",
        "4. 每次同步重写“余额”“账龄”；“错误”列出所有未被接受的单元格及原因。",
        "隐藏列 _id 和 _rev 用于与账簿对应，请勿修改。",
    ]),
}


def _choice_label(code: str, locale: str) -> str:
    return CHOICE_ZH.get(code, code) if locale == "zh-CN" else code


def _validation(col: Column, locale: str) -> DataValidation:
    """The column's validation: a list for choices and lookups, and always its input message."""
    title, text = prompt(col, locale)
    shown = {"showInputMessage": True, "promptTitle": title, "prompt": text}
    values = ",".join(_choice_label(c, locale) for c in col.choices)
    if col.choices and len(values) <= LIST_LIMIT:
        return DataValidation(type="list", formula1=f'"{values}"', allow_blank=True, showErrorMessage=True,
                              errorTitle="xlar", error=values, **shown)
    if col.lookup:
        return DataValidation(type="list", formula1=f"={LOOKUP_NAMES[col.lookup]}", allow_blank=True,
                              showErrorMessage=False, **shown)
    return DataValidation(allow_blank=True, **shown)


def _input_sheet(wb: Workbook, sheet: SheetSchema, locale: str) -> Worksheet:
    ws = wb.create_sheet(sheet.title(locale))
    headers = [c.label(locale) for c in sheet.columns] + list(HIDDEN)
    ws.append([LEGEND[locale]])
    ws["A1"].font = Font(italic=True, color="595959")
    ws.append(headers)
    ws.append([None] * len(headers))
    first = HEADER_ROW + 1
    for i, col in enumerate(sheet.columns):
        letter = column_letters(i)
        ws.column_dimensions[letter].width = col.width
        ws.column_dimensions[letter].number_format = FORMATS[col.kind]
        cell = ws.cell(first, i + 1)
        cell.number_format = FORMATS[col.kind]
        if col.computed:
            cell.font = COMPUTED_FONT
        rule = _validation(col, locale)
        rule.add(f"{letter}{first}:{letter}{LIST_ROWS}")
        ws.add_data_validation(rule)
        header = ws.cell(HEADER_ROW, i + 1)
        header.font = Font(bold=True, color="FFD966" if col.required else "FFFFFF")
        header.fill = COMPUTED_FILL if col.computed else HEADER_FILL
        header.alignment = Alignment(vertical="center", wrap_text=True)
        title, text = prompt(col, locale)
        header.comment = Comment(f"{title}\n{text}", "xlar", width=240, height=110)
    for j in range(len(HIDDEN)):
        ws.column_dimensions[column_letters(len(sheet.columns) + j)].hidden = True
    ref = f"A{HEADER_ROW}:{column_letters(len(headers) - 1)}{first}"
    table = Table(displayName=sheet.table, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = f"A{first}"
    print_setup(ws, HEADER_ROW)
    return ws


def shown_width(ws: Worksheet) -> float:
    """The sheet's width in column-width units, hidden columns left out."""
    total = 0.0
    for c in range(1, ws.max_column + 1):
        d = ws.column_dimensions.get(get_column_letter(c))
        if d is not None and d.hidden:
            continue
        total += d.width if d is not None and d.width else 8.43
    return total


def print_setup(ws: Worksheet, title_row: int | None = None) -> None:
    """A4, the header row on every page, text never below 8 pt (workbook.printing)."""
    set_page(ws, shown_width(ws), title_row)


def _highlight_overdue(ws: Worksheet, locale: str) -> None:
    """Rows still owed past their due date: an open amount (the sync's computed Open column, so a
    paid invoice, a credit note, a draft or a void is never marked) and a due date before today.
    The amounts of an invoice with lines are computed from them: grey, as computed columns are."""
    keys = [c.key for c in INVOICES.columns]
    first = HEADER_ROW + 1
    due, still, number = (column_letters(keys.index(k)) for k in ("due_date", "open", "number"))
    formula = f'AND(N(${still}{first})>0,${due}{first}<>"",${due}{first}<TODAY())'
    last = column_letters(len(INVOICES.columns) - 1)
    ws.conditional_formatting.add(f"A{first}:{last}{LIST_ROWS}", FormulaRule(formula=[formula], fill=OVERDUE_FILL))
    amounts = [column_letters(keys.index(k)) for k in ("net", "tax", "total")]
    ws.conditional_formatting.add(
        f"{amounts[0]}{first}:{amounts[-1]}{LIST_ROWS}",
        FormulaRule(formula=[f'AND(${number}{first}<>"",COUNTIF({LINES_NAME},${number}{first})>0)'],
                    font=COMPUTED_FONT))


# What the Value cell of a setting says when selected, beyond its drop-down.
SETTING_NOTES = {
    "approvers": {
        "en": "blank: a book kept by one person, confirmed receipts clear invoices; naming the first approver "
              "switches the approval step on (receipts then clear once another approver approves them)",
        "zh-CN": "留空：一人记账，确认的收款即冲账；填写第一位核准人即启用核准步骤（之后收款须由另一位核准人核准后冲账）"},
    "receipt_clearing": {
        "en": "which receipts clear invoices; while the book names no users at all, confirmed ones do",
        "zh-CN": "哪些收款可以冲账；账套未设任何用户时，确认的收款即冲账"},
}


def _setting_lists(ws: Worksheet, keys: list[str], locale: str) -> None:
    """A drop-down of its allowed values on each setting that has them (the sync writes the
    settings back in this order); the rest of the Value column keeps its input message alone."""
    title, text = prompt(SETTINGS.by_key["value"], locale)
    rows = {HEADER_ROW + 1 + n: key for n, key in enumerate(keys) if key in SETTING_CHOICES or key in SETTING_NOTES}
    for row, key in rows.items():
        said = SETTING_NOTES.get(key, {}).get(locale, text)
        if key in SETTING_CHOICES:
            allowed = ",".join(setting_value(key, code, locale) for code in SETTING_CHOICES[key])
            rule = DataValidation(type="list", formula1=f'"{allowed}"', allow_blank=True, showErrorMessage=True,
                                  errorTitle="xlar", error=allowed, showInputMessage=True, promptTitle=title,
                                  prompt=said)
        else:
            rule = DataValidation(allow_blank=True, showInputMessage=True, promptTitle=title, prompt=said)
        rule.add(f"B{row}")
        ws.add_data_validation(rule)
    column = next(v for v in ws.data_validations.dataValidation if str(v.sqref).startswith(f"B{HEADER_ROW + 1}:"))
    edges = [HEADER_ROW, *sorted(rows), LIST_ROWS + 1]
    column.sqref = MultiCellRange(" ".join(f"B{a + 1}:B{b - 1}" for a, b in pairwise(edges) if b - a > 1))


def _lists(wb: Workbook, locale: str) -> None:
    ws = wb.create_sheet("Lists" if locale == "en" else "列表")
    ws.append(["Currency" if locale == "en" else "币种"])
    for code in sorted(CURRENCY_EXPONENTS):
        ws.append([code])
    ws.sheet_state = "hidden"
    wb.defined_names["xlar_currencies"] = DefinedName(
        "xlar_currencies", attr_text=f"'{ws.title}'!$A$2:$A${len(CURRENCY_EXPONENTS) + 1}")
    for lookup, sheet_name in (("customers", "Customers"), ("terms", "PaymentTerms"),
                               ("installments", "InstallmentTerms")):
        sheet = next(s for s in INPUT_SHEETS if s.name == sheet_name)
        wb.defined_names[LOOKUP_NAMES[lookup]] = DefinedName(
            LOOKUP_NAMES[lookup], attr_text=f"'{sheet.title(locale)}'!$A${HEADER_ROW + 1}:$A${LIST_ROWS}")
    wb.defined_names[LINES_NAME] = DefinedName(
        LINES_NAME, attr_text=f"'{INVOICE_LINES.title(locale)}'!$A${HEADER_ROW + 1}:$A${LIST_ROWS}")


def build_template(path: Path, locale: str = "zh-CN", settings: dict[str, str] | None = None) -> Path:
    """Write the template for LOCALE to PATH (its Settings sheet holds SETTINGS, if given)."""
    if locale not in LOCALES:
        raise ValueError(f"locale must be one of {', '.join(LOCALES)}")
    wb = Workbook()
    about = wb.active
    title, lines = ABOUT[locale]
    about.title = title
    for line in lines:
        about.append([line])
    about["A1"].font = Font(bold=True, size=14)
    about.column_dimensions["A"].width = 110
    print_setup(about)
    for sheet in INPUT_SHEETS:
        ws = _input_sheet(wb, sheet, locale)
        if sheet is INVOICES:
            _highlight_overdue(ws, locale)
        if sheet is SETTINGS and settings:
            ws.delete_rows(HEADER_ROW + 1)
            for key, value in settings.items():   # marked as the template's own (not the user's) values
                shown = setting_value(key, value, locale)
                ws.append([_choice_label(key, locale), shown, None, template_rev(SETTINGS, {"key": key, "value": shown})])
            _setting_lists(ws, list(settings), locale)
            ws.tables[SETTINGS.table].ref = (f"A{HEADER_ROW}:{column_letters(len(SETTINGS.columns) + len(HIDDEN) - 1)}"
                                             f"{len(settings) + HEADER_ROW}")
    _lists(wb, locale)   # the output sheets come with the first sync: no empty page that promises them
    wb.properties.creator = "xlar"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    path.parent.mkdir(parents=True, exist_ok=True)
    save_book(wb.save, path)
    return path
