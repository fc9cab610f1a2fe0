"""The Slack channel's settings (`TWIN_SLACK_*`), next to the code they configure."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from twin_core.settings import PLACEHOLDER_SECRETS, Section


class SlackSettings(Section):
    model_config = SettingsConfigDict(env_prefix="TWIN_SLACK_", frozen=True, extra="ignore")

    bot_token: SecretStr | None = None
    """`xoxb-...`: the app's bot, whose DM with the owner is the control chat."""
    user_token: SecretStr | None = None
    """`xoxp-...`: the owner's own token; reads the owner's DMs and answers as the owner."""
    app_token: SecretStr | None = None
    """`xapp-...` with `connections:write`: Socket Mode (the default)."""
    signing_secret: SecretStr | None = None
    """Verifies the events Slack posts in HTTP mode."""
    api_url: str | None = None
    """slack_sdk's `base_url` (default Slack's own `https://slack.com/api/`)."""
    mode: Literal["socket", "http"] = "socket"
    """`socket`: the twin connects out to Slack (no public address needed); `http`:
    Slack posts events to `http_host:http_port` + `http_path` (behind a public URL)."""
    http_host: str = "127.0.0.1"
    http_port: int = 3000
    http_path: str = "/slack/events"

    @model_validator(mode="after")
    def _complete(self) -> SlackSettings:
        missing = [
            f"TWIN_SLACK_{name.upper()}"
            for name in ("bot_token", "user_token")
            + (("app_token",) if self.mode == "socket" else ("signing_secret",))
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(
                f"the Slack channel ({self.mode} mode) needs {', '.join(missing)} "
                "(see docs/channels/slack.md)"
            )
        for name in ("bot_token", "user_token", "app_token", "signing_secret"):
            value: SecretStr | None = getattr(self, name)
            if value is not None and value.get_secret_value().strip().lower() in (
                PLACEHOLDER_SECRETS
            ):
                raise ValueError(f"TWIN_SLACK_{name.upper()} is a placeholder; set the real one")
        return self

    def secret(self, name: str) -> str:
        value: SecretStr | None = getattr(self, name)
        return value.get_secret_value() if value is not None else ""
