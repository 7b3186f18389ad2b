"""A command's help lists the settings of its service, from the service's settings class
(so the list can never disagree with what the service reads)."""

from __future__ import annotations

from idpack.settings import IdpackSettings


def settings_epilog(settings: type[IdpackSettings]) -> str:
    lines = ["\b", "Settings (environment; `idpack config` shows the values in force):"]
    for variable, (_, field) in settings.variables().items():
        lines.append(f"  {variable:<38} {field.description or ''}")
    return "\n".join(lines)
