"""Alembic migrations of the complaintd schema (``complaintd db upgrade`` runs them)."""
