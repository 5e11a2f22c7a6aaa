"""The single-transfer HTTP tests again, with REWARDLEDGER_GROUP_COMMIT on (it is off by
default): one request at a time, each is a group of one, which must answer as the single path
does. Groups of many are tested in test_group_commit.py."""

from __future__ import annotations

import pytest

from rewardledger.config import Settings
from tests.http.support import ADMIN_TOKEN
from tests.http.test_bad_input import *  # noqa: F403
from tests.http.test_idempotency import *  # noqa: F403
from tests.http.test_transfers import *  # noqa: F403


@pytest.fixture
def settings() -> Settings:
    return Settings(admin_token=ADMIN_TOKEN, group_commit=True)


def test_the_app_of_these_tests_commits_in_groups(api: Api) -> None:  # noqa: F405
    assert api.client.app.state.group_commit is not None  # type: ignore[attr-defined]
