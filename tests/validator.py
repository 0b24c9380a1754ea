"""Microsoft's Open XML SDK validator (npm @ooxml-tools/validate, in tests/ooxml/) as the stand-in
for Excel: what it reports is what Excel "repairs" or refuses. Node runs it; the package is
installed from tests/ooxml/package-lock.json on first use. Without Node the tests skip, except
under XLAR_REQUIRE_OOXML=1 (set by .ci/run), where a file that cannot be validated fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

FOLDER = Path(__file__).parent / "ooxml"
PACKAGE = FOLDER / "node_modules" / "@ooxml-tools" / "validate"


def _unavailable(why: str) -> None:
    if os.environ.get("XLAR_REQUIRE_OOXML"):
        pytest.fail(f"the Open XML SDK validator is required here (XLAR_REQUIRE_OOXML): {why}")
    pytest.skip(why)


def _ready() -> str:
    node = shutil.which("node")
    if node is None:
        _unavailable("Node.js is not installed (apt-get install nodejs npm)")
    if not PACKAGE.is_dir():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not installed (apt-get install npm)")
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FOLDER,
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0 or not PACKAGE.is_dir():
            _unavailable(f"npm ci in {FOLDER} failed: {done.stderr.strip()[-500:]}")
    return node  # type: ignore[return-value]


def validate(paths: Sequence[Path]) -> dict[str, list[dict] | str]:
    """Each file's validation errors (a list), or why it could not be validated (a string)."""
    node = _ready()
    done = subprocess.run([node, str(FOLDER / "validate.mjs"), *map(str, paths)], capture_output=True,
                          text=True, timeout=60 + 30 * len(paths), check=False)
    if done.returncode != 0:
        pytest.fail(f"the validator failed: {done.stderr.strip()[-1000:]}")
    return json.loads(done.stdout)


def summary(results: dict[str, list[dict] | str], root: Path | None = None) -> str:
    """One line per file with errors: the file, the count, and the commonest error with its place."""
    lines = []
    for path, errors in results.items():
        name = str(Path(path).relative_to(root)) if root and Path(path).is_relative_to(root) else path
        if isinstance(errors, str):
            lines.append(f"{name}: {errors}")
        elif errors:
            common = Counter((e["path"]["partUri"], e["path"]["xpath"], e["description"]) for e in errors)
            (part, xpath, what), n = common.most_common(1)[0]
            lines.append(f"{name}: {len(errors)} error(s), e.g. {n}x {part} {xpath}: {what}")
    return "\n".join(lines)


def assert_valid(paths: Sequence[Path], root: Path | None = None) -> None:
    results = validate(paths)
    assert set(results) == {str(p) for p in paths}
    assert not summary(results, root), summary(results, root)
