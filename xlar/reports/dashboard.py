"""The receivables dashboard: a KPI strip and four native Excel charts over a data sheet.

The caller computes every figure and label (in the workbook's language); this module only
lays them out, so the same dashboard can be rebuilt from any source and tested from literals.
The charts reference cells on the data sheet, so an accountant can see and reuse the figures.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart._chart import ChartBase
from openpyxl.chart.axis import ChartLines
from openpyxl.chart.data_source import AxDataSource, NumRef, StrRef
from openpyxl.chart.marker import DataPoint, Marker
from openpyxl.chart.series import Series
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.chart.text import RichText
from openpyxl.chart.title import Title, title_maker
from openpyxl.drawing.line import LineProperties
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, TwoCellAnchor
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RichTextProperties,
)
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from xlar.reports.labels import neutral
from xlar.workbook.styles import normalized_package


@dataclass(frozen=True, slots=True)
class Kpi:
    label: str          # already in the workbook's language
    value: Decimal | int | str
    number_format: str  # e.g. "#,##0.00" or "0.0" or "@"


@dataclass(frozen=True, slots=True)
class DashboardData:
    locale: str                                   # "zh-CN" | "en"
    company: str
    as_of: date
    base_currency: str
    kpis: tuple[Kpi, ...]
    aging: tuple[tuple[str, Decimal], ...]         # (bucket label, base amount), youngest first
    dso_trend: tuple[tuple[str, Decimal], ...]     # (period 'YYYY-MM', DSO days), oldest first
    forecast: tuple[tuple[date, Decimal], ...]     # (week starting Monday, expected receipts)
    top_overdue: tuple[tuple[str, Decimal], ...]   # (customer 'C001 Name', overdue), largest first
    titles: dict[str, str]                         # see TITLE_KEYS


TITLE_KEYS = ("sheet", "data_sheet", "title", "aging", "dso", "forecast", "top", "amount", "days",
              "week", "customer", "bucket", "period", "as_of")
NOTHING_TO_SHOW = {"zh-CN": "无数据", "en": "nothing to show"}

AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DAYS_FORMAT = "0.0"
FONT = "Calibri"                 # named on every cell font: a font without a name renders as serif
KPIS_PER_ROW = 6                 # three KPIs (two columns each) over each half of the grid
HALF = 6                         # columns per half; column G between the halves is a spacer
LAST_COL = 2 * HALF + 1
COLUMN_WIDTH = 14                # 6 x 103 px ~ 16.3 cm in Excel (Calibri 11)
SPACER_WIDTH = 2
CHART_ROWS = 14                  # 14 rows of 15 pt ~ 7.4 cm; one blank row between chart rows
ACCENT, NEGATIVE, GRID, LABEL_FILL = "2F5597", "C00000", "D9D9D9", "F2F2F2"


@dataclass(frozen=True, slots=True)
class _Table:
    """Where one data table sits on the data sheet: header in row 1, figures below."""
    first_col: int
    rows: int

    def categories(self, ws: Worksheet, text: bool) -> AxDataSource:
        """Buckets, periods and customers are text (a strRef; openpyxl would say numRef)."""
        ref = str(Reference(ws, min_col=self.first_col, min_row=2, max_row=1 + self.rows))
        return AxDataSource(strRef=StrRef(f=ref)) if text else AxDataSource(numRef=NumRef(f=ref))

    def values(self, ws: Worksheet) -> Reference:
        """The value column with its header, so the series is named from the sheet."""
        return Reference(ws, min_col=self.first_col + 1, min_row=1, max_row=1 + self.rows)


def build_dashboard(data: DashboardData, path: Path) -> Path:
    """Write DATA as a new dashboard workbook at PATH; the same data gives the same bytes."""
    missing = [key for key in TITLE_KEYS if key not in data.titles]
    if missing:
        raise ValueError(f"dashboard titles missing: {', '.join(missing)}")
    wb = Workbook()
    board = wb.worksheets[0]
    board.title = data.titles["sheet"]
    sheet = wb.create_sheet(data.titles["data_sheet"])
    tables = _write_tables(sheet, data)
    _write_heading(board, data)
    last_row = _place_charts(board, sheet, data, tables, _write_kpis(board, data))
    _print_layout(board, sheet, last_row)
    wb.active = 0
    _save(wb, path, datetime.combine(data.as_of, time()))
    return path


def _amount_header(data: DashboardData) -> str:
    return f"{data.titles['amount']} ({data.base_currency})"


def _write_tables(ws: Worksheet, data: DashboardData) -> dict[str, _Table]:
    """The four tables side by side (A:B, D:E, G:H, J:K), each with its own header row."""
    amount, t = _amount_header(data), data.titles
    specs: list[tuple[str, str, str, Sequence[tuple[object, Decimal]], str, str, int]] = [
        ("aging", t["bucket"], amount, data.aging, "@", AMOUNT_FORMAT, 16),
        ("dso", t["period"], t["days"], data.dso_trend, "@", DAYS_FORMAT, 12),
        ("forecast", t["week"], amount, data.forecast, DATE_FORMAT, AMOUNT_FORMAT, 12),
        ("top", t["customer"], amount, data.top_overdue, "@", AMOUNT_FORMAT, 34),
    ]
    tables = {}
    for i, (key, head, value_head, rows, key_format, value_format, width) in enumerate(specs):
        col = 1 + 3 * i
        ws.cell(row=1, column=col, value=head).font = _font(bold=True)
        ws.cell(row=1, column=col + 1, value=value_head).font = _font(bold=True)
        for r, (label, figure) in enumerate(rows, start=2):
            ws.cell(row=r, column=col, value=neutral(label)).number_format = key_format
            ws.cell(row=r, column=col + 1, value=figure).number_format = value_format
        ws.column_dimensions[get_column_letter(col)].width = width
        ws.column_dimensions[get_column_letter(col + 1)].width = 18
        ws.column_dimensions[get_column_letter(col + 2)].width = 3
        tables[key] = _Table(first_col=col, rows=len(rows))
    ws.freeze_panes = "A2"
    return tables


def _font(size: float = 11, bold: bool = False, italic: bool = False,
          color: str | None = None) -> Font:
    return Font(name=FONT, size=size, bold=bold, italic=italic, color=color)


def _half_start(half: int) -> int:
    """First column of the left (0) or right (1) half of the dashboard grid."""
    return 1 + (HALF + 1) * half


def _write_heading(ws: Worksheet, data: DashboardData) -> None:
    """Row 1: company and title on the left, the as-of date (a real date cell) on the right."""
    for col in range(1, LAST_COL + 1):
        ws.column_dimensions[get_column_letter(col)].width = COLUMN_WIDTH
    ws.column_dimensions[get_column_letter(HALF + 1)].width = SPACER_WIDTH
    ws.row_dimensions[1].height = 26
    title = ws.cell(row=1, column=1, value=neutral(f"{data.company}  {data.titles['title']}"))
    title.font = _font(bold=True, size=16)
    title.alignment = Alignment(vertical="center")
    label = ws.cell(row=1, column=LAST_COL - 1, value=data.titles["as_of"])
    label.font = _font()
    label.alignment = Alignment(horizontal="right", vertical="center")
    stamp = ws.cell(row=1, column=LAST_COL, value=data.as_of)
    stamp.number_format = DATE_FORMAT
    stamp.font = _font(bold=True)
    stamp.alignment = Alignment(horizontal="left", vertical="center")


def _kpi_label(kpi: Kpi, currency: str) -> str:
    """An amount KPI names the base currency in its label, unless the caller already did."""
    fmt = kpi.number_format
    amount = isinstance(kpi.value, Decimal) and "#,##0" in fmt and "%" not in fmt
    return f"{kpi.label} ({currency})" if amount and currency not in kpi.label else kpi.label


def _write_kpis(ws: Worksheet, data: DashboardData) -> int:
    """KPI boxes, six to a strip from row 3: label above a large bold value; the next free row."""
    row = 3
    for start in range(0, len(data.kpis), KPIS_PER_ROW):
        ws.row_dimensions[row].height = 30
        ws.row_dimensions[row + 1].height = 34
        for i, kpi in enumerate(data.kpis[start:start + KPIS_PER_ROW]):
            col = _half_start(i // 3) + 2 * (i % 3)
            _write_kpi(ws, row, col, kpi, _kpi_label(kpi, data.base_currency))
        row += 3
    return row


def _write_kpi(ws: Worksheet, row: int, col: int, kpi: Kpi, label: str) -> None:
    """One boxed KPI over a 2x2 block of cells: label row merged, value row merged."""
    thin = Side(style="thin", color="8EA9DB")
    for r in (row, row + 1):
        ws.merge_cells(start_row=r, start_column=col, end_row=r, end_column=col + 1)
        for c in (col, col + 1):
            ws.cell(row=r, column=c).border = Border(
                left=thin if c == col else None, right=thin if c == col + 1 else None,
                top=thin if r == row else None, bottom=thin if r == row + 1 else None)
            if r == row:
                ws.cell(row=r, column=c).fill = PatternFill("solid", fgColor=LABEL_FILL)
    head = ws.cell(row=row, column=col, value=neutral(label))
    head.font = _font(size=10, color="595959")
    head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    value = ws.cell(row=row + 1, column=col, value=neutral(kpi.value))
    value.number_format = kpi.number_format
    value.font = _font(size=16, bold=True, color=ACCENT)
    value.alignment = Alignment(horizontal="center", vertical="center")


def _place_charts(board: Worksheet, sheet: Worksheet, data: DashboardData,
                  tables: dict[str, _Table], row: int) -> int:
    """Two by two from ROW, each filling six columns by CHART_ROWS rows; the last row used.

    A chart spans cells (two-cell anchor) rather than a fixed size from one cell, so charts
    line up with the KPI strip and cannot overlap whatever font widths the viewer uses.
    An empty table gets a note in its chart's place instead.
    """
    makers: list[tuple[str, Callable[[Worksheet, DashboardData, _Table], ChartBase]]] = [
        ("aging", _aging_chart), ("dso", _dso_chart),
        ("forecast", _forecast_chart), ("top", _top_chart)]
    for i, (key, make) in enumerate(makers):
        top, left = row + (CHART_ROWS + 1) * (i // 2), _half_start(i % 2)
        if tables[key].rows:
            chart = make(sheet, data, tables[key])
            chart.anchor = TwoCellAnchor(
                editAs="oneCell", _from=AnchorMarker(col=left - 1, row=top - 1),
                to=AnchorMarker(col=left - 1 + HALF, row=top - 1 + CHART_ROWS))
            board.add_chart(chart)
        else:
            nothing = NOTHING_TO_SHOW.get(data.locale, NOTHING_TO_SHOW["en"])
            note = board.cell(row=top, column=left, value=f"{data.titles[key]}: {nothing}")
            note.font = _font(italic=True, color="7F7F7F")
    last = row + 2 * CHART_ROWS
    for r in range(row, last + 1):
        board.row_dimensions[r].height = 15
    return last


def _text(size: int, bold: bool = False, rotate: int | None = None) -> RichText:
    """Text properties for a title or axis labels: SIZE in points, ROTATE in degrees."""
    body = RichTextProperties(rot=None if rotate is None else rotate * 60000,
                              vert=None if rotate is None else "horz")
    para = Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties(sz=size * 100, b=bold)),
                     endParaRPr=CharacterProperties(sz=size * 100, b=bold))
    return RichText(bodyPr=body, p=[para])


def _titled(text: str, size: int) -> Title:
    title = title_maker(text)
    for para in title.tx.rich.paragraphs:
        para.pPr.defRPr = CharacterProperties(sz=size * 100, b=True)
    return title


def _frame(chart: ChartBase, title: str, x_title: str, y_title: str, y_format: str) -> None:
    """What every dashboard chart shares: titles, visible axes, light gridlines, no legend."""
    chart.title = _titled(title, 12)
    chart.legend = None
    chart.x_axis.title, chart.y_axis.title = _titled(x_title, 9), _titled(y_title, 9)
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes unless told
    chart.x_axis.txPr, chart.y_axis.txPr = _text(8), _text(8)
    chart.y_axis.number_format = y_format
    chart.y_axis.majorGridlines = ChartLines(
        spPr=GraphicalProperties(ln=LineProperties(solidFill=GRID, w=6350)))


def _fill(series: Series, colour: str) -> None:
    series.graphicalProperties = GraphicalProperties(
        solidFill=colour, ln=LineProperties(noFill=True))


def _bars(sheet: Worksheet, table: _Table, bar_type: str, text: bool = True) -> BarChart:
    chart = BarChart()
    chart.type, chart.gapWidth = bar_type, 60
    chart.add_data(table.values(sheet), titles_from_data=True)
    chart.series[0].cat = table.categories(sheet, text)
    _fill(chart.series[0], ACCENT)
    chart.series[0].invertIfNegative = False
    return chart


def _aging_chart(sheet: Worksheet, data: DashboardData, table: _Table) -> ChartBase:
    """Columns by bucket; a negative (unapplied) bucket is drawn in red below the axis."""
    chart = _bars(sheet, table, "col")
    _frame(chart, data.titles["aging"], data.titles["bucket"], _amount_header(data), "#,##0")
    series = chart.series[0]
    for idx, (_, amount) in enumerate(data.aging):
        if amount < 0:
            point = DataPoint(idx=idx, invertIfNegative=False)
            point.graphicalProperties = GraphicalProperties(solidFill=NEGATIVE)
            series.dPt.append(point)
    chart.x_axis.tickLblPos = "low"  # bucket names stay below a negative bar
    return chart


def _dso_chart(sheet: Worksheet, data: DashboardData, table: _Table) -> ChartBase:
    chart = LineChart()
    chart.add_data(table.values(sheet), titles_from_data=True)
    chart.series[0].cat = table.categories(sheet, text=True)
    _frame(chart, data.titles["dso"], data.titles["period"], data.titles["days"], "0")
    series = chart.series[0]
    series.smooth = False
    series.graphicalProperties.line.solidFill = ACCENT
    series.graphicalProperties.line.width = 28575
    series.marker = Marker(symbol="circle", size=6)
    series.marker.graphicalProperties = GraphicalProperties(solidFill=ACCENT)
    chart.x_axis.tickLblSkip = 1
    chart.x_axis.txPr = _text(8, rotate=-45)  # twelve 'YYYY-MM' labels do not fit flat
    return chart


def _forecast_chart(sheet: Worksheet, data: DashboardData, table: _Table) -> ChartBase:
    """Weekly columns; the axis stays a text axis (one bar per week) with mm-dd labels."""
    chart = _bars(sheet, table, "col", text=False)
    _frame(chart, data.titles["forecast"], data.titles["week"], _amount_header(data), "#,##0")
    chart.x_axis.number_format = "mm-dd"
    chart.x_axis.auto = False  # a date axis would space weekly bars by day and thin them out
    chart.x_axis.tickLblSkip = 1
    return chart


def _top_chart(sheet: Worksheet, data: DashboardData, table: _Table) -> ChartBase:
    """Horizontal bars, largest at the top: categories reversed, value axis kept at the bottom."""
    chart = _bars(sheet, table, "bar")
    _frame(chart, data.titles["top"], data.titles["customer"], _amount_header(data), "#,##0")
    chart.x_axis.scaling.orientation = "maxMin"
    chart.y_axis.crosses = "max"
    chart.x_axis.tickLblSkip = 1  # every customer named, not every other one
    chart.x_axis.txPr = _text(7)  # ten names in 7.4 cm: at 8 pt LibreOffice drops every other
    return chart


def _print_layout(board: Worksheet, sheet: Worksheet, last_row: int) -> None:
    """The dashboard prints on one landscape page; the data sheet one page wide, header repeated."""
    board.print_area = f"A1:{get_column_letter(LAST_COL)}{last_row}"
    board.print_options.horizontalCentered = True
    board.sheet_view.showGridLines = False
    _page_setup(board, pages_tall=1)
    _page_setup(sheet, pages_tall=0)
    sheet.print_title_rows = "1:1"


def _page_setup(ws: Worksheet, pages_tall: int) -> None:
    """Landscape A4, one page wide and PAGES_TALL high (0: as many as the rows need)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = pages_tall
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5


def _save(wb: Workbook, path: Path, stamp: datetime) -> None:
    """Save with fixed document dates and zip entry times, so equal input gives equal bytes.

    openpyxl's save_workbook stamps 'modified' with now, so the writer is driven directly.
    """
    wb.properties.created = wb.properties.modified = stamp
    buffer = io.BytesIO()
    ExcelWriter(wb, ZipFile(buffer, "w", ZIP_DEFLATED, allowZip64=True)).save()
    with ZipFile(io.BytesIO(normalized_package(buffer.getvalue()))) as packed, ZipFile(path, "w", ZIP_DEFLATED) as out:
        for name in packed.namelist():
            entry = ZipInfo(name, date_time=stamp.timetuple()[:6])
            entry.compress_type, entry.external_attr = ZIP_DEFLATED, 0o644 << 16
            out.writestr(entry, packed.read(name))
