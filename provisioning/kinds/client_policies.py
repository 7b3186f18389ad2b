"""Client profiles (executors, e.g. PKCE enforced) and client policies (conditions that
pick clients, and the profiles applied to them), as Keycloak's ClientProfileRepresentation
and ClientPolicyRepresentation, keyed by name. Keycloak keeps each list as one document
of the realm, so a declared `clientProfiles` or `clientPolicies` map is the whole
document: entries the file does not name go (a file without the section leaves them,
unless pruned). Apply reads the stored list, replaces or removes one entry and writes
it back. Profiles are created before the policies that name them, and removed after
the policies that named them changed."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Required

from pydantic import AfterValidator
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import Kind, PlanContext, Section, unique
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Strict, Text, json_shape


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


CLIENT_PROFILES = Section[dict[str, ClientProfile]]("clientProfiles", default_factory=dict)
CLIENT_POLICIES = Section[dict[str, ClientPolicy]]("clientPolicies", default_factory=dict)


@json_shape
class NamedJson(TypedDict, total=False):
    name: Required[str]


Named = Annotated[list[NamedJson], AfterValidator(unique("name"))]


@json_shape
class ProfilesJson(TypedDict, total=False):
    profiles: Named | None


@json_shape
class PoliciesJson(TypedDict, total=False):
    policies: Named | None


def _document(model: Strict) -> Json:
    return model.model_dump(exclude_none=True)


class _ClientPolicyDocumentsKind(Kind):
    name: str
    which: str        # profiles | policies
    section: Section[Any]

    def _live(self, live: LiveRealm) -> dict[str, Json]:
        document = live.export.get(self.section.name) or {}
        return {item["name"]: item for item in document.get(self.which) or []}

    def _changes(self, ctx: PlanContext) -> list[Change]:
        """Creates and updates of the declared entries."""
        changes = []
        have = self._live(ctx.live)
        for name, model in self.section.of(ctx.config).items():
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
        return changes

    def _removals(self, ctx: PlanContext) -> list[Change]:
        """The stored entries the declared document leaves out (or, pruned, all
        undeclared ones)."""
        if not (self.section.declared_in(ctx.config) or self.section.name in ctx.prune):
            return []
        declared = self.section.of(ctx.config)
        return [Change(self.name, name, "delete", (FieldChange("name", name, None),),
                       payload={"name": name})
                for name in self._live(ctx.live) if name not in declared]

    def apply(self, api: RealmAdmin, change: Change) -> None:
        """The stored list with this entry replaced in its place (or added last, or
        removed): what Keycloak holds now."""
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
        written = entries or (live.keep_empty and self.section.name in live.export)
        return {self.section.name: entries} if written else None


class ClientProfilesKind(_ClientPolicyDocumentsKind):
    name = "client profile"
    which = "profiles"
    section = CLIENT_PROFILES
    sections = (CLIENT_PROFILES,)
    prune_key = "clientProfiles"
    representation: ClassVar = {"clientProfiles": ProfilesJson | None}

    def plan(self, ctx: PlanContext) -> list[Change]:
        return self._changes(ctx)  # removals come after the policies' changes


class ClientPoliciesKind(_ClientPolicyDocumentsKind):
    name = "client policy"
    which = "policies"
    section = CLIENT_POLICIES
    sections = (CLIENT_POLICIES,)
    prune_key = "clientPolicies"
    representation: ClassVar = {"clientPolicies": PoliciesJson | None}

    def plan(self, ctx: PlanContext) -> list[Change]:
        # A profile goes only once no policy names it: after the policies' changes
        # (applied by the profiles' kind).
        return [*self._changes(ctx), *self._removals(ctx),
                *PROFILES._removals(ctx)]


PROFILES = ClientProfilesKind()
