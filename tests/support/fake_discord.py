"""A fake Discord on 127.0.0.1 (a free port): the REST API and a gateway websocket
that says HELLO and READY, then carries the payloads a test dispatches, so discord.py
parses them with its own connection state, exactly as it parses Discord's."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_ID, APP_ID, OWNER_ID = "999", "998", "42"
TOKEN = "fake-token"
MESSAGE_CONTENT = 1 << 19


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "avatar": None,
        "global_name": None,
        "bot": bot,
    }


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    # discord.py reads JSON only when Content-Type is exactly application/json.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


@dataclass
class FakeDiscord:
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    """(method, path, JSON body) of each REST call."""
    rate_limited: int = 0
    """How many of the next message posts get a 429."""
    served_429: int = 0
    app_flags: int = MESSAGE_CONTENT
    api_url: str = ""
    gateway_url: str = ""
    dms: dict[str, str] = field(default_factory=dict)
    """user id -> the bot's DM channel with them."""
    _socket: web.WebSocketResponse | None = None
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(2))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5001))

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The bodies of the messages the bot posted (to `channel`)."""
        return [
            body
            for method, path, body in self.calls
            if method == "POST"
            and path.startswith("channels/")
            and path.endswith("/messages")
            and (channel is None or path == f"channels/{channel}/messages")
        ]

    async def wait(self, found: Callable[[], Any], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := found()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls were {self.calls}")
            await asyncio.sleep(0.02)
        return value

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to the connected client."""
        assert self._socket is not None, "no client is connected to the gateway"
        await self._socket.send_str(
            json.dumps({"op": 0, "s": next(self._sequence), "t": event, "d": data})
        )

    async def rest(self, request: web.Request) -> web.Response:
        path = request.match_info["tail"]
        body = (
            await request.json()
            if request.can_read_body and request.content_type == "application/json"
            else None
        )
        if request.headers.get("Authorization") != f"Bot {TOKEN}" and not path.startswith(
            "interactions/"
        ):
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        if path.endswith("/messages") and request.method == "POST" and self.rate_limited:
            self.rate_limited -= 1
            self.served_429 += 1
            return json_response(
                {"message": "You are being rate limited.", "retry_after": 0.05, "global": False},
                429,
                Via="1.1 google",
                **{"X-RateLimit-Scope": "user", "Retry-After": "1"},
            )
        self.calls.append((request.method, path, body))
        return json_response(self.answer(request.method, path, body))

    def answer(self, method: str, path: str, body: Any) -> Any:
        if path == "users/@me":
            return user(BOT_ID, "twinbot", bot=True)
        if path == "oauth2/applications/@me":
            return {
                "id": APP_ID,
                "name": "twin",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "00",
                "flags": self.app_flags,
                "owner": user(OWNER_ID, "sam"),
            }
        if path == "users/@me/channels":
            recipient = str(body["recipient_id"])
            channel = self.dms.setdefault(recipient, f"7{recipient}")
            return {"id": channel, "type": 1, "recipients": [user(recipient, "someone")]}
        if path.startswith("channels/") and path.endswith("/messages") and method == "POST":
            return message(
                str(next(self._ids)),
                path.split("/")[1],
                user(BOT_ID, "twinbot", bot=True),
                body.get("content", ""),
            )
        if path.startswith("interactions/"):
            return {"interaction": {"id": path.split("/")[1], "type": 3}, "resource": None}
        if path.startswith("applications/") and method == "PUT":
            return [
                {**command, "id": "3001", "application_id": APP_ID, "version": "1", "type": 1}
                for command in body
            ]
        return {}

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                break
            payload = json.loads(frame.data)
            if payload["op"] == 1:
                await socket.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:
                await socket.send_str(
                    json.dumps(
                        {
                            "op": 0,
                            "s": 1,
                            "t": "READY",
                            "d": {
                                "v": 10,
                                "user": user(BOT_ID, "twinbot", bot=True),
                                "guilds": [],
                                "session_id": "session",
                                "resume_gateway_url": self.gateway_url,
                                "application": {"id": APP_ID, "flags": self.app_flags},
                            },
                        }
                    )
                )
        if self._socket is socket:
            self._socket = None
        return socket


def message(
    message_id: str,
    channel: str,
    author: dict[str, Any],
    content: str,
    *,
    guild: str | None = None,
    mentions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A MESSAGE_CREATE payload (and the REST answer to a post)."""
    data: dict[str, Any] = {
        "id": message_id,
        "channel_id": channel,
        "type": 0,
        "content": content,
        "author": author,
        "timestamp": "2026-12-01T12:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "components": [],
    }
    if guild is not None:
        data["guild_id"] = guild
        data["member"] = {
            "roles": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
        }
    return data


def interaction(
    interaction_id: str,
    channel: str,
    presser: dict[str, Any],
    *,
    kind: int,
    data: dict[str, Any],
    card: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload in a DM: a button press (kind 3) or `/twin` (kind 2)."""
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": APP_ID,
        "type": kind,
        "data": data,
        "channel_id": channel,
        "channel": {"id": channel, "type": 1},
        "user": presser,
        "token": f"token-{interaction_id}",
        "version": 1,
        "locale": "en-US",
        "app_permissions": "0",
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": 1,
        "attachment_size_limit": 10_000_000,
    }
    if card is not None:
        payload["message"] = card
    return payload


@asynccontextmanager
async def fake_discord(**kwargs: Any) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(**kwargs)
    server = web.Application()
    server.router.add_get("/gateway", fake.gateway)
    server.router.add_route("*", "/api/v10/{tail:.*}", fake.rest)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = next(a for a in runner.addresses if isinstance(a, tuple))[1]
    fake.api_url = f"http://127.0.0.1:{port}/api/v10"
    fake.gateway_url = f"ws://127.0.0.1:{port}/gateway"
    try:
        yield fake
    finally:
        if fake._socket is not None:
            await fake._socket.close()
        await runner.cleanup()
