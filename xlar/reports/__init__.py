"""Reports: one set-based statement each, shaped into rows of Decimal at the end."""
