"""Where finished messages go: an SMTP server, or a folder of ``.eml`` files.

Both implement ``Transport``: ``open()`` once per batch, ``send()`` per mail, ``close()``.
Every failure leaves as a ``DeliveryError`` so the sender and the retry policy never see
a library's exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import aiosmtplib

from casework.clock import Clock
from notifications.retry import DeliveryError

Security = Literal["ssl", "starttls", "plain"]
T = TypeVar("T")


@dataclass(frozen=True)
class OutgoingMail:
    """One stored message, ready to hand over exactly as it was rendered."""

    outbox_id: int
    envelope_from: str
    recipients: tuple[str, ...]
    raw: bytes


class Transport(Protocol):
    def open(self) -> None:
        """Get ready for a batch (connect); raise ``DeliveryError`` if that fails."""
        ...

    def send(self, mail: OutgoingMail) -> None:
        """Hand over one message; raise ``DeliveryError`` if it was not accepted."""
        ...

    def close(self) -> None:
        """End the batch. Never raises."""
        ...


class SmtpTransport:
    """SMTP through aiosmtplib, one connection per batch.

    The sender runs in a scheduler thread, so each batch gets a private event loop that
    lives from ``open()`` to ``close()``; nothing here touches another thread's loop.
    """

    def __init__(
        self,
        host: str,
        port: int,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        *,
        validate_certs: bool = True,
        local_hostname: str | None = None,
    ) -> None:
        if security not in ("ssl", "starttls", "plain"):
            raise ValueError(f"unknown SMTP security {security!r}")
        self.host = host
        self.port = port
        self.security = security
        self._username = username or None
        self._password = password or None
        self.timeout = timeout
        self._validate_certs = validate_certs
        self._local_hostname = local_hostname
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: aiosmtplib.SMTP | None = None

    def open(self) -> None:
        self.close()
        self._loop = asyncio.new_event_loop()
        self._client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self._username,
            password=self._password,
            timeout=self.timeout,
            use_tls=self.security == "ssl",
            # "plain" must not upgrade on its own: a relay with a self-signed certificate
            # would then fail where the operator asked for no TLS at all.
            start_tls=self.security == "starttls",
            validate_certs=self._validate_certs,
            local_hostname=self._local_hostname,
        )
        try:
            self._run(self._client.connect())
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self.close()
            raise DeliveryError(_describe(exc), code=_code(exc), scope="connection") from exc

    def send(self, mail: OutgoingMail) -> None:
        if self._client is None:
            raise DeliveryError("transport not open", scope="connection")
        try:
            self._run(self._client.sendmail(mail.envelope_from, list(mail.recipients), mail.raw))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise DeliveryError(first.message, code=first.code) from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            # MAIL FROM refused (530 "STARTTLS/AUTH first", 550 "not your address"): our
            # configuration, not this mail; every mail would get the same answer.
            raise DeliveryError(exc.message, code=exc.code, scope="connection") from exc
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as exc:
            raise DeliveryError(_describe(exc), scope="connection") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(exc.message, code=exc.code) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(_describe(exc), scope="connection") from exc

    def close(self) -> None:
        client, loop = self._client, self._loop
        self._client = self._loop = None
        if loop is None:
            return
        if client is not None and client.is_connected:
            try:
                loop.run_until_complete(client.quit())
            except Exception:  # a failed goodbye changes nothing: the mails are in
                client.close()
        loop.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return self._loop.run_until_complete(coro)


class FileTransport:
    """Writes each message to ``<folder>/<UTC timestamp>-<outbox id>.eml``.

    The embedded default: the demo (and an operator without SMTP) sees exactly what would
    have been sent. A file appears complete or not at all (written aside, then renamed).
    """

    def __init__(self, folder: Path, clock: Clock | None = None) -> None:
        self.folder = Path(folder)
        self._clock = clock

    def open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeliveryError(_describe(exc), scope="connection") from exc

    def send(self, mail: OutgoingMail) -> None:
        now = self._clock.now() if self._clock is not None else datetime.now(UTC)
        name = f"{now.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{mail.outbox_id}.eml"
        final = self.folder / name
        partial = self.folder / f".{name}.partial"
        try:
            with open(partial, "wb") as handle:
                handle.write(mail.raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise DeliveryError(_describe(exc), scope="connection") from exc

    def close(self) -> None:
        return None


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
