"""The entry point of every button of the AR ribbon tab, inside Excel.

Every button calls the VBA callback XlarAction, which runs
`xlar.excel.actions.dispatch(<the button's tag>)`: the live workbook (through xlwings), the
store it names and a dialog Ui make a Session, and xlar.actions.ribbon runs the action. The
same actions run from the CLI (`xlar excel run`) and in the tests, without Excel.
"""

from __future__ import annotations

import traceback
from datetime import date
from pathlib import Path

from xlar.actions.ribbon import run
from xlar.actions.session import Session, refusal
from xlar.domain.codes import Code
from xlar.domain.errors import XlarError
from xlar.schema.messages import localize
from xlar.store.config import acting_user, config_path
from xlar.store.engine import Store
from xlar.workbook.reader import book_locale
from xlar.workbook.stores import store_url, workbook_folder


def dispatch(tag: str) -> None:
    """The entry point of every ribbon button (called from VBA with the button's tag)."""
    import xlwings as xw

    from xlar.excel.live import ExcelUi, XlwingsGateway

    book = xw.Book.caller()
    ui = ExcelUi(book)
    gateway = XlwingsGateway(book)
    try:
        saved_in = workbook_folder(book.fullname)
        folder = saved_in or Path.home()
        store = Store.open(store_url(gateway, saved_in))
        try:
            run(tag, Session(gateway, store, acting_user(), date.today(), ui, folder))
        finally:
            store.dispose()
    except XlarError as exc:   # the store cannot be opened
        locale = book_locale(gateway.titles())
        ui.tell(refusal(locale, exc.code, localize(exc.message, locale)))
    except Exception as exc:  # noqa: BLE001 - shown to the accountant in one line, kept whole in the log
        ui.tell(f"{Code.E142} {tag} failed: {exc}\n(details in {_log_failure(tag, exc)})")


def _log_failure(tag: str, exc: BaseException) -> Path:
    """Append EXC's traceback to xlar.log beside the config file; returns the log."""
    path = config_path().parent / "xlar.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(f"--- {date.today()} {tag}\n{''.join(traceback.format_exception(exc))}")
    return path
