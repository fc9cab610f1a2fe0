"""Channels by name, imported only when named (`TWIN_CHANNELS`), each platform's library
an extra of its own (`pip install 'twin[telegram]'`), so a twin on the console never
imports a platform SDK."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from bot.channels.base import Channel
from twin_core.settings import Settings, SettingsError


class ChannelUnavailable(RuntimeError):
    """A channel that cannot be loaded here; the message says what to install or set."""


@dataclass(frozen=True, slots=True)
class ChannelEntry:
    name: str
    module: str
    """Its package under `bot.channels`, which has `make_channel(settings) -> Channel`."""
    extra: str | None
    """The `twin[...]` extra holding its library, if it needs one."""
    library: str | None
    """The top-level module of that library (to tell a missing extra from a bug)."""


REGISTRY: dict[str, ChannelEntry] = {
    entry.name: entry
    for entry in (
        ChannelEntry("console", "bot.channels.console", None, None),
        ChannelEntry("telegram", "bot.channels.telegram", "telegram", "telegram"),
        ChannelEntry("slack", "bot.channels.slack", "slack", "slack_bolt"),
        ChannelEntry("discord", "bot.channels.discord", "discord", "discord"),
        ChannelEntry("whatsapp", "bot.channels.whatsapp", "whatsapp", "neonize"),
        ChannelEntry("email", "bot.channels.email", "email", "aioimaplib"),
    )
}


def load_channel(name: str, settings: Settings) -> Channel:
    """The channel `name`, built from `settings`. Raises `ChannelUnavailable` naming the
    fix: an unknown name, a missing extra, or a platform not built into this version."""
    make: Callable[[Settings], Channel] = channel_module(name).make_channel
    return make(settings)


def channel_module(name: str) -> ModuleType:
    """The package of channel `name`, imported. Besides `make_channel(settings)` it may
    define the hooks `twin pair` and `twin doctor` call:

        async def pair(settings: Settings, say: Callable[[str], None]) -> str
        async def doctor(settings: Settings) -> list[str]   # problems; [] when fine
    """
    entry = REGISTRY.get(name)
    if entry is None:
        raise ChannelUnavailable(
            f"TWIN_CHANNELS names {name!r}, which is not a channel (known: {', '.join(REGISTRY)})"
        )
    if importlib.util.find_spec(entry.module) is None:
        built = ", ".join(n for n, e in REGISTRY.items() if importlib.util.find_spec(e.module))
        raise ChannelUnavailable(
            f"the {name} channel is not part of this version of the twin yet (available: {built})"
        )
    if entry.library is not None and importlib.util.find_spec(entry.library) is None:
        raise ChannelUnavailable(
            f"the {name} channel needs its library: pip install 'twin[{entry.extra}]'"
        )
    return importlib.import_module(entry.module)


def load_channels(settings: Settings) -> list[Channel]:
    """Every channel `TWIN_CHANNELS` names; all problems reported at once."""
    channels: list[Channel] = []
    problems: list[str] = []
    for name in dict.fromkeys(settings.channels):
        try:
            channels.append(load_channel(name, settings))
        except ChannelUnavailable as exc:
            problems.append(str(exc))
        except SettingsError as exc:  # a channel's own settings (its token, its URL)
            problems.append(str(exc).removeprefix("bad configuration:\n  ").replace("\n  ", "; "))
    if problems:
        raise ChannelUnavailable("; ".join(problems))
    return channels
