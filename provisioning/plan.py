"""A plan is plain data: the changes that would make Keycloak match the file, each
with the fields it changes. It can be printed, turned into JSON, tested, and applied;
applying only executes it. Secret values never enter the printable part."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["create", "update", "delete"]
SYMBOL = {"create": "+", "update": "~", "delete": "-"}
COLOUR = {"create": "\033[32m", "update": "\033[33m", "delete": "\033[31m"}
RESET = "\033[0m"


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any = None
    after: Any = None
    secret: bool = False  # only the fact of a change is shown, never a value

    def describe(self) -> str:
        if self.secret:
            return f"{self.path}: (secret changed)"
        if self.path.endswith("executions"):  # a flow's steps: one per line
            return self._outline()
        if self.before is None:
            return f"{self.path}: {_show(self.after)}"
        if self.after is None:
            return f"{self.path}: {_show(self.before)} -> (removed)"
        return f"{self.path}: {_show(self.before)} -> {_show(self.after)}"

    def _outline(self) -> str:
        lines = [f"{self.path}:"]
        if self.before is not None:
            lines += ["  was:", *(f"    {line}" for line in self.before), "  now:"]
        lines += [f"    {line}" if self.before is not None else f"  {line}"
                  for line in self.after or []]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        if self.secret:
            return {"path": self.path, "secret": True}
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Change:
    kind: str  # the resource kind's name, e.g. "client"
    name: str  # the object's name in the file, e.g. "portal"
    action: Action
    fields: tuple[FieldChange, ...] = ()
    # What apply needs (representations, ids). It may hold secret values, so it is
    # never printed, compared or written to JSON.
    payload: Any = field(default=None, repr=False, compare=False)

    @property
    def title(self) -> str:
        return f"{self.kind} {self.name}"

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "action": self.action,
                "fields": [f.as_json() for f in self.fields]}


@dataclass(frozen=True)
class Plan:
    realm: str
    changes: tuple[Change, ...]

    @property
    def empty(self) -> bool:
        return not self.changes

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def summary(self) -> str:
        if self.empty:
            return f"Realm {self.realm} matches the configuration: no changes."
        return (f"Realm {self.realm}: {self.count('create')} to create, "
                f"{self.count('update')} to update, {self.count('delete')} to delete.")

    def render(self, colour: bool = False) -> str:
        lines = []
        for change in self.changes:
            head = f"{SYMBOL[change.action]} {change.title}"
            if change.action == "delete":
                head += "  (not in the configuration; pruned)"
            lines.append(f"{COLOUR[change.action]}{head}{RESET}" if colour else head)
            lines.extend(f"    {line}" for f in change.fields
                         for line in f.describe().splitlines())
        lines.append(self.summary())
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps({
            "realm": self.realm,
            "in_sync": self.empty,
            "summary": {a: self.count(a) for a in ("create", "update", "delete")},
            "changes": [c.as_json() for c in self.changes],
        }, indent=2, default=str)


def _show(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)
