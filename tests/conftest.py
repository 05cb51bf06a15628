"""Shared fixtures live in tests/fixtures/, one module per real server or resource."""

import os
import secrets

# Every installation the tests build signs reply tokens; a test of the missing key removes it.
os.environ.setdefault("COMPLAINTD_THREAD_KEY", secrets.token_hex(32))

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.dovecot",
    "tests.fixtures.smtp",
    "tests.fixtures.web",
    "tests.fixtures.browser",
]
