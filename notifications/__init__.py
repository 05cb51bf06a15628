"""Notifications: templates rendered into an outbox in the caller's transaction, and a
sender that drains the outbox over SMTP (or into files) exactly once."""
