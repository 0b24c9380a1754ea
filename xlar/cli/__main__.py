"""`python -m xlar.cli`: the `xlar` command."""

from xlar.cli import main

main()
