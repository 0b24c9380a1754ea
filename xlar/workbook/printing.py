"""How a sheet prints on A4 with text never below 8 pt (11 pt text at 73 % or more).

A sheet narrow enough prints portrait, one page wide; one that fits landscape at 73 % or more
prints landscape, one page wide; a wider one prints landscape at 73 % over pages side by side,
its first column repeated on each. Widths are Excel's column-width units (about 5.25 pt each).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# What an A4 page holds at 100 %, inside 0.7" margins; the smallest scale that keeps 11 pt at 8 pt.
PORTRAIT_WIDTH, LANDSCAPE_WIDTH, LEAST_SCALE = 94, 141, 0.73


@dataclass(frozen=True, slots=True)
class PageLayout:
    orientation: str          # portrait or landscape
    scale: int | None         # percent; None: fit to one page wide
    repeat_first_column: bool

    @property
    def fit(self) -> bool:
        return self.scale is None

    def page_setup_xml(self) -> str:
        """The sheet's <pageSetup> element (A4)."""
        how = 'fitToWidth="1" fitToHeight="0"' if self.fit else f'scale="{self.scale}"'
        return f'<pageSetup paperSize="9" orientation="{self.orientation}" {how}/>'


def page_layout(width: float) -> PageLayout:
    """The layout of a sheet WIDTH units wide (hidden columns left out)."""
    if width <= LANDSCAPE_WIDTH / LEAST_SCALE:
        return PageLayout("portrait" if width <= PORTRAIT_WIDTH / LEAST_SCALE else "landscape", None, False)
    return PageLayout("landscape", round(LEAST_SCALE * 100), True)


def set_page(ws: Any, width: float, title_row: int | None) -> PageLayout:
    """Give the openpyxl worksheet WS (WIDTH units wide) its A4 layout, its TITLE_ROW repeated."""
    layout = page_layout(width)
    ws.page_setup.paperSize = "9"
    ws.page_setup.orientation = layout.orientation
    if title_row:
        ws.print_title_rows = f"{title_row}:{title_row}"
    if layout.fit:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    else:
        ws.page_setup.scale = layout.scale
        ws.print_title_cols = "A:A"
    return layout
