"""A fake Telegram Bot API on 127.0.0.1 for python-telegram-bot to talk to.

It keeps updates like Telegram does (`getUpdates` with an offset confirms everything
before it; a long poll waits for the next update), records every call, and can be told
to refuse the next calls of a method with a 429 and `retry_after`, or a token.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-fake-token-abcdefghijkl"
BOT_ID = 999
OWNER_ID = 100


def user(uid: int, first: str, *, is_bot: bool = False) -> dict[str, Any]:
    return {"id": uid, "is_bot": is_bot, "first_name": first}


def private_chat(uid: int, first: str) -> dict[str, Any]:
    return {"id": uid, "type": "private", "first_name": first}


@dataclass
class FakeBotApi:
    token: str = TOKEN
    bot_id: int = BOT_ID
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    flood: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """method -> how many of its next calls are refused with 429 (retry_after 1)."""
    broken: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """method -> how many of its next calls fail with 502 Bad Gateway."""
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)
    port: int = 0
    _runner: web.AppRunner | None = None
    _new: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _all: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeBotApi:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what the test does ------------------------------------------------------------

    def push(self, **update: Any) -> int:
        """Queue an update (`message=...`, `business_message=...`); returns its id."""
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **update})
        self._all.append(self.updates[-1])
        self._new.set()
        return update_id

    def repeat(self, update_id: int) -> None:
        """Telegram delivering an update again (its id unchanged)."""
        original = next(u for u in self._all if u["update_id"] == update_id)
        self.updates.append(dict(original))
        self._new.set()

    def message(self, sender: int, name: str, text: str, *, chat: int | None = None) -> int:
        return self.push(
            message={
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": private_chat(chat or sender, name),
                "from": user(sender, name),
                "text": text,
            }
        )

    def connect_business(
        self, connection_id: str = "biz-1", *, owner: int = OWNER_ID, can_reply: bool = True
    ) -> int:
        connection = {
            "id": connection_id,
            "user": user(owner, "Sam"),
            "user_chat_id": owner,
            "date": int(time.time()),
            "is_enabled": True,
            "rights": {"can_reply": can_reply, "can_read_messages": True},
        }
        self.connections[connection_id] = connection
        return self.push(business_connection=connection)

    def business_message(
        self,
        chat: int,
        chat_name: str,
        text: str,
        *,
        sender: int | None = None,
        sender_name: str | None = None,
        connection_id: str = "biz-1",
        message_id: int | None = None,
    ) -> int:
        """A message in the owner's chat with `chat`: from that person, or from
        `sender` (the owner writing from their phone)."""
        return self.push(
            business_message={
                "message_id": message_id or next(self._ids),
                "date": int(time.time()),
                "chat": private_chat(chat, chat_name),
                "from": user(sender or chat, sender_name or chat_name),
                "text": text,
                "business_connection_id": connection_id,
            }
        )

    def press(self, presser: int, message: dict[str, Any], data: str) -> int:
        return self.push(
            callback_query={
                "id": f"cq{next(self._ids)}",
                "from": user(presser, "Sam"),
                "chat_instance": "ci",
                "data": data,
                "message": message,
            }
        )

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def sent(self) -> list[dict[str, Any]]:
        return self.called("sendMessage")

    async def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.called(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{method} called {len(self.called(method))} times, not {count}"
                )
            await asyncio.sleep(0.02)

    # -- the Bot API -------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        if request.content_type == "application/json":
            params: dict[str, Any] = await request.json()
        else:
            params = {}
            for key, value in (await request.post()).items():
                text = str(value)
                try:
                    params[key] = json.loads(text)
                except ValueError:
                    params[key] = text
        if self.broken[method] > 0:
            self.broken[method] -= 1
            self.calls.append((f"{method}:502", params))
            return _error(502, "Bad Gateway")
        if self.flood[method] > 0:
            self.flood[method] -= 1
            self.calls.append((f"{method}:429", params))
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        self.calls.append((method, params))
        handler = getattr(self, f"_{method}", None)
        result = await handler(params) if handler is not None else True
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _getMe(self, params: dict[str, Any]) -> Any:
        return {
            **user(self.bot_id, "Twin", is_bot=True),
            "username": "twin_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        if offset:
            # Telegram forgets every update before the offset: they are confirmed.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), float(params.get("timeout") or 0))
            except TimeoutError:
                return []
        return [u for u in self.updates if u["update_id"] >= offset][:100]

    async def _sendMessage(self, params: dict[str, Any]) -> Any:
        chat = int(params["chat_id"])
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": private_chat(chat, "X"),
            "from": user(self.bot_id, "Twin", is_bot=True),
            "text": params["text"],
        }
        if params.get("business_connection_id"):
            message["business_connection_id"] = params["business_connection_id"]
        params["_message_id"] = message["message_id"]  # for the test to refer to it
        return message

    async def _editMessageText(self, params: dict[str, Any]) -> Any:
        return {
            "message_id": int(params["message_id"]),
            "date": int(time.time()),
            "chat": private_chat(int(params["chat_id"]), "X"),
            "from": user(self.bot_id, "Twin", is_bot=True),
            "text": params["text"],
        }

    async def _getBusinessConnection(self, params: dict[str, Any]) -> Any:
        found = self.connections.get(str(params["business_connection_id"]))
        return found if found is not None else _error(400, "Bad Request: connection not found")


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )
