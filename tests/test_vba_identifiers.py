"""No module of the built add-in declares a name that VBA reserves (MS-VBAL 3.3.5.2): Excel
would refuse to compile the project, as it did the wrappers' parameter `currency`."""

from __future__ import annotations

import pytest

from tests.vba import CATEGORY, RESERVED, Declared, declared, decoded_modules, reserved_uses
from xlar.addin import build as addin
from xlar.excel.udfs import FUNCTIONS

MODULES = {"XlarRibbon", "xlwings", "xlwings_udfs", "Dictionary", "ThisWorkbook", "Sheet1"}


@pytest.fixture(scope="module")
def decoded(tmp_path_factory) -> dict[str, str]:
    return decoded_modules(addin.build(tmp_path_factory.mktemp("addin") / "xlar.xlam"))


def test_no_module_of_the_addin_declares_a_reserved_identifier(decoded):
    assert set(decoded) == MODULES
    found = [f"{module}:{d.line} {d.kind} {d.name!r} is a VBA {category}"
             for module, source in sorted(decoded.items()) for d, category in reserved_uses(source)]
    assert not found, "\n".join(found)


def test_every_module_with_code_is_read(decoded):
    """The check above sees declarations (it would pass on a reader that finds none)."""
    names = {module: {d.name for d in declared(source)} for module, source in decoded.items()}
    assert {"XlarAction", "XlarAsk", "XlarPickFile", "prompt", "default", "title"} <= names["XlarRibbon"]
    assert {"RunPython", "PythonCommand", "XLPyDLLActivateAuto", "PROJECT_NAME", "LOG_FILE"} <= names["xlwings"]
    assert {"Add", "Key", "Item", "dict_pKeys", "CompareMethod", "BinaryCompare"} <= names["Dictionary"]
    assert set(FUNCTIONS) | {"customer", "as_of", "in_currency"} <= names["xlwings_udfs"]
    assert names["ThisWorkbook"] == names["Sheet1"] == set()


def test_the_wrappers_take_the_python_argument_names():
    """Excel shows the wrappers' parameter names: the Python names must be legal in VBA."""
    import inspect

    for name, function in FUNCTIONS.items():
        for parameter in inspect.signature(function).parameters:
            assert parameter.lower() not in CATEGORY, f"{name}({parameter}): a VBA reserved identifier"


def test_the_list_is_ms_vbal_3_3_5_2():
    sizes = {category: len(names) for category, names in RESERVED.items()}
    assert sizes == {"statement-keyword": 67, "rem-keyword": 1, "marker-keyword": 20, "operator-identifier": 12,
                     "reserved-name": 27, "special-form": 7, "reserved-type-identifier": 12,
                     "literal-identifier": 5, "reserved-for-implementation-use": 26, "future-reserved": 3,
                     "builtin-type (3.3.5.3)": 1}
    assert CATEGORY["currency"] == "reserved-type-identifier" and CATEGORY["object"] == "builtin-type (3.3.5.3)"
    assert "mid" not in CATEGORY and "version" not in CATEGORY   # functions and contextual words are not reserved


# ---- the reader on small modules ---------------------------------------------------------

def uses(source: str) -> list[tuple[str, str, str]]:
    return [(d.kind, d.name, category) for d, category in reserved_uses(source.replace("\n", "\r\n"))]


def test_a_reserved_parameter_is_caught():
    assert uses('Attribute VB_Name = "M"\nFunction F(currency)\n    F = 1\nEnd Function\n') == [
        ("parameter", "currency", "reserved-type-identifier")]


@pytest.mark.parametrize(("line", "kind", "name"), [
    ("Public Function F(Optional ByVal Date As Variant) As Variant", "parameter", "Date"),
    ("Private Sub S(a, ByRef b As Long, ParamArray Nothing())", "parameter", "Nothing"),
    ("Sub Currency()", "procedure", "Currency"),
    ("Public Property Get String() As Long", "procedure", "String"),
    ("Friend Static Function F(x As Long, _\n    Optional ByVal Empty As Long = 0) As Long", "parameter", "Empty"),
    ("Dim a As Long, Single As Double", "variable", "Single"),
    ("Private WithEvents Me As Application", "variable", "Me"),
    ("Static Integer(1 To 3) As Long", "variable", "Integer"),
    ("ReDim Preserve Array(0 To 2)", "variable", "Array"),
    ("Public Const x As Long = 1, Decimal = 2", "constant", "Decimal"),
    ("Private Declare PtrSafe Function Abs Lib \"kernel32\" (ByVal x As Long) As Long", "declare", "Abs"),
    ("Declare Function F Lib \"k\" Alias \"G\" (ByVal Long As Long) As Long", "parameter", "Long"),
    ("Public Event Changed(ByVal Boolean As Long)", "parameter", "Boolean"),
    ("Private Type Variant\n    x As Long\nEnd Type", "type", "Variant"),
    ("Type T\n    Currency As Long\nEnd Type", "member", "Currency"),
    ("Enum E\n    Byte = 1\nEnd Enum", "member", "Byte"),
    ("Dim x As Long: Dim LongPtr As Long", "variable", "LongPtr"),
])
def test_every_kind_of_declaration_is_read(line, kind, name):
    assert (kind, name) in [(k, n) for k, n, _c in uses(f'Attribute VB_Name = "M"\n{line}\n')]


NOT_DECLARATIONS = (
    'Attribute VB_Name = "M"',
    "Option Explicit",
    '#Const App = "Microsoft Excel" \'Adjust when using outside of Excel',
    "#If Mac Then",
    "#End If",
    "' Dim Currency As Long",
    "Rem Dim Date As Long",
    "Dim x As Long ' Function F(currency)",
    "Sub S(ByVal s As String) ' and the rest: String",
    '    s = "Dim String As Long: Function F(currency)" & "\'" & "Dim Date"',
    "    MsgBox s, Title:=\"Dim Single\": Rem Dim Double",
    "    x = Application.InputBox(s, \"xlar\", Type:=2)",
    "End Sub",
)


def test_comments_strings_directives_and_attributes_are_not_declarations():
    source = "\n".join(NOT_DECLARATIONS)
    assert uses(source) == []
    assert [(d.kind, d.name) for d in declared(source.replace("\n", "\r\n"))] == [
        ("variable", "x"), ("procedure", "S"), ("parameter", "s")]


def test_a_reserved_name_is_found_on_its_line():
    found: list[Declared] = [d for d, _c in reserved_uses(
        'Attribute VB_Name = "M"\r\nSub S()\r\nEnd Sub\r\nSub T(a, _\r\n  String)\r\nEnd Sub\r\n')]
    assert [(d.line, d.name) for d in found] == [(4, "String")]

