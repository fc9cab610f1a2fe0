"""The Telegram channel: python-telegram-bot's `Bot` on the Bot API, long polling (or a
webhook), the owner's control chat with inline buttons, and the owner's own chats
through a Telegram Business connection.

Updates are fetched apart from handling them, one at a time and in order: each is
handed to the twin (`on_event` returns once it is recorded) and only then is its id
written down (`state.StateFile`). A crash in between brings the update again after a
restart, and the store, idempotent on the message id, keeps it once; nothing is ever
confirmed to Telegram before it was handled.

Flood limits: a refusal with `retry_after` is waited out and the same call made again
(Telegram did not carry out a refused call, so nothing goes twice). Any other failure of
a send is reported, never retried: a send that timed out may have arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.channels.base import ChannelAuthError, EventHandler, SendError
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.state import Connection, StateFile, TelegramState
from bot.channels.telegram.text import CALLBACK_DATA_MAX, MAX_MESSAGE, split_message
from bot.channels.telegram.updates import (
    ALLOWED_UPDATES,
    BUSINESS,
    CARD_SEPARATOR,
    TELEGRAM,
    Press,
    connection_of,
    parse_update,
)
from twin_core.types import Button, ExternalId, OutboundMessage

log = logging.getLogger("twin.telegram")

T = TypeVar("T")

MAX_TRIES = 3
"""An update whose handling failed this often is logged and passed over, so one bad
update cannot hold up every later one."""
MAX_FLOOD_WAIT_S = 300.0
RECONNECT_WAIT_S = 60.0
"""How long a send made while the connection is being made again waits for it."""
"""Longest total wait for one call under flood control before giving up on it."""
_COMMAND_NAME = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def retry_seconds(exc: RetryAfter) -> float:
    """`exc.retry_after` in seconds, whichever type this PTB version gives it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns that the type will change
        value: int | float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def token_refused(exc: TelegramError) -> str:
    """The line for a refused token; PTB's own message for it quotes the token."""
    why = "401 Unauthorized" if isinstance(exc, InvalidToken) else exc.message
    return f"Telegram refused TWIN_TELEGRAM_TOKEN ({why}); check it with @BotFather"


@dataclass(frozen=True, slots=True)
class CardMessage:
    chat_id: int
    message_id: int
    text: str


