"""`twin who|promises|facts|checkins`: people memory from the terminal, the same owner
actions as `/who`, `/promises`, `/facts` and `/checkins` (`--json` for data)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import HomeOption, JsonOption
from bot.cli.owner import act

Name = Annotated[str, typer.Argument(help="The contact's name, or #ID.")]


def register(app: typer.Typer) -> None:
    app.command("who")(who)
    app.command("promises")(promises)
    app.command("facts")(facts)
    app.command("checkins")(checkins)


def who(
    ctx: typer.Context, name: Name, json_output: JsonOption = False, home: HomeOption = None
) -> None:
    """NAME's card: handles, first and last contact, rhythm, languages, promises, facts."""
    act(ctx, home, lambda a: a.people.who(name), json_output=json_output)


def promises(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only promises with this contact.")] = None,
    done: Annotated[bool, typer.Option("--all", help="Closed promises too.")] = False,
    close: Annotated[int | None, typer.Option("--done", help="Close promise N.")] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Promises you made and were made to you: due date, status, source message."""
    if close is not None:
        act(ctx, home, lambda a: a.people.done(close), json_output=json_output)
        return
    act(ctx, home, lambda a: a.people.promises(name, include_done=done), json_output=json_output)


def facts(
    ctx: typer.Context,
    name: Name,
    history: Annotated[bool, typer.Option("--history", help="Superseded facts too.")] = False,
    forget: Annotated[int | None, typer.Option("--forget", help="Delete fact N.")] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """What is held about NAME, each with its source message, validity and confidence."""
    if forget is not None:
        act(ctx, home, lambda a: a.people.forget_fact(forget), json_output=json_output)
        return
    act(ctx, home, lambda a: a.people.facts(name, history=history), json_output=json_output)


def checkins(ctx: typer.Context, json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Contacts whose silence is longer than their usual rhythm, most overdue first."""
    act(ctx, home, lambda a: a.people.checkins(), json_output=json_output)
