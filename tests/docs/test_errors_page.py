"""docs/errors.md lists exactly the codes and statuses of the HTTP table."""

from __future__ import annotations

import re
from pathlib import Path

from rewardledger.http.problems import PROBLEMS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def test_the_errors_page_lists_every_code_with_its_status() -> None:
    rows = re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", PAGE.read_text(), flags=re.MULTILINE)
    assert dict((code, int(status)) for code, status in rows) == {
        code: kind.status for code, kind in PROBLEMS.items()
    }
