"""`xlar excel build|install|uninstall|status`: the xlar.xlam add-in, built from sources.

The add-in is a workbook with a source-only VBA project (vbaproject.py) and the ribbon part
customUI/customUI14.xml. Its modules: our ribbon callbacks (macros/XlarRibbon.bas), xlwings' BSD
custom-add-in module from the installed xlwings (named for project "xlar", so it reads its
settings from the add-in's sheet `xlar.conf` and the user's file %USERPROFILE%\\.xlar\\xlar.conf),
the VBA-Dictionary class xlwings ships for Macs, and the worksheet-function wrappers made by
xlwings' own generator (wrappers.py). Excel compiles the project from source on first load.
The build is deterministic: the same sources give the same bytes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.dom import minidom
from xml.sax.saxutils import escape

import xlwings

from xlar.addin.vbaproject import VbaModule, class_source, document_source, vba_project
from xlar.domain.codes import Code
from xlar.domain.errors import XlarError

PROJECT = "xlar"
ADDIN = "xlar.xlam"
RIBBON_MODULE = "XlarRibbon"   # not "xlar": a module named as its project is refused by the VBA editor
CONFIG_SHEET = f"{PROJECT}.conf"
# the workbook's folder stays off Python's path: a file planted beside a workbook is not imported
SETTINGS = (("UDF Modules", "xlar.excel.udfs"), ("Use UDF Server", "True"), ("Show Console", "False"),
            ("ADD_WORKBOOK_TO_PYTHONPATH", "False"))
UI_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
XLWINGS = Path(xlwings.__file__).parent


def macros_dir() -> Path:
    """The add-in's sources: macros/ of the checkout, or the copy packaged with xlar."""
    for folder in (Path(__file__).resolve().parents[2] / "macros", Path(__file__).parent / "macros"):
        if (folder / "customUI14.xml").exists():
            return folder
    raise XlarError("the add-in's sources (macros/) are not installed with xlar", code=Code.E143)


def _text(path: Path) -> str:
    return path.read_bytes().decode("ascii")


# xlwings' GetConfig takes a key first from the calling workbook's own `xlar.conf` sheet, then
# from a `xlar.conf` file beside it: a workbook from outside could set INTERPRETER_WIN (run
# another program), PYTHONPATH or ADD_WORKBOOK_TO_PYTHONPATH (import a module planted beside
# it). The add-in reads its configuration from its own sheet and the user's config file only.
_CLOSED_SOURCES = (
    ('            If SheetExists(ActiveWorkbook, PROJECT_NAME & ".conf") = True Then',
     "            If False Then ' xlar: a workbook's own xlar.conf sheet never configures the add-in"),
    ('    If source = "" Or source = "directory" Then',
     "    If False Then ' xlar: nor does a xlar.conf file beside the workbook"),
)


def xlwings_module() -> str:
    """xlwings' custom-add-in module, for the project called xlar, reading its configuration
    only from the add-in's own sheet and the user's config file (_CLOSED_SOURCES)."""
    source = _text(XLWINGS / "xlwings_custom_addin.bas")
    edits = [('PROJECT_NAME As String = "myaddin"', f'PROJECT_NAME As String = "{PROJECT}"', 1),
             *((old, new, 1) for old, new in _CLOSED_SOURCES),
             # and a workbook's folder is never put on Python's path, whatever the config says
             ('GetConfig("ADD_WORKBOOK_TO_PYTHONPATH", "true")', '"false"', 2)]
    for old, new, times in edits:
        if source.count(old) != times:
            raise XlarError(f"this xlwings' custom add-in module is not the one xlar was made for: "
                            f"{old.strip()!r} is not found {times} time(s)", code=Code.E144)
        source = source.replace(old, new)
    return source


def udf_wrappers() -> str:
    found = subprocess.run([sys.executable, "-m", "xlar.excel.wrappers"], capture_output=True, check=False)
    if found.returncode != 0:
        raise XlarError(f"xlwings could not generate the function wrappers: "
                        f"{found.stderr.decode(errors='replace').strip().splitlines()[-1:]}", code=Code.E145)
    return found.stdout.decode("ascii")


def modules(macros: Path) -> list[VbaModule]:
    return [
        VbaModule("ThisWorkbook", document_source("ThisWorkbook", sheet=False), "document"),
        VbaModule("Sheet1", document_source("Sheet1", sheet=True), "document"),
        VbaModule(RIBBON_MODULE, _text(macros / f"{RIBBON_MODULE}.bas"), "procedural"),
        VbaModule("xlwings", xlwings_module(), "procedural"),
        VbaModule("xlwings_udfs", udf_wrappers(), "procedural"),
        VbaModule("Dictionary", class_source(_text(XLWINGS / "addin" / "Dictionary.cls")), "class"),
    ]


def ribbon(macros: Path) -> bytes:
    data = (macros / "customUI14.xml").read_bytes()
    minidom.parseString(data)  # refuse a malformed ribbon at build time, not in Excel
    return data


