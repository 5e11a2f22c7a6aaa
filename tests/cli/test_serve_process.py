"""``python -m rewardledger.cli.main serve`` as a real process: it serves the demo tenant with
the key it prints, on SQLite with one worker and on PostgreSQL with two. Every server started
here is stopped, whatever happens; all traffic goes to 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx2 as httpx
import pytest

from rewardledger.services import demo
from tests.cli.helpers import KEY, fresh_postgres_schema

STARTUP_SECONDS_MAX = 45
STOP_SECONDS_MAX = 10
REQUEST_SECONDS_MAX = 10
_WORKER_STARTED = re.compile(r"Started server process \[(\d+)\]")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """A running ``serve`` process and what it printed so far."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.base_url = f"http://127.0.0.1:{port}"
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        assert process.stdout is not None
        assert process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(process.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._read, args=(process.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str], lines: list[str]) -> None:
        lines.extend(stream)

    def printed(self) -> str:
        return f"stdout:\n{''.join(self.stdout)}\nstderr:\n{''.join(self.stderr)}"

    def wait_until(self, condition: str, check: Callable[[], object]) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS_MAX
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}\n{self.printed()}")
            if check():
                return
            time.sleep(0.1)
        pytest.fail(f"{condition} not within {STARTUP_SECONDS_MAX}s\n{self.printed()}")

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def demo_key(self) -> str:
        self.wait_until("the demo key on stdout", lambda: KEY.search("".join(self.stdout)))
        found = KEY.search("".join(self.stdout))
        assert found is not None
        return found.group(0)

    def worker_pids(self) -> set[str]:
        return set(_WORKER_STARTED.findall("".join(self.stderr)))

    def stop(self) -> None:
        # serve runs in a session of its own: its workers get the signal with it.
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_SECONDS_MAX)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_SECONDS_MAX)
        for reader in self._readers:
            reader.join(timeout=STOP_SECONDS_MAX)


@contextmanager
def serving(
    url: str,
    *options: str,
    state_dir: Path,
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REWARDLEDGER_")}
    environment["REWARDLEDGER_STATE_DIR"] = str(state_dir)
    environment.update(env or {})
    command = [sys.executable, "-m", "rewardledger.cli.main", "--db", url, "serve"]
    with subprocess.Popen(
        [*command, "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=True,
    ) as process:
        server = Server(process, port)
        try:
            server.wait_until("GET /healthz answering 200", server.healthy)
            yield server
        finally:
            server.stop()


def get_first_wallet(client: httpx.Client, server: Server, key: str) -> httpx.Response:
    return client.get(
        f"{server.base_url}/v1/tenants/demo/accounts/{demo.member_wallet(0)}",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_serve_on_sqlite_answers_with_the_demo_key_it_printed(tmp_path: Path) -> None:
    with (
        serving(f"sqlite:///{tmp_path / 'ledger.db'}", state_dir=tmp_path) as server,
        httpx.Client(timeout=REQUEST_SECONDS_MAX) as client,
    ):
        key = server.demo_key()
        answer = get_first_wallet(client, server, key)
        assert answer.status_code == 200, answer.text
        assert answer.json()["id"] == demo.member_wallet(0)
        assert get_first_wallet(client, server, "rlk_0_not-a-key").status_code == 401
        assert client.get(f"{server.base_url}/docs").status_code == 200


def test_serve_with_two_workers_on_one_postgresql_database(
    postgres_url: str, tmp_path: Path
) -> None:
    with (
        fresh_postgres_schema(postgres_url) as url,
        serving(url, "--workers", "2", state_dir=tmp_path) as server,
        httpx.Client(timeout=REQUEST_SECONDS_MAX) as client,
    ):
        server.wait_until("two worker processes", lambda: len(server.worker_pids()) == 2)
        key = server.demo_key()
        assert get_first_wallet(client, server, key).status_code == 200
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: get_first_wallet(client, server, key), range(64)))
        assert [a.status_code for a in answers] == [200] * 64
        assert len({a.text for a in answers}) == 1


def test_python_dash_o_is_refused() -> None:
    finished = subprocess.run(
        [sys.executable, "-O", "-m", "rewardledger.cli.main", "--help"],
        capture_output=True,
        text=True,
        timeout=STOP_SECONDS_MAX * 3,
        check=False,
    )
    assert finished.returncode == 2
    assert "refuses to run under `python -O`" in finished.stderr
