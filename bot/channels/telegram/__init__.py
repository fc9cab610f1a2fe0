"""Telegram (python-telegram-bot): the owner's control chat with the bot, with inline
buttons under each draft, and the owner's own private chats through a Telegram Business
connection. See docs/channels/telegram.md.

    make_channel(settings)   the channel `twin run` connects
    pair(settings, say)      `twin pair telegram`: a one-time code to send the bot
    doctor(settings)         `twin doctor`: the token, and the Bot API reached (getMe)
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import Bot
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError

from bot.channels.registry import ChannelUnavailable
from bot.channels.telegram.channel import TelegramChannel, token_refused
from bot.channels.telegram.settings import TelegramSettings, telegram_settings
from bot.channels.telegram.text import split_message
from bot.channels.telegram.updates import parse_update
from twin_core.settings import Settings, SettingsError

__all__ = [
    "TelegramChannel",
    "TelegramSettings",
    "doctor",
    "make_channel",
    "pair",
    "parse_update",
    "split_message",
]

STATE_FILE = "telegram-state.json"


def make_channel(settings: Settings) -> TelegramChannel:
    return TelegramChannel(telegram_settings(settings), settings.home / STATE_FILE)


async def _whoami(config: TelegramSettings) -> str:
    """The bot's @username (getMe); raises with one line saying what is wrong."""
    bot = Bot(config.token_value(), base_url=config.base_url, base_file_url=config.base_file_url)
    try:
        async with bot:
            return f"@{bot.bot.username}"
    except (InvalidToken, Forbidden) as exc:
        raise ChannelUnavailable(token_refused(exc)) from None
    except NetworkError as exc:
        raise ChannelUnavailable(f"cannot reach {config.api_url}: {exc.message}") from None
    except TelegramError as exc:
        raise ChannelUnavailable(f"Telegram answered with an error: {exc.message}") from None


async def pair(settings: Settings, say: Callable[[str], None]) -> str:
    """Issue a one-time code; the first account to send it to the bot becomes the owner
    on Telegram, and its chat with the bot the control chat."""
    from bot.handlers.owner import CODE_TTL, issue_pairing_code

    username = await _whoami(telegram_settings(settings))
    code = issue_pairing_code(settings, "telegram")
    say(f"Open Telegram, start a chat with {username} and send it this code:")
    say(f"    {code}")
    say(
        f"It works once, for {int(CODE_TTL // 60)} minutes, while `twin run` is running. "
        "The account that sends it becomes the owner; that chat becomes the control chat."
    )
    return code


async def doctor(settings: Settings) -> list[str]:
    """What is wrong with the Telegram channel, one line each ([] when it is fine)."""
    try:
        config = telegram_settings(settings)
        await _whoami(config)
    except (SettingsError, ChannelUnavailable) as exc:
        return [str(exc).replace("bad configuration:\n  ", "")]
    return []
