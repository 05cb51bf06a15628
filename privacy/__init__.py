"""Personal-information duties (PIPL): retention, a person's rights (export, correction,
erasure), and the audit of who saw which case. Reads and writes casework's tables and the
outbox's copies of mail; the composition root schedules the purge and the CLI calls the rest."""
