"""One declaration per sheet: columns, types, zh-CN/en labels and validation (issue 3)."""
