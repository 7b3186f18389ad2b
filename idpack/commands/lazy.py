"""A click group whose commands are imported only when they run: `idpack --help` lists
them from a table (name, module, one-line help) without importing any, so it starts in
the time of click itself, and `idpack realm plan` imports provisioning but not the mail
relay or Flask (as pip and the Azure CLI do)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class LazyCommand:
    module: str  # idpack.commands.<module>
    attribute: str  # the click command in it
    summary: str  # the line `idpack --help` shows


class LazyGroup(click.Group):
    def __init__(self, *args: object, commands: dict[str, LazyCommand],
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        found = self.lazy[cmd_name]
        command = getattr(importlib.import_module(found.module), found.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{found.module}.{found.attribute} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name].summary) for name in sorted(self.lazy)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
