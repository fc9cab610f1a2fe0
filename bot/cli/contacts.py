"""Contacts: list them with their handles, join two that are one person."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.app import open_store
from bot.cli.common import HomeOption, JsonOption, echo, emit_json, settings_of
from bot.cli.owner import act

contacts_app = typer.Typer(help="List contacts with their handles, or merge two.")


def register(app: typer.Typer) -> None:
    app.add_typer(contacts_app, name="contacts")


@contacts_app.callback(invoke_without_command=True)
def contacts_list(
    ctx: typer.Context, json_output: JsonOption = False, home: HomeOption = None
) -> None:
    """Every contact with their id, handles (channel:id) and message count."""
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(settings_of(ctx, home))
    try:
        rows = store.contacts.overview()
    finally:
        store.close()
    if json_output:
        emit_json(ctx, rows)
        return
    for row in rows:
        handles = ", ".join(row["handles"])
        echo(ctx, f"#{row['id']:<5} {row['name']:<30} {row['messages']:>7} messages  {handles}")
    if not rows:
        echo(ctx, "No contacts yet.")


@contacts_app.command("merge")
def contacts_merge(
    ctx: typer.Context,
    keep: Annotated[str, typer.Argument(help="The contact to keep (exact name or #ID).")],
    other: Annotated[str, typer.Argument(help="The same person under another name.")],
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Join OTHER into KEEP: one person, one contact, several handles; KEEP's policy stays."""
    act(ctx, home, lambda a: a.merge(keep, other), json_output=json_output, with_memory=True)
