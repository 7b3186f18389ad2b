"""Client profiles (executors, e.g. PKCE enforced) and client policies (conditions that
pick clients, and the profiles applied to them), as Keycloak's ClientProfileRepresentation
and ClientPolicyRepresentation, keyed by name. Keycloak stores each list as one
document, so apply reads it, replaces the declared entry and writes it back: entries the
file does not name stay unless pruned. Profiles are applied before the policies that
name them."""

from __future__ import annotations

from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import PlanContext
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Strict, Text


class Executor(Strict):
    executor: Text
    configuration: dict[str, Any] | None = None


class ClientProfile(Strict):
    description: Text | None = None
    executors: list[Executor] | None = None


class Condition(Strict):
    condition: Text
    configuration: dict[str, Any] | None = None


class ClientPolicy(Strict):
    description: Text | None = None
    enabled: bool | None = None
    conditions: list[Condition] | None = None
    profiles: list[Text] | None = None


def _document(model: Strict) -> Json:
    return model.model_dump(exclude_none=True)


class _ClientPolicyDocumentsKind:
    name: str
    which: str        # profiles | policies
    config_field: str

    @property
    def prune_key(self) -> str:
        return self.config_field

    def _live(self, live: LiveRealm) -> dict[str, Json]:
        section = live.export.get(self.config_field) or {}
        return {item["name"]: item for item in section.get(self.which) or []}

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        have = self._live(ctx.live)
        declared: dict[str, Strict] = getattr(ctx.config, self.config_field)
        for name, model in declared.items():
            wanted = _document(model)
            current = have.get(name)
            if current is None:
                changes.append(Change(self.name, name, "create",
                                      tuple(field_changes(wanted, {})),
                                      payload={"name": name, **wanted}))
                continue
            # Lists of steps are compared whole: their order counts.
            fields = field_changes(wanted, current,
                                   whole=("executors", "conditions", "profiles"))
            if fields:
                changes.append(Change(self.name, name, "update",
                                      tuple(fields), payload={**current, **wanted}))
        if self.prune_key in ctx.prune:
            changes += [Change(self.name, name, "delete",
                               (FieldChange("name", name, None),), payload={"name": name})
                        for name in have if name not in declared]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        """The stored list with this entry replaced in its place (or added last, or
        removed): what Keycloak holds now, so other entries survive."""
        stored = api.client_policy_documents(self.which)
        names = [i.get("name") for i in stored]
        items = [i for i in stored if i.get("name") != change.name]
        if change.action != "delete":
            position = names.index(change.name) if change.name in names else len(items)
            items.insert(position, change.payload)
        api.put_client_policy_documents(self.which, items)

    def export(self, live: LiveRealm) -> Json | None:
        entries: dict[str, Any] = {}
        for name, item in self._live(live).items():
            entries[name] = {k: v for k, v in item.items() if k != "name" and v not in
                             (None, [], {})}
        return {self.config_field: entries} if entries else None


class ClientProfilesKind(_ClientPolicyDocumentsKind):
    name = "client profile"
    which = "profiles"
    config_field = "clientProfiles"


class ClientPoliciesKind(_ClientPolicyDocumentsKind):
    name = "client policy"
    which = "policies"
    config_field = "clientPolicies"
