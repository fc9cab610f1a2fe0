"""`twin worker` says what it is doing, and serves only the channel-free queue."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import Cli
from tests.support.settings import REDIS_URL
from tests.workers.test_queue import redis_or_skip


def test_twin_worker_says_what_it_serves_and_why_indexing_is_not_here(
    cli: Cli, tmp_path: Path
) -> None:
    redis_or_skip()
    result = cli("worker", "--burst", env={"TWIN_HOME": str(tmp_path), "TWIN_REDIS_URL": REDIS_URL})
    assert result.exit_code == 0, result.stderr
    assert "twin worker: serving twin:" in result.stderr and ":work on redis://" in result.stderr
    assert "jobs: index_backlog" in result.stderr
    assert "only `twin run` can open it" in result.stderr  # the embedded index
    assert "twin worker: stopped" in result.stderr


def test_twin_worker_without_redis_says_how_to_set_it(cli: Cli, tmp_path: Path) -> None:
    result = cli("worker", env={"TWIN_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert result.stderr.startswith("twin: set TWIN_REDIS_URL to run a worker")
