"""`idpack realm export`: the live realm written in the realm file's own schema, so
`export` then `plan` on the result shows no changes. Secrets become references,
`${env:<NAME>_CLIENT_SECRET}`, and only where idpack set them (a fingerprint exists);
Keycloak's built-in roles and clients are left out."""

from __future__ import annotations

import re
from typing import Any

import yaml

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.clients import BUILT_IN_CLIENTS
from provisioning.kinds.clients import SECRET_FINGERPRINT as CLIENT_FINGERPRINT
from provisioning.kinds.identity_providers import SECRET_FINGERPRINT as IDP_FINGERPRINT
from provisioning.kinds.roles import built_in_roles
from provisioning.kinds.smtp import PASSWORD_FINGERPRINT
from provisioning.live import LiveRealm, read_live, read_service_accounts
from provisioning.schema import (
    Client,
    IdentityProvider,
    ProfileAttribute,
    RealmSettings,
    RequiredAction,
)

Json = dict[str, Any]


def secret_variable(name: str) -> str:
    """The environment variable an exported secret is read from: portal -> PORTAL_..."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() + "_CLIENT_SECRET"


def export_realm(api: RealmAdmin) -> Json:
    live = read_live(api)
    if not live.exists:
        raise ValueError(f"realm {api.name} does not exist")
    read_service_accounts(api, live, [
        cid for cid, c in live.clients.items()
        if c.get("serviceAccountsEnabled") and cid not in BUILT_IN_CLIENTS])
    document: Json = {"realm": live.name, "settings": _settings(live)}
    smtp = _smtp(live)
    if smtp:
        document["smtp"] = smtp
    document["events"] = _events(live)
    document["requiredActions"] = _required_actions(live)
    document["roles"] = _roles(live)
    document["defaultRoles"] = sorted(live.default_realm_roles)
    document["userProfile"] = _user_profile(live)
    flows = _authentication_flows(live)
    if flows:
        document["authenticationFlows"] = flows
    document["clients"] = _clients(live)
    document["identityProviders"] = _identity_providers(live)
    return document


def to_yaml(document: Json) -> str:
    header = ("# Exported from Keycloak by `idpack realm export`. Secrets are references:\n"
              "# set the named environment variables before `idpack realm plan`.\n")
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def _pick(source: Json, fields: list[str]) -> Json:
    return {f: source[f] for f in fields if source.get(f) is not None}


def _settings(live: LiveRealm) -> Json:
    fields = [f for f in RealmSettings.model_fields if f != "attributes"]
    settings = _pick(live.export, fields)
    attributes = {k: v for k, v in live.attributes.items() if not k.startswith("idpack.")}
    if attributes:
        settings["attributes"] = attributes
    return settings


def _smtp(live: LiveRealm) -> Json:
    server = dict(live.export.get("smtpServer") or {})
    if not server.get("host"):
        return {}
    smtp: Json = {}
    for key, value in server.items():
        if key == "password":
            continue
        if key in ("ssl", "starttls", "auth"):
            smtp[key] = value == "true"
        elif key in ("port", "timeout"):
            smtp[key] = int(value)
        else:
            smtp[key] = value
    if server.get("password") and live.attributes.get(PASSWORD_FINGERPRINT):
        smtp["password"] = "${env:SMTP_PASSWORD}"  # noqa: S105 (a reference, no value)
    return smtp


def _events(live: LiveRealm) -> Json:
    export = live.export
    events = {
        "enabled": bool(export.get("eventsEnabled")),
        "types": list(export.get("enabledEventTypes") or []),
        "listeners": list(export.get("eventsListeners") or []),
        "adminEventsEnabled": bool(export.get("adminEventsEnabled")),
        "adminEventsDetailsEnabled": bool(export.get("adminEventsDetailsEnabled")),
    }
    if export.get("eventsExpiration"):
        events["expiration"] = export["eventsExpiration"]
    return events


def _required_actions(live: LiveRealm) -> Json:
    actions = {}
    for alias, action in live.required_actions.items():
        entry = _pick(action, [f for f in RequiredAction.model_fields if f != "config"])
        if action.get("config"):
            entry["config"] = dict(action["config"])
        actions[alias] = entry
    return actions


def _roles(live: LiveRealm) -> Json:
    skip = built_in_roles(live.name)
    roles = {}
    for name, role in live.roles.items():
        if name in skip:
            continue
        entry = _pick(role, ["description"])
        if role.get("attributes"):
            entry["attributes"] = role["attributes"]
        roles[name] = entry
    return roles


def _user_profile(live: LiveRealm) -> Json:
    document = live.user_profile or {}
    profile: Json = {}
    if document.get("unmanagedAttributePolicy"):
        profile["unmanagedAttributePolicy"] = document["unmanagedAttributePolicy"]
    profile["attributes"] = {
        a["name"]: {k: v for k, v in a.items()
                    if k in ProfileAttribute.model_fields and v not in (None, {}, [])}
        for a in document.get("attributes", [])
    }
    return profile


def _authentication_flows(live: LiveRealm) -> Json:
    """The realm's own top-level flows (Keycloak's built-in ones are left out)."""
    flows = {}
    for alias, flow in live.authentication_flows.items():
        if not flow.get("topLevel") or flow.get("builtIn"):
            continue
        entry: Json = {}
        if flow.get("description"):
            entry["description"] = flow["description"]
        if flow.get("providerId", "basic-flow") != "basic-flow":
            entry["providerId"] = flow["providerId"]
        entry["executions"] = _flow_steps(live, alias)
        flows[alias] = entry
    return flows


def _flow_steps(live: LiveRealm, alias: str) -> list[Json]:
    steps = []
    for execution in live.authentication_flows[alias].get("authenticationExecutions", []):
        step: Json = {}
        if execution.get("authenticator"):
            step["authenticator"] = execution["authenticator"]
        if execution.get("authenticatorFlow"):
            step["flowAlias"] = execution["flowAlias"]
        step["requirement"] = execution["requirement"]
        config = live.authenticator_configs.get(str(execution.get("authenticatorConfig")))
        if config is not None:
            step["authenticatorConfig"] = config["alias"]
            step["config"] = dict(config.get("config") or {})
        if execution.get("authenticatorFlow"):
            sub = live.authentication_flows.get(execution["flowAlias"]) or {}
            if sub.get("description"):
                step["description"] = sub["description"]
            if sub.get("providerId", "basic-flow") != "basic-flow":
                step["providerId"] = sub["providerId"]
            step["executions"] = _flow_steps(live, execution["flowAlias"])
        steps.append(step)
    return steps


def _clients(live: LiveRealm) -> Json:
    fields = [f for f in Client.model_fields if f not in (
        "secret", "serviceAccountRoles", "attributes", "protocolMappers",
        "authenticationFlowBindingOverrides")]
    flow_alias = {f["id"]: alias for alias, f in live.authentication_flows.items()}
    clients = {}
    for client_id, client in live.clients.items():
        if client_id in BUILT_IN_CLIENTS:
            continue
        entry = _pick(client, fields)
        attributes = {k: v for k, v in (client.get("attributes") or {}).items()
                      if k != CLIENT_FINGERPRINT}
        if attributes:
            entry["attributes"] = attributes
        if (client.get("attributes") or {}).get(CLIENT_FINGERPRINT):
            entry["secret"] = f"${{env:{secret_variable(client_id)}}}"
        overrides = client.get("authenticationFlowBindingOverrides") or {}
        if overrides:
            entry["authenticationFlowBindingOverrides"] = {
                binding: flow_alias.get(flow_id, flow_id) for binding, flow_id in overrides.items()}
        if client.get("protocolMappers"):
            entry["protocolMappers"] = {
                m["name"]: {"type": m["protocolMapper"], "protocol": m["protocol"],
                            "config": dict(m.get("config") or {})}
                for m in client["protocolMappers"]}
        account = live.service_accounts.get(client_id)
        if account is not None:
            roles: Json = {}
            realm_roles = sorted(account.realm_roles - {f"default-roles-{live.name}"})
            if realm_roles:
                roles["realm"] = realm_roles
            if account.client_roles:
                roles["clients"] = {k: sorted(v) for k, v in account.client_roles.items()}
            entry["serviceAccountRoles"] = roles
        clients[client_id] = entry
    return clients


def _identity_providers(live: LiveRealm) -> Json:
    fields = [f for f in IdentityProvider.model_fields
              if f not in ("config", "clientSecret", "metadata", "mappers")]
    providers = {}
    for alias, provider in live.identity_providers.items():
        entry = _pick(provider, fields)
        config = dict(provider.get("config") or {})
        fingerprint = config.pop(IDP_FINGERPRINT, None)
        config.pop("clientSecret", None)
        entry["config"] = config
        if fingerprint:
            entry["clientSecret"] = f"${{env:{secret_variable(alias)}}}"
        mappers = live.identity_provider_mappers.get(alias, {})
        if mappers:
            entry["mappers"] = {name: {"type": m["identityProviderMapper"],
                                       "config": dict(m.get("config") or {})}
                                for name, m in mappers.items()}
        providers[alias] = entry
    return providers
