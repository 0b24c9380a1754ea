"""Rendering workbooks with headless LibreOffice, as a person would open them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def to_pdf(workbook: Path, out: Path) -> Path:
    """Convert WORKBOOK to PDF in OUT; skip (or fail where required) without LibreOffice."""
    pdf = converted(workbook, out, "pdf")
    assert pdf.stat().st_size > 1000
    return pdf


def require_carlito() -> None:
    """Carlito (Calibri's metric twin) is what lays columns out as Excel does; without it
    LibreOffice falls back to a wider font and breaks pages elsewhere."""
    found = subprocess.run(["fc-list"], check=False, capture_output=True, text=True).stdout
    if "carlito" not in found.lower():
        if os.environ.get("XLAR_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("the Carlito font is required here (apt-get install fonts-crosextra-carlito)")
        pytest.skip("the Carlito font is not installed")


def converted(workbook: Path, out: Path, fmt: str) -> Path:
    """WORKBOOK converted by LibreOffice to FMT (pdf, ods, xlsx) in OUT; skip (or fail where
    required) without LibreOffice."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("XLAR_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("LibreOffice is required here (apt-get install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice not installed")
    run = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{out / 'lo-profile'}", "--headless", "--convert-to", fmt,
         "--outdir", str(out), str(workbook)],
        check=False, capture_output=True, text=True, timeout=300)
    result = out / f"{workbook.stem}.{fmt}"
    assert run.returncode == 0 and result.exists(), run.stderr
    return result