def _config_sheet() -> bytes:
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{escape(k)}</t></is></c>'
        f'<c r="B{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c></row>'
        for r, (k, v) in enumerate(SETTINGS, start=1))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}" '
            f'xmlns:r="{RELS}"><sheetPr codeName="Sheet1"/><sheetData>{rows}</sheetData></worksheet>').encode()


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _parts(macros: Path) -> list[tuple[str, bytes]]:
    types = (f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.addin.macroEnabled.main+xml"/>'
             '<Override PartName="/xl/worksheets/sheet1.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
             '<Override PartName="/xl/styles.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
             '<Override PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/>'
             '</Types>')
    root_rels = (f'{HEAD}<Relationships xmlns="{PKG}">'
                 f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
                 f'<Relationship Id="rId2" Type="{UI_REL}" Target="customUI/customUI14.xml"/></Relationships>')
    workbook = (f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><workbookPr codeName="ThisWorkbook"/>'
                f'<bookViews><workbookView visibility="hidden"/></bookViews>'
                f'<sheets><sheet name="{CONFIG_SHEET}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    workbook_rels = (f'{HEAD}<Relationships xmlns="{PKG}">'
                     f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
                     f'<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/>'
                     '<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
                     'Target="vbaProject.bin"/></Relationships>')
    styles = (f'{HEAD}<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font>'
              '</fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
              '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/>'
              '<bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
              'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
              'borderId="0" xfId="0"/></cellXfs></styleSheet>')
    return [("[Content_Types].xml", types.encode()), ("_rels/.rels", root_rels.encode()),
            ("xl/workbook.xml", workbook.encode()), ("xl/_rels/workbook.xml.rels", workbook_rels.encode()),
            ("xl/worksheets/sheet1.xml", _config_sheet()), ("xl/styles.xml", styles.encode()),
            ("xl/vbaProject.bin", vba_project(modules(macros), PROJECT)),
            ("customUI/customUI14.xml", ribbon(macros))]


def build(target: Path, macros: Path | None = None) -> Path:
    """Write the add-in to TARGET (same sources, same bytes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(temp, "w") as out:
        for name, data in _parts(macros or macros_dir()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, data, compresslevel=9)
    os.replace(temp, target)
    return target


# ---- installing into Excel --------------------------------------------------------------

MAC_STARTUP = Path("Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel")


def startup_folder() -> Path:
    """Excel's startup folder, whose add-ins load with Excel and are trusted."""
    if sys.platform == "win32":
        return Path(os.environ["APPDATA"]) / "Microsoft" / "Excel" / "XLSTART"
    if sys.platform == "darwin":
        return Path.home() / MAC_STARTUP
    raise XlarError("Excel runs on Windows and macOS: give the startup folder with --dir", code=Code.E146)


def interpreter_settings() -> dict[str, str]:
    """The config keys that make the add-in run this Python (the one xlar is installed in)."""
    key = "INTERPRETER_MAC" if sys.platform == "darwin" else "INTERPRETER_WIN"
    return {key: sys.executable}


@dataclass(frozen=True, slots=True)
class Status:
    addin: Path
    installed: bool
    current: bool            # the installed add-in is what this xlar builds
    config: Path
    settings: dict[str, str]

    def lines(self) -> list[str]:
        state = "not installed" if not self.installed else ("installed, current" if self.current else
                                                             "installed, OUT OF DATE: run xlar excel install")
        return [f"add-in: {self.addin} ({state})", f"xlwings: {xlwings.__version__}", f"config: {self.config}",
                *(f"  {k} = {v}" for k, v in sorted(self.settings.items()))]


def install(folder: Path | None = None) -> list[str]:
    """Build the add-in into Excel's startup folder and point it at this Python (config file)."""
    from xlar.store.config import write_config

    target = build((folder or startup_folder()) / ADDIN)
    config = write_config(interpreter_settings())
    done = [f"add-in -> {target}", f"interpreter {sys.executable} -> {config}"]
    if sys.platform == "darwin":  # RunPython on a Mac goes through xlwings' AppleScript
        subprocess.run([str(Path(sys.executable).parent / "xlwings"), "runpython", "install"], check=True)
        done.append("xlwings runpython install: done")
    return done


def uninstall(folder: Path | None = None) -> list[str]:
    """Remove the add-in from the startup folder (the config file stays: it may name a store)."""
    target = (folder or startup_folder()) / ADDIN
    if not target.exists():
        return [f"no add-in at {target}"]
    target.unlink()
    return [f"removed {target}"]


def status(folder: Path | None = None) -> Status:
    from xlar.store.config import config_path, read_config

    target = (folder or startup_folder()) / ADDIN
    current = False
    if target.exists():
        fresh = target.with_name(f".{ADDIN}.check")
        try:
            current = build(fresh).read_bytes() == target.read_bytes()
        finally:
            fresh.unlink(missing_ok=True)
    return Status(target, target.exists(), current, config_path(), read_config())
