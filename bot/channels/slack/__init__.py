"""Slack: the twin in the owner's DMs (through the owner's user token) with its control
chat in the app bot's DM; see `channel.py` and docs/channels/slack.md."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.errors import SlackApiError

from bot.channels.base import ChannelAuthError
from bot.channels.slack.channel import SlackChannel, check_app_token, slack_error, web_client
from bot.channels.slack.settings import SlackSettings
from twin_core.settings import Settings, SettingsError, load_section

__all__ = ["SlackChannel", "SlackSettings", "doctor", "make_channel", "pair"]

BOT_SCOPES = ("chat:write", "im:history", "im:write", "users:read", "commands")
USER_SCOPES = ("chat:write", "im:history", "mpim:history")


def make_channel(settings: Settings) -> SlackChannel:
    return SlackChannel(load_section(SlackSettings, settings))


async def pair(settings: Settings, say: Callable[[str], None]) -> str:
    from bot.handlers.owner import CODE_TTL, issue_pairing_code

    load_section(SlackSettings, settings)  # refuse to pair a channel that cannot start
    code = issue_pairing_code(settings, "slack")
    say(
        "In Slack, open the twin app's Messages tab (a DM with its bot) and send it this "
        f"code within {CODE_TTL / 60:.0f} minutes; `twin run` must be running:"
    )
    return code


async def doctor(settings: Settings) -> list[str]:
    """One line per problem: settings, each token, its scopes, Socket Mode's token."""
    try:
        config = load_section(SlackSettings, settings)
    except SettingsError as exc:
        return [str(exc).replace("bad configuration:\n  ", "").replace("\n  ", "; ")]
    problems: list[str] = []
    tokens = [("bot_token", BOT_SCOPES), ("user_token", USER_SCOPES)]
    for name, scopes in tokens:
        variable = f"TWIN_SLACK_{name.upper()}"
        client = web_client(config.secret(name), config)
        try:
            response = await client.auth_test()
        except SlackApiError as exc:
            error = slack_error(exc)
            problems.append(f"Slack refused {variable} ({error})")
            continue
        except OSError as exc:
            problems.append(f"cannot reach Slack ({config.api_url or 'slack.com'}): {exc}")
            break
        granted = str(response.headers.get("x-oauth-scopes", "") or "")
        if granted:
            missing = [s for s in scopes if s not in granted.split(",")]
            if missing:
                problems.append(f"{variable} lacks the scopes {', '.join(missing)}")
    if config.mode == "socket" and not problems:
        try:
            await check_app_token(
                web_client(config.secret("app_token"), config), config.secret("app_token")
            )
        except (ChannelAuthError, ConnectionError) as exc:
            problems.append(str(exc))
    return problems
