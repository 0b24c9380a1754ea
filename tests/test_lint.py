"""The code keeps the project's lint rules (ruff) and its types (mypy --strict over the whole
package): the test suite, and so CI, fails on a finding, and names it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing_in_the_package_its_tests_and_benchmarks():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "xlar", "tests", "bench"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_itself_sees_a_finding(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n", encoding="utf-8")   # an unused import
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
                           str(bad)], capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "F401" in done.stdout


def test_mypy_strict_finds_nothing_in_the_package():
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def unexplained_ignores(text: str) -> list[int]:
    """Lines of TEXT whose `type: ignore` names no error code or gives no reason after it."""
    return [n for n, line in enumerate(text.splitlines(), start=1)
            if (found := IGNORE.search(line)) and not (found["codes"] and re.match(r"\s+#\s*\S", found["rest"]))]


def test_every_type_ignore_names_its_error_and_says_why():
    assert unexplained_ignores("x = f()  # type: ignore[arg-type]  # f is untyped\n") == []
    assert unexplained_ignores("x = f()  # type: ignore[arg-type]\ny = g()  # type: ignore  # why\n") == [1, 2]
    found = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "xlar").rglob("*.py"))
             for n in unexplained_ignores(path.read_text(encoding="utf-8"))]
    assert found == []
