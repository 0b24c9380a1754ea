"""What a ribbon button does, for every face: the add-in in Excel, `xlar excel run` and the tests.

An action runs on a Session (the workbook through a WorkbookGateway, the store, the user, the
date and a Ui to ask) and returns an Outcome: done, cancelled or refused, what the accountant
is told and what was counted. The faces only show it: Excel in a dialog (xlar.excel.actions),
the CLI on the terminal with its exit code.
"""
