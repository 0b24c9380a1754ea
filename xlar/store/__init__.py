"""The book of record: SQLAlchemy tables, connections, migrations and set-based ledger SQL.

Money is stored as integers in the currency's minor unit; exact decimals that are not
money (rates, quantities, prices) as decimal text. SQLite by default, PostgreSQL by URL.
"""
