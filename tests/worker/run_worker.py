"""``rewardledger`` with the tests' steps registered: ``python -m tests.worker.run_worker
--db URL worker ...``. WORKER_TEST_OUT names the file the steps write to; WORKER_TEST_STEPS
which steps to add (counting steps by name, and ``file_relay``); WORKER_TEST_SLEEP_SECONDS
how long the relay's sink takes."""

from __future__ import annotations

import os
from pathlib import Path

from rewardledger.cli.main import main
from rewardledger.worker import register
from tests.worker.steps_for_tests import counting, file_relay

if __name__ == "__main__":
    out = Path(os.environ["WORKER_TEST_OUT"])
    for name in os.environ.get("WORKER_TEST_STEPS", "").split(","):
        if name == "file_relay":
            sleep = float(os.environ.get("WORKER_TEST_SLEEP_SECONDS", "0"))
            register(file_relay(out, sleep_seconds=sleep))
        elif name:
            register(counting(name, out))
    main()
