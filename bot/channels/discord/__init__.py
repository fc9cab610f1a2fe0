"""Discord: the twin's bot, its DM with the owner as the control chat; it answers only
where the bot is addressed (see `events.py` and docs/channels/discord.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.channels.discord.channel import DiscordChannel, use_endpoints
from bot.channels.discord.settings import DiscordSettings
from twin_core.settings import Settings, SettingsError, load_section

__all__ = ["DiscordChannel", "DiscordSettings", "doctor", "make_channel", "pair"]


def _not_about_voice(record: logging.LogRecord) -> bool:
    # discord.py warns at every start that voice libraries are missing; the twin never
    # speaks, and the owner's log should not suggest installing them.
    return "voice will NOT be supported" not in record.getMessage()


logging.getLogger("discord.client").addFilter(_not_about_voice)


def make_channel(settings: Settings) -> DiscordChannel:
    return DiscordChannel(load_section(DiscordSettings, settings))


async def pair(settings: Settings, say: Callable[[str], None]) -> str:
    from bot.handlers.owner import CODE_TTL, issue_pairing_code

    load_section(DiscordSettings, settings)  # refuse to pair a channel that cannot start
    code = issue_pairing_code(settings, "discord")
    say(
        "In Discord, send the twin's bot this code as a direct message within "
        f"{CODE_TTL / 60:.0f} minutes; `twin run` must be running:"
    )
    return code


async def doctor(settings: Settings) -> list[str]:
    """One line per problem: the settings, the token, the Message Content intent."""
    import discord

    try:
        config = load_section(DiscordSettings, settings)
    except SettingsError as exc:
        return [str(exc).replace("bad configuration:\n  ", "").replace("\n  ", "; ")]
    use_endpoints(config)
    client = discord.Client(intents=discord.Intents.default())
    problems: list[str] = []
    try:
        await client.login(config.token.get_secret_value() if config.token else "")
        info = await client.application_info()
        flags = info.flags
        if not (flags.gateway_message_content or flags.gateway_message_content_limited):
            problems.append(
                "the bot lacks the Message Content intent: turn it on in the Developer "
                "Portal (Bot, Privileged Gateway Intents)"
            )
    except discord.LoginFailure:
        problems.append("Discord refused TWIN_DISCORD_TOKEN")
    except (discord.HTTPException, OSError) as exc:
        problems.append(f"cannot reach Discord ({config.api_url or 'discord.com'}): {exc}")
    finally:
        await client.close()
    return problems
