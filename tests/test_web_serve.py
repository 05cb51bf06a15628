"""web.serve: the console's listening socket."""

from __future__ import annotations

import socket

from web.serve import listen


def test_every_accepted_connection_sends_without_waiting_for_an_ack() -> None:
    """TCP_NODELAY on the listening socket reaches each accepted connection: uvicorn writes
    a response's head and body apart, and the body must not wait for the client's delayed
    ACK (it cost every page ~40 ms)."""
    server = listen("127.0.0.1", 0)
    try:
        client = socket.create_connection(server.getsockname()[:2])
        accepted, _ = server.accept()
        with client, accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        server.close()
