"""The HTTP protocol ``serve`` runs uvicorn with: uvicorn's httptools protocol (its C parser;
h11, pure Python, where httptools is not installed), with Nagle's algorithm off on every
connection it accepts.

Why the C parser: h11 was about 15 % of the server's Python time per request in a profile of
single transfers (docs/performance.md). The event loop is uvicorn's ``auto`` choice, uvloop where
it is installed (it is a dependency, except on Windows and PyPy), else asyncio.

Why Nagle off: with ``--workers`` above 1, uvicorn binds the listening socket itself before it
starts the workers, with ``socket.socket(family)``, which leaves the socket's ``proto`` at 0.
Accepted sockets inherit that, and asyncio sets ``TCP_NODELAY`` only on sockets whose ``proto``
is ``IPPROTO_TCP``; so Nagle stayed on, and a response written in two parts (headers, then body)
waited for the client's delayed ACK of the first: a fixed 40-50 ms on every keep-alive request
after the first on Linux, even ``GET /healthz`` (uvicorn issue #3149). With one worker asyncio
binds the socket from ``getaddrinfo`` (``proto`` 6) and ``TCP_NODELAY`` was already on; uvloop
sets it on every TCP connection. Setting it here makes every path alike. Measured in
``bench/http_load.py``; see docs/performance.md.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


def _no_delay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with ``TCP_NODELAY`` set on the connection's socket."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


# The value of uvicorn's ``http`` option: an import string, so that it reaches spawned workers.
H11_PROTOCOL = "rewardledger.cli.http_protocol:NoDelayH11Protocol"
HTTPTOOLS_PROTOCOL = "rewardledger.cli.http_protocol:NoDelayHttpToolsProtocol"

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed: h11
    HTTP_PROTOCOL = H11_PROTOCOL
else:
    HTTP_PROTOCOL = HTTPTOOLS_PROTOCOL

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol, with ``TCP_NODELAY`` set on the connection's socket."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            _no_delay(transport)
            super().connection_made(transport)
