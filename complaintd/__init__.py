"""complaintd: the service, its settings, the CLI and the scheduler (the composition root)."""

__version__ = "0.1.0"
