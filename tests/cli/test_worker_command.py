"""``rewardledger worker --once`` in process, on both engines: it runs what is due once and
exits 0, or 1 with one line per failed step (as ``jobs run``); unknown steps and schedules are
refused before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardledger.worker import STEPS
from tests.cli.helpers import Cli
from tests.worker.steps_for_tests import counting, failing


def test_once_runs_every_due_step_of_the_tenant_once_and_exits_0(cli: Cli, tenant: str) -> None:
    assert cli("tenant", "create", tenant).exit_code == 0
    first = cli("worker", "--once", "--tenant", tenant)
    assert first.exit_code == 0, first.output
    runs = json.loads(first.stdout)["runs"]
    assert [run["step"] for run in runs] == list(STEPS)
    assert {run["tenant_id"] for run in runs} == {tenant}
    holds = next(run for run in runs if run["step"] == "holds")
    assert holds["counts"] == {"holds_expired": 0}
    events = [json.loads(line) for line in first.stderr.splitlines() if line.startswith("{")]
    finished = [e for e in events if e["event"] == "worker_step_finished"]
    assert len(finished) == len(STEPS)
    assert all(e["level"] == "info" and "duration_seconds" in e for e in finished)
    again = cli("worker", "--once", "--tenant", tenant)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == {"runs": []}


def test_once_with_a_failing_step_exits_1_with_one_line_per_failure(
    cli: Cli, tenant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STEPS, "broken", failing("broken"))
    monkeypatch.setitem(STEPS, "after", counting("after", tmp_path / "runs.txt"))
    assert cli("tenant", "create", tenant).exit_code == 0
    result = cli("worker", "--once", "-t", tenant, "--step", "broken", "--step", "after")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    failure_lines = [line for line in result.stderr.splitlines() if line.startswith("error ")]
    assert failure_lines == [
        f"error internal_error: tenant {tenant}, step broken failed (attempt 1, retried at the "
        f"next run): RuntimeError: broken cannot run (list: rewardledger jobs failures -t {tenant})"
    ]
    runs = json.loads(result.stdout)["runs"]
    assert [(run["step"], "failure" in run) for run in runs] == [("broken", True), ("after", False)]
    failed = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [e["code"] for e in failed if e["event"] == "worker_step_failed"] == ["internal_error"]
    listed = json.loads(cli("jobs", "failures", "-t", tenant).stdout)["failures"]
    assert [f["step"] for f in listed] == ["broken"]


def test_an_unknown_step_or_scheduled_step_is_refused_with_exit_2(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = cli("worker", "--once", "--step", "hodls")
    assert result.exit_code == 2
    assert "No worker step hodls; the steps are holds," in result.stderr
    monkeypatch.setenv("REWARDLEDGER_WORKER_SCHEDULE", '{"acme/hodls": 60}')
    scheduled = cli("worker", "--once")
    assert scheduled.exit_code == 2
    assert "REWARDLEDGER_WORKER_SCHEDULE names no step acme/hodls" in scheduled.stderr
    assert cli("worker", "--once", "--log-format", "xml").exit_code == 2
