"""`twin run`, `twin doctor`, `twin pair` and the webhook, against the fake Bot API."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.app import open_memory
from tests.bot.channels.telegram.conftest import (
    HISTORY,
    TelegramTwin,
    seed_history,
    telegram_environ,
    telegram_settings,
)
from tests.support.cli import Cli
from tests.support.fake_telegram import OWNER_ID, FakeBotApi
from tests.support.settings import REPO
from twin_core.memory.embed import Embedder

ALICE = 200


async def until(condition: object, timeout: float = 30.0) -> None:
    assert callable(condition)
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.timeout(150)  # a whole `twin run` starting up, on a shared machine
async def test_twin_run_serves_telegram_from_settings_alone(
    api: FakeBotApi, tmp_path: Path, embedder: Embedder
) -> None:
    home = tmp_path / "home"
    memory = open_memory(telegram_settings(api, home), embedder=embedder)
    twin_stub = type("T", (), {"memory": memory})
    seed_history(twin_stub)  # type: ignore[arg-type]
    memory.close()
    memory.store.close()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env={**environ, **telegram_environ(api, home)},
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        api.connect_business()
        api.business_message(ALICE, "Alice", "free for dinner friday?")
        await until(lambda: any(m.get("reply_markup") for m in api.sent()), 45)
        [card] = [m for m in api.sent() if m.get("reply_markup")]
        [row] = card["reply_markup"]["inline_keyboard"]
        approve = next(b["callback_data"] for b in row if b["text"] == "Approve")
        api.press(
            OWNER_ID,
            {
                "message_id": card["_message_id"],
                "date": 1_700_000_000,
                "chat": {"id": OWNER_ID, "type": "private", "first_name": "Sam"},
                "text": card["text"],
            },
            approve,
        )
        await until(lambda: any(int(m["chat_id"]) == ALICE for m in api.sent()))
        [reply] = [m for m in api.sent() if int(m["chat_id"]) == ALICE]
        assert reply["business_connection_id"] == "biz-1"
        await until(lambda: bool(api.called("editMessageText")))
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "running on telegram" in err.decode()
    state = json.loads((home / "telegram-state.json").read_text())
    assert state["last_update_id"] == 3  # connection, message, press


async def test_the_webhook_takes_updates_with_the_secret_only_and_once(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    twin = await telegram_twin(
        TWIN_TELEGRAM_WEBHOOK_URL=url, TWIN_TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}"
    )
    [hook] = api.called("setWebhook")
    assert hook["url"] == url and hook["max_connections"] == 1
    assert not api.called("getUpdates")
    secret = hashlib.sha256(b"twin-webhook:" + api.token.encode()).hexdigest()
    assert hook["secret_token"] == secret
    # What Telegram would post, in order (the fake only makes the payloads here).
    api.connect_business()
    connection = api.updates[-1]
    api.business_message(ALICE, "Alice", "lunch tomorrow?")
    message = api.updates[-1]
    async with aiohttp.ClientSession() as session:
        wrong = await session.post(
            url, json=message, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
        )
        assert wrong.status == 403
        for update in (connection, message, message):  # the last: Telegram posting again
            answer = await session.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
            )
            assert answer.status == 200
    await until(lambda: any(m.get("reply_markup") for m in api.sent()))
    await twin.idle()
    assert twin.store.stats()["messages"] == len(HISTORY) + 1  # the seeded, and this one once


def test_doctor_says_in_one_line_what_is_wrong(
    api_thread: FakeBotApi, cli: Cli, tmp_path: Path
) -> None:
    environ = telegram_environ(api_thread, tmp_path)
    good = cli("doctor", env=environ)
    assert good.exit_code == 0 and "telegram: ok" in good.stdout
    bad = cli("doctor", env={**environ, "TWIN_TELEGRAM_TOKEN": "123456:WRONG-token-abcdefghijklmn"})
    assert bad.exit_code == 1
    assert bad.stdout.strip() == (
        "telegram: Telegram refused TWIN_TELEGRAM_TOKEN (401 Unauthorized); "
        "check it with @BotFather"
    )
    assert "WRONG" not in bad.output  # the token is never printed
    missing = cli("doctor", env={k: v for k, v in environ.items() if k != "TWIN_TELEGRAM_TOKEN"})
    assert missing.exit_code == 1 and "TWIN_TELEGRAM_TOKEN is not set" in missing.stdout
    gone = cli(
        "doctor", env={**environ, "TWIN_TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}"}
    )
    assert gone.exit_code == 1 and "telegram: cannot reach http://127.0.0.1:" in gone.stdout


def test_pair_prints_a_code_for_the_bot(api_thread: FakeBotApi, cli: Cli, tmp_path: Path) -> None:
    environ = telegram_environ(api_thread, tmp_path)
    paired = cli("pair", "telegram", env=environ)
    assert paired.exit_code == 0, paired.output
    assert "@twin_test_bot" in paired.stdout
    code = paired.stdout.strip().splitlines()[-1]
    assert len(code) == 8 and code.isalnum()
