"""One typed configuration for the whole twin, read from `TWIN_*` environment variables.

Library code never reads the environment itself: the composition root builds one
`Settings` and hands the parts down. Bad values are refused at startup with a message
that names the variable and what it expects.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import (
    SettingsError as SourceError,
)
from pydantic_settings.sources.utils import parse_env_vars

from twin_core.decide.timing import QuietHours
from twin_core.types import PolicyMode

PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "xxx", "your-token-here", "todo"})
LOCAL_MODEL_PROVIDER = "twin"


class SettingsError(ValueError):
    """Configuration the twin refuses to start with; the message says how to fix it."""


def default_home() -> Path:
    return Path.home() / ".twin"


_environ: ContextVar[Mapping[str, str] | None] = ContextVar("twin_environ", default=None)


class _InjectedEnvSource(EnvSettingsSource):
    """Reads the mapping given to `load_settings(environ=...)` instead of `os.environ`."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        environ = _environ.get()
        if environ is None:
            return super()._load_env_vars()
        return parse_env_vars(
            environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TWIN_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    home: Path = Field(default_factory=default_home)
    """The data folder: database, vector index, logs. `TWIN_HOME`."""

    database_url: SecretStr | None = None
    """SQLAlchemy URL; when unset, a SQLite file `twin.db` in `home`."""

    redis_url: SecretStr | None = None
    """When set, jobs go to arq workers on Redis; otherwise they run in the bot's process."""

    qdrant_url: str | None = None
    """A Qdrant server for recall's vector index; when unset, Qdrant Edge in `home/index`."""

    embedder: str = "onnx"
    """What turns messages into vectors for recall (`make_embedder`): `onnx`, the shipped
    model; `onnx:FOLDER`, `litellm:MODEL`, `sentence-transformers:MODEL`. Changing it needs
    `twin reindex`."""

    llm_model: str = "twin/local"
    """Any litellm model string; `twin/local` is the built-in offline responder."""

    llm_api_key: SecretStr | None = None
    llm_api_base: str | None = None
    """Where the model is served when not at its provider's default (Ollama, a proxy)."""
    llm_timeout_s: Annotated[float, Field(gt=0, le=600)] = 60.0
    people_model: str = ""
    """A litellm model that adds to the rules when reading messages for people memory
    (facts, promises); empty: rules only, no model. Uses `llm_api_key`/`llm_api_base`."""
    llm_retries: Annotated[int, Field(ge=0, le=10)] = 2
    """Retries of a failed call (rate limits, timeouts, server errors) per model."""
    llm_fallback_models: list[str] = Field(default_factory=list)
    """Models tried in order when `llm_model` fails (JSON list in the environment:
    `TWIN_LLM_FALLBACK_MODELS='["anthropic/claude-3-5-haiku-latest"]'`); they share
    `llm_api_key` and `llm_api_base` only when those are set."""
    llm_daily_budget_usd: Annotated[float, Field(ge=0)] | None = None
    """The most the twin spends on models per day (UTC), by litellm's cost tracking;
    past it, drafts come from the offline responder and say so. Unset: no cap."""

    default_policy: PolicyMode = PolicyMode.DRAFT
    """What the twin does for a contact with no policy of their own."""

    auto_confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 0.8
    """An `auto` contact's draft is sent without asking only at or above this confidence."""

    auto_send_delay_s: Annotated[float, Field(ge=0.0, le=86_400.0)] | None = None
    """Fixed wait before an automatic reply; unset means: as long as the owner takes."""

    auto_send_max_delay_s: Annotated[float, Field(ge=0.0, le=86_400.0)] = 300.0
    """The longest wait drawn from the owner's reply times (quiet and inactive hours
    may push a reply later still)."""

    undo_window_s: Annotated[float, Field(ge=0.0, le=3_600.0)] = 60.0
    """An automatic reply waits at least this long in the control chat, where the owner
    can stop it (`/cancel N`), before it goes out."""

    quiet_hours: str | None = None
    """A daily span of local time in which nothing goes out on its own (`22:00-07:00`);
    replies due then wait for its end."""

    group_policy: PolicyMode = PolicyMode.OFF
    """What the twin does in group conversations, whatever the sender's own policy."""

    reply_floor: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    """Once the twin has learned from the owner's history, a message the owner would
    answer with a lower probability than this gets no draft (it is audited)."""

    owner_name: str = "Owner"
    timezone: str = "UTC"
    """The owner's time zone (IANA name, e.g. `Europe/Lisbon`): what "yesterday" and
    "on 3 May" mean in `/recall`."""
    owner_handles: dict[str, list[str]] = Field(default_factory=lambda: {"console": ["owner"]})
    """Per channel, the identities that are the owner: `{"telegram": ["12345"]}`."""

    channels: list[str] = Field(default_factory=lambda: ["console"])
    """The channels `twin run` connects: `["console"]`, later `["telegram", "slack"]`."""

    control_chat: str = "console:control"
    """`channel:chat_id` of the owner's private control chat."""

    _environ: Mapping[str, str] | None = PrivateAttr(default=None)
    """The environment these settings were read from (`load_section` reads a
    channel's own settings from the same one)."""

    max_message_chars: Annotated[int, Field(gt=0)] = 20_000
    """Longer inbound texts are stored whole but shown and composed from a truncated copy."""

    burst_window_s: Annotated[float, Field(ge=0.0, le=60.0)] = 2.0
    """How long a conversation must be quiet before the twin drafts: a burst ("hey" /
    "are you free" / "tonight?") gets one draft. 0 drafts at once."""

    index_gather_s: Annotated[float, Field(ge=0.0, le=60.0)] = 1.0
    """New messages are indexed for recall together, this long after the first."""

    inbound_concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    """How many conversations are drafted for at the same time (each one in order)."""

    job_poll_s: Annotated[float, Field(gt=0.0, le=60.0)] = 2.0
    """Without Redis: how often the bot looks in SQL for jobs another process queued
    (an approval from the CLI, an import's indexing)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _InjectedEnvSource(settings_cls), file_secret_settings)

    @field_validator("control_chat")
    @classmethod
    def _control_chat_has_channel(cls, value: str) -> str:
        channel, sep, chat = value.partition(":")
        if not sep or not channel or not chat:
            raise ValueError("expected CHANNEL:CHAT_ID, for example 'telegram:123456'")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            QuietHours.parse(value)
            return value.strip()
        return None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "is not a time zone name; use an IANA name such as 'Europe/Lisbon' or 'UTC'"
            ) from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parts = urlsplit(value.get_secret_value())
            if parts.scheme not in ("redis", "rediss", "unix") or not (
                parts.hostname or parts.path
            ):
                raise ValueError("is not a Redis URL; expected redis://HOST:6379 (or rediss://)")
            try:
                parts.port  # noqa: B018  (a bad port raises here)
            except ValueError:
                raise ValueError("has a port that is not a number") from None
        return value

    @field_validator("qdrant_url")
    @classmethod
    def _qdrant_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("is not a Qdrant URL; expected http://HOST:6333")
            try:
                parts.port  # noqa: B018
            except ValueError:
                raise ValueError("has a port that is not a number") from None
        return value

    @field_validator("llm_model")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        """The provider part of a litellm model string, checked against litellm's own
        list (imported only here, on a value other than the default)."""
        provider, slash, _ = value.partition("/")
        if slash and provider == LOCAL_MODEL_PROVIDER:
            return value
        from twin_core.style.llm import import_litellm

        litellm = import_litellm()
        known = {str(getattr(p, "value", p)) for p in litellm.provider_list}
        if slash and provider in known:
            return value
        try:
            # litellm prints its provider list to stdout when it cannot tell.
            with contextlib.redirect_stdout(io.StringIO()):
                litellm.get_llm_provider(value)
        except Exception:
            raise ValueError(
                f"names no provider litellm knows ({provider if slash else value!r}); "
                "write PROVIDER/MODEL, e.g. openai/gpt-4o-mini, anthropic/claude-3-5-haiku, "
                "ollama/llama3, or twin/local"
            ) from None
        return value

    @field_validator("llm_api_key", "database_url", "redis_url")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("is still a placeholder; put the real value or unset it")
        return value

    @model_validator(mode="after")
    def _control_channel_has_owner(self) -> Settings:
        channel = self.control_channel
        if not self.owner_handles.get(channel):
            raise ValueError(
                f"the control chat is on {channel!r} but TWIN_OWNER_HANDLES names no owner "
                f'identity there; add one, e.g. TWIN_OWNER_HANDLES=\'{{"{channel}": ["ID"]}}\''
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def control_channel(self) -> str:
        return self.control_chat.partition(":")[0]

    @property
    def control_chat_id(self) -> str:
        return self.control_chat.partition(":")[2]

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.home / 'twin.db'}"

    @property
    def index_location(self) -> Path | str:
        """Where recall's vector index is: the Qdrant URL, or a folder in `home`."""
        return self.qdrant_url or self.home / "index"

    def is_owner(self, channel: str, handle: str) -> bool:
        return handle in self.owner_handles.get(channel, ())


def prepare_home(home: Path) -> Path:
    """Create the data folder if needed and make sure the twin can write there; raises
    `SettingsError` saying so (read-only, or not creatable) in one line."""
    import errno
    import tempfile

    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home, prefix=".twin-write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise SettingsError(
                f"the data folder {home} is read-only ({reason}); point TWIN_HOME or --home "
                "at a folder you can write"
            ) from None
        raise SettingsError(f"cannot use the data folder {home}: {reason}") from None
    return home


