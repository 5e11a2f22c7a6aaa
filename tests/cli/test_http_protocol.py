"""``serve``'s HTTP protocol turns Nagle's algorithm off on every accepted connection, also on
a listening socket bound the way uvicorn's worker supervisor binds it (``proto`` 0), where
asyncio alone leaves it on and each keep-alive response waited ~40 ms for a delayed ACK."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from rewardledger.cli.http_protocol import H11_PROTOCOL, HTTP_PROTOCOL, HTTPTOOLS_PROTOCOL

START_SECONDS_MAX = 10


async def _hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@contextmanager
def _server_on(listener: socket.socket, http: str) -> Iterator[uvicorn.Server]:
    # asyncio's loop, the one that leaves Nagle on (uvloop, where installed, turns it off itself).
    config = uvicorn.Config(_hello, http=http, loop="asyncio", lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_SECONDS_MAX
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=START_SECONDS_MAX)


def _accepted_nodelay(http: str) -> int:
    """TCP_NODELAY of the server side of a keep-alive connection, on a supervisor-style
    listener (``socket.socket(AF_INET)``, as uvicorn's ``Config.bind_socket``)."""
    listener = socket.socket(socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    assert listener.proto == 0  # the case of ``serve --workers 2`` and more
    port = listener.getsockname()[1]
    with (
        _server_on(listener, http) as server,
        socket.create_connection(("127.0.0.1", port)) as client,
    ):
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(1024).startswith(b"HTTP/1.1 200")
        (protocol,) = server.server_state.connections
        accepted = protocol.transport.get_extra_info("socket")  # type: ignore[attr-defined]
        return int(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_serve_protocol_sets_nodelay_on_a_socket_bound_by_the_worker_supervisor() -> None:
    assert _accepted_nodelay(HTTP_PROTOCOL) == 1


def test_the_h11_fallback_sets_nodelay_there_too() -> None:
    """Where httptools is not installed, ``serve`` runs h11 with the same setting."""
    assert _accepted_nodelay(H11_PROTOCOL) == 1


def test_uvicorns_own_h11_protocol_leaves_nagle_on_there() -> None:
    """The cause, pinned: when a uvicorn release sets ``proto`` on the sockets it binds (uvicorn
    issue #3149), this fails, and ``cli/http_protocol.py`` is no longer needed."""
    assert _accepted_nodelay("h11") == 0


def test_serve_runs_httptools_where_it_is_installed() -> None:
    expected = HTTPTOOLS_PROTOCOL if importlib.util.find_spec("httptools") else H11_PROTOCOL
    assert expected == HTTP_PROTOCOL
