"""What a workbook shows of its last sync: the hidden state sheet, and the Errors sheet's rows
(read back to tell whether a sync would change them)."""

from __future__ import annotations

from xlar.domain.codes import CODES, Code
from xlar.domain.errors import Issue
from xlar.schema.messages import localize, sheet_title
from xlar.workbook.gateway import Grids
from xlar.workbook.package import (
    BrokenWorkbook,
    first_line,
)
from xlar.workbook.state import STATE_SHEET, SyncState

ERRORS_TITLES = ("Errors", "错误")
CONFLICTS_TITLES = ("Conflicts", "冲突")


def plain_cell(cell: object) -> str:
    """A cell as text, whole numbers without '.0' (to compare the Errors sheet with issues)."""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return "" if cell is None else str(cell)


def read_state(grids: Grids) -> SyncState:
    """The state sheet alone (no other sheet is read)."""
    if STATE_SHEET not in grids.titles():
        return SyncState()
    return sync_state(grids)


def sync_state(grids: Grids) -> SyncState:
    """What the last sync wrote in the hidden state sheet; refused, not guessed, once another
    program has changed it (a wrong guess could delete rows or miss a colleague's)."""
    try:
        return SyncState.from_rows(grids.grid(STATE_SHEET))
    except (ValueError, TypeError, OverflowError) as exc:
        raise BrokenWorkbook(f"the hidden sheet {STATE_SHEET} (what the last sync wrote) is damaged "
                             f"({first_line(exc)}); restore the workbook from its .bak copy") from None


def issues_shown(grids: Grids) -> list[Issue]:
    """The issues the Errors sheet lists (those of the last sync), read back."""
    title = next((t for t in ERRORS_TITLES if t in grids.titles()), None)
    if title is None:
        return []
    found = []
    for row in grids.grid(title)[1:]:
        sheet, excel_row, column, code, message = (plain_cell(c) for c in [*row, "", "", "", "", ""][:5])
        if code in CODES:   # a row whose code is not xlar's was not written by a sync
            found.append(Issue(sheet, int(excel_row or 0), column or None, Code(code), message))
    return found


def issue_cells(issue: Issue, locale: str = "en") -> tuple[str, ...]:
    """The Errors sheet's row for ISSUE in a LOCALE book (sheet and message in its language)."""
    return tuple(plain_cell(c) for c in (sheet_title(issue.sheet, locale), issue.excel_row or "", issue.column or "",
                                      issue.code, localize(issue.message, locale)))
