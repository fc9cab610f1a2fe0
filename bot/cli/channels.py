"""The channels themselves: `twin pair CHANNEL` (become the owner on a platform by
sending the bot a one-time code, or link the twin as a device) and `twin doctor` (check
every configured channel's settings and connection, one line each)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import typer

from bot.channels.registry import REGISTRY, ChannelUnavailable, channel_module
from bot.cli.common import HomeOption, JsonOption, UserError, echo, emit_json, settings_of
from twin_core.settings import Settings


def register(app: typer.Typer) -> None:
    app.command()(pair)
    app.command()(doctor)


def pair(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help=f"One of: {', '.join(REGISTRY)}.")],
    home: HomeOption = None,
) -> None:
    """Make yourself the owner on CHANNEL (or link the twin to your account there)."""
    settings = settings_of(ctx, home)
    try:
        module = channel_module(channel)
    except ChannelUnavailable as exc:
        raise UserError(str(exc)) from None
    hook: Callable[[Settings, Callable[[str], None]], Coroutine[Any, Any, str]] | None = getattr(
        module, "pair", None
    )
    if hook is None:
        raise UserError(
            f"{channel} needs no pairing: your identity there comes from its settings "
            "(TWIN_OWNER_HANDLES, TWIN_CONTROL_CHAT; see docs/configuration.md)"
        )

    def say(line: str) -> None:
        print(line, file=sys.stderr if ctx.find_root().obj.json_stream else sys.stdout, flush=True)

    echo(ctx, asyncio.run(hook(settings, say)))


def doctor(ctx: typer.Context, json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Check each channel in TWIN_CHANNELS: settings, credentials, connection."""
    settings = settings_of(ctx, home)
    report: dict[str, list[str]] = {}
    for name in dict.fromkeys(settings.channels):
        try:
            module = channel_module(name)
        except ChannelUnavailable as exc:
            report[name] = [str(exc)]
            continue
        check: Callable[[Settings], Coroutine[Any, Any, list[str]]] | None = getattr(
            module, "doctor", None
        )
        try:
            report[name] = asyncio.run(check(settings)) if check is not None else []
        except Exception as exc:  # a check that breaks is a finding, not a crash
            report[name] = [f"the check failed: {type(exc).__name__}: {exc}"]
    if json_output:
        emit_json(
            ctx,
            {name: {"ok": not problems, "problems": problems} for name, problems in report.items()},
        )
    else:
        for name, problems in report.items():
            echo(ctx, f"{name}: ok" if not problems else f"{name}: " + "; ".join(problems))
    if any(report.values()):
        raise typer.Exit(1)
