"""`twin worker` says what it is doing, and serves only the channel-free queue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.cli import Cli
from tests.support.settings import REDIS_URL, REPO
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


def test_on_redis_with_twin_worker_beside_it_a_console_auto_reply_goes_out_once(
    cli: Cli, tmp_path: Path
) -> None:
    """The docker-compose layout with real processes: `twin worker` running beside the
    console, an auto-reply sent exactly once by the console's own process."""
    redis_or_skip()
    # The offline responder's calibrated confidence stays below the default threshold
    # (docs/BENCHMARKS.md): this test is about the auto-reply's path, so it lowers it.
    env = {
        "TWIN_HOME": str(tmp_path),
        "TWIN_REDIS_URL": REDIS_URL,
        "TWIN_AUTO_CONFIDENCE": "0.3",
    }
    assert cli("stats", env=env).exit_code == 0  # the data folder, and its install id
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env={**clean, **env},
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert worker.stderr is not None
        assert "twin worker: serving" in worker.stderr.readline()
        result = cli(
            "console",
            env=env,
            input=(
                "@Bob running late for the 1:1\n"
                "<Bob no worries, see you soon\n"
                "> /auto bob on\n"
                "@Bob running late for the 1:1\n"
            ),
        )
    finally:
        worker.terminate()
        worker.wait(20)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("[to Bob] no worries, see you soon") == 1
    assert "Goes out on its own in 0s" in result.stdout
    assert "not sent" not in result.stdout
