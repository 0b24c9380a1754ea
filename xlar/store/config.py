"""The xlar config file: which store and which user, for the CLI and for Excel.

It is the same file the add-in's xlwings VBA reads its own keys from (the interpreter, the
UDF module), in xlwings' format: one `"KEY","value"` line per key. `xlar excel install`
writes it. Where it is: $XLAR_CONFIG, else the place xlwings' VBA looks for a custom
add-in called xlar: %USERPROFILE%\\.xlar\\xlar.conf on Windows, Excel's sandbox
~/Library/Containers/com.microsoft.Excel/Data/xlar.conf on a Mac, ~/.xlar/xlar.conf elsewhere.
"""

from __future__ import annotations

import csv
import getpass
import io
import os
import sys
from pathlib import Path

STORE_KEY = "XLAR_STORE"
USER_KEY = "XLAR_USER"
MAC_SANDBOX = Path("Library/Containers/com.microsoft.Excel/Data")
# VBA's `Input #` reads the ANSI code page on Windows (a Chinese user name in a path is cp936 there)
ENCODING = "mbcs" if sys.platform == "win32" else "utf-8"


def config_path() -> Path:
    """Where the config file is (it need not exist)."""
    given = os.environ.get("XLAR_CONFIG")
    if given:
        return Path(given).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / MAC_SANDBOX / "xlar.conf"
    return home / ".xlar" / "xlar.conf"


def parse_config(text: str) -> dict[str, str]:
    """Keys (upper case) -> values of a config text; a key's first line wins, as in VBA's reader."""
    found: dict[str, str] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 2 and row[0].strip():
            found.setdefault(row[0].strip().upper(), row[1])
    return found


def format_config(values: dict[str, str]) -> str:
    """Config text VBA's `Input #` reads back: quoted key and value per line (CRLF)."""
    for key, value in values.items():
        if '"' in key or '"' in value:
            raise ValueError(f"config {key}: a double quote cannot be written in xlwings' format")
    return "".join(f'"{key}","{value}"\r\n' for key, value in values.items())


def read_config(path: Path | None = None) -> dict[str, str]:
    """The config file's keys, or nothing when there is no file."""
    path = path or config_path()
    try:
        return parse_config(path.read_text(encoding=ENCODING))
    except FileNotFoundError:
        return {}


def write_config(values: dict[str, str], path: Path | None = None) -> Path:
    """Write VALUES over the config file's keys (others kept); returns the file."""
    path = path or config_path()
    merged = read_config(path) | {k.upper(): v for k, v in values.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(format_config(merged).encode(ENCODING))
    return path


def configured(key: str) -> str | None:
    """KEY from the environment, else from the config file; None when neither has it."""
    return os.environ.get(key) or read_config().get(key) or None


def acting_user(given: str | None = None) -> str:
    """Who is acting: GIVEN (--user), else XLAR_USER (environment, then the config file), else
    the login name. A book with `authentication = database` checks it against the database
    login (store.roles)."""
    return given or configured(USER_KEY) or os.environ.get("USER") or getpass.getuser()
