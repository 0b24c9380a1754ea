"""The template: committed copies match what the code builds; it reads back clean."""

import os
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from tests.render import require_carlito, to_pdf
from xlar.schema.notes import LEGEND, NOTES_ZH, PROMPT_LIMIT, TITLE_LIMIT
from xlar.schema.sheets import CUSTOMERS, INPUT_SHEETS, INVOICES, OUTPUT_SHEETS
from xlar.store.settings import DEFAULTS
from xlar.workbook.reader import read_workbook
from xlar.workbook.template import build_template

WORKBOOKS = Path(__file__).resolve().parents[1] / "workbooks"
REGENERATE = os.environ.get("XLAR_REGENERATE_TEMPLATES") == "1"


def committed(locale):
    return WORKBOOKS / f"AR-template-{locale}.xlsx"


def fingerprint(path):
    """Everything a user sees: cells, formats, tables, lists, hidden columns, names, panes."""
    wb = openpyxl.load_workbook(path)
    result = {"sheets": wb.sheetnames, "names": sorted((n, d.attr_text) for n, d in wb.defined_names.items())}
    for ws in wb.worksheets:
        result[ws.title] = {
            "cells": [[(c.value, c.number_format) for c in row] for row in ws.iter_rows()],
            "tables": sorted((t.displayName, t.ref) for t in ws.tables.values()),
            "validations": sorted((str(v.sqref), v.formula1) for v in ws.data_validations.dataValidation),
            "hidden": sorted(k for k, d in ws.column_dimensions.items() if d.hidden),
            "formats": sorted((k, d.number_format) for k, d in ws.column_dimensions.items()),
            "freeze": ws.freeze_panes, "state": ws.sheet_state,
            "conditional": sorted(str(r.sqref) for r in ws.conditional_formatting),
        }
    return result


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_committed_template_is_what_the_code_builds(tmp_path, locale):
    fresh = build_template(tmp_path / "t.xlsx", locale, {**DEFAULTS, "locale": locale})
    if REGENERATE:
        shutil.copyfile(fresh, committed(locale))
    assert fingerprint(fresh) == fingerprint(committed(locale)), \
        "templates changed: run XLAR_REGENERATE_TEMPLATES=1 pytest tests/test_template.py and commit"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_template_reads_back_clean_with_every_sheet(locale):
    path = committed(locale)
    data = read_workbook(path)
    assert data.issues == []
    assert sorted(data.sheets) == sorted(s.name for s in INPUT_SHEETS)
    assert {r.values["key"]: r.values["value"] for r in data.sheets["Settings"].rows}["locale"] == locale
    wb = openpyxl.load_workbook(path)
    for name, zh in OUTPUT_SHEETS.items():   # the first sync adds them: no empty page promising them
        assert (zh if locale == "zh-CN" else name) not in wb.sheetnames
    invoices = wb[INVOICES.title(locale)]
    assert invoices.freeze_panes == "A3"                   # the legend, then the headers
    assert invoices["A1"].value == LEGEND[locale]
    assert invoices.tables[INVOICES.table].ref.startswith("A2:")
    assert [c.value for c in invoices[2]][:3] == [c.label(locale) for c in INVOICES.columns[:3]]
    hidden = [k for k, d in invoices.column_dimensions.items() if d.hidden]
    assert [invoices[f"{k}2"].value for k in hidden] == ["_id", "_rev"]
    lists = {v.formula1 for v in invoices.data_validations.dataValidation if v.formula1}   # not the prompts alone
    assert "=xlar_customers" in lists and "=xlar_currencies" in lists
    assert any("已审核" in f or "posted" in f for f in lists)
    assert len(invoices.conditional_formatting) == 2       # overdue rows; amounts computed from lines


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_libreoffice_opens_the_template_and_prints_it_on_18_pages(tmp_path, locale):
    """A page per visible sheet, two for each sheet printed at 73 % side by side (Customers,
    Invoices): 18, from 31. Laid out with Carlito, Calibri's metric twin, as Excel lays it out."""
    import subprocess

    pdf = to_pdf(committed(locale), tmp_path)
    require_carlito()
    wb = openpyxl.load_workbook(committed(locale))
    shown = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
    wide = [ws.title for ws in shown if not ws.sheet_properties.pageSetUpPr.fitToPage]
    assert sorted(wide) == sorted([CUSTOMERS.title(locale), INVOICES.title(locale)])
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages == len(shown) + len(wide) == 18


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_sheet_prints_on_a4_with_text_of_8_pt_or_more(locale):
    """Portrait for narrow sheets, landscape one page wide where that stays readable, else 73 %
    over pages side by side with the first column repeated; the header row on every page."""
    from xlar.workbook.printing import LANDSCAPE_WIDTH, PORTRAIT_WIDTH
    from xlar.workbook.template import shown_width

    wb = openpyxl.load_workbook(committed(locale))
    orientations = {}
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        setup, width = ws.page_setup, shown_width(ws)
        assert str(setup.paperSize) == ws.PAPERSIZE_A4, ws.title
        if ws.sheet_properties.pageSetUpPr.fitToPage:
            page = PORTRAIT_WIDTH if setup.orientation == "portrait" else LANDSCAPE_WIDTH
            scale = min(1.0, page / width)
        else:
            scale = int(setup.scale) / 100
            assert ws.print_title_cols == "$A:$A", ws.title
        assert scale * 11 >= 8, (ws.title, width, scale)
        if ws.title != wb.worksheets[0].title:
            assert ws.print_title_rows == "$2:$2", ws.title
        orientations[ws.title] = setup.orientation
    settings = "设置" if locale == "zh-CN" else "Settings"
    customers = "客户" if locale == "zh-CN" else "Customers"
    assert orientations[settings] == "portrait" and orientations[customers] == "landscape"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_column_explains_itself(locale):
    """Each input column has an input message over all its rows (however long the Table grows)
    and the same text as its header's comment, in the workbook's language; computed columns have
    grey headers, required ones yellow text, as the legend on row 1 says."""
    wb = openpyxl.load_workbook(committed(locale))
    for schema in INPUT_SHEETS:
        ws = wb[schema.title(locale)]
        prompts = {str(v.sqref).split(":")[0]: v for v in ws.data_validations.dataValidation}
        for i, col in enumerate(schema.columns, start=1):
            letter = openpyxl.utils.get_column_letter(i)
            rule = prompts[f"{letter}3"]
            covering = [v for v in ws.data_validations.dataValidation
                        if all(r.min_col == r.max_col == i for r in v.sqref.ranges)]
            cells = sum(r.max_row - r.min_row + 1 for v in covering for r in v.sqref.ranges)
            assert cells == 1048576 - 2, (ws.title, col.key)          # every row below the headers, once
            assert all(v.showInputMessage and v.promptTitle == rule.promptTitle for v in covering), (ws.title, col.key)
            assert len(rule.promptTitle) <= TITLE_LIMIT and len(rule.prompt) <= PROMPT_LIMIT
            header = ws.cell(2, i)
            assert header.comment is not None and rule.prompt in header.comment.text
            if col.note:
                assert (NOTES_ZH[col.note] if locale == "zh-CN" else col.note) in rule.prompt
            if locale == "zh-CN":   # no English word outside setting keys and placeholders
                assert not re.search(r"\b(?!DRAFT|ISO|YYYY|MM|yyyy|mm|dd|xlar|tax_rate|write_off_reasons)"
                                     r"[A-Za-z]{3,}\b", re.sub(r"\{\w+\}", "", rule.prompt)), rule.prompt
            grey = header.fill.fgColor.rgb.endswith("808080")
            assert grey == col.computed, (ws.title, col.key)
            assert header.font.color.rgb.endswith("FFD966") == col.required, (ws.title, col.key)


def test_every_note_has_its_chinese():
    notes = {c.note for s in INPUT_SHEETS for c in s.columns if c.note}
    assert notes - NOTES_ZH.keys() == set()


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_setting_with_allowed_values_has_them_as_a_list(locale):
    from xlar.schema.sheets import setting_value
    from xlar.store.settings import CHOICES

    ws = openpyxl.load_workbook(committed(locale))["设置" if locale == "zh-CN" else "Settings"]
    keys = list(DEFAULTS)
    lists = {str(v.sqref): v.formula1 for v in ws.data_validations.dataValidation if v.type == "list"}
    assert lists == {f"B{3 + keys.index(k)}": '"' + ",".join(setting_value(k, c, locale) for c in v) + '"'
                     for k, v in CHOICES.items()}
    approvers = next(v for v in ws.data_validations.dataValidation if str(v.sqref) == f"B{3 + keys.index('approvers')}")
    assert ("一人记账" if locale == "zh-CN" else "one person") in approvers.prompt    # a one-person book, said
