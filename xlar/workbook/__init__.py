"""Reading and writing workbook sheets as records and issues (issue 3)."""
