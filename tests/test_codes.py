"""The registry of codes (xlar/domain/codes.py): each code once, with its meaning in both
languages, each given somewhere, and none written out anywhere else in the package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from click.testing import CliRunner

from xlar.cli import main
from xlar.domain.codes import CODES, MEANINGS, Code, is_warning, meaning
from xlar.domain.errors import XlarError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "xlar"
REGISTRY = PACKAGE / "domain" / "codes.py"
MIGRATIONS = PACKAGE / "store" / "migrations"
WRITTEN = re.compile(r"XLAR-[EW]\d{3}")


def sources() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if p != REGISTRY and MIGRATIONS not in p.parents]


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes of TREE (a module's, a class's, a function's)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_each_code_is_its_name_once_with_a_meaning_in_english_and_chinese():
    assert len(CODES) == len(Code) and set(MEANINGS) == set(Code)
    for code in Code:
        assert code.value == f"XLAR-{code.name}" and f"{code}" == code.value
        en, zh = MEANINGS[code]
        assert en and not WRITTEN.search(en) and not WRITTEN.search(zh), code
        assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[A-Za-z]{3,}", re.sub(
            r"Excel|LibreOffice|xlar\.(log|conf)|xlar|ISO|NUL|VBA|xlwings|_id|N/A|VALUE|TRUE|FALSE", "", zh)), code
        assert meaning(code, "zh-CN") == zh and meaning(code) == en
        assert is_warning(code) == code.name.startswith("W")


def test_no_code_is_written_out_in_the_package_but_in_the_registry():
    """A code in a message is Code.E… (so a refusal never carries two, and each is registered):
    no string in the package holds one. Docstrings may name codes; the migrations are frozen
    history (their triggers' messages name registered codes, below)."""
    written = []
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = docstrings(tree)
        written += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
                    and WRITTEN.search(node.value)]
    assert written == []


def test_every_code_is_given_somewhere_and_every_code_named_anywhere_is_registered():
    used = set()
    for path in sources():
        used |= set(re.findall(r"\bCode\.([EW]\d{3})\b", path.read_text(encoding="utf-8")))
    in_triggers = {m for p in MIGRATIONS.rglob("*.py") for m in WRITTEN.findall(p.read_text(encoding="utf-8"))}
    assert sorted({c.name for c in Code} - used - {c.removeprefix("XLAR-") for c in in_triggers}) == []
    named = {m for folder in ("xlar", "tests", "docs") for p in (ROOT / folder).rglob("*.*")
             if p.suffix in {".py", ".md"} and p.name != Path(__file__).name
             for m in WRITTEN.findall(p.read_text(encoding="utf-8"))}
    named |= set(WRITTEN.findall((ROOT / "README.md").read_text(encoding="utf-8")))
    assert sorted(named - CODES) == []


def test_a_refusal_shows_its_one_code_in_front_of_a_message_without_one():
    refused = XlarError("no report 'x': give its number or name", code=Code.E140)
    assert str(refused) == "XLAR-E140 no report 'x': give its number or name"
    assert XlarError("plain").code is Code.E000


def test_xlar_codes_lists_every_code_and_explains_one_in_the_asked_language():
    listed = CliRunner().invoke(main, ["codes"])
    assert listed.exit_code == 0, listed.output
    assert [line.split()[0] for line in listed.output.splitlines()] == [c.value for c in Code]
    one = CliRunner().invoke(main, ["--locale", "zh-CN", "codes", "xlar-e113"])
    assert one.exit_code == 0 and one.output == f"XLAR-E113 {MEANINGS[Code.E113][1]}\n"
    unknown = CliRunner().invoke(main, ["codes", "XLAR-E999"])
    assert unknown.exit_code == 2 and "XLAR-E999" in unknown.output
