"""Settings files for tests that run the daemon against the test servers."""

from __future__ import annotations

from typing import Any


def real_servers_toml(db_url: str, imap: Any, smtp: Any, *,
                      from_address: str = "complaints@example.org", extra: str = "") -> str:
    """A complaintd.toml for the test database, a Dovecot account and the aiosmtpd server."""
    return f"""
[storage]
data_dir = "var"
database_url = "{db_url}"
[[mailbox]]
kind = "imap"
name = "reporting"
host = "{imap.host}"
port = {imap.port}
security = "plain"
username = "{imap.user}"
password = "{imap.password}"
[smtp]
transport = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "plain"
from_address = "{from_address}"
{extra}"""
