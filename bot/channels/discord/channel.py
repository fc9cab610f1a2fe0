"""The Discord channel: a discord.py client on the gateway, its bot's DM with the
owner as the control chat, and nothing of policy.

* Draft cards carry buttons; a press comes back as the control command the button
  names (`/approve 3`) from whoever pressed it, answered statelessly in
  `on_interaction` (so a card's buttons still work after a restart), and the card
  loses its buttons (one press per card).
* `/twin approve 3` (an application command) is the same command, said in the
  presser's DM with the bot.
* The twin answers only where its bot is addressed (Discord forbids automating user
  accounts): see `events.parse_message`.
* discord.py retries a 429 after the `retry_after` Discord gives, and reconnects and
  resumes the gateway by itself; a connection it gives up on ends `wait_closed` with
  the error, and the supervisor starts the channel again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bot.channels.base import ChannelAuthError, EventHandler, SendError
from bot.channels.discord.events import DISCORD, escape, parse_message
from bot.channels.discord.settings import DiscordSettings
from bot.channels.text import split_text
from twin_core.types import (
    Button,
    ChatId,
    ExternalId,
    HandleId,
    InboundEvent,
    OutboundMessage,
    utcnow,
)

log = logging.getLogger("twin.channels.discord")

TEXT_LIMIT = 2000
BUTTON_PREFIX = "twin:"
READY_TIMEOUT_S = 60.0


def use_endpoints(config: DiscordSettings) -> None:
    """Point discord.py at the configured REST API and gateway (process-wide in
    discord.py: one Discord bot per process)."""
    if config.api_url:
        discord.http.Route.BASE = config.api_url.rstrip("/")
    if config.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)


class _Client(discord.Client):
    def __init__(self, channel: DiscordChannel) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # a privileged intent: see docs/channels/discord.md
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.channel = channel
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="twin", description="Give the twin a command (as in your DM)")
        @app_commands.describe(command="for example: approve 3, drafts, status, help")
        async def twin(interaction: discord.Interaction, command: str) -> None:
            await channel.slash_command(interaction, command)

    async def on_connect(self) -> None:
        self.channel.connected.set()

    async def on_message(self, message: discord.Message) -> None:
        await self.channel.message(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.channel.interaction(interaction)


class DiscordChannel:
    def __init__(self, config: DiscordSettings) -> None:
        self.name = DISCORD
        self.config = config
        self.connected = asyncio.Event()
        self._on_event: EventHandler | None = None
        self._client: _Client | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self._synced = False
        self._addressed: dict[str, int] = {}
        """Per server channel, the last message that addressed the bot: a reply there
        answers it (so the contact sees whom it is for, and is notified)."""

    @property
    def client(self) -> _Client | None:
        return self._client

    # -- lifecycle --------------------------------------------------------------------

    async def start(self, on_event: EventHandler) -> None:
        use_endpoints(self.config)
        self._on_event = on_event
        self._stopped.clear()
        self.connected.clear()
        client = self._client = _Client(self)
        token = self.config.token.get_secret_value() if self.config.token else ""
        try:
            await client.login(token)
        except discord.LoginFailure:
            await client.close()
            raise ChannelAuthError("Discord refused TWIN_DISCORD_TOKEN") from None
        self._runner = asyncio.create_task(client.connect(reconnect=True), name="discord:gateway")
        ready = asyncio.create_task(self.connected.wait())
        done, _ = await asyncio.wait(
            {ready, self._runner}, timeout=READY_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        ready.cancel()
        if self._runner in done:
            await self._gateway_ended(self._runner)
        if not self.connected.is_set():
            raise ConnectionError("the Discord gateway did not answer in time")
        if not self._synced:
            try:
                await client.tree.sync()
                self._synced = True
            except discord.HTTPException as exc:
                log.warning("could not register /twin with Discord: %s", exc)

    @staticmethod
    async def _gateway_ended(runner: asyncio.Task[None]) -> None:
        """Raise what ended the gateway connection, as the supervisor understands it."""
        try:
            await runner
        except discord.PrivilegedIntentsRequired:
            raise ChannelAuthError(
                "Discord refused the Message Content intent: turn it on for the bot in the "
                "Developer Portal (Bot, Privileged Gateway Intents)"
            ) from None
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:
                raise ChannelAuthError("Discord refused TWIN_DISCORD_TOKEN") from None
            raise

    async def wait_closed(self) -> None:
        runner = self._runner
        if runner is None:
            return
        stopped = asyncio.create_task(self._stopped.wait())
        await asyncio.wait({stopped, runner}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if self._stopped.is_set():
            return
        await self._gateway_ended(runner)
        raise ConnectionError("the Discord gateway connection ended")

    async def stop(self) -> None:
        self._on_event = None
        self._stopped.set()
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner

    # -- inbound ----------------------------------------------------------------------

    async def _deliver(self, event: InboundEvent) -> None:
        if self._on_event is not None:
            await self._on_event(event)

    async def message(self, message: discord.Message) -> None:
        client = self._client
        if client is None or client.user is None:
            return
        event = parse_message(message, client.user.id)
        if event is None:
            return
        if event.is_group:
            self._addressed[event.chat_id] = message.id
        await self._deliver(event)

    async def interaction(self, interaction: discord.Interaction) -> None:
        """A press on a card's button: the command it names, from the presser."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith(BUTTON_PREFIX) or interaction.channel_id is None:
            return
        command = custom_id.removeprefix(BUTTON_PREFIX)
        content = interaction.message.content if interaction.message is not None else ""
        try:
            await interaction.response.edit_message(
                content=f"{content}\n-# {escape(command)} (pressed)"[:TEXT_LIMIT], view=None
            )
        except Exception as exc:  # the card stays as it was; the command still counts
            log.warning("could not answer a button press: %s: %s", type(exc).__name__, exc)
        await self._deliver(self._command_event(interaction, str(interaction.channel_id), command))

    async def slash_command(self, interaction: discord.Interaction, command: str) -> None:
        """`/twin approve 3`: the command, said in the presser's DM with the bot."""
        words = command.strip().removeprefix("/")
        text = f"/{words}" if words else "/help"
        try:
            await interaction.response.send_message(
                f"{escape(text)}: the answer comes in your DM with me.", ephemeral=True
            )
        except Exception as exc:  # the owner's command still counts
            log.warning("could not answer /twin: %s: %s", type(exc).__name__, exc)
        if interaction.guild_id is None and interaction.channel_id is not None:
            chat = str(interaction.channel_id)
        else:
            try:
                chat = str((await interaction.user.create_dm()).id)
            except discord.HTTPException as exc:
                log.warning("cannot open a DM with %s: %s", interaction.user.id, exc)
                return
        await self._deliver(self._command_event(interaction, chat, text))

    @staticmethod
    def _command_event(interaction: discord.Interaction, chat: str, text: str) -> InboundEvent:
        return InboundEvent(
            channel=DISCORD,
            external_id=ExternalId(f"interaction:{interaction.id}"),
            chat_id=ChatId(chat),
            sender_id=HandleId(str(interaction.user.id)),
            sender_name=interaction.user.display_name,
            text=text,
            sent_at=utcnow(),
            to_bot=True,
        )

    # -- outbound ---------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> ExternalId:
        client = self._client
        if client is None:
            raise SendError("the Discord channel is not connected")
        try:
            target = client.get_partial_messageable(int(message.chat_id))
        except ValueError:
            raise SendError(f"{message.chat_id!r} is not a Discord channel id") from None
        parts = split_text(message.text, TEXT_LIMIT, escape)
        first: ExternalId | None = None
        for number, part in enumerate(parts):
            options: dict[str, Any] = {}
            answers = (
                int(message.reply_to)
                if message.reply_to is not None and message.reply_to.isdigit()
                else self._addressed.get(message.chat_id)
            )
            if number == 0 and answers is not None:
                options["reference"] = discord.MessageReference(
                    message_id=answers, channel_id=target.id, fail_if_not_exists=False
                )
                options["allowed_mentions"] = discord.AllowedMentions.none()
                options["allowed_mentions"].replied_user = True
            view = (
                buttons(message.buttons) if message.buttons and number == len(parts) - 1 else None
            )
            if view is not None:
                options["view"] = view
            try:
                sent = await target.send(escape(part), **options)
            except discord.HTTPException as exc:
                raise SendError(
                    f"Discord refused the message to {message.chat_id}: {exc.status} {exc.text}"
                ) from None
            except (OSError, TimeoutError) as exc:
                raise SendError(
                    f"Discord could not be reached: {type(exc).__name__}: {exc}"
                ) from None
            finally:
                if view is not None:
                    view.stop()  # presses are answered in on_interaction, not by this view
            first = first or ExternalId(str(sent.id))
        assert first is not None  # split_text returns at least one part
        return first


def buttons(actions: Sequence[Button]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in actions:
        command = action.command
        style = (
            discord.ButtonStyle.success
            if command.startswith("/approve")
            else discord.ButtonStyle.danger
            if command.startswith("/reject")
            else discord.ButtonStyle.secondary
        )
        view.add_item(
            discord.ui.Button(
                label=action.label[:80],
                custom_id=(BUTTON_PREFIX + command)[:100],
                style=style,
            )
        )
    return view
