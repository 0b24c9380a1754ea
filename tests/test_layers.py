"""Each layer imports only the layers below it; the domain imports no infrastructure."""

import ast
from pathlib import Path

import xlar

LAYERS = ["domain", "schema", "store", "workbook", "services", "reports", "sync", "excel", "cli"]
TOP_LEVEL = {"cli": "cli", "demo": "cli", "__init__": "domain"}
INFRASTRUCTURE = {"sqlalchemy", "alembic", "openpyxl", "xlwings", "pandas", "python_calamine", "click"}
ROOT = Path(xlar.__file__).parent


def layer_of(module: str) -> str:
    first = module.split(".")[0]
    return TOP_LEVEL.get(first, first)


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_every_module_belongs_to_a_known_layer():
    for path in ROOT.rglob("*.py"):
        module = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        assert layer_of(module) in LAYERS, f"{module} is in no layer"


def test_layers_import_only_downwards():
    violations = []
    for path in ROOT.rglob("*.py"):
        own = layer_of(path.relative_to(ROOT).with_suffix("").as_posix().replace("/", "."))
        for name in imports(path):
            if name.startswith("xlar."):
                other = layer_of(name.removeprefix("xlar."))
                if LAYERS.index(other) > LAYERS.index(own):
                    violations.append(f"{path.relative_to(ROOT)} ({own}) imports {name} ({other})")
            elif own == "domain" and name.split(".")[0] in INFRASTRUCTURE:
                violations.append(f"{path.relative_to(ROOT)} (domain) imports {name}")
    assert violations == []


def test_the_check_itself_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from xlar.services import matching\nimport sqlalchemy\n")
    assert {"xlar.services", "sqlalchemy"} <= imports(bad)
    assert LAYERS.index(layer_of("services.matching")) > LAYERS.index("store")
