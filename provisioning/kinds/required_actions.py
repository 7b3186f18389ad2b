"""Required actions: on or off, default for new users, order, and their config (the
verify-email resend cooldown lives here)."""

from __future__ import annotations

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import PlanContext, pick
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change
from provisioning.schema_types import Bool, ConfigValue, Int, Strict


class RequiredAction(Strict):
    enabled: Bool = True
    defaultAction: Bool = False
    priority: Int | None = None
    config: dict[str, ConfigValue] | None = None


def live_required_actions(live: LiveRealm) -> dict[str, Json]:
    """The realm's registered required actions, by alias."""
    return {a["alias"]: a for a in live.export.get("requiredActions", [])}


class RequiredActionsKind:
    name = "required action"
    prune_key = None  # Keycloak registers them; a file only tunes them

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        registered = live_required_actions(ctx.live)
        for alias, action in ctx.config.requiredActions.items():
            live = registered.get(alias)
            if ctx.live.exists and live is None:
                raise ValueError(f"required action {alias} is not registered in realm "
                                 f"{ctx.config.realm}; register it in the admin console first")
            declared = action.declared()
            want = {k: v for k, v in declared.items() if k != "config"}
            want |= {"enabled": action.enabled, "defaultAction": action.defaultAction}
            if action.config is not None:
                want["config"] = action.config
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
        live = next(a for a in api.required_actions() if a["alias"] == change.name)
        api.update_required_action(change.name, {**live, **want})
        if config is not None:
            api.set_required_action_config(change.name, {**(live.get("config") or {}), **config})

    def export(self, live: LiveRealm) -> Json:
        actions = {}
        for alias, action in live_required_actions(live).items():
            entry = pick(action, [f for f in RequiredAction.model_fields if f != "config"])
            if action.get("config"):
                entry["config"] = dict(action["config"])
            actions[alias] = entry
        return {"requiredActions": actions}
