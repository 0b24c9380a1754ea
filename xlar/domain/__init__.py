"""Pure AR core: money, payment terms, documents, open items, allocation and aging.

Only `Decimal`, `date` and plain records; nothing here touches a database, a workbook
or the clock. Every other layer builds on these definitions.
"""