class Section(BaseSettings):
    """A part of the configuration kept next to the code it configures (a channel's
    token and URLs in its own package), read from the same environment as `Settings`:

        class TelegramSettings(Section):
            model_config = SettingsConfigDict(env_prefix="TWIN_TELEGRAM_", frozen=True)
            token: SecretStr

        telegram = load_section(TelegramSettings, settings)
    """

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _InjectedEnvSource(settings_cls), file_secret_settings)


SectionT = TypeVar("SectionT", bound=Section)


def load_section(cls: type[SectionT], settings: Settings, **overrides: object) -> SectionT:
    """`cls` read from the environment `settings` came from; bad values are refused
    like `load_settings` refuses them, each naming its variable."""
    token = _environ.set(settings._environ)
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", "TWIN_"))
        raise SettingsError(_describe(exc, prefix)) from None
    finally:
        _environ.reset(token)


def _describe(exc: ValidationError, prefix: str) -> str:
    lines = []
    for error in exc.errors():
        where = "__".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{prefix}{where.upper()}: {message}" if where else message)
    return "bad configuration:\n  " + "\n  ".join(lines)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build `Settings` from `environ` (default: the process environment) and overrides.

    Raises `SettingsError` with one line per bad variable, naming it by its `TWIN_` name.
    """
    token = _environ.set(environ)
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
        settings._environ = environ
        return settings
    except ValidationError as exc:
        raise SettingsError(_describe(exc, "TWIN_")) from None
    except SourceError as exc:
        # A complex value (list, dict) that is not valid JSON.
        field = str(exc).split('"')[1] if '"' in str(exc) else "?"
        raise SettingsError(
            f"bad configuration:\n  TWIN_{field.upper()}: not valid JSON "
            f'(e.g. TWIN_OWNER_HANDLES=\'{{"telegram": ["12345"]}}\')'
        ) from None
    finally:
        _environ.reset(token)
