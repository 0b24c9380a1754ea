"""Malformed opening-balance files (`xlar import opening`), CSV and xlsx, imported into a store.

Each file holds good rows of customer OBC around one bad row (or bad header, or is damaged
whole). A good row is its original number and open amount, found among the store's
opening-balance documents after the import; bad rows must come back as issues.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from tests.reliability.badvalues import (
    CELL_KINDS,
    TEXT_VALUES,
    XCell,
    day,
    long_string,
    num,
    shown,
    text,
)
from tests.reliability.fuzz_bank import BILLION_LAUGHS, XXE
from tests.reliability.judge import Found, Outcome, judge
from tests.reliability.xlsx import minimal_sheet, write_minimal
from xlar.domain.customers import Customer
from xlar.domain.money import to_minor
from xlar.schema.sheets import OPENING_BALANCES
from xlar.services.customers import save_customer
from xlar.services.opening import import_opening
from xlar.store.engine import Store
from xlar.store.tables import documents

USER = "fuzz"
CUSTOMER = "OBC"
COLUMNS = OPENING_BALANCES.columns
KINDS = ("wrong_type", "missing_header", "duplicated_header", "merged_cells", "formula", "error_value",
         "long_text", "huge_number", "negative_number", "pre_1900_date", "unknown_enum", "control_chars",
         "structure", "wrong_encoding", "truncated", "random_bytes", "entity_bomb")


@dataclass(frozen=True, slots=True)
class OpeningInput:
    case: str
    path: Path
    numbers: tuple[str, ...]       # the good rows' original numbers
    good: frozenset[str]           # "number|open amount in minor units"


def _good(number: str, i: int) -> dict[str, str]:
    amount = f"{100 + i}.{(i * 7) % 100:02d}"
    return {"customer": CUSTOMER, "number": number, "date": "2025-12-01", "due_date": "2025-12-31",
            "currency": "", "fx_rate": "", "amount": amount, "open_amount": amount, "memo": "taken over"}


def _key(row: dict[str, str]) -> str:
    return f"{row['number']}|{to_minor(Decimal(row['open_amount']), 'CNY')}"


def _labels(rng: random.Random) -> list[str]:
    zh = rng.random() < 0.5
    return [col.zh if zh else col.en for col in COLUMNS]


def _header(rng: random.Random, kind: str) -> tuple[list[str], list[str], str]:
    """(keys, labels, detail) of the header row, damaged for the header kinds."""
    keys, labels = [col.key for col in COLUMNS], _labels(rng)
    if kind == "missing_header":
        gone = rng.randrange(len(keys))
        return keys[:gone] + keys[gone + 1:], labels[:gone] + labels[gone + 1:], f"no {labels[gone]!r} column"
    if kind == "duplicated_header":
        twice = rng.randrange(len(keys))
        return [*keys, keys[twice]], [*labels, labels[twice]], f"{labels[twice]!r} twice"
    return keys, labels, kind


def opening_input(rng: random.Random, kind: str, tag: str, folder: Path) -> OpeningInput:
    keys, labels, detail = _header(rng, kind)
    numbers = [f"OB-{tag}-{i}" for i in range(rng.randint(2, 5))]
    goods = [_good(n, i) for i, n in enumerate(numbers)]
    bad_at = rng.randrange(1, len(goods))
    as_csv = rng.random() < 0.5 or kind == "wrong_encoding"
    make = _csv_file if as_csv else _xlsx_file
    path, cut, said = make(rng, kind, keys, labels, goods, bad_at, folder / f"{tag}.{'csv' if as_csv else 'xlsx'}")
    good = [_key(g) for i, g in enumerate(goods) if cut is None or i < cut]
    required = {col.key for col in COLUMNS if col.required}
    if not required <= set(keys):
        good = []
    return OpeningInput(f"opening_{'csv' if as_csv else 'xlsx'} {kind}: {detail}; {said}", path,
                        tuple(numbers), frozenset(good))


def _csv_file(rng: random.Random, kind: str, keys: list[str], labels: list[str], goods: list[dict[str, str]],
              bad_at: int, path: Path) -> tuple[Path, int | None, str]:
    lines = [labels]
    said = ""
    for i, good in enumerate(goods):
        if i == bad_at:
            bad, said = _csv_bad(rng, kind, keys, int(path.stem.lstrip("o")) // len(KINDS))
            lines.append(bad)
        lines.append([good[k] for k in keys])
    out = io.StringIO()
    csv.writer(out, lineterminator=rng.choice(["\n", "\r\n"])).writerows(lines)
    body = out.getvalue()
    if said == "unclosed quote":
        body = body.replace("UNCLOSED", '"oops', 1)
    encoding = rng.choice(["utf-16", "latin-1", "shift_jis", "gbk", "utf-8-sig"]) if kind == "wrong_encoding" else "utf-8"
    data = body.encode(encoding, errors="replace")
    cut = None
    if kind == "truncated":
        at = rng.randrange(1, len(data))
        data, said = data[:at], f"cut at byte {at} of {len(data)}"
        cut = sum(1 for i in range(len(goods)) if _line_end(body, goods[i]) <= at)
    elif kind == "random_bytes":
        data = rng.randbytes(rng.randrange(1, 3000)) if rng.random() < 0.4 else data + rng.randbytes(40)
    path.write_bytes(data)
    return path, cut, said + (f" in {encoding}" if kind == "wrong_encoding" else "")


def _line_end(body: str, good: dict[str, str]) -> int:
    at = body.index(good["number"])
    return len(body[: body.index("\n", at) + 1].encode("utf-8"))


CSV_STRUCTURE = ("extra cells", "missing cells", "unclosed quote", "blank merged cells", "repeated header",
                 "quoted line break", "huge field")


def _csv_bad(rng: random.Random, kind: str, keys: list[str], turn: int) -> tuple[list[str], str]:
    row = _good("BAD-ROW", 99)
    if kind == "structure" or kind == "merged_cells":
        what = CSV_STRUCTURE[turn % len(CSV_STRUCTURE)] if kind == "structure" else "blank merged cells"
        cells = [row[k] for k in keys]
        return {"extra cells": [*cells, "x", "y", "z"], "missing cells": cells[:3],
                "unclosed quote": [*cells[:-1], "UNCLOSED"], "blank merged cells": ["", *cells[1:2], "", "", ""],
                "repeated header": list(keys), "quoted line break": [*cells[:-1], "two\nlines, one, cell"],
                "huge field": [*cells[:-1], "x" * 200_000]}[what], what
    key = rng.choice(keys)
    value = long_string(rng) if kind == "long_text" else rng.choice(
        TEXT_VALUES.get(kind, TEXT_VALUES["wrong_type"]) if kind not in ("wrong_encoding", "random_bytes")
        else ("Café Müller", "株式会社テスト", "Ærø"))
    row[key] = value
    return [row[k] for k in keys], f"{key}={value[:30]!r}"


def _xlsx_cells(good: dict[str, str], keys: list[str]) -> list[XCell | None]:
    values: dict[str, XCell | None] = {
        "customer": text(good["customer"]), "number": text(good["number"]), "date": day(date(2025, 12, 1)),
        "due_date": day(date(2025, 12, 31)), "amount": num(float(good["amount"])),
        "open_amount": num(float(good["open_amount"])), "memo": text(good["memo"])}
    return [values.get(k) for k in keys]


def _xlsx_file(rng: random.Random, kind: str, keys: list[str], labels: list[str], goods: list[dict[str, str]],
               bad_at: int, path: Path) -> tuple[Path, int | None, str]:
    rows: list[list[XCell | None]] = [[text(label) for label in labels]]
    merges: list[str] = []
    said = ""
    for i, good in enumerate(goods):
        if i == bad_at:
            bad = _xlsx_cells(_good("BAD-ROW", 99), keys)
            if kind == "merged_cells":
                merges.append(f"B{len(rows) + 1}:E{len(rows) + 1}")
                bad[2:5] = [None, None, None]
                said = f"merged {merges[-1]}"
            elif kind in CELL_KINDS:
                at = rng.randrange(len(keys))
                bad[at] = CELL_KINDS[kind](rng, COLUMNS[min(at, len(COLUMNS) - 1)].kind)
                said = f"{keys[at]}={shown(bad[at])}"   # type: ignore[arg-type]
            else:
                bad.extend([None] * 20 + [text("far")])
                said = "a cell far right"
            rows.append(bad)
        rows.append(_xlsx_cells(good, keys))
    prolog = ""
    if kind == "entity_bomb":
        prolog = rng.choice([BILLION_LAUGHS, XXE]).replace("Document", "worksheet")
        rows[1][0] = XCell("raw", "<is><t>&i;</t></is>")
        said = "entity declarations in the sheet"
    write_minimal(path, minimal_sheet(rows, merges, prolog))
    if kind in ("truncated", "random_bytes"):
        data = path.read_bytes()
        at = rng.randrange(1, len(data))
        path.write_bytes(data[:at] if kind == "truncated" else data[:at] + rng.randbytes(16) + data[at + 16:])
        said = f"{'cut' if kind == 'truncated' else 'overwritten'} at byte {at} of {len(data)}"
        return path, 0, said
    return path, None, said


def imported(store: Store, item: OpeningInput) -> Found:
    with store.write() as conn:
        result = import_opening(conn, item.path, USER)
        d = documents.c
        rows = conn.execute(sa.select(d.reference, d.amount_minor).where(d.reference.in_(item.numbers))).all()
    whole = next((str(i) for i in result.issues if i.code in ("XLAR-E121", "XLAR-E122")), None)
    return Found(frozenset(f"{ref}|{minor}" for ref, minor in rows), whole, tuple(i.message for i in result.issues))


def opening_outcomes(rng: random.Random, n: int, folder: Path,
                     stores: Callable[[], AbstractContextManager[Store]]) -> Iterator[Outcome]:
    folder.mkdir(parents=True, exist_ok=True)
    with stores() as store:
        with store.write() as conn:
            save_customer(conn, Customer(CUSTOMER, "Opening Co.", "CNY"), USER)
        for i in range(n):
            item = opening_input(rng, KINDS[i % len(KINDS)], f"o{i}", folder)
            yield judge(item.case, item.good, lambda item=item: imported(store, item))  # type: ignore[misc]
            item.path.unlink(missing_ok=True)
