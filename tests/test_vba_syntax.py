"""Every module of the built add-in parses by the MS-VBAL grammar (antlr4-vba, test-only), as
Excel compiles it on Windows and on a Mac: each side of the #If blocks is read by the target
that compiles it. The grammar is the VBA language specification's, not Excel's compiler: it
catches syntax errors and reserved words where a name is expected, not unknown names or types."""

from __future__ import annotations

import pytest

from tests.vba import MAC, TARGETS, WINDOWS, decoded_modules, preprocess, syntax_errors
from xlar.addin import build as addin

pytestmark = pytest.mark.slow   # xlwings' module of 1,000 lines takes the grammar ~20 s


@pytest.fixture(scope="module")
def decoded(tmp_path_factory) -> dict[str, str]:
    return decoded_modules(addin.build(tmp_path_factory.mktemp("addin") / "xlar.xlam"))


def test_every_module_of_the_addin_parses(decoded):
    """On each target in one test: a module that reads the same on both is parsed once."""
    found = [f"{module} ({target}) {error}" for target in TARGETS for module, source in sorted(decoded.items())
             for error in syntax_errors(source, TARGETS[target])]
    assert not found, "\n".join(found)


def module(*lines: str) -> str:
    return "\r\n".join(['Attribute VB_Name = "M"', *lines, ""])


@pytest.mark.parametrize(("source", "line"), [
    (module("Function F(currency)", "End Function"), 2),
    (module("Sub S()", "    If x Then", "End Sub"), 4),
    (module("Sub S()", "    x = (1 +", "End Sub"), 3),
    (module("Sub S()", "    Dim x As Long", "End Function"), 4),
    (module("Sub S(ByVal Date As Long)", "End Sub"), 2),
])
def test_a_broken_module_is_reported(source, line):
    errors = syntax_errors(source, WINDOWS)
    assert errors and errors[0].startswith(f"{line}:"), errors
    assert syntax_errors(module("Function F(in_currency)", "    F = in_currency", "End Function"), WINDOWS) == []


def test_a_broken_line_is_reported_only_by_the_target_that_compiles_it():
    source = module("Sub S()", "    #If Mac Then", "        x = (1 +", "    #Else", "        x = 1", "    #End If",
                    "End Sub")
    assert syntax_errors(source, WINDOWS) == []
    assert [e.split(":")[0] for e in syntax_errors(source, MAC)][:1] == ["4"]


def test_a_broken_class_module_is_reported_on_its_own_line(decoded):
    lines = decoded["Dictionary"].split("\r\n")
    at = next(i for i, text in enumerate(lines) if text.startswith("Public Property Get Count"))
    lines.insert(at, "Public Sub Broken(")
    errors = syntax_errors("\r\n".join(lines), WINDOWS)
    assert errors and errors[0].startswith(f"{at + 1}:"), errors


def test_conditional_compilation_keeps_the_lines_of_the_target():
    source = module('#Const App = "Microsoft Excel"', "#If Mac Or Not App = \"Microsoft Excel\" Then", "a",
                    "#ElseIf Win64 And VBA7 Then", "b", "#Else", "c", "#End If")
    assert preprocess(source, WINDOWS).split("\r\n") == ['Attribute VB_Name = "M"', "", "", "", "", "b", "", "", "", ""]
    assert preprocess(source, MAC).split("\r\n")[3] == "a"
    with pytest.raises(ValueError, match="Wn64"):
        preprocess(module("#If Wn64 Then", "#End If"), WINDOWS)
