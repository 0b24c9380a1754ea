"""The Excel add-in as a file: xlar.xlam built from macros/ (its VBA project, ribbon and
settings), installed in Excel's startup folder. Nothing here runs inside Excel (xlar.excel does)."""
