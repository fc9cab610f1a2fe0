"""The Slack channel: slack-bolt's `AsyncApp` over Socket Mode (default) or HTTP
events (signature verified by Bolt), two Web API clients, and nothing of policy.

* The **user token** is the owner's: Slack delivers the owner's DMs and group DMs to
  the app through it, and replies to contacts go out with it, as the owner.
* The **bot token** is the app's bot: its DM with the owner is the control chat, where
  draft cards come with Block Kit buttons; a press comes back as the control command
  the button names (`/approve 3`), from whoever pressed it. `/twin approve 3` typed
  anywhere is the same command, said in the presser's DM with the bot.
* Slack delivers an event again when it was not acknowledged in time: events are
  de-duplicated by `event_id`, and messages are recorded once by `channel:ts` anyway.
* A 429 is retried after its `Retry-After` (slack_sdk's rate-limit retry handler).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.base import ChannelAuthError, EventHandler, SendError
from bot.channels.slack.events import (
    SLACK,
    Seen,
    escape,
    message_id,
    parse_message,
    sent_at,
)
from bot.channels.slack.settings import SlackSettings
from bot.channels.text import split_text
from twin_core.memory.identity import email_key
from twin_core.types import (
    Button,
    ChatId,
    ExternalId,
    HandleId,
    InboundEvent,
    OutboundMessage,
    utcnow,
)

log = logging.getLogger("twin.channels.slack")

TEXT_LIMIT = 3000
"""A section block's text holds 3,000 characters; plain messages are cut there too."""
AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
BUTTON_ACTION = "twin_command"
RATE_LIMIT_RETRIES = 5


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code (`invalid_auth`), or the HTTP status when it sent no JSON."""
    data = exc.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {exc.response.status_code}"


def web_client(token: str, config: SlackSettings) -> AsyncWebClient:
    client = (
        AsyncWebClient(token=token, base_url=config.api_url)
        if config.api_url
        else AsyncWebClient(token=token)
    )
    client.retry_handlers.append(
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
    )
    return client


async def whoami(client: AsyncWebClient, variable: str) -> dict[str, Any]:
    """`auth.test` for the token in `variable`; a refused token is `ChannelAuthError`."""
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        error = slack_error(exc)
        if error in AUTH_ERRORS:
            raise ChannelAuthError(f"Slack refused {variable} ({error})") from None
        raise ConnectionError(f"Slack auth.test failed for {variable}: {error}") from None
    return dict(response.data) if isinstance(response.data, dict) else {}


async def check_app_token(client: AsyncWebClient, app_token: str) -> None:
    """Whether Socket Mode can open a connection with `app_token` (slack_sdk itself
    would try again forever); a refused token is `ChannelAuthError`."""
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error = slack_error(exc)
        if error in AUTH_ERRORS or error == "not_allowed_token_type":
            raise ChannelAuthError(
                f"Slack refused TWIN_SLACK_APP_TOKEN ({error}); it must be an app-level "
                "token (xapp-) with connections:write, and Socket Mode enabled"
            ) from None
        raise ConnectionError(f"Slack Socket Mode: {error}") from None


class SlackChannel:
    def __init__(self, config: SlackSettings) -> None:
        self.name = SLACK
        self.config = config
        self.bot_user_id = ""
        self.owner_id = ""
        self.http_port: int | None = None
        """The port HTTP mode listens on, once started (`http_port` 0 picks a free one)."""
        self._on_event: EventHandler | None = None
        self._bot: AsyncWebClient | None = None
        self._user: AsyncWebClient | None = None
        self._socket: Any = None
        self._runner: web.AppRunner | None = None
        self._closed = asyncio.Event()
        self._events = Seen()
        self._sent = Seen()
        self._bot_dms: dict[str, bool] = {}
        self._dm_of: dict[str, str] = {}
        self._people: dict[str, tuple[str, tuple[str, ...]]] = {}

    # -- lifecycle --------------------------------------------------------------------

    async def start(self, on_event: EventHandler) -> None:
        config = self.config
        self._on_event = on_event
        self._closed.clear()
        self._bot = web_client(config.secret("bot_token"), config)
        self._user = web_client(config.secret("user_token"), config)
        self.bot_user_id = str((await whoami(self._bot, "TWIN_SLACK_BOT_TOKEN"))["user_id"])
        self.owner_id = str((await whoami(self._user, "TWIN_SLACK_USER_TOKEN"))["user_id"])
        app = AsyncApp(
            client=self._bot,
            signing_secret=config.secret("signing_secret") or None,
            request_verification_enabled=config.mode == "http",
        )
        app.event("message")(self._on_message)
        app.action(re.compile(f"^{BUTTON_ACTION}"))(self._on_button)
        app.command("/twin")(self._on_slash_command)
        if config.mode == "socket":
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            app_client = web_client(config.secret("app_token"), config)
            await check_app_token(app_client, config.secret("app_token"))
            self._socket = AsyncSocketModeHandler(
                app, config.secret("app_token"), web_client=app_client
            )
            await self._socket.connect_async()
        else:
            self._runner = await self._serve_http(app)

    async def _serve_http(self, app: AsyncApp) -> web.AppRunner:
        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await app.async_dispatch(await to_bolt_request(request))
            )

        server = web.Application()
        server.router.add_post(self.config.http_path, events)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.http_host, self.config.http_port)
        await site.start()
        bound = [address for address in runner.addresses if isinstance(address, tuple)]
        self.http_port = int(bound[0][1]) if bound else self.config.http_port
        return runner

    async def wait_closed(self) -> None:
        # Socket Mode reconnects on its own (slack_sdk); an HTTP server has nothing to lose.
        await self._closed.wait()

    async def stop(self) -> None:
        self._on_event = None
        socket, self._socket = self._socket, None
        if socket is not None:
            await socket.close_async()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._closed.set()

    # -- inbound ----------------------------------------------------------------------

    async def _deliver(self, event: InboundEvent) -> None:
        if self._on_event is not None:
            await self._on_event(event)

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not self._events.first_time(event_id):
            log.debug("Slack delivered %s again; already handled", event_id)
            return
        channel, user = event.get("channel"), event.get("user")
        if not isinstance(channel, str) or not isinstance(user, str):
            return
        if user == self.owner_id and not self._sent.first_time(
            message_id(channel, str(event.get("ts")))
        ):
            return  # the twin's own send coming back: the outbox recorded it
        kept = parse_message(
            event, owner_id=self.owner_id, bot_user_id=self.bot_user_id, bot_dm=False
        )
        if kept is None:
            return  # not someone writing in a DM: no lookups for it
        bot_dm = event.get("channel_type") == "im" and await self._is_bot_dm(channel)
        name, identities = await self._person(user)
        inbound = parse_message(
            event,
            owner_id=self.owner_id,
            bot_user_id=self.bot_user_id,
            bot_dm=bot_dm,
            sender_name=name,
            identities=identities,
        )
        if inbound is not None:
            await self._deliver(inbound)

    async def _on_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = str(body.get("user", {}).get("id", ""))
        channel = str(
            body.get("channel", {}).get("id", "") or body.get("container", {}).get("channel_id", "")
        )
        command = str(action.get("value", ""))
        if not (user and channel and command):
            return
        message = body.get("message") or {}
        key = f"button:{message.get('ts')}:{action.get('action_ts')}"
        if not self._events.first_time(key):
            return
        await self._mark_pressed(channel, message, user, command)
        name, _ = await self._person(user)
        await self._deliver(self._command_event(key, channel, user, name, command))

    async def _mark_pressed(
        self, channel: str, message: dict[str, Any], user: str, command: str
    ) -> None:
        """The card loses its buttons (one press per card) and says which was pressed."""
        ts = message.get("ts")
        if self._bot is None or not isinstance(ts, str):
            return
        blocks = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"{escape(command)} (pressed by <@{user}>)"}
                ],
            }
        )
        try:
            await self._bot.chat_update(
                channel=channel, ts=ts, text=str(message.get("text", command)), blocks=blocks
            )
        except SlackApiError as exc:
            log.warning("could not update the card in %s: %s", channel, slack_error(exc))

    async def _on_slash_command(self, ack: Any, command: dict[str, Any]) -> None:
        await ack()
        user = str(command.get("user_id", ""))
        words = str(command.get("text", "")).strip()
        if not user:
            return
        key = f"command:{command.get('trigger_id') or utcnow().timestamp()}"
        if not self._events.first_time(key):
            return
        channel = await self._dm_with(user)
        if channel is None:
            return
        name = str(command.get("user_name") or "") or (await self._person(user))[0]
        text = "/" + words.removeprefix("/") if words else "/help"
        await self._deliver(self._command_event(key, channel, user, name, text))

    @staticmethod
    def _command_event(key: str, channel: str, user: str, name: str, text: str) -> InboundEvent:
        """A button press or `/twin` command: said to the bot, in the presser's DM with it."""
        return InboundEvent(
            channel=SLACK,
            external_id=ExternalId(key),
            chat_id=ChatId(channel),
            sender_id=HandleId(user),
            sender_name=name,
            text=text,
            sent_at=utcnow(),
            to_bot=True,
        )

    async def _is_bot_dm(self, channel: str, *, sending: bool = False) -> bool:
        """Whether `channel` is a DM with the twin's bot (the bot can see it), rather
        than one of the owner's DMs with a contact (only the user token can). When
        Slack cannot say, it is taken for the owner's DM and asked again next time:
        the control chat is recognized by its id whatever this says. When `sending`,
        it raises `SendError` instead: a card must not go out with the owner's token."""
        known = self._bot_dms.get(channel)
        if known is not None or self._bot is None:
            return bool(known)
        try:
            info = await self._bot.conversations_info(channel=channel)
        except SlackApiError as exc:
            if slack_error(exc) not in ("channel_not_found", "not_in_channel"):
                return self._unknown(channel, slack_error(exc), sending)
            found = False
        except Exception as exc:
            return self._unknown(channel, f"{type(exc).__name__}: {exc}", sending)
        else:
            found = bool((info.get("channel") or {}).get("is_im"))
        self._bot_dms[channel] = found
        return found

    @staticmethod
    def _unknown(channel: str, why: str, sending: bool) -> bool:
        if sending:
            raise SendError(f"Slack could not say who is in {channel} ({why})")
        log.warning("conversations.info %s: %s", channel, why)
        return False

    async def _dm_with(self, user: str) -> str | None:
        """The bot's DM channel with `user`."""
        if user in self._dm_of or self._bot is None:
            return self._dm_of.get(user)
        try:
            opened = await self._bot.conversations_open(users=user)
        except SlackApiError as exc:
            log.warning("cannot open a DM with %s: %s", user, slack_error(exc))
            return None
        channel = str((opened.get("channel") or {}).get("id", ""))
        if channel:
            self._dm_of[user] = channel
            self._bot_dms[channel] = True
        return channel or None

    async def _person(self, user: str) -> tuple[str, tuple[str, ...]]:
        """`user`'s display name and, from the profile's email field, their identity."""
        known = self._people.get(user)
        if known is not None or self._bot is None:
            return known or (user, ())
        try:
            info = await self._bot.users_info(user=user)
            person = info.get("user") or {}
            profile = person.get("profile") or {}
            name = str(
                profile.get("display_name")
                or profile.get("real_name")
                or person.get("real_name")
                or person.get("name")
                or user
            )
            key = email_key(str(profile.get("email") or ""))
            found = (name, (key,) if key else ())
        except Exception as exc:  # a name is not worth losing the message for
            why = slack_error(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("users.info %s: %s", user, why)
            return (user, ())
        self._people[user] = found
        return found

    # -- outbound ---------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> ExternalId:
        if self._bot is None or self._user is None:
            raise SendError("the Slack channel is not connected")
        chat = str(message.chat_id)
        to_bot_dm = await self._is_bot_dm(chat, sending=True)
        # The bot speaks in its own DMs (the control chat); elsewhere the owner's token
        # answers, so the contact sees the owner.
        client = self._bot if to_bot_dm else self._user
        parts = split_text(message.text, TEXT_LIMIT, escape)
        first: ExternalId | None = None
        for number, part in enumerate(parts):
            arguments: dict[str, Any] = {"channel": chat, "text": escape(part)}
            if message.buttons and number == len(parts) - 1:
                arguments["blocks"] = blocks(escape(part), message.buttons)
            try:
                response = await client.chat_postMessage(**arguments)
            except SlackApiError as exc:
                raise SendError(
                    f"Slack refused the message to {chat}: {slack_error(exc)}"
                ) from None
            except (TimeoutError, OSError) as exc:
                raise SendError(
                    f"Slack could not be reached: {type(exc).__name__}: {exc}"
                ) from None
            sent = message_id(chat, str(response.get("ts")))
            self._sent.first_time(sent)
            first = first or sent
        assert first is not None  # split_text returns at least one part
        return first


def blocks(text: str, buttons: Sequence[Button]) -> list[dict[str, Any]]:
    """A section with `text` (already escaped) and a Block Kit button per `Button`."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": f"{BUTTON_ACTION}_{number}",
                    "text": {"type": "plain_text", "text": button.label},
                    "value": button.command,
                    **({"style": "primary"} if button.command.startswith("/approve") else {}),
                    **({"style": "danger"} if button.command.startswith("/reject") else {}),
                }
                for number, button in enumerate(buttons)
            ],
        },
    ]


__all__ = ["SlackChannel", "blocks", "sent_at", "web_client", "whoami"]
