"""Files from other systems read into the domain's records: bank statements (MT940, camt.053,
CSV) and the opening balances of the system a book replaces."""
