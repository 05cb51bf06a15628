"""Signing in to an IMAP mailbox: a password, or an OAuth 2.0 bearer token.

Tokens come from a configured command (its stdout), a file (refreshed by some other
tool), or Microsoft 365 app-only sign-in (client credentials through msal, an optional
extra). imapclient builds the SASL XOAUTH2 / OAUTHBEARER (RFC 7628) strings.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

M365_SCOPE = "https://outlook.office365.com/.default"


class SignInError(RuntimeError):
    """No usable credentials (a failing token command, an empty token file, ...)."""


class TokenSource(Protocol):
    def token(self) -> str: ...


@dataclass(frozen=True)
class CommandToken:
    """A token printed by a command (e.g. ``oauth2l fetch`` or a vault client)."""

    command: str
    timeout: float = 30.0

    def token(self) -> str:
        try:
            done = subprocess.run(shlex.split(self.command), capture_output=True, text=True,
                                  timeout=self.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SignInError(f"token command failed: {type(exc).__name__}") from exc
        if done.returncode != 0:
            raise SignInError(f"token command exited with status {done.returncode}")
        return _non_empty(done.stdout, "token command printed no token")


@dataclass(frozen=True)
class FileToken:
    path: Path

    def token(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SignInError(f"token file {self.path}: {exc.strerror}") from exc
        return _non_empty(text, f"token file {self.path} is empty")


def _non_empty(text: str, problem: str) -> str:
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise SignInError(problem)
    return token


class M365Token:
    """Microsoft 365 app-only sign-in (client credentials) through msal.

    NOT RUN IN TESTS beyond construction: it needs Entra ID on the network. ``factory``
    is msal's ``ConfidentialClientApplication`` unless a test passes its own.
    """

    def __init__(self, tenant_id: str, client_id: str, client_secret: str,
                 factory: Callable[..., Any] | None = None) -> None:
        if factory is None:
            try:
                import msal
            except ImportError as exc:
                raise SignInError("auth = m365 needs msal: pip install 'complaintd[m365]'") \
                    from exc
            factory = msal.ConfidentialClientApplication
        self._app = factory(client_id, client_credential=client_secret,
                            authority=f"https://login.microsoftonline.com/{tenant_id}")

    def token(self) -> str:
        result = self._app.acquire_token_for_client(scopes=[M365_SCOPE])
        if not isinstance(result, dict) or "access_token" not in result:
            error = result.get("error", "unknown") if isinstance(result, dict) else "unknown"
            raise SignInError(f"Microsoft 365 sign-in failed: {error}")
        return str(result["access_token"])


@dataclass(frozen=True)
class ImapLogin:
    """How one mailbox signs in: ``method`` is password, xoauth2, oauthbearer or m365."""

    method: str
    username: str
    password: str = ""
    tokens: TokenSource | None = None

    def sign_in(self, client: Any) -> None:
        if self.method == "password":
            client.login(self.username, self.password)
            return
        if self.tokens is None:
            raise SignInError(f"auth = {self.method} needs token_command or token_file")
        token = self.tokens.token()
        if self.method == "oauthbearer":
            client.oauthbearer_login(self.username, token)
        else:  # xoauth2 and m365 (Exchange Online speaks XOAUTH2)
            client.oauth2_login(self.username, token)
