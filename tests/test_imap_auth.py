"""Signing in: password, and XOAUTH2 / OAUTHBEARER with a token from a command or a file,
against a real Dovecot that offers those mechanisms; the ID command before SELECT.

Dovecot checks an OAuth bearer token through its passdb; with a passwd-file passdb the
token is compared like a password, so the test user's password serves as its token. What
cannot run here: a real OAuth provider (Google, Microsoft Entra ID) and msal's network
sign-in; ``M365Token`` is tested with a stand-in client factory only.
"""

from __future__ import annotations

import shlex
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from intake.auth import CommandToken, FileToken, ImapLogin, M365Token, SignInError
from intake.imap import ImapAccount, ImapPoller
from intake.ledger import Ledger
from tests.fixtures.dovecot import DovecotServer, find_dovecot, free_port


class OAuthDovecot(DovecotServer):
    """The test Dovecot with XOAUTH2/OAUTHBEARER offered, ID logged, MOVE not advertised."""

    def _write_config(self, template: Any) -> None:
        super()._write_config(template)
        config = self.config_path.read_text()
        config = config.replace("auth_mechanisms = plain login",
                                "auth_mechanisms = plain login xoauth2 oauthbearer")
        config += ("imap_id_log = *\n"
                   "imap_capability = IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE UIDPLUS "
                   "NAMESPACE CHILDREN SPECIAL-USE\n")
        self._replace_file("dovecot.conf", config, 0o644)


@pytest.fixture(scope="module")
def oauth_dovecot() -> Iterator[OAuthDovecot]:
    binary = find_dovecot()
    if binary is None:
        pytest.skip("dovecot not installed: apt-get install dovecot-imapd")
    with OAuthDovecot(binary) as server:
        yield server


_users = iter(range(1, 10_000))


@pytest.fixture
def oauth_account(oauth_dovecot: OAuthDovecot) -> Any:
    number = next(_users)
    return oauth_dovecot.add_user(f"oauth{number}", f"token-{number}")


def _poller(server: Any, login: ImapLogin, ledger: Ledger) -> ImapPoller:
    account = ImapAccount(name="oauth", host=server.host, port=server.port, security="plain",
                          username=server.user, login=login)
    return ImapPoller(account, ledger)


@pytest.fixture
def ledger(session_factory: Any, tmp_path: Path) -> Ledger:
    from casework.clock import SystemClock
    from casework.rawstore import RawStore
    from tests.test_intake import open_cases

    return Ledger(session_factory, RawStore(tmp_path / "raw"), SystemClock(), open_cases)


@pytest.mark.parametrize("method", ["xoauth2", "oauthbearer"])
def test_oauth_token_from_a_command(oauth_dovecot: OAuthDovecot, oauth_account: Any,
                                    ledger: Ledger, method: str) -> None:
    command = f"echo {shlex.quote(oauth_account.password)}"
    oauth_account.append("INBOX", b"From: a@example.cn\r\nSubject: oauth\r\n\r\nbody\r\n")
    report = _poller(oauth_account, ImapLogin(method, oauth_account.user,
                                              tokens=CommandToken(command)), ledger).run_once()
    assert [o.kind for o in report.outcomes] == ["case"]
    # MOVE is not advertised here: the poller used COPY + delete + UID EXPUNGE instead.
    assert oauth_account.uids("INBOX") == [] and oauth_account.uids("Processed") != []
    log = oauth_dovecot.log_tail(400)
    assert f"method={method.upper()}" in log  # Dovecot's login line names the mechanism
    assert "name=complaintd" in log  # the ID command went out before SELECT


def test_oauth_token_from_a_file_and_a_wrong_token(oauth_account: Any, ledger: Ledger,
                                                   tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(oauth_account.password + "\n")
    login = ImapLogin("oauthbearer", oauth_account.user, tokens=FileToken(token))
    assert _poller(oauth_account, login, ledger).run_once().waiting == 0
    token.write_text("expired-token\n")
    with pytest.raises(Exception, match=r"(?i)auth"):
        _poller(oauth_account, login, ledger).run_once()


def test_token_sources_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(SignInError, match="exited with status 3"):
        CommandToken(f"{shlex.quote(sys.executable)} -c 'raise SystemExit(3)'").token()
    with pytest.raises(SignInError, match="printed no token"):
        CommandToken("true").token()
    with pytest.raises(SignInError, match="is empty"):
        (tmp_path / "empty").write_text("  \n")
        FileToken(tmp_path / "empty").token()
    with pytest.raises(SignInError, match="token file"):
        FileToken(tmp_path / "missing").token()
    with pytest.raises(SignInError, match="needs token_command or token_file"):
        ImapLogin("xoauth2", "u").sign_in(object())


class FakeMsalApp:
    """Stands in for msal.ConfidentialClientApplication: Entra ID is not reachable here."""

    def __init__(self, client_id: str, client_credential: str, authority: str) -> None:
        self.args = (client_id, client_credential, authority)
        self.scopes: list[str] = []

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, str]:
        self.scopes = scopes
        if self.args[1] == "bad":
            return {"error": "invalid_client"}
        return {"access_token": "eyJ.token"}


def test_m365_token_plumbing_without_the_network() -> None:
    source = M365Token("tenant-1", "client-1", "secret", factory=FakeMsalApp)
    assert source.token() == "eyJ.token"
    app: FakeMsalApp = source._app
    assert app.args == ("client-1", "secret", "https://login.microsoftonline.com/tenant-1")
    assert app.scopes == ["https://outlook.office365.com/.default"]
    with pytest.raises(SignInError, match="invalid_client"):
        M365Token("t", "c", "bad", factory=FakeMsalApp).token()


class TlsDovecot(DovecotServer):
    """The test Dovecot with a self-signed certificate: STARTTLS on the IMAP port, and an
    implicit-TLS (imaps) port."""

    tls_port = 0

    def _write_config(self, template: Any) -> None:
        super()._write_config(template)
        cert, key = self.root / "cert.pem", self.root / "key.pem"
        if not cert.exists():
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                            "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                            str(cert)], check=True, capture_output=True)
            self._chown(cert)
            self._chown(key)
        self.tls_port = free_port()
        config = self.config_path.read_text().replace("ssl = no", (
            f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n"))
        config = config.replace("inet_listener imaps {\n    port = 0",
                                f"inet_listener imaps {{\n    port = {self.tls_port}")
        self._replace_file("dovecot.conf", config, 0o644)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_on_connect_and_starttls(ledger: Ledger, security: str) -> None:
    binary = find_dovecot()
    if binary is None:
        pytest.skip("dovecot not installed: apt-get install dovecot-imapd")
    with TlsDovecot(binary) as server:
        server.append("INBOX", b"From: a@example.cn\r\nSubject: tls\r\n\r\nbody\r\n")
        port = server.tls_port if security == "ssl" else server.port
        account = ImapAccount(name="tls", host=server.host, port=port, security=security,
                              username=server.user, password=server.password,
                              ca_file=str(server.root / "cert.pem"))
        report = ImapPoller(account, ledger).run_once()
        assert [o.kind for o in report.outcomes] == ["case"]
        # Without the private CA the certificate is refused: no silent plain fallback.
        untrusted = ImapAccount(name="tls2", host=server.host, port=port, security=security,
                                username=server.user, password=server.password)
        with pytest.raises(ssl.SSLError):
            ImapPoller(untrusted, ledger).run_once()
