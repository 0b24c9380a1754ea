"""The add-in built on Linux from macros/: deterministic, every module decodes (olevba) to its
source byte for byte, the ribbon is well-formed and every button is a registered action with
an existing callback, the embedded xlwings is the installed one, LibreOffice imports the
modules from an .xlsm twin, and install/status/uninstall work on a startup folder."""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path
from xml.dom import minidom

import pytest
import xlwings

from tests.render import converted
from xlar.actions.ribbon import ACTIONS
from xlar.addin import build as addin
from xlar.addin.vbaproject import xlsm_twin
from xlar.excel.udfs import FUNCTIONS
from xlar.store.config import read_config

with warnings.catch_warnings():  # oletools calls a pyparsing API that is deprecated
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import VBA_Parser


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return addin.build(tmp_path_factory.mktemp("addin") / "xlar.xlam")


@pytest.fixture(scope="module")
def decoded(built) -> dict[str, str]:
    parser = VBA_Parser(str(built))
    try:
        return {Path(stream).name: code for _f, stream, _name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_the_build_is_deterministic(built, tmp_path):
    again = addin.build(tmp_path / "again.xlam")
    assert again.read_bytes() == built.read_bytes()


def test_every_module_decodes_to_its_source(decoded):
    sources = {m.name: m.source for m in addin.modules(addin.macros_dir())}
    assert set(decoded) == set(sources) == {"ThisWorkbook", "Sheet1", "XlarRibbon", "xlwings", "xlwings_udfs", "Dictionary"}
    for name, source in sources.items():
        assert decoded[name] == source, name
    assert decoded["XlarRibbon"] == (addin.macros_dir() / "XlarRibbon.bas").read_bytes().decode("ascii")


def test_the_ribbon_is_well_formed_and_every_button_is_a_registered_action(built, decoded):
    with zipfile.ZipFile(built) as z:
        rels = z.read("_rels/.rels").decode()
        ui = z.read("customUI/customUI14.xml")
    assert f'Type="{addin.UI_REL}" Target="customUI/customUI14.xml"' in rels
    buttons = minidom.parseString(ui).getElementsByTagName("button")
    tags = [b.getAttribute("tag") for b in buttons]
    assert sorted(tags) == sorted(ACTIONS) and len(set(tags)) == len(tags)
    callbacks = set(re.findall(r"^Public Sub (\w+)\(control As IRibbonControl\)", decoded["XlarRibbon"], re.MULTILINE))
    assert {b.getAttribute("onAction") for b in buttons} == {"XlarAction"} <= callbacks
    tab = minidom.parseString(ui).getElementsByTagName("tab")[0]
    assert tab.getAttribute("label") == "AR 应收"
    for b in buttons:   # bilingual: the Chinese and the English name of the action
        action = ACTIONS[b.getAttribute("tag")]
        assert b.getAttribute("label") == f"{action.zh} {action.en}"
    assert "a.dispatch('\" & control.Tag & \"')" in decoded["XlarRibbon"]


def test_the_embedded_xlwings_is_the_installed_one_and_reads_our_config(built, decoded):
    module = decoded["xlwings"]
    assert re.search(r'XLWINGS_VERSION As String = "([^"]+)"', module)[1] == xlwings.__version__
    assert f"xlwings64-{xlwings.__version__}.dll" in module
    assert 'PROJECT_NAME As String = "xlar"' in module
    # a workbook's own sheet, or a file beside it, cannot configure the add-in (INTERPRETER_WIN…)
    get_config = module[module.index("Function GetConfig("):]
    get_config = get_config[:get_config.index("End Function")]
    assert "SheetExists(ActiveWorkbook" not in get_config and 'source = "directory"' not in get_config
    assert get_config.count("If False Then ' xlar:") == 2
    assert "GetConfigFromSheet(ThisWorkbook)" in get_config and "GetConfigFilePath()" in get_config
    assert 'GetConfig("ADD_WORKBOOK_TO_PYTHONPATH"' not in module and 'AddExcelDir = "false"' in module
    with zipfile.ZipFile(built) as z:
        workbook = z.read("xl/workbook.xml").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert 'name="xlar.conf"' in workbook and 'codeName="ThisWorkbook"' in workbook
    assert "<t>UDF Modules</t>" in sheet and "<t>xlar.excel.udfs</t>" in sheet


def test_the_function_wrappers_are_xlwings_own(decoded):
    wrappers = decoded["xlwings_udfs"]
    declared = set(re.findall(r"^Function (AR_\w+)\(", wrappers, re.MULTILINE))
    assert declared == set(FUNCTIONS)
    assert 'XLPy.CallUDF("xlar.excel.udfs", "AR_BALANCE", Array(customer, as_of, in_currency, Nothing)' in wrappers
    assert "Function AR_PERIOD()" in wrappers   # the caller argument is Excel's, not the user's


def test_libreoffice_imports_the_modules_from_an_xlsm_twin(built, tmp_path):
    with zipfile.ZipFile(built) as z:
        twin = xlsm_twin(z.read("xl/vbaProject.bin"), tmp_path / "xlar.xlsm")
    with zipfile.ZipFile(converted(twin, tmp_path, "ods")) as ods:
        names = set(ods.namelist())
        assert {f"Basic/xlar/{m}.xml" for m in ("XlarRibbon", "xlwings", "xlwings_udfs", "Dictionary")} <= names
        assert "Sub XlarAction(control As IRibbonControl)" in ods.read("Basic/xlar/XlarRibbon.xml").decode()
        assert "Function AR_BALANCE(" in ods.read("Basic/xlar/xlwings_udfs.xml").decode()


def test_install_status_uninstall(tmp_path, monkeypatch):
    config = tmp_path / "config" / "xlar.conf"
    monkeypatch.setenv("XLAR_CONFIG", str(config))
    startup = tmp_path / "XLSTART"
    assert not addin.status(startup).installed
    done = addin.install(startup)
    assert (startup / "xlar.xlam").exists() and any("xlar.xlam" in line for line in done)
    assert set(read_config(config).values()) >= {__import__("sys").executable}
    state = addin.status(startup)
    assert state.installed and state.current
    (startup / "xlar.xlam").write_bytes(b"an older add-in")
    assert not addin.status(startup).current
    assert any("OUT OF DATE" in line for line in addin.status(startup).lines())
    addin.uninstall(startup)
    assert not (startup / "xlar.xlam").exists()
    assert addin.uninstall(startup) == [f"no add-in at {startup / 'xlar.xlam'}"]
