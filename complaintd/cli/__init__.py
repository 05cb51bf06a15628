"""The ``complaintd`` command (``main``) and its subcommands, one module per group."""

from complaintd.cli.main import main

__all__ = ["main"]
