"""Property: whatever an accountant copies, pastes, types over, sorts or deletes on the input
sheets, a sync never changes or deletes a store row the user did not edit (on both stores).

A store row X may change only when exactly one row carries X's _id and that row has X's key;
it may go only when no row carries X's _id; otherwise X stays exactly as it was."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sheets import add_rows
from xlar.schema.hashing import content_hash
from xlar.schema.sheets import INPUT_SHEETS
from xlar.sync.adapters import Context
from xlar.sync.engine import adapters, sync_workbook
from xlar.sync.identity import key_of
from xlar.workbook.template import build_template

AS_OF = date(2026, 3, 31)
SHEETS = ("Customers", "PaymentTerms", "FxRates", "Invoices", "Receipts")
SCHEMAS = {s.name: s for s in INPUT_SHEETS}
# values typed over a cell: valid ones mostly, so that edits go through, and a few that are not
TYPED = {"Code": ["K1", "K2", "C1", "X9"], "Name": ["Acme", "Beta", "新名称"], "Currency": ["CNY", "USD"],
         "Days": [10, 30, 45], "Rate": [7.1, 7.25], "Period": ["2026-02", "2026-03"],
         "Customer": ["C1", "C2", "C3"], "Memo": ["paid?", "check"], "Amount": [50, 100, 120],
         "Invoice no.": ["T9", "INV-2026-00001"], "Receipt no.": ["R9", "R1"], "Date": [date(2026, 3, 2)]}


def base_book(folder: Path) -> Path:
    path = build_template(folder / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": f"C{i}", "name": f"Customer {i}", "currency": "CNY"} for i in (1, 2, 3)])
    add_rows(path, "PaymentTerms", [{"code": "N30", "name": "net 30", "basis": "invoice_date", "days": 30},
                                    {"code": "N60", "name": "net 60", "basis": "invoice_date", "days": 60}])
    add_rows(path, "FxRates", [{"currency": "USD", "period": "2026-02", "rate": 7.2},
                               {"currency": "USD", "period": "2026-03", "rate": 7.3}])
    add_rows(path, "Invoices", [{"number": f"T{i}", "date": date(2026, 3, i), "customer": f"C{i}", "status": "draft"}
                                for i in (1, 2)])
    add_rows(path, "InvoiceLines", [{"invoice": f"T{i}", "line": 1, "item": "A", "qty": 1, "unit_price": 100}
                                    for i in (1, 2)])
    add_rows(path, "Receipts", [{"number": "R1", "date": date(2026, 3, 10), "customer": "C1", "amount": 100,
                                 "status": "draft"}])
    return path


ops = st.lists(st.tuples(st.sampled_from(["copy", "copy", "type", "delete", "swap"]), st.integers(0, 9),
                         st.integers(0, 9), st.sampled_from(["Code", "Name", "Customer", "Currency", "Period",
                                                             "Rate", "Days", "Memo", "Amount", "Invoice no.",
                                                             "Receipt no.", "Date"]), st.integers(0, 9)),
               min_size=1, max_size=5)


def edit(path: Path, sheet: str, steps: list[tuple[str, int, int, str, int]]) -> dict[int, list[tuple]]:
    """Apply STEPS to SHEET's rows as Excel would (hidden columns go with a copied or deleted
    row, not with a sort of the visible ones); returns _id -> the rows that carry it."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    rows = [list(r) for r in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]
    hidden = {header.index("_id"), header.index("_rev")}
    for op, a, b, column, pick in steps:
        if not rows:
            break
        i, j = a % len(rows), b % len(rows)
        if op == "copy":             # paste a copy below, and type over one of its cells
            rows.append(list(rows[i]))
            if column in header:
                rows[-1][header.index(column)] = TYPED[column][pick % len(TYPED[column])]
        elif op == "type" and column in header:
            rows[i][header.index(column)] = TYPED[column][pick % len(TYPED[column])]
        elif op == "delete":
            rows.pop(i)
        elif op == "swap":
            for c in range(len(header)):
                if c not in hidden:
                    rows[i][c], rows[j][c] = rows[j][c], rows[i][c]
    ws.delete_rows(2, ws.max_row)
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            ws.cell(r, c, value)
    wb.save(path)
    carriers: dict[int, list[tuple]] = {}
    for values in rows:
        row_id = values[header.index("_id")]
        if row_id not in (None, ""):
            carriers.setdefault(int(row_id), []).append(tuple(values))
    return carriers


def snapshot(store, sheet: str) -> dict[int, tuple[tuple[object, ...], str]]:
    adapter = next(a for a in adapters() if a.sheet.name == sheet)
    with store.read() as conn:
        rows = adapter.load(conn, Context.load(conn, "alice"))
    return {r.id: (key_of(adapter.sheet, r.values), content_hash(adapter.sheet, r.values)) for r in rows}


def shown_key(sheet: str, header: list[str], values: tuple) -> tuple[object, ...]:
    schema = SCHEMAS[sheet]
    return tuple(values[header.index(schema.by_key[k].en)] for k in schema.key)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sheet=st.sampled_from(SHEETS), steps=ops)
def test_no_store_row_the_user_did_not_edit_changes(backend, tmp_path_factory, sheet, steps):
    folder = tmp_path_factory.mktemp("identity")
    template = base_book(folder)
    with backend.store() as store:
        assert not [i for i in sync_workbook(template, store, "alice", as_of=AS_OF).issues if i.code.startswith("XLAR-E")]
        path = folder / "mine.xlsx"
        shutil.copyfile(template, path)
        before = snapshot(store, sheet)
        header = [c.value for c in openpyxl.load_workbook(path, read_only=True)[sheet][1]]
        carriers = edit(path, sheet, steps)
        sync_workbook(path, store, "alice", as_of=AS_OF)
        after = snapshot(store, sheet)
    for row_id, (key, digest) in before.items():
        held_by = carriers.get(row_id, [])
        if not held_by:
            assert row_id not in after or after[row_id] == (key, digest), f"{sheet} {key} changed with no row"
        elif len(held_by) == 1 and _same_key(shown_key(sheet, header, held_by[0]), key):
            assert row_id in after and after[row_id][0] == key, f"{sheet} {key} edited in place lost its key"
        else:
            assert after.get(row_id) == (key, digest), f"{sheet} {key} changed though the user did not edit it"


def _same_key(shown: tuple[object, ...], stored: tuple[object, ...]) -> bool:
    return [str(s).removesuffix(".0") for s in shown] == [str(s) for s in stored]
