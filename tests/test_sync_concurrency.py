"""Two sync processes started at the same moment against one store: both finish, nothing lost."""

import subprocess
import sys
from datetime import date

from tests.sheets import add_rows, read
from xlar.reports import ledger as reports
from xlar.sync.engine import sync_workbook
from xlar.workbook.template import build_template


def test_two_syncs_at_the_same_moment_both_complete(backend, tmp_path):
    with backend.store() as store:
        url = store.url
        books = []
        for who in ("alice", "bob"):
            path = build_template(tmp_path / f"{who}.xlsx", "en")
            add_rows(path, "Customers", [{"code": f"{who.upper()}{i}", "name": f"{who} {i}", "currency": "CNY"}
                                         for i in range(30)])
            add_rows(path, "Invoices", [{"number": f"{who}-{i}", "date": date(2026, 3, 1 + i % 28),
                                         "customer": f"{who.upper()}{i}", "status": "posted"} for i in range(30)])
            add_rows(path, "InvoiceLines", [{"invoice": f"{who}-{i}", "line": 1, "item": "X", "qty": 1,
                                             "unit_price": 10 + i} for i in range(30)])
            books.append((who, path))
        procs = [subprocess.Popen([sys.executable, "-m", "xlar.cli", "--store", url, "--user", who, "sync",
                                   str(path), "--as-of", "2026-03-31"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for who, path in books]
        results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
        for out, err, code in results:
            assert code == 0, (out, err)
            assert "30 Customers added" in out and "30 Invoices added" in out
        for who, path in books:
            sync_workbook(path, store, who, as_of=date(2026, 3, 31))
            assert len(read(path, "Customers")) == 60 and len(read(path, "Invoices")) == 60
        with store.read() as conn:
            balances = reports.balances(conn, date(2026, 3, 31))
        assert len(balances) == 60
        numbers = [r["Invoice no."] for r in read(books[0][1], "Invoices")]
        assert len(set(numbers)) == 60 and all(n.startswith("INV-2026-") for n in numbers)
