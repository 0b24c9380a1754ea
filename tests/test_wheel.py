"""The install docs/excel.md describes works: a wheel built from the checkout (`pip wheel`, what
`python -m build --wheel` also makes) carries the add-in's sources, installs into a new venv
(dependencies from the package index or pip's cache), and that venv's `xlar excel build`, run
from a folder outside the checkout, writes an add-in with its ribbon and all its VBA modules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.vba import decoded_modules
from xlar.addin import build as addin

pytestmark = pytest.mark.slow   # a new venv and xlar's dependencies: about a minute with pip's cache

CHECKOUT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "xlar", "macros")   # what the wheel is built from


def run(*command: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=900)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel of a copy of the checkout, its symlink xlar/addin/macros -> macros/ kept (a build
    leaves build/ and egg-info behind; stale files in a checkout's build/ would end up in the wheel)."""
    tree = tmp_path_factory.mktemp("tree")
    for name in SOURCES:
        source = CHECKOUT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(source, tree / name)
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", out, tree, cwd=tree)
    (found,) = out.glob("xlar-*.whl")
    return found


@pytest.fixture(scope="session")
def venv(wheel, tmp_path_factory) -> Path:
    """A new venv with the wheel installed, as a user installs it; its bin (Scripts) folder."""
    root = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", root, cwd=root)
    scripts = root / ("Scripts" if sys.platform == "win32" else "bin")
    run(scripts / "python", "-m", "pip", "install", "--quiet", wheel, cwd=root)
    return scripts


def test_the_wheel_carries_the_addin_sources(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        packaged = {n.removeprefix("xlar/addin/macros/"): z.read(n) for n in names if n.startswith("xlar/addin/macros/")}
    assert "xlar/py.typed" in names and "xlar/store/migrations/script.py.mako" in names
    assert packaged == {p.name: p.read_bytes() for p in (CHECKOUT / "macros").iterdir()}


def test_the_installed_xlar_builds_the_addin_outside_the_checkout(venv, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = run(venv / "python", "-c", "import xlar.addin.build as a; print(a.__file__); print(a.macros_dir())",
                cwd=work).split()
    assert all(Path(p).is_relative_to(venv.parent) for p in where), where   # the installed copy, not the checkout
    run(venv / "xlar", "excel", "build", "-o", "tmp/xlar.xlam", cwd=work)
    built = work / "tmp" / "xlar.xlam"
    with zipfile.ZipFile(built) as z:
        assert f'Type="{addin.UI_REL}" Target="customUI/customUI14.xml"' in z.read("_rels/.rels").decode()
        assert z.read("customUI/customUI14.xml") == (CHECKOUT / "macros" / "customUI14.xml").read_bytes()
        assert "xl/vbaProject.bin" in z.namelist()
    modules = decoded_modules(built)
    assert set(modules) == {"ThisWorkbook", "Sheet1", "XlarRibbon", "xlwings", "xlwings_udfs", "Dictionary"}
    assert modules["XlarRibbon"] == (CHECKOUT / "macros" / "XlarRibbon.bas").read_bytes().decode("ascii")
    assert "Function AR_BALANCE(customer, Optional as_of, Optional in_currency)" in modules["xlwings_udfs"]