class TelegramChannel:
    def __init__(self, config: TelegramSettings, state_path: Path) -> None:
        # PTB's own opt-in to the coming types of its time periods (`retry_after` as a
        # timedelta); without it every flood-control error warns as it is made.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self.name = TELEGRAM
        self.config = config
        self.state_file = StateFile(state_path)
        self.state = TelegramState()
        self.bot: Bot | None = None
        self._token = config.token_value()
        self._on_event: EventHandler | None = None
        self._menu: list[tuple[str, str]] = []
        self._poller: asyncio.Task[None] | None = None
        self._webhook: Any = None  # aiohttp's AppRunner, when serving a webhook
        self._closed = asyncio.Event()
        self._lock = asyncio.Lock()
        self._tries: dict[int, int] = {}
        self._ready = asyncio.Event()
        self._sending = 0
        """Sends in flight: `stop()` lets them finish before closing their connection."""
        self._lost = False
        """The connection was lost and the supervisor is making it again: sends wait."""
        self._cards: dict[str, CardMessage] = {}
        """Draft cards sent by this process, by card (`draft:3`), to edit to their outcome."""
        self._pressed: dict[str, CardMessage] = {}
        """Cards whose button is being handled: the outcome goes on the card, no message."""

    # -- optional hooks (bot.channels.base) ---------------------------------------------

    def set_command_menu(self, commands: Sequence[tuple[str, str]]) -> None:
        self._menu = [
            (name, help_text[:256])
            for name, help_text in commands
            if 0 < len(name) <= 32 and set(name) <= _COMMAND_NAME and help_text
        ]

    def status_lines(self) -> list[str]:
        lines = [c.describe() for c in self.state.connections.values()]
        if self.bot is not None and not lines:
            lines.append(
                "telegram business: no connection yet (Telegram > Settings > Business > "
                "Chatbots); the twin sees only messages to the bot"
            )
        return lines

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        self._closed.clear()
        bot = Bot(
            self._token,
            base_url=self.config.base_url,
            base_file_url=self.config.base_file_url,
            request=HTTPXRequest(connection_pool_size=8),
            get_updates_request=HTTPXRequest(read_timeout=self.config.poll_timeout_s + 10.0),
        )
        try:
            await bot.initialize()  # getMe: the token is checked here
        except (InvalidToken, Forbidden) as exc:
            await _quietly_shut(bot)
            raise ChannelAuthError(token_refused(exc)) from None
        except BaseException:
            await _quietly_shut(bot)
            raise
        self.bot = bot
        self.state = await asyncio.to_thread(self.state_file.load, bot.bot.id)
        await self._set_menu(bot)
        if self.config.webhook_url is not None:
            await self._serve_webhook(bot)
        else:
            # getUpdates is refused while a webhook is set.
            await self._call(bot.delete_webhook, drop_pending_updates=False)
            self._poller = asyncio.create_task(self._poll(bot), name="telegram:poll")
        self._lost = False
        self._ready.set()
        log.info("telegram: @%s connected (%s)", bot.bot.username, self._mode)

    @property
    def _mode(self) -> str:
        return "webhook" if self.config.webhook_url else "long polling"

    async def wait_closed(self) -> None:
        if self._poller is not None:
            closed = asyncio.ensure_future(self._closed.wait())
            done, _ = await asyncio.wait(
                {closed, self._poller}, return_when=asyncio.FIRST_COMPLETED
            )
            closed.cancel()
            if self._poller in done and not self._poller.cancelled():
                if self._poller.exception() is not None:
                    self._lost = True  # sends wait for the supervisor to reconnect
                self._poller.result()  # raises when the connection was lost
            return
        await self._closed.wait()

    async def stop(self) -> None:
        self._ready.clear()
        self._closed.set()
        self._on_event = None
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await poller
        webhook, self._webhook = self._webhook, None
        if webhook is not None:
            await webhook.cleanup()
        bot, self.bot = self.bot, None
        for _ in range(200):  # up to 10 s for sends in flight (a card, a reply)
            if not self._sending:
                break
            await asyncio.sleep(0.05)
        if bot is not None:
            with contextlib.suppress(Exception):
                await bot.shutdown()

    async def _set_menu(self, bot: Bot) -> None:
        if not self._menu:
            return
        try:
            await self._call(
                bot.set_my_commands, [BotCommand(name, text) for name, text in self._menu]
            )
        except TelegramError as exc:
            log.warning("telegram: the command menu was not set: %s", exc)

    # -- receiving ------------------------------------------------------------------------

    async def _poll(self, bot: Bot) -> None:
        while not self._closed.is_set():
            offset = self.state.last_update_id + 1 if self.state.last_update_id else None
            try:
                updates = await self._call(
                    bot.get_updates,
                    offset=offset,
                    timeout=self.config.poll_timeout_s,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            except TimedOut:
                continue  # a long poll that outlived its read timeout: ask again
            except (InvalidToken, Forbidden) as exc:
                raise ChannelAuthError(token_refused(exc)) from None
            for update in updates:
                async with self._lock:
                    await self._handle(bot, update)

    async def _handle(self, bot: Bot, update: Update) -> None:
        """One update, handled once: skipped when already handled, its id written down
        only after the twin has it."""
        if update.update_id <= self.state.last_update_id:
            log.debug("telegram: update %s again; already handled", update.update_id)
            return
        await self._learn_connection(bot, update)
        parsed = parse_update(update, bot.bot.id, self.state.connections)
        if parsed.connection is not None:
            self._connected(parsed.connection)
        if parsed.business_chat is not None:
            chat, connection = parsed.business_chat
            self.state.chats[chat] = connection
        press = parsed.press
        if press is not None:
            await self._answer_press(bot, press)
        if parsed.ignored:
            log.debug("telegram: update %s: %s", update.update_id, parsed.ignored)
        try:
            for event in parsed.events:
                if self._on_event is None:
                    raise ConnectionError("the Telegram channel was stopped")
                await self._on_event(event)
        except Exception:
            tries = self._tries[update.update_id] = self._tries.get(update.update_id, 0) + 1
            if tries < MAX_TRIES or self._on_event is None:
                raise  # handled again after reconnecting
            log.exception(
                "telegram: update %s failed %d times; passed over", update.update_id, tries
            )
        finally:
            if press is not None and press.card is not None:
                self._pressed.pop(press.card, None)
        self._tries.pop(update.update_id, None)
        self.state.last_update_id = update.update_id
        await asyncio.to_thread(self.state_file.save, self.state)

    async def _learn_connection(self, bot: Bot, update: Update) -> None:
        """Look up a Business connection made before this twin first ran (its update
        went by unseen), so its messages can be told to be the owner's."""
        message = update.business_message or update.edited_business_message
        deleted = update.deleted_business_messages
        connection_id = (
            message.business_connection_id
            if message is not None
            else deleted.business_connection_id
            if deleted is not None
            else None
        )
        if not connection_id or connection_id in self.state.connections:
            return
        try:
            found = await self._call(bot.get_business_connection, connection_id)
        except BadRequest as exc:
            log.warning("telegram: business connection %s unknown: %s", connection_id, exc)
            return
        self._connected(connection_of(found))

    def _connected(self, connection: Connection) -> None:
        self.state.connections[connection.id] = connection
        log.info("%s", connection.describe())

    async def _answer_press(self, bot: Bot, press: Press) -> None:
        if press.card is not None and press.message_id is not None:
            self._pressed[press.card] = CardMessage(press.chat_id, press.message_id, press.text)
        try:
            await self._call(bot.answer_callback_query, press.query_id)
        except TelegramError as exc:  # too old to answer: the press still counts
            log.info("telegram: the button press was not acknowledged: %s", exc)

    async def _serve_webhook(self, bot: Bot) -> None:
        from aiohttp import web

        assert self.config.webhook_url is not None
        secret = self._webhook_secret()
        path = _url_path(self.config.webhook_url)

        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=403, text="wrong secret token")
            try:
                data = await request.json()
                update = Update.de_json(data, bot)
            except (ValueError, TypeError, KeyError):
                return web.Response(status=400, text="not an update")
            if update is None:
                return web.Response(status=400, text="not an update")
            async with self._lock:
                # An error answers 500: Telegram posts the update again later.
                await self._handle(bot, update)
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post(path, receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host, port = self.config.listen
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._webhook = runner
        await self._call(
            bot.set_webhook,
            self.config.webhook_url,
            secret_token=secret,
            allowed_updates=list(ALLOWED_UPDATES),
            max_connections=1,  # one at a time, in order: the offset stays meaningful
            drop_pending_updates=False,
        )

    def _webhook_secret(self) -> str:
        if self.config.webhook_secret is not None:
            return self.config.webhook_secret.get_secret_value()
        return hashlib.sha256(b"twin-webhook:" + self._token.encode()).hexdigest()

    # -- sending --------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> ExternalId:
        if self.bot is None and self._lost:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), RECONNECT_WAIT_S)
        bot = self.bot
        if bot is None:
            raise SendError("the Telegram channel is not connected")
        self._sending += 1
        try:
            return await self._send(bot, message)
        finally:
            self._sending -= 1

    async def _send(self, bot: Bot, message: OutboundMessage) -> ExternalId:
        if not message.text.strip():
            raise SendError("Telegram does not take an empty message")
        business = message.chat_id.startswith(BUSINESS)
        raw_chat = message.chat_id.removeprefix(BUSINESS)
        try:
            chat = int(raw_chat)
        except ValueError:
            raise SendError(f"{message.chat_id!r} is not a Telegram chat") from None
        connection = self._connection_for(raw_chat) if business else None
        if message.card is not None and not message.buttons:
            shown = await self._settle(bot, message.card, message.text)
            if shown is not None:
                return shown
        parts = split_message(message.text)
        markup = _keyboard(message.card, message.buttons)
        first: Message | None = None
        last: Message | None = None
        for number, part in enumerate(parts, start=1):
            last = await self._send_part(
                bot,
                chat_id=chat,
                text=part,
                business_connection_id=connection,
                reply_markup=markup if number == len(parts) else None,
            )
            first = first or last
        assert first is not None and last is not None
        if message.card is not None and message.buttons:
            self._cards[message.card] = CardMessage(chat, last.message_id, parts[-1])
        prefix = BUSINESS if business else ""
        return ExternalId(f"{prefix}{chat}:{first.message_id}")

    async def _send_part(self, bot: Bot, **arguments: Any) -> Message:
        try:
            return await self._call(bot.send_message, **arguments)
        except RetryAfter as exc:
            raise SendError(
                f"Telegram's flood control held the message too long ({exc.message})"
            ) from None
        except (Forbidden, BadRequest) as exc:
            raise SendError(f"Telegram refused the message: {exc.message}") from None
        except TelegramError as exc:
            # Not retried: a send that timed out may have arrived.
            raise SendError(f"the message may not have reached Telegram: {exc.message}") from None

    def _connection_for(self, chat: str) -> str:
        """The Business connection to answer in `chat` through: the one its messages
        came through, or else the owner's one working connection."""
        connections = self.state.connections
        known = connections.get(self.state.chats.get(chat, ""))
        if known is None or not known.enabled:
            working = [c for c in connections.values() if c.enabled]
            if len(working) != 1:
                raise SendError(
                    "no Telegram Business connection carries this chat; connect the bot in "
                    "Telegram > Settings > Business > Chatbots"
                )
            known = working[0]
        if not known.can_reply:
            raise SendError(
                "the Telegram Business connection may not reply; allow 'Reply to messages' in "
                "Telegram > Settings > Business > Chatbots"
            )
        return known.id

    async def _settle(self, bot: Bot, card: str, outcome: str) -> ExternalId | None:
        """Show `outcome` on `card` and take its buttons away. Returns the card's id when
        a button press asked for it (no other message is needed), else None."""
        pressed = self._pressed.pop(card, None)
        shown = pressed or self._cards.pop(card, None)
        if shown is None:
            return None
        self._cards.pop(card, None)
        text = f"{shown.text}\n\n» {outcome}"
        if len(text) > MAX_MESSAGE:
            text = split_message(text)[-1]
        try:
            await self._call(
                bot.edit_message_text,
                text,
                chat_id=shown.chat_id,
                message_id=shown.message_id,
                reply_markup=None,
            )
        except TelegramError as exc:
            log.info("telegram: card %s was not edited: %s", card, exc)
            return None  # say it as a message instead
        if pressed is None:
            return None
        return ExternalId(f"{shown.chat_id}:{shown.message_id}")

    async def _call(self, function: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """`function(...)`, waiting out Telegram's flood control (`retry_after`) and
        trying again, up to `MAX_FLOOD_WAIT_S` in all."""
        waited = 0.0
        while True:
            try:
                return await function(*args, **kwargs)
            except RetryAfter as exc:
                delay = retry_seconds(exc)
                if waited + delay > MAX_FLOOD_WAIT_S:
                    raise
                log.warning("telegram: flood control; waiting %.0f s", delay)
                await asyncio.sleep(delay)
                waited += delay


async def _quietly_shut(bot: Bot) -> None:
    with contextlib.suppress(Exception):
        await bot.shutdown()


def _keyboard(card: str | None, buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """One row of inline buttons; each carries its card and command (64 bytes at most)."""
    row = []
    for button in buttons:
        data = f"{card}{CARD_SEPARATOR}{button.command}" if card else button.command
        if len(data.encode()) > CALLBACK_DATA_MAX:
            data = button.command
        if len(data.encode()) > CALLBACK_DATA_MAX:
            continue  # the card's text names the command anyway
        row.append(InlineKeyboardButton(button.label, callback_data=data))
    return InlineKeyboardMarkup([row]) if row else None


def _url_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path or "/"
