"""The Discord channel's settings (`TWIN_DISCORD_*`), next to the code they configure."""

from __future__ import annotations

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from twin_core.settings import PLACEHOLDER_SECRETS, Section


class DiscordSettings(Section):
    model_config = SettingsConfigDict(env_prefix="TWIN_DISCORD_", frozen=True, extra="ignore")

    token: SecretStr | None = None
    """The bot's token (Developer Portal, Bot, Reset Token)."""
    api_url: str | None = None
    """The REST API's base (default Discord's own `https://discord.com/api/v10`), so a
    local server can stand in."""
    gateway_url: str | None = None
    """The gateway's websocket URL (default Discord's own `wss://gateway.discord.gg/`)."""

    @model_validator(mode="after")
    def _complete(self) -> DiscordSettings:
        if self.token is None:
            raise ValueError(
                "the Discord channel needs TWIN_DISCORD_TOKEN (see docs/channels/discord.md)"
            )
        if self.token.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("TWIN_DISCORD_TOKEN is a placeholder; set the real one")
        return self
