"""Each layer imports only the layers below it, and never what layers.toml forbids it (the
domain no infrastructure, the CLI not the Excel layer, ...): the pairs are read from that file."""

import ast
import tomllib
from pathlib import Path

import xlar

ROOT = Path(xlar.__file__).parent
RULES = tomllib.loads((ROOT.parent / "layers.toml").read_text(encoding="utf-8"))
LAYERS: list[str] = RULES["order"]
TOP_LEVEL: dict[str, str] = RULES["top_level"]


def layer_of(module: str) -> str:
    first = module.split(".")[0]
    return TOP_LEVEL.get(first, first)


def imports(path: Path, *, run_time: bool = False) -> set[str]:
    """What PATH imports: `import a.b` as a.b, `from a import b` as a and a.b (b may be a module);
    RUN_TIME: not what it imports under `if TYPE_CHECKING:` (a type checker alone reads those)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in _run_time(tree) if run_time else ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def modules() -> list[tuple[str, str, set[str]]]:
    """(path in xlar/, layer, what it imports: layers of xlar, top-level names of the rest)."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        names = {layer_of(n.removeprefix("xlar.")) if n.startswith("xlar.") else n.split(".")[0]
                 for n in imports(path)}
        found.append((where, layer_of(where.removesuffix(".py").replace("/", ".")), names))
    return found


def forbidden_imports(found: list[tuple[str, str, set[str]]], rules: dict[str, list[str]]) -> set[str]:
    """'module -> name' for every import FOUND that RULES (layer or module -> names) forbid."""
    return {f"{where} -> {name}" for where, layer, names in found
            for name in names & {*rules.get(layer, ()), *rules.get(where, ())}}


def test_the_rules_name_only_layers_and_modules_that_exist():
    found = {where for where, _layer, _names in modules()}
    assert set(TOP_LEVEL.values()) <= set(LAYERS)
    assert [k for k in RULES["forbidden"] if k not in LAYERS and k not in found] == []
    assert [k for k in RULES["known"] if k.split(" -> ")[0] not in found] == []


def test_every_module_belongs_to_a_known_layer():
    assert [where for where, layer, _names in modules() if layer not in LAYERS] == []


def test_layers_import_only_downwards():
    violations = [f"{where} ({layer}) imports {name}" for where, layer, names in modules()
                  for name in names if name in LAYERS and LAYERS.index(name) > LAYERS.index(layer)]
    assert violations == []


def test_no_import_the_file_forbids_but_those_it_knows_of():
    found = forbidden_imports(modules(), RULES["forbidden"])
    known = set(RULES["known"])
    assert sorted(found - known) == [], "forbidden by layers.toml"
    assert sorted(known - found) == [], "gone from the code: take them off layers.toml's [known]"


def module_graph() -> dict[str, set[str]]:
    """Each module of xlar -> the modules of xlar it imports, at the top or inside a function."""
    dotted = {path: path.relative_to(ROOT.parent).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
              for path in sorted(ROOT.rglob("*.py"))}
    names = set(dotted.values())
    return {own: {name for name in imports(path, run_time=True) if name in names and name != own}
            for path, own in dotted.items()}


def _run_time(tree: ast.AST) -> list[ast.AST]:
    """TREE's nodes but those under `if TYPE_CHECKING:` (imports a type checker alone reads)."""
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            todo += node.orelse
            continue
        todo += ast.iter_child_nodes(node)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_import_cycle_but_those_the_file_knows_of():
    """Modules that import each other, even through an import inside a function, are one
    module in two files: the file lists the ones still there and what removes them."""
    found = [" ".join(group) for group in cycles(module_graph())]
    known = list(RULES["cycles"])
    assert sorted(set(found) - set(known)) == [], "import cycles"
    assert sorted(set(known) - set(found)) == [], "gone from the code: take them off layers.toml's [cycles]"


def test_the_check_itself_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from xlar.services import matching\nimport sqlalchemy.orm\n")
    assert {"xlar.services", "sqlalchemy.orm"} <= imports(bad)
    assert LAYERS.index(layer_of("services.matching")) > LAYERS.index("store")
    found = [("domain/bad.py", "domain", {"services", "sqlalchemy"}), ("cli.py", "cli", {"excel", "store"})]
    assert forbidden_imports(found, RULES["forbidden"]) == {"domain/bad.py -> sqlalchemy", "cli.py -> excel"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    seen = [n.names[0].name for n in _run_time(ast.parse("if TYPE_CHECKING:\n    import a\nimport b\n"))
            if isinstance(n, ast.Import)]
    assert seen == ["b"]
