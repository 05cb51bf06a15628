"""Shared fixtures live in tests/fixtures/, one module per real server or resource."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.dovecot",
    "tests.fixtures.smtp",
    "tests.fixtures.web",
]
