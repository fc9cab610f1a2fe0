"""A fake Slack Web API on 127.0.0.1 (a free port), and signed event posts to a Bolt
app: slack-bolt and slack_sdk run unchanged against it."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientSession, WSMsgType, web
from slack_sdk.signature import SignatureVerifier

SECRET = "test-signing-secret"
BOT_TOKEN, USER_TOKEN, APP_TOKEN = "xoxb-test", "xoxp-test", "xapp-test"
BOT, OWNER = "UBOT", "UOWNER"


@dataclass
class FakeSlack:
    """Users by id (`{"UALICE": ("Alice", "alice@example.com")}`), the bot's DMs by
    user, and what the twin called."""

    users: dict[str, tuple[str, str]] = field(default_factory=dict)
    bot_dms: dict[str, str] = field(default_factory=dict)
    """user -> the bot's DM channel with them."""
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """(method, token, arguments)."""
    rate_limited: dict[str, int] = field(default_factory=dict)
    """method -> how many of its next calls get a 429."""
    served_429: int = 0
    url: str = ""
    acks: list[str] = field(default_factory=list)
    """Socket Mode: the envelope ids the app acknowledged."""
    _socket: web.WebSocketResponse | None = None
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def posted(self, channel: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(token, arguments) of each chat.postMessage, to `channel` if given."""
        return [
            (token, args)
            for method, token, args in self.calls
            if method == "chat.postMessage" and (channel is None or args["channel"] == channel)
        ]

    async def wait(self, found: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Until `found()` is truthy; returns it."""
        deadline = time.monotonic() + timeout
        while not (value := found()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls were {self.calls}")
            await asyncio.sleep(0.02)
        return value

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode's websocket: hello, then the envelopes a test sends."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_str(
            json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        )
        async for frame in socket:
            if frame.type is WSMsgType.TEXT:
                envelope = json.loads(frame.data).get("envelope_id")
                if envelope:
                    self.acks.append(envelope)
        return socket

    async def envelope(self, envelope_id: str, body: str) -> None:
        """Deliver an event over Socket Mode, as Slack does."""
        await self.wait(lambda: self._socket is not None)
        assert self._socket is not None
        await self._socket.send_str(
            json.dumps(
                {
                    "envelope_id": envelope_id,
                    "type": "events_api",
                    "accepts_response_payload": False,
                    "retry_attempt": 0,
                    "retry_reason": "",
                    "payload": json.loads(body),
                }
            )
        )

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.content_type == "application/json":
            args.update(await request.json())
        elif request.method == "POST":
            args.update(await request.post())
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.rate_limited.get(method):
            self.rate_limited[method] -= 1
            self.served_429 += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
            )
        self.calls.append((method, token, args))
        return web.json_response(self.answer(method, token, args))

    def answer(self, method: str, token: str, args: dict[str, Any]) -> dict[str, Any]:
        bot = token == BOT_TOKEN
        if method == "auth.test":
            if token not in (BOT_TOKEN, USER_TOKEN):
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "team_id": "T1", "user_id": BOT if bot else OWNER}
        if method == "conversations.info":
            channel = str(args["channel"])
            if bot and channel in self.bot_dms.values():
                return {"ok": True, "channel": {"id": channel, "is_im": True}}
            return {"ok": False, "error": "channel_not_found"}
        if method == "conversations.open":
            user = str(args["users"])
            channel = self.bot_dms.setdefault(user, f"DBOT{user}")
            return {"ok": True, "channel": {"id": channel}}
        if method == "users.info":
            user = str(args["user"])
            name, email = self.users.get(user, (user, ""))
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "name": name.lower(),
                    "profile": {"display_name": name, "email": email},
                },
            }
        if method == "chat.postMessage":
            return {
                "ok": True,
                "channel": args["channel"],
                "ts": f"1800000000.{next(self._ts):06d}",
            }
        if method == "apps.connections.open":
            if token != APP_TOKEN:
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.url.replace("http://", "ws://") + "socket"}
        return {"ok": True}


@asynccontextmanager
async def fake_slack(**kwargs: Any) -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(**kwargs)
    server = web.Application()
    server.router.add_get("/api/socket", fake.socket)
    server.router.add_route("*", "/api/{method}", fake.handle)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = next(a for a in runner.addresses if isinstance(a, tuple))[1]
    fake.url = f"http://127.0.0.1:{port}/api/"
    try:
        yield fake
    finally:
        if fake._socket is not None:
            await fake._socket.close()
        await runner.cleanup()


def signed(body: str, secret: str = SECRET) -> dict[str, str]:
    """The headers Slack signs a request with."""
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": str(signature)}


def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "x",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": OWNER, "is_bot": False}],
            "event": event,
        }
    )


def dm(user: str, channel: str, text: str, ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "channel_type": "im",
    }


async def post(
    url: str,
    body: str,
    *,
    form: bool = False,
    secret: str = SECRET,
    headers: dict[str, str] | None = None,
) -> int:
    """POST `body` to the Bolt app at `url`, signed; returns the status."""
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    async with ClientSession() as session:
        response = await session.post(
            url,
            data=body,
            headers={"Content-Type": content_type, **signed(body, secret), **(headers or {})},
        )
        await response.read()
        return response.status


def button_body(user: str, channel: str, value: str, card: dict[str, Any]) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "token": "x",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": card["ts"], "channel_id": channel},
        "channel": {"id": channel},
        "message": card,
        "actions": [
            {
                "type": "button",
                "action_id": "twin_command_0",
                "block_id": "b1",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def slash_body(user: str, channel: str, text: str) -> str:
    return urlencode(
        {
            "command": "/twin",
            "text": text,
            "user_id": user,
            "user_name": user.lower(),
            "channel_id": channel,
            "team_id": "T1",
            "trigger_id": f"trigger-{time.time_ns()}",
            "response_url": "http://127.0.0.1:9/none",
            "api_app_id": "A1",
            "token": "x",
        }
    )
