"""Serving the console with uvicorn: in the foreground (``complaintd web``) or in a thread
beside the daemon's jobs (``complaintd run`` with ``[web] enabled = true``)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: one the system picks; ``.getsockname()`` tells which)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by every accepted connection: uvicorn writes a response's head and body
    # apart, and without it the body waited for the client's delayed ACK (~40 ms a page).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def server(app: ASGIApp) -> uvicorn.Server:
    # Forwarded headers are handled by the app itself, from the configured proxies only;
    # no access log: a search's query string may hold a complainant's name or phone.
    config = uvicorn.Config(app, proxy_headers=False, server_header=False, access_log=False,
                            log_level="warning", lifespan="off")
    return uvicorn.Server(config)


class Background:
    """The console served from a thread; ``stop()`` lets requests in hand finish."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.socket = listen(host, port)
        self.port = int(self.socket.getsockname()[1])
        self.server = server(app)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name="web", daemon=True)

    def start(self, timeout: float = 10) -> Background:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self.thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError("the staff console did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()
