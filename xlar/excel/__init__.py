"""xlwings UDFs and ribbon actions: thin calls into services (issue 8)."""
