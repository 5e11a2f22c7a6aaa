"""docs/day-one.md runs as written: its ``sh`` blocks that call curl run in order, in one bash,
with the real ``curl`` and ``jq``, against a LIVE ``rewardledger serve`` on a throwaway
database (SQLite, and PostgreSQL in a fresh schema). A step that answers an HTTP error stops
the walk (the page's curls say ``--fail-with-body``, except in the steps whose sample shows a
refusal), and every sample the page shows after a step is checked against what it printed:
a JSON sample is a part of the answer (timestamps, keys, codes and generated ids aside), a
text sample's lines are among the printed lines, a CSV sample has the header and the rows
printed. Then what a user sees: the QR image decodes to the redemption's code, the CSV
exports have the seeds' columns."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from rewardledger.http.schemas_cycles import CASHBACK_CSV_COLUMNS, DEBT_CSV_COLUMNS
from tests.cli.helpers import fresh_postgres_schema
from tests.cli.test_serve_process import serving
from tests.conftest import ENGINES

DOC = Path(__file__).resolve().parents[2] / "docs" / "day-one.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
STEP_MARK = re.compile(r"\n@@step (\d+)@@\n")
OPENING = re.compile(r"[{\[]")
WALK_SECONDS_MAX = 240
# What the page's set-up block (the one that starts the server) exports: the test sets them.
SET_UP_NAMES = {"ADMIN_TOKEN", "RL"}
# Values that differ from run to run (or by the day the test runs: a budget's period).
VOLATILE = {
    "created_at",
    "expires_at",
    "revoked_at",
    "last_used_at",
    "resolved_at",
    "resolved_by",
    "latest_update",
    "last_updated",
    "recorded_at",
    "occurred_at",
    "key",
    "key_id",
    "code",
    "period",
    "cashback_ledger_id",
    "debt_ledger_id",
}
# The seeds' columns (seeds 000 and 001); the debt ledger adds due_at (docs/cycles.md).
CASHBACK_LEDGER_COLUMNS = list(CASHBACK_CSV_COLUMNS)
DEBT_LEDGER_COLUMNS = [column for column in DEBT_CSV_COLUMNS if column != "due_at"]
SAMPLES_CHECKED_MIN = 25


@dataclass(frozen=True)
class Step:
    code: str
    sample: tuple[str, str] | None  # (language, text) of the block right after the step


def _blocks() -> list[tuple[str, str]]:
    return [(match.group(1), match.group(2)) for match in FENCE.finditer(DOC.read_text())]


def _is_step(language: str, code: str) -> bool:
    return language == "sh" and re.search(r"\bcurl\b", code) is not None


def steps() -> list[Step]:
    blocks = _blocks()
    found = []
    for index, (language, code) in enumerate(blocks):
        if not _is_step(language, code):
            continue
        after = blocks[index + 1] if index + 1 < len(blocks) else None
        sample = after if after is not None and after[0] != "sh" else None
        found.append(Step(code, sample))
    return found


def _commands(code: str) -> list[str]:
    """The block's shell lines, with backslash continuations joined."""
    return code.replace("\\\n", " ").splitlines()


def _shows_a_refusal(step: Step) -> bool:
    if step.sample is None:
        return False
    text = step.sample[1]
    return re.search(r'"status": 4\d\d|^4\d\d$', text, re.MULTILINE) is not None


def test_the_page_exports_what_the_test_sets_and_stops_at_an_http_error() -> None:
    exported = {
        name
        for language, code in _blocks()
        if language == "sh" and not _is_step(language, code)
        for name in re.findall(r"\bexport (\w+)=", code)
    }
    assert exported == SET_UP_NAMES
    for step in steps():
        calls = [line for line in _commands(step.code) if re.search(r"\bcurl\b", line)]
        unguarded = [line for line in calls if "--fail-with-body" not in line]
        if unguarded:
            assert _shows_a_refusal(step), f"a curl without --fail-with-body: {unguarded}"


def _json_documents(text: str) -> list[Any]:
    """Every JSON object or array in ``text``, in order (what jq printed, one after another)."""
    decoder = json.JSONDecoder()
    found: list[Any] = []
    position = 0
    while (start := OPENING.search(text, position)) is not None:
        try:
            value, position = decoder.raw_decode(text, start.start())
        except json.JSONDecodeError:
            position = start.start() + 1
            continue
        found.append(value)
    return found


