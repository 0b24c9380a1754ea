"""The `xlar` command: thin click commands over the services, one module per area of work."""

from xlar.cli import addin, book, close, ledger, reports  # noqa: F401  (each adds its commands to main)
from xlar.cli.base import main

__all__ = ["main"]
