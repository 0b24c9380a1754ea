"""Which store a workbook uses, for the add-in (the live workbook) and the CLI (the file) alike.

XLAR_STORE on the workbook's own `xlar.conf` sheet, when the user trusts it; else XLAR_STORE
(environment, then the xlar config file); else xlar.db beside the workbook. The CLI's --store
comes before all of these (xlar.cli).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from xlar.domain.codes import Code
from xlar.domain.errors import XlarError
from xlar.store.config import STORE_KEY, config_path, configured
from xlar.store.engine import normalize_url
from xlar.workbook.gateway import FileGrids, Grids
from xlar.workbook.package import sheet_parts

CONFIG_SHEET = "xlar.conf"
TRUSTED_KEY = "XLAR_TRUSTED_STORES"


class UntrustedStore(XlarError):
    code = Code.E148


def workbook_store(book: Grids) -> str | None:
    """XLAR_STORE on the workbook's own config sheet `xlar.conf` (key and value in columns A and
    B, the sheet xlwings reads its workbook settings from). Not the Settings sheet: that one is
    the book's, shared with every colleague through the store, and a store path is per workbook."""
    title = next((t for t in book.titles() if t.lower() == CONFIG_SHEET), None)
    if title is None:
        return None
    for row in book.grid(title):
        if len(row) >= 2 and str(row[0]).strip().upper() == STORE_KEY and str(row[1]).strip():
            url = str(row[1]).strip()
            if "://" in url and make_url(normalize_url(url)).password:
                raise XlarError(f"{CONFIG_SHEET}: {STORE_KEY} must not hold a password (whoever gets the "
                                "workbook reads it): use ~/.pgpass, PGPASSWORD or the xlar config file",
                                code=Code.E147)
            return url
    return None


def workbook_folder(fullname: str) -> Path | None:
    """The folder of a saved workbook (None for one never saved, or on a web location)."""
    path = Path(fullname)
    return path.parent if path.is_absolute() else None


def store_url(book: Grids | None, folder: Path | None) -> str:
    """Which store a workbook uses: XLAR_STORE on its `xlar.conf` sheet, else XLAR_STORE
    (environment, then the xlar config file), else xlar.db in FOLDER (the workbook's; the home
    folder for a workbook never saved or on the web). A relative SQLite path on the sheet is
    relative to that folder. No BOOK: the last two only."""
    base = folder or Path.home()
    given = workbook_store(book) if book is not None else None
    if given and "://" not in given and not Path(given).expanduser().is_absolute():
        given = str(base / given)
    if given:
        return trusted(normalize_url(given), folder)
    return normalize_url(configured(STORE_KEY) or str(base / "xlar.db"))


def file_store_url(path: Path) -> str:
    """store_url of the workbook file PATH. Its cells are read only when it has an `xlar.conf`
    sheet: finding the sheet costs the list of sheets, not the workbook."""
    folder = path.resolve().parent
    if not any(title.lower() == CONFIG_SHEET for title in sheet_parts(path)):
        return store_url(None, folder)
    with FileGrids(path) as grids:
        return store_url(grids, folder)


def trusted(url: str, folder: Path | None) -> str:
    """URL, a store a workbook's own sheet names, when the user trusts it: a SQLite file in the
    workbook's FOLDER or below (a saved workbook's own), the user's own XLAR_STORE, or one listed
    in XLAR_TRUSTED_STORES (comma-separated, in the environment or the xlar config file). A
    workbook from outside could otherwise make its cells connect where it likes, with the
    user's credentials."""
    parsed = make_url(url)
    if (folder is not None and parsed.get_backend_name() == "sqlite" and parsed.database
            and Path(parsed.database).resolve().is_relative_to(folder.resolve())):
        return url
    allowed = [configured(STORE_KEY) or "", *(configured(TRUSTED_KEY) or "").split(",")]
    if url in {normalize_url(a.strip()) for a in allowed if a.strip()}:
        return url
    raise UntrustedStore(f"the workbook's {CONFIG_SHEET} sheet names the store {parsed.render_as_string()}, "
                         f"which you have not said you trust: add it to {TRUSTED_KEY} in {config_path()} "
                         "(comma-separated), or remove it from the sheet")