def _part_of(sample: Any, actual: Any, where: str) -> None:
    """``sample`` is a trimmed ``actual``: its keys (values aside for VOLATILE ones) and, for a
    list, each of its items matching some item of the answer."""
    if isinstance(sample, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for key, value in sample.items():
            assert key in actual, f"{where}: no {key!r} in {actual!r}"
            if key not in VOLATILE:
                _part_of(value, actual[key], f"{where}.{key}")
    elif isinstance(sample, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is not a list"
        assert len(sample) <= len(actual), f"{where}: {sample!r} is longer than {actual!r}"
        for item in sample:
            assert any(_matches(item, candidate) for candidate in actual), (
                f"{where}: {item!r} is not in {actual!r}"
            )
    else:
        assert sample == actual, f"{where}: the page shows {sample!r}, the answer is {actual!r}"


def _matches(sample: Any, actual: Any) -> bool:
    try:
        _part_of(sample, actual, "")
    except AssertionError:
        return False
    return True


def _check_csv(sample: str, printed: str, where: str) -> None:
    shown = list(csv.reader(io.StringIO(sample.strip())))
    got = list(csv.reader(io.StringIO(printed.strip())))
    assert got[0] == shown[0], f"{where}: header {got[0]} is not the page's {shown[0]}"
    assert len(got) == len(shown), f"{where}: {len(got) - 1} rows, the page shows {len(shown) - 1}"
    for shown_row, got_row in zip(shown[1:], got[1:], strict=True):
        for column, mine, theirs in zip(shown[0], shown_row, got_row, strict=True):
            if column not in VOLATILE:
                assert mine == theirs, f"{where}: {column} is {theirs!r}, the page shows {mine!r}"


def check_sample(step: Step, printed: str, where: str) -> None:
    assert step.sample is not None
    language, text = step.sample
    if language == "json":
        shown = _json_documents(text)
        got = _json_documents(printed)
        assert shown, f"{where}: the sample is not JSON"
        assert len(got) >= len(shown), f"{where}: printed {printed!r}"
        for number, (mine, theirs) in enumerate(zip(shown, got[-len(shown) :], strict=True)):
            _part_of(mine, theirs, f"{where}#{number}")
    elif language == "text":
        lines = {line.strip().lower() for line in printed.splitlines()}
        for line in text.splitlines():
            if line.strip():
                assert line.strip().lower() in lines, f"{where}: {line!r} not in {printed!r}"
    elif language == "csv":
        _check_csv(text, printed, where)
    else:
        pytest.fail(f"{where}: a sample in {language!r}, which this test cannot check")


def walk(base_url: str, admin_token: str, folder: Path) -> list[str]:
    """Run every step in one bash, in order; what each printed."""
    walked = steps()
    script = ["set -euo pipefail"]
    for number, step in enumerate(walked):
        script += [f"printf '\\n@@step {number}@@\\n'", step.code]
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder),
        "LANG": "C.UTF-8",
        "RL": base_url,
        "ADMIN_TOKEN": admin_token,
    }
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=WALK_SECONDS_MAX,
        check=False,
    )
    parts = STEP_MARK.split(done.stdout)
    printed = dict(zip(map(int, parts[1::2]), parts[2::2], strict=True))
    if done.returncode != 0:
        last = max(printed, default=0)
        pytest.fail(
            f"step {last} of docs/day-one.md failed (exit {done.returncode}):\n"
            f"{walked[last].code}\nprinted:\n{printed.get(last, '')}\nstderr:\n{done.stderr}"
        )
    assert sorted(printed) == list(range(len(walked)))
    return [printed[number] for number in range(len(walked))]


def _csv_header(printed: list[str], marker: str) -> list[str]:
    [found] = [text for text in printed if text.lstrip().startswith(marker)]
    return next(csv.reader(io.StringIO(found.strip())))


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'day-one.db'}"
        return
    with fresh_postgres_schema(str(request.getfixturevalue("postgres_url"))) as url:
        yield url


def test_the_day_one_walk_runs_with_curl_and_answers_what_the_page_shows(
    database_url: str, tmp_path: Path
) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            pytest.skip(f"docs/day-one.md needs {tool}, which is not installed")
    token = secrets.token_urlsafe(24)
    folder = tmp_path / "walk"
    folder.mkdir()
    env = {"REWARDLEDGER_ADMIN_TOKEN": token}
    with serving(database_url, "--no-demo", state_dir=tmp_path / "state", env=env) as server:
        printed = walk(server.base_url, token, folder)

    walked = steps()
    checked = 0
    for number, (step, text) in enumerate(zip(walked, printed, strict=True)):
        if step.sample is not None:
            check_sample(step, text, f"step {number}")
            checked += 1
    assert checked >= SAMPLES_CHECKED_MIN

    # The QR image the member's app shows decodes, with a real reader, to the code issued.
    [made] = [
        document
        for text in printed
        for document in _json_documents(text)
        if isinstance(document, dict)
        and document.get("redemption_id") == "red-1"
        and document.get("state") == "pending"
        and "code" in document
    ]
    image = Image.open(folder / "red-1.png").convert("L")
    found = [(b.format, b.text) for b in zxingcpp.read_barcodes(image)]
    assert found == [(zxingcpp.BarcodeFormat.QRCode, made["code"])]
    assert (folder / "red-1.svg").read_text().lstrip().startswith("<?xml")

    # The exports speak the seeds' columns.
    assert _csv_header(printed, "cashback_ledger_id,") == CASHBACK_LEDGER_COLUMNS
    debt_header = _csv_header(printed, "debt_ledger_id,")
    assert [column for column in debt_header if column != "due_at"] == DEBT_LEDGER_COLUMNS
