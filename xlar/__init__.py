"""xlar: accounts receivable for accountants who live in Excel.

Layers, lowest first (each imports only the ones before it; tests/test_layers.py checks):
domain, schema, store, workbook, services, reports, sync, excel, cli.
"""

__version__ = "0.1.0"
