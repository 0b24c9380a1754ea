"""Ledger services: each a plain function taking an open connection (one transaction)
and the acting user; the CLI, the ribbon, sync and the tests all call these."""
