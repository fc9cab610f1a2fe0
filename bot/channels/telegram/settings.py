"""The Telegram channel's own settings (`TWIN_TELEGRAM_*`), read from the same
environment as the twin's."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from twin_core.settings import PLACEHOLDER_SECRETS, Section, Settings, SettingsError, load_section

TELEGRAM_API_URL = "https://api.telegram.org"
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")


class TelegramSettings(Section):
    model_config = SettingsConfigDict(env_prefix="TWIN_TELEGRAM_", frozen=True, extra="ignore")

    token: SecretStr | None = None
    """The bot's token from @BotFather (`123456789:AA...`)."""

    api_url: str = TELEGRAM_API_URL
    """The Bot API server: PTB's `base_url` is `<api_url>/bot`, `base_file_url`
    `<api_url>/file/bot` (a local Bot API server, or a test's fake)."""

    webhook_url: str | None = None
    """When set, Telegram posts updates to this public HTTPS URL instead of the twin
    polling for them (long polling is the default)."""

    webhook_listen: str = "127.0.0.1:8443"
    """`HOST:PORT` the webhook server listens on (behind the reverse proxy that serves
    `webhook_url`)."""

    webhook_secret: SecretStr | None = None
    """Telegram sends it with each webhook call; calls without it are refused. Unset, a
    secret is derived from the token."""

    poll_timeout_s: Annotated[int, Field(ge=0, le=50)] = 30
    """How long one long poll (`getUpdates`) waits on Telegram for updates."""

    @field_validator("token")
    @classmethod
    def _real_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value().strip()
        if token.lower() in PLACEHOLDER_SECRETS:
            raise ValueError("is still a placeholder; put the token @BotFather gave you")
        if not _TOKEN.fullmatch(token):
            raise ValueError(
                "does not look like a bot token (expected 123456789:AA..., from @BotFather)"
            )
        return SecretStr(token)

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("is not a URL; expected https://api.telegram.org or http://HOST:PORT")
        return value.rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("is not a URL; expected https://your.host/telegram")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError("expected HOST:PORT, for example 127.0.0.1:8443")
        return value

    @model_validator(mode="after")
    def _webhook_needs_https(self) -> TelegramSettings:
        if (
            self.webhook_url is not None
            and self.api_url == TELEGRAM_API_URL
            and not self.webhook_url.startswith("https://")
        ):
            raise ValueError("TWIN_TELEGRAM_WEBHOOK_URL: Telegram only posts to https:// URLs")
        return self

    @property
    def base_url(self) -> str:
        return f"{self.api_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.api_url}/file/bot"

    @property
    def listen(self) -> tuple[str, int]:
        host, _, port = self.webhook_listen.rpartition(":")
        return host.strip("[]"), int(port)

    def token_value(self) -> str:
        if self.token is None:
            raise SettingsError(
                "TWIN_TELEGRAM_TOKEN is not set: create a bot with @BotFather and set its "
                "token (docs/channels/telegram.md)"
            )
        return self.token.get_secret_value()


def telegram_settings(settings: Settings) -> TelegramSettings:
    return load_section(TelegramSettings, settings)
