"""Alembic migrations of the store (run by `xlar init`, never by hand)."""
