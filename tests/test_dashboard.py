"""The dashboard workbook: sheets, KPI strip, four native charts over the data sheet's tables."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zipfile import ZipFile

import pytest
from openpyxl import load_workbook

from xlar.reports.dashboard import DashboardData, Kpi, build_dashboard

D = Decimal
AS_OF = date(2024, 6, 30)

TITLES = {
    "zh-CN": {"sheet": "仪表板", "data_sheet": "仪表板数据", "title": "应收账款仪表板",
              "aging": "账龄分布", "dso": "应收账款周转天数 (DSO)", "forecast": "未来13周回款预测",
              "top": "逾期金额前十客户", "amount": "金额", "days": "天数", "week": "周",
              "customer": "客户", "bucket": "账龄段", "period": "期间", "as_of": "截至"},
    "en": {"sheet": "Dashboard", "data_sheet": "Dashboard data", "title": "Receivables dashboard",
           "aging": "Aging", "dso": "Days sales outstanding",
           "forecast": "Expected receipts, 13 weeks",
           "top": "Top 10 overdue customers", "amount": "Amount", "days": "Days", "week": "Week",
           "customer": "Customer", "bucket": "Bucket", "period": "Period", "as_of": "As of"},
}
BUCKETS = {
    "zh-CN": ("未到期", "1-30天", "31-60天", "61-90天", "90天以上", "未核销"),
    "en": ("Current", "1-30", "31-60", "61-90", "90+", "Unapplied"),
}
KPI_LABELS = {
    "zh-CN": ("应收总额", "逾期金额", "逾期占比", "DSO (天)", "坏账准备", "未来30天预计回款"),
    "en": ("Total receivable", "Overdue", "Overdue %", "DSO (days)", "Allowance",
           "Expected next 30 days"),
}
AGING = (D("120000.00"), D("45000.00"), D("20000.00"), D("8000.00"), D("3000.00"), D("-5000.00"))
DSO = (D("38.5"), D("40.2"), D("41.0"), D("43.7"), D("45.1"), D("44.0"), D("46.8"), D("48.3"),
       D("47.5"), D("49.9"), D("51.2"), D("52.0"))
FORECAST = tuple(D(x) for x in ("42000.00", "18500.00", "60000.00", "35250.50", "12000.00",
                                 "27800.00", "51000.00", "10000.00", "22400.00", "39990.00",
                                 "15000.00", "31000.00", "44500.00"))
CUSTOMERS = {
    "zh-CN": ("C001 上海华东贸易有限公司", "C007 北京恒信科技", "C003 深圳前海供应链",
              "C012 杭州西湖电子", "C005 广州南方建材", "C009 成都天府食品", "C002 南京金陵物流",
              "C015 武汉长江机械", "C004 苏州工业园服务", "C011 天津滨海化工"),
    "en": ("C001 Acme Trading Ltd", "C007 Northwind Foods", "C003 Harbour Logistics",
           "C012 Blue River Electronics", "C005 Summit Building Supplies", "C009 Orchard Retail",
           "C002 Redwood Freight", "C015 Ironworks Machinery", "C004 Lakeside Services",
           "C011 Coastal Chemicals"),
}
OVERDUE = (D("21000.00"), D("12500.00"), D("9800.00"), D("7600.00"), D("6100.00"), D("4200.00"),
           D("3900.00"), D("2500.00"), D("1800.00"), D("600.00"))


def kpis(locale: str) -> tuple[Kpi, ...]:
    total, overdue, pct, dso, allowance, next30 = KPI_LABELS[locale]
    return (Kpi(total, D("191000.00"), "#,##0.00"), Kpi(overdue, D("76000.00"), "#,##0.00"),
            Kpi(pct, D("0.398"), "0.0%"), Kpi(dso, D("52.0"), "0.0"),
            Kpi(allowance, D("4350.00"), "#,##0.00"), Kpi(next30, D("155750.50"), "#,##0.00"))


def dashboard(locale: str) -> DashboardData:
    monday = date(2024, 7, 1)
    return DashboardData(
        locale=locale,
        company="上海示例贸易有限公司" if locale == "zh-CN" else "Example Trading Ltd",
        as_of=AS_OF, base_currency="CNY", kpis=kpis(locale),
        aging=tuple(zip(BUCKETS[locale], AGING)),
        dso_trend=tuple((f"2023-{m:02d}" if m > 6 else f"2024-{m:02d}", d)
                        for m, d in zip([7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6], DSO)),
        forecast=tuple((monday + timedelta(weeks=i), amount) for i, amount in enumerate(FORECAST)),
        top_overdue=tuple(zip(CUSTOMERS[locale], OVERDUE)),
        titles=TITLES[locale])


def empty(locale: str) -> DashboardData:
    return DashboardData(locale=locale, company="Example Trading Ltd", as_of=AS_OF,
                         base_currency="CNY", kpis=(), aging=(), dso_trend=(), forecast=(),
                         top_overdue=(), titles=TITLES[locale])


def table(ws, first_col: int) -> list[tuple[object, object]]:
    rows = ws.iter_rows(min_row=2, min_col=first_col, max_col=first_col + 1, values_only=True)
    return [(key, value) for key, value in rows if key is not None]


def amounts(pairs) -> list[tuple[object, Decimal]]:
    """Figures read back as int/float turned into Decimal the house way, for exact comparison."""
    return [(key, Decimal(repr(value))) for key, value in pairs]


def chart_parts(path: Path) -> dict[str, str]:
    with ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist()
                if re.fullmatch(r"xl/charts/chart\d+\.xml", n)}


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_sheets_kpis_and_page_setup(tmp_path: Path, locale: str) -> None:
    data = dashboard(locale)
    path = build_dashboard(data, tmp_path / "dash.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == [TITLES[locale]["sheet"], TITLES[locale]["data_sheet"]]
    board = wb[TITLES[locale]["sheet"]]
    assert wb.active.title == board.title
    assert board["A1"].value == f"{data.company}  {TITLES[locale]['title']}"
    assert board["L1"].value == TITLES[locale]["as_of"]
    assert board["M1"].value == datetime(2024, 6, 30)
    labels = [board[f"{col}3"].value for col in "ACEHJL"]  # G is the spacer between the halves
    values = [board[f"{col}4"] for col in "ACEHJL"]
    total, overdue, pct, dso, allowance, next30 = KPI_LABELS[locale]
    assert labels == [f"{total} (CNY)", f"{overdue} (CNY)", pct, dso, f"{allowance} (CNY)",
                      f"{next30} (CNY)"]
    assert [Decimal(repr(c.value)) for c in values] == [k.value for k in data.kpis]
    assert [c.number_format for c in values] == [k.number_format for k in data.kpis]
    assert all(c.font.b for c in values)
    assert board.page_setup.orientation == "landscape"
    assert board.page_setup.fitToWidth == 1 and board.page_setup.fitToHeight == 1
    assert board.sheet_properties.pageSetUpPr.fitToPage
    assert board.print_area == f"'{board.title}'!$A$1:$M$34"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_data_sheet_tables_equal_the_input(tmp_path: Path, locale: str) -> None:
    data = dashboard(locale)
    wb = load_workbook(build_dashboard(data, tmp_path / "dash.xlsx"))
    sheet = wb[TITLES[locale]["data_sheet"]]
    t = TITLES[locale]
    assert [c.value for c in sheet[1]] == [t["bucket"], f"{t['amount']} (CNY)", None,
                                           t["period"], t["days"], None,
                                           t["week"], f"{t['amount']} (CNY)", None,
                                           t["customer"], f"{t['amount']} (CNY)"]
    assert amounts(table(sheet, 1)) == list(data.aging)
    assert amounts(table(sheet, 4)) == list(data.dso_trend)
    assert [(k.date(), v) for k, v in amounts(table(sheet, 7))] == list(data.forecast)
    assert amounts(table(sheet, 10)) == list(data.top_overdue)
    assert sheet["B2"].number_format == "#,##0.00" and sheet["G2"].number_format == "yyyy-mm-dd"
    assert sheet["H2"].number_format == "#,##0.00" and sheet["K11"].number_format == "#,##0.00"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_four_native_charts_reference_the_data_sheet(tmp_path: Path, locale: str) -> None:
    path = build_dashboard(dashboard(locale), tmp_path / "dash.xlsx")
    charts = chart_parts(path)
    assert len(charts) == 4
    quoted = f"'{TITLES[locale]['data_sheet']}'!"
    assert all(quoted in xml for xml in charts.values())
    joined = "".join(charts.values())
    refs = set(re.findall(r"<f>('[^']+'![$A-Z0-9:]+)</f>", joined))
    assert refs == {quoted + r for r in ("$A$2:$A$7", "$B$2:$B$7", "$D$2:$D$13", "$E$2:$E$13",
                                         "$G$2:$G$14", "$H$2:$H$14", "$J$2:$J$11", "$K$2:$K$11",
                                         "B1", "E1", "H1", "K1")}  # series named by headers
    assert re.search(r"<strRef><f>[^<]+\$A\$2:\$A\$7</f>", joined)  # bucket names are text
    assert "<barChart>" in joined and "<lineChart>" in joined
    assert re.search(r'<barDir val="bar"\s*/>', joined) and re.search(r'<orientation val="maxMin"\s*/>', joined)
    assert 'formatCode="mm-dd"' in joined


def test_charts_fill_the_grid_two_by_two_without_overlap(tmp_path: Path) -> None:
    """Each chart spans six columns by 14 rows (~16.3 x 7.4 cm in Excel); G and row 20 part them."""
    path = build_dashboard(dashboard("en"), tmp_path / "dash.xlsx")
    with ZipFile(path) as z:
        drawing = z.read("xl/drawings/drawing1.xml").decode("utf-8")
    corner = r"<col>(\d+)</col><colOff>0</colOff><row>(\d+)</row><rowOff>0</rowOff>"
    anchors = re.findall(
        rf"<twoCellAnchor editAs=\"oneCell\"><from>{corner}</from><to>{corner}</to>", drawing)
    assert [tuple(int(n) for n in a) for a in anchors] == [
        (0, 5, 6, 19), (7, 5, 13, 19), (0, 20, 6, 34), (7, 20, 13, 34)]
    board = load_workbook(path)["Dashboard"]
    assert [board.column_dimensions[c].width for c in "ABFGHM"] == [14, 14, 14, 2, 14, 14]
    assert {board.row_dimensions[r].height for r in range(6, 35)} == {15}


def test_same_input_gives_the_same_bytes(tmp_path: Path) -> None:
    first = build_dashboard(dashboard("zh-CN"), tmp_path / "a.xlsx").read_bytes()
    second = build_dashboard(dashboard("zh-CN"), tmp_path / "b.xlsx").read_bytes()
    assert first == second
    wb = load_workbook(tmp_path / "a.xlsx")
    assert wb.properties.created == wb.properties.modified == datetime(2024, 6, 30)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_empty_data_gives_notes_instead_of_charts(tmp_path: Path, locale: str) -> None:
    path = build_dashboard(empty(locale), tmp_path / "empty.xlsx")
    assert chart_parts(path) == {}
    wb = load_workbook(path)
    board, sheet = wb[TITLES[locale]["sheet"]], wb[TITLES[locale]["data_sheet"]]
    nothing = "无数据" if locale == "zh-CN" else "nothing to show"
    t = TITLES[locale]
    assert [board["A3"].value, board["H3"].value, board["A18"].value, board["H18"].value] == [
        f"{t['aging']}: {nothing}", f"{t['dso']}: {nothing}",
        f"{t['forecast']}: {nothing}", f"{t['top']}: {nothing}"]
    assert sheet.max_row == 1 and sheet["A1"].value == t["bucket"]


def test_one_empty_table_drops_only_its_chart(tmp_path: Path) -> None:
    path = build_dashboard(replace(dashboard("en"), forecast=()), tmp_path / "partial.xlsx")
    assert len(chart_parts(path)) == 3
    note = load_workbook(path)["Dashboard"]["A21"].value
    assert note == "Expected receipts, 13 weeks: nothing to show"


def test_missing_titles_are_refused(tmp_path: Path) -> None:
    data = dashboard("en")
    titles = {k: v for k, v in data.titles.items() if k != "week"}
    with pytest.raises(ValueError, match="week"):
        build_dashboard(replace(data, titles=titles), tmp_path / "bad.xlsx")
