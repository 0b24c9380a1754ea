"""Every `xlar …` command README.md and docs/*.md show runs as shown.

The commands are taken from the ```bash (and plain ```) blocks and from inline `xlar …` code
in the prose; each runs with the installed `xlar` program, in a fresh copy of a prepared
folder: the demo company (made once, `xlar demo`) as ./xlar-demo, and its store and workbook
also as ./xlar.db, ./AR.xlsx and ./ar.db, a bank statement and an opening-balance file.
Optional parts `[…]` are left out, `a|b` takes `a`, and the placeholders of PLACEHOLDERS get
a real value. A command exits 0, or the code EXPECTED gives with the reason; never a traceback.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank"
XLAR = Path(sys.executable).with_name("xlar")
THROUGH = "2026-11-20"      # the demo's last day: the docs' dates (2026-10, 2026-09-30) fall in it

FENCE = re.compile(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`(xlar [^`]+)`")
PROGRAM = re.compile(r"^(?:\S*[/\\])?xlar$")     # xlar, .venv/bin/xlar, %USERPROFILE%\xlar\Scripts\xlar

PLACEHOLDERS = {     # a documented placeholder -> the value it gets here
    "DATE": "2026-10-31", "D": "2026-10-31", "NAME": "aging", "C": "C001", "S": "王芳", "DIR": "out",
    "FILE.xlsx": "report.xlsx", "<tag>": "sync", "STARTUP_FOLDER": "XLSTART", "983:e2c9…": "{anchor}",
}
SYNOPSES = {         # a line that shows alternatives side by side -> the commands it stands for
    "xlar statement C001 C002 | --all [--from D --to D | --cycle 2026-10] [--format pdf|xlsx] -o DIR": [
        "xlar statement C001 C002 -o out", "xlar statement --all --cycle 2026-10 --format xlsx -o out"],
    "xlar excel install | uninstall | status [--dir STARTUP_FOLDER]": [
        "xlar excel install --dir XLSTART", "xlar excel status --dir XLSTART", "xlar excel uninstall --dir XLSTART"],
}
MENTIONS = {         # inline code that names a command in a sentence, without its arguments
    "xlar report": "the report command family (`xlar report NAME` is run from README)",
    "xlar sync": "the command killed by the reliability harness (`xlar sync AR.xlsx` is run from README)",
    "xlar close": "how periods move (`xlar close --period 2026-10` is run from README)",
    "xlar close --reopen": "who may reopen (`… close --period 2026-10 --reopen --reason …` is run from README)",
    "xlar audit accept": "who may accept (`xlar --user zhao.min audit accept` is run from docs/roles.md)",
}
NOT_HERE = {         # commands that cannot run on this machine, and why
    "xlar --store postgresql://owner@db/ar --user zhao.admin …":
        "a PostgreSQL server `db` with the roles docs/roles.md creates; `…` is whatever the admin does",
}
EXPECTED = {         # a command whose outcome on the demo is a refusal: (exit code, what it says)
    "xlar close --period 2026-10": (1, "2026-10 is already closed"),   # the demo closes Sep and Oct
    "xlar revalue --period 2026-10": (1, "in period 2026-10 which is closed"),
    "xlar invoice void INV-2026-00007 --reason \"wrong price\"": (1, "in period 2026-09 which is closed"),
    "xlar invoice reissue INV-2026-00007 --reason \"wrong price\"": (1, "in period 2026-09 which is closed"),
    "xlar invoice post DRAFT-12 DRAFT-13": (1, "is already approved"),   # the demo has no drafts
    "xlar receipt approve RC-2026-00012": (1, "only a confirmed (posted) receipt can be approved"),
    "xlar refund RC-2026-00012": (1, "amount 0.00 must be positive"),    # nothing unapplied on it
    "xlar write-off INV-2026-00031 --amount 3.50 --reason BANK_FEE": (1, "over the tolerance 0"),   # approvers
    "xlar net V001": (1, "unknown customer 'V001'"),                       # no customer-vendor in the demo
    "xlar bank resolve 42 --customer C001": (1, "no bank line 42"),
    "xlar void WO-2026-00002 --reason \"fee refunded\"": (1, "no document 'WO-2026-00002'"),
}
EXCEL_FOLDER = ("xlar excel install", "xlar excel status", "xlar excel uninstall")   # given --dir XLSTART here
PDF_COMMANDS = ("xlar statement", "xlar collections letters")


def commands_in(path: Path) -> list[str]:
    """The `xlar …` commands of a document, as written (continuations joined, comments cut)."""
    text = path.read_text(encoding="utf-8")
    found = []
    for lang, body in FENCE.findall(text):
        if lang not in ("", "bash", "sh"):
            continue
        for line in body.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            for part in re.split(r"\s*(?:&&|;)\s*", line):
                words = part.split(maxsplit=1)
                if words and PROGRAM.match(words[0]):
                    found.append(" ".join(["xlar", *words[1:]]))
    found += [m.group(1) for m in INLINE.finditer(FENCE.sub("", text))]
    return [" ".join(c.split()) for c in found]


def runnable(command: str) -> list[str]:
    """COMMAND as it runs here: SYNOPSES spelled out, optional parts left out, the first of
    alternatives, placeholders filled in."""
    if command in SYNOPSES:
        return SYNOPSES[command]
    if command.startswith(EXCEL_FOLDER) and "--dir" not in command:
        command += " --dir XLSTART"   # Excel's startup folder, which Linux has not: a folder as the tests'
    plain = re.sub(r"\s*\[[^\]]*\]", "", command)
    plain = " ".join(PLACEHOLDERS.get(w, w.split("|")[0] if "|" in w and "://" not in w else w)
                     for w in plain.split())
    return [plain]


def documented() -> dict[str, str]:
    """Each command to run -> where the docs show it (first place)."""
    found: dict[str, str] = {}
    for path in DOCS:
        for command in commands_in(path):
            if command in MENTIONS or command in NOT_HERE:
                continue
            for each in runnable(command):
                found.setdefault(each, f"{path.name}: {command}")
    return found


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """The folder each command gets a copy of, and the environment it runs in."""
    folder = tmp_path_factory.mktemp("docs") / "prepared"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XLAR_")}
    # the documents quote the English messages; the demo book is zh-CN, whose messages are Chinese unless asked
    env.update(XLAR_CONFIG=str(folder.parent / "config" / "xlar.conf"), XLAR_USER="demo", NO_COLOR="1",
               XLAR_LOCALE="en")
    made = subprocess.run([XLAR, "demo", "xlar-demo", "--through", THROUGH], cwd=folder, env=env,
                          capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    for name in ("xlar.db", "AR.xlsx"):
        shutil.copy(folder / "xlar-demo" / name, folder / name)
    shutil.copy(folder / "xlar.db", folder / "ar.db")
    shutil.copy(BANK / "camt053_v02_abnamro_oca.xml", folder / "statement.xml")
    shutil.copy(BANK / "mt940_abnamro.sta", folder / "statement.sta")
    (folder / "old-system.csv").write_text("Customer,Original number,Date,Due date,Currency,Amount,Open amount\n"
                                           "C001,OLD-1,2026-11-02,2026-12-02,CNY,100.00,40.00\n", encoding="utf-8")
    head = subprocess.run([XLAR, "audit", "verify"], cwd=folder, env=env, capture_output=True, text=True,
                          check=False)
    anchor = re.search(r"head (\d+:[0-9a-f]{64})", head.stdout)
    assert anchor, head.stdout + head.stderr
    return folder, env, anchor.group(1)


def test_the_docs_show_commands_and_every_special_case_is_still_in_them():
    shown = {c for path in DOCS for c in commands_in(path)}
    assert len(shown) > 40
    for listed in (*SYNOPSES, *MENTIONS, *NOT_HERE):
        assert listed in shown, f"{listed!r} is no longer in the docs: update this test"
    runs = documented()
    for listed in EXPECTED:
        assert listed in runs, f"{listed!r} is no longer run: update EXPECTED"


def run_one(prepared, number: int, command: str, tmp: Path) -> tuple[str, subprocess.CompletedProcess]:
    folder, env, anchor = prepared
    where = tmp / f"c{number}"
    shutil.copytree(folder, where, ignore=lambda _at, names: [n for n in ("xlar-demo", "ar.db")
                                                              if n in names and n not in command])
    args = shlex.split(command.replace("{anchor}", anchor))
    if command.startswith(PDF_COMMANDS) and not _cjk_font():
        args.append("--locale=en")   # a zh-CN paper needs a font with Chinese glyphs (XLAR_PDF_FONT)
    done = subprocess.run([str(XLAR), *args[1:]], cwd=where, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    return command, done


def _cjk_font() -> bool:
    from xlar.reports.pdf_fonts import find_cjk_font

    return find_cjk_font() is not None


def test_every_documented_command_runs(prepared, tmp_path):
    runs = documented()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda item: run_one(prepared, item[0], item[1], tmp_path), enumerate(runs)))
    failures = []
    for command, done in results:
        output = done.stdout + done.stderr
        code, says = EXPECTED.get(command, (0, ""))
        if done.returncode != code or says not in output or "Traceback" in output:
            failures.append(f"{runs[command]}\n  ran: {command}\n  exit {done.returncode} (want {code})\n"
                            + "\n".join(f"  | {line}" for line in output.splitlines()[-6:]))
    print(f"{len(results)} documented commands run")
    assert not failures, "\n".join(failures)
