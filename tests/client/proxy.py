"""A tiny TCP proxy for the retry tests: it forwards each connection to the server, but on
the first ``drop`` connections it reads the server's answer and closes the client's socket
instead of forwarding it, as a network that loses a response would. The request did reach the
server (and was applied); the client only sees the connection end."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

CHUNK_BYTES = 65_536
IDLE_SECONDS = 10.0


class DroppingProxy:
    def __init__(self, upstream_port: int, *, drop: int) -> None:
        self.upstream_port = upstream_port
        self.drop = drop
        self.connections = 0
        self.dropped = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DroppingProxy:
        self._accepting.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._accepting.join(timeout=IDLE_SECONDS)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=IDLE_SECONDS)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            losing = self.dropped < self.drop
            if losing:
                self.dropped += 1
            thread = threading.Thread(target=self._serve, args=(client, losing), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket, losing: bool) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        for end in (client, upstream):
            end.settimeout(IDLE_SECONDS)
        forward = threading.Thread(target=_pump, args=(client, upstream), daemon=True)
        forward.start()
        try:
            if losing:
                # Wait for the answer (the write is committed once it comes), then lose it.
                upstream.recv(CHUNK_BYTES)
            else:
                _pump(upstream, client)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()
            forward.join(timeout=IDLE_SECONDS)


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(CHUNK_BYTES):
            target.sendall(chunk)
    except OSError:
        pass


@contextmanager
def dropping(upstream_port: int, *, drop: int) -> Iterator[DroppingProxy]:
    with DroppingProxy(upstream_port, drop=drop) as proxy:
        yield proxy
