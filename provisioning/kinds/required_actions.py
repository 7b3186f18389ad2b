"""Required actions: on or off, default for new users, order, and their config (the
verify-email resend cooldown lives here). Keycloak registers them; a file tunes the
fields it declares. An action's `config` holds Keycloak's settings of it, so the keys
the file gives are exact and the others are Keycloak's."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Required

from pydantic import AfterValidator
from typing_extensions import TypedDict

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import Kind, PlanContext, Section, pick, unique
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change
from provisioning.schema_types import Bool, ConfigValue, Int, Strict, json_shape


class RequiredAction(Strict):
    enabled: Bool | None = None
    defaultAction: Bool | None = None
    priority: Int | None = None
    config: dict[str, ConfigValue] | None = None


REQUIRED_ACTIONS = Section[dict[str, RequiredAction]]("requiredActions", default_factory=dict)


@json_shape
class RequiredActionJson(TypedDict, total=False):
    alias: Required[str]
    config: dict[str, Any] | None


def live_required_actions(live: LiveRealm) -> dict[str, Json]:
    """The realm's registered required actions, by alias."""
    return {a["alias"]: a for a in live.export.get("requiredActions") or []}


class RequiredActionsKind(Kind):
    name = "required action"
    sections = (REQUIRED_ACTIONS,)
    representation: ClassVar = {"requiredActions": Annotated[list[RequiredActionJson],
                                                   AfterValidator(unique("alias"))] | None}

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        registered = live_required_actions(ctx.live)
        for alias, action in REQUIRED_ACTIONS.of(ctx.config).items():
            live = registered.get(alias)
            if ctx.live.exists and live is None:
                raise ValueError(f"required action {alias} is not registered in realm "
                                 f"{ctx.config.realm}; register it in the admin console first")
            want = action.declared()
            fields = field_changes(want, live)
            if fields:
                changes.append(Change(self.name, alias, ctx.action, tuple(fields),
                                      payload=want))
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        want = dict(change.payload)
        config = want.pop("config", None)
        # The PUT needs the action's full representation; Keycloak's defaults are
        # read at apply time because a realm created by this plan was not there to read.
        live = next((a for a in api.required_actions() if a["alias"] == change.name), None)
        if live is None:
            raise ValueError(f"required action {change.name} is not registered in realm "
                             f"{api.name}; register it in the admin console first")
        api.update_required_action(change.name, {**live, **want})
        if config:  # an action without settings refuses a config (HTTP 400)
            api.set_required_action_config(change.name, {**(live.get("config") or {}), **config})

    def export(self, live: LiveRealm) -> Json:
        actions = {}
        for alias, action in live_required_actions(live).items():
            entry = pick(action, [f for f in RequiredAction.model_fields if f != "config"])
            if action.get("config"):  # settings: an empty map declares nothing
                entry["config"] = dict(action["config"])
            actions[alias] = entry
        return {"requiredActions": actions}
