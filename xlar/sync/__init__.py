"""Two-way sync between workbooks and the store (issue 3)."""
