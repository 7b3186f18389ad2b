"""The Admin REST API of one realm, as realm-as-code and the sidecar use it.

Every Keycloak URL idpack needs is spelled here (paths as in Keycloak's Admin REST API
reference), so no other module builds one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from idpack.keycloak.errors import KeycloakRequestError

if TYPE_CHECKING:
    from idpack.keycloak.admin import KeycloakAdminClient

Json = dict[str, Any]
PAGE_SIZE = 5000


def _q(part: str) -> str:
    """One path segment, escaped. An empty one would turn /users/<id> into /users/, the
    whole list, and "." or ".." would address another resource (/users/. is the list,
    /users/.. the realm), so those are refused."""
    if not part or part in (".", ".."):
        raise ValueError(f"{part!r} cannot address a Keycloak object")
    return quote(part, safe="")


class RealmAdmin:
    def __init__(self, client: KeycloakAdminClient, realm: str) -> None:
        self.client = client
        self.name = realm
        self.base = f"/admin/realms/{_q(realm)}"

    def _send(self, method: str, path: str = "", body: Any = None,
              params: dict[str, Any] | None = None) -> Any:
        return self.client.send(method, self.base + path, body, params)

    # The realm itself

    def get(self) -> Json:
        realm: Json = self._send("GET")
        return realm

    def exists(self) -> bool:
        try:
            self._send("GET")
        except KeycloakRequestError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def create(self, representation: Json) -> None:
        self.client.send("POST", "/admin/realms", {**representation, "realm": self.name})

    def update(self, representation: Json) -> None:
        """PUT of a partial representation: Keycloak changes only the fields sent, except
        `attributes`, whose map it replaces whole; so the attributes sent are merged
        over the realm's current ones first (one read more)."""
        if representation.get("attributes"):
            current = self.get().get("attributes") or {}
            representation = {**representation,
                              "attributes": {**current, **representation["attributes"]}}
        self._send("PUT", "", representation)

    def delete(self) -> None:
        self._send("DELETE")

    def export(self, *, clients: bool = True, roles: bool = True) -> Json:
        """The realm's partial export (secrets masked): settings, identity providers with
        their mappers, required actions and, if asked, clients and roles. Exporting
        clients is slow on big realms (30 s for 500 clients): list them with clients()."""
        exported: Json = self._send("POST", "/partial-export",
                                    params={"exportClients": str(clients).lower(),
                                            "exportGroupsAndRoles": str(roles).lower()})
        return exported

    def _all(self, path: str, params: dict[str, Any] | None = None) -> list[Json]:
        """Every item of a paged collection, a page of PAGE_SIZE per request."""
        items: list[Json] = []
        while True:
            page: list[Json] = self._send("GET", path, params={
                **(params or {}), "first": len(items), "max": PAGE_SIZE})
            items += page
            if len(page) < PAGE_SIZE:
                return items

    def clients(self) -> list[Json]:
        return self._all("/clients")

    def partial_import(self, representation: Json, if_exists: str = "SKIP") -> Json:
        """Keycloak's bulk import (users, clients, roles, ...): one request for many."""
        result: Json = self._send("POST", "/partialImport",
                                  {**representation, "ifResourceExists": if_exists})
        return result

    # User profile

    def user_profile(self) -> Json:
        profile: Json = self._send("GET", "/users/profile")
        return profile

    def put_user_profile(self, document: Json) -> None:
        self._send("PUT", "/users/profile", document)

    # Required actions

    def required_actions(self) -> list[Json]:
        actions: list[Json] = self._send("GET", "/authentication/required-actions")
        return actions

    def update_required_action(self, alias: str, representation: Json) -> None:
        self._send("PUT", f"/authentication/required-actions/{_q(alias)}", representation)

    def set_required_action_config(self, alias: str, config: dict[str, str]) -> None:
        self._send("PUT", f"/authentication/required-actions/{_q(alias)}/config",
                   {"config": config})

    # Authentication flows

    def flows(self) -> list[Json]:
        """The top-level flows (id, alias, builtIn, ...)."""
        flows: list[Json] = self._send("GET", "/authentication/flows")
        return flows

    def create_flow(self, representation: Json) -> str:
        return self.client.create(f"{self.base}/authentication/flows", representation)

    def update_flow(self, flow_id: str, representation: Json) -> None:
        self._send("PUT", f"/authentication/flows/{_q(flow_id)}", representation)

    def delete_flow(self, flow_id: str) -> None:
        self._send("DELETE", f"/authentication/flows/{_q(flow_id)}")

    def flow_executions(self, alias: str) -> list[Json]:
        """The flow's executions, sub-flows' ones included (`level` > 0), in order."""
        executions: list[Json] = self._send("GET",
                                            f"/authentication/flows/{_q(alias)}/executions")
        return executions

    def add_execution(self, flow_alias: str, provider: str) -> str:
        """A new step at the end of the flow (DISABLED until told otherwise); its id."""
        return self.client.create(
            f"{self.base}/authentication/flows/{_q(flow_alias)}/executions/execution",
            {"provider": provider})

    def add_subflow(self, flow_alias: str, representation: Json) -> str:
        """A new sub-flow at the end of the flow (alias, type, provider, description);
        the sub-flow's id (not its execution's)."""
        return self.client.create(
            f"{self.base}/authentication/flows/{_q(flow_alias)}/executions/flow",
            representation)

    def update_execution(self, flow_alias: str, representation: Json) -> None:
        """Requirement and priority of one execution, as flow_executions() shows it."""
        self._send("PUT", f"/authentication/flows/{_q(flow_alias)}/executions", representation)

    def delete_execution(self, execution_id: str) -> None:
        self._send("DELETE", f"/authentication/executions/{_q(execution_id)}")

    def authenticator_config(self, config_id: str) -> Json:
        config: Json = self._send("GET", f"/authentication/config/{_q(config_id)}")
        return config

    def create_authenticator_config(self, execution_id: str, representation: Json) -> None:
        self._send("POST", f"/authentication/executions/{_q(execution_id)}/config",
                   representation)

    def update_authenticator_config(self, config_id: str, representation: Json) -> None:
        self._send("PUT", f"/authentication/config/{_q(config_id)}", representation)

    # Realm roles

    def create_role(self, representation: Json) -> None:
        self._send("POST", "/roles", representation)

    def update_role(self, name: str, representation: Json) -> None:
        self._send("PUT", f"/roles/{_q(name)}", representation)

    def delete_role(self, name: str) -> None:
        self._send("DELETE", f"/roles/{_q(name)}")

    def role(self, name: str) -> Json:
        role: Json = self._send("GET", f"/roles/{_q(name)}")
        return role

    def role_composites(self, role_id: str) -> list[Json]:
        composites: list[Json] = self.client.send(
            "GET", f"{self.base}/roles-by-id/{_q(role_id)}/composites")
        return composites

    def add_composites(self, role_id: str, roles: list[Json]) -> None:
        self.client.send("POST", f"{self.base}/roles-by-id/{_q(role_id)}/composites", roles)

    def remove_composites(self, role_id: str, roles: list[Json]) -> None:
        self.client.send("DELETE", f"{self.base}/roles-by-id/{_q(role_id)}/composites", roles)

    # Clients

    def create_client_scope(self, representation: Json) -> None:
        self._send("POST", "/client-scopes", representation)

    def update_client_scope(self, scope_id: str, representation: Json) -> None:
        self._send("PUT", f"/client-scopes/{_q(scope_id)}", representation)

    def delete_client_scope(self, scope_id: str) -> None:
        self._send("DELETE", f"/client-scopes/{_q(scope_id)}")

    def client_scope_by_name(self, name: str) -> Json | None:
        scopes: list[Json] = self._send("GET", "/client-scopes")
        return next((s for s in scopes if s["name"] == name), None)

    def add_default_client_scope(self, client_uuid: str, scope_id: str) -> None:
        self._send("PUT", f"/clients/{_q(client_uuid)}/default-client-scopes/{_q(scope_id)}")

    def create_client(self, representation: Json) -> None:
        self._send("POST", "/clients", representation)

    def client_by_client_id(self, client_id: str) -> Json | None:
        found: list[Json] = self._send("GET", "/clients", params={"clientId": client_id})
        return found[0] if found else None

    def update_client(self, uuid: str, representation: Json) -> None:
        self._send("PUT", f"/clients/{_q(uuid)}", representation)

    def delete_client(self, uuid: str) -> None:
        self._send("DELETE", f"/clients/{_q(uuid)}")

    def create_client_protocol_mapper(self, uuid: str, representation: Json) -> None:
        self._send("POST", f"/clients/{_q(uuid)}/protocol-mappers/models", representation)

    def update_client_protocol_mapper(self, uuid: str, mapper_id: str,
                                      representation: Json) -> None:
        self._send("PUT", f"/clients/{_q(uuid)}/protocol-mappers/models/{_q(mapper_id)}",
                   representation)

    def delete_client_protocol_mapper(self, uuid: str, mapper_id: str) -> None:
        self._send("DELETE", f"/clients/{_q(uuid)}/protocol-mappers/models/{_q(mapper_id)}")

    def client_roles(self, uuid: str) -> list[Json]:
        """A client's roles with their attributes (not the brief form)."""
        roles: list[Json] = self._send("GET", f"/clients/{_q(uuid)}/roles",
                                       params={"briefRepresentation": "false"})
        return roles

    def service_account_user(self, uuid: str) -> Json:
        user: Json = self._send("GET", f"/clients/{_q(uuid)}/service-account-user")
        return user

    def client_role(self, uuid: str, name: str) -> Json:
        role: Json = self._send("GET", f"/clients/{_q(uuid)}/roles/{_q(name)}")
        return role

    def create_client_role(self, uuid: str, representation: Json) -> None:
        self._send("POST", f"/clients/{_q(uuid)}/roles", representation)

    def update_client_role(self, uuid: str, name: str, representation: Json) -> None:
        self._send("PUT", f"/clients/{_q(uuid)}/roles/{_q(name)}", representation)

    def delete_client_role(self, uuid: str, name: str) -> None:
        self._send("DELETE", f"/clients/{_q(uuid)}/roles/{_q(name)}")

    def realm_default_scopes(self, which: str) -> list[Json]:
        scopes: list[Json] = self._send("GET", f"/default-{_q(which)}-client-scopes")
        return scopes

    def set_realm_default_scope(self, which: str, scope_id: str, present: bool) -> None:
        """A client scope every new client gets, as `which` ("default" or "optional")."""
        self._send("PUT" if present else "DELETE",
                   f"/default-{_q(which)}-client-scopes/{_q(scope_id)}")

    # Localization texts

    def set_localization_texts(self, locale: str, texts: dict[str, str]) -> None:
        """Add or change these texts of `locale` (the others stay)."""
        self._send("POST", f"/localization/{_q(locale)}", texts)

    def delete_localization_text(self, locale: str, key: str) -> None:
        self._send("DELETE", f"/localization/{_q(locale)}/{_q(key)}")

    def delete_localization(self, locale: str) -> None:
        self._send("DELETE", f"/localization/{_q(locale)}")

    def localization_texts(self, locale: str) -> dict[str, str]:
        texts: dict[str, str] = self._send("GET", f"/localization/{_q(locale)}")
        return texts

    # Client policies and profiles (the realm's own; Keycloak's global ones are apart)

    def client_policy_documents(self, which: str) -> list[Json]:
        """The realm's client `which` ("profiles" or "policies")."""
        document: Json = self._send("GET", f"/client-policies/{_q(which)}")
        found: list[Json] = document.get(which) or []
        return found

    def put_client_policy_documents(self, which: str, items: list[Json]) -> None:
        self._send("PUT", f"/client-policies/{_q(which)}", {which: items})

    # Components (user federation and its mappers, key providers, ...)

    def components(self, *, parent: str | None = None, type_: str | None = None,
                   name: str | None = None) -> list[Json]:
        params = {k: v for k, v in (("parent", parent), ("type", type_), ("name", name)) if v}
        found: list[Json] = self._send("GET", "/components", params=params)
        return found

    def create_component(self, representation: Json) -> str:
        return self.client.create(f"{self.base}/components", representation)

    def update_component(self, component_id: str, representation: Json) -> None:
        self._send("PUT", f"/components/{_q(component_id)}", representation)

    def delete_component(self, component_id: str) -> None:
        self._send("DELETE", f"/components/{_q(component_id)}")

    # Organizations (Keycloak 26; the realm's organizationsEnabled must be on)

    def organizations(self) -> list[Json]:
        return self._all("/organizations", {"briefRepresentation": "false"})

    def create_organization(self, representation: Json) -> str:
        return self.client.create(f"{self.base}/organizations", representation)

    def update_organization(self, organization_id: str, representation: Json) -> None:
        self._send("PUT", f"/organizations/{_q(organization_id)}", representation)

    def delete_organization(self, organization_id: str) -> None:
        self._send("DELETE", f"/organizations/{_q(organization_id)}")

    def organization_identity_providers(self, organization_id: str) -> list[Json]:
        found: list[Json] = self._send(
            "GET", f"/organizations/{_q(organization_id)}/identity-providers")
        return found

    def link_organization_identity_provider(self, organization_id: str, alias: str,
                                            linked: bool) -> None:
        path = f"/organizations/{_q(organization_id)}/identity-providers"
        if linked:
            self._send("POST", path, alias)
        else:
            self._send("DELETE", f"{path}/{_q(alias)}")

    # Scope mappings: the roles a client's (or a client scope's) tokens may carry

    def scope_mappings(self, holder: str) -> Json:
        """The realm and client roles in the scope of "clients/<uuid>" or
        "client-scopes/<id>"."""
        kind, holder_id = holder.split("/", 1)
        found: Json = self._send("GET", f"/{_q(kind)}/{_q(holder_id)}/scope-mappings")
        return found

    def change_scope_mappings(self, holder: str, roles: list[Json], *, add: bool,
                              owner_uuid: str | None = None) -> None:
        """Add or remove realm roles (or, with `owner_uuid`, that client's roles) in the
        scope of `holder`: "clients/<uuid>" or "client-scopes/<id>"."""
        kind, holder_id = holder.split("/", 1)
        where = f"clients/{_q(owner_uuid)}" if owner_uuid else "realm"
        self._send("POST" if add else "DELETE",
                   f"/{_q(kind)}/{_q(holder_id)}/scope-mappings/{where}", roles)

    # Groups

    def group_by_path(self, path: str) -> Json:
        segments = "/".join(_q(segment) for segment in path.strip("/").split("/"))
        group: Json = self._send("GET", f"/group-by-path/{segments}")
        return group

    def create_group(self, representation: Json, parent_id: str | None = None) -> str:
        """The new group's id; a sub-group of `parent_id` when given."""
        under = f"/groups/{_q(parent_id)}/children" if parent_id else "/groups"
        return self.client.create(self.base + under, representation)

    def update_group(self, group_id: str, representation: Json) -> None:
        self._send("PUT", f"/groups/{_q(group_id)}", representation)

    def delete_group(self, group_id: str) -> None:
        self._send("DELETE", f"/groups/{_q(group_id)}")

    def group_role_mappings(self, group_id: str) -> Json:
        mappings: Json = self._send("GET", f"/groups/{_q(group_id)}/role-mappings")
        return mappings

    def change_group_roles(self, group_id: str, roles: list[Json], *, add: bool,
                           client_uuid: str | None = None) -> None:
        """Grant (add) or take back realm roles, or a client's roles, of a group."""
        where = f"clients/{_q(client_uuid)}" if client_uuid else "realm"
        self._send("POST" if add else "DELETE",
                   f"/groups/{_q(group_id)}/role-mappings/{where}", roles)

    def default_groups(self) -> list[Json]:
        groups: list[Json] = self._send("GET", "/default-groups")
        return groups

    def set_default_group(self, group_id: str, present: bool) -> None:
        self._send("PUT" if present else "DELETE", f"/default-groups/{_q(group_id)}")

    # Users

    def all_users(self) -> list[Json]:
        """Every user, briefly (id, username, ...), PAGE_SIZE a request."""
        return self._all("/users", {"briefRepresentation": "true"})

    def role_members(self, role: str) -> list[Json]:
        """The users holding a realm role directly."""
        return self._all(f"/roles/{_q(role)}/users", {"briefRepresentation": "true"})

    def admin_events(self, since_ms: int, resource_types: list[str]) -> list[Json]:
        """Admin events from `since_ms` on (epoch milliseconds), oldest first."""
        events: list[Json] = self._send("GET", "/admin-events", params={
            "dateFrom": str(since_ms), "resourceTypes": resource_types,
            "direction": "asc", "max": PAGE_SIZE})
        return events

    def events(self, types: list[str], since_ms: int, *, until_ms: int | None = None,
               first: int = 0, limit: int = 100) -> list[Json]:
        """User events (REGISTER, LOGIN, ...) from `since_ms` to `until_ms` (epoch
        milliseconds, both inclusive), oldest first; Keycloak orders by time alone, so
        events of one millisecond come in no fixed order."""
        params: dict[str, Any] = {"type": types, "dateFrom": str(since_ms),
                                  "direction": "asc", "first": first, "max": limit}
        if until_ms is not None:
            params["dateTo"] = str(until_ms)
        events: list[Json] = self._send("GET", "/events", params=params)
        return events

    def users_by_username(self, username: str) -> list[Json]:
        """Users whose username is exactly this one (Keycloak lower-cases usernames)."""
        users: list[Json] = self._send("GET", "/users", params={
            "username": username, "exact": "true", "briefRepresentation": "false"})
        return users

    def users_by_email(self, email: str) -> list[Json]:
        users: list[Json] = self._send("GET", "/users", params={
            "email": email, "exact": "true", "briefRepresentation": "false"})
        return users

    def user(self, user_id: str) -> Json:
        if not user_id:
            raise KeycloakRequestError("GET", f"{self.base}/users/", 404, "no user id")
        user: Json = self._send("GET", f"/users/{_q(user_id)}")
        return user

    def create_user(self, representation: Json) -> str:
        """The new user's id (from the answer's Location: no search after)."""
        return self.client.create(f"{self.base}/users", representation)

    def update_user(self, user_id: str, representation: Json) -> None:
        self._send("PUT", f"/users/{_q(user_id)}", representation)

    def delete_user(self, user_id: str) -> None:
        self._send("DELETE", f"/users/{_q(user_id)}")

    def reset_password(self, user_id: str, password: str, temporary: bool = False) -> None:
        self._send("PUT", f"/users/{_q(user_id)}/reset-password",
                   {"type": "password", "value": password, "temporary": temporary})

    def send_verify_email(self, user_id: str, lifespan: int = 86400) -> None:
        """Keycloak mails the user a verification link (valid `lifespan` seconds)."""
        self._send("PUT", f"/users/{_q(user_id)}/send-verify-email",
                   params={"lifespan": str(lifespan)})

    def send_required_actions_email(self, user_id: str, actions: list[str],
                                    lifespan: int = 86400) -> None:
        """Keycloak mails the user one link that leads through `actions` (set a password,
        verify the address, ...), valid `lifespan` seconds."""
        self._send("PUT", f"/users/{_q(user_id)}/execute-actions-email", actions,
                   params={"lifespan": str(lifespan)})

    def credentials(self, user_id: str) -> list[Json]:
        found: list[Json] = self._send("GET", f"/users/{_q(user_id)}/credentials")
        return found

    def brute_force_status(self, user_id: str) -> Json:
        """numFailures, disabled (locked out), lastFailure, ... of one user."""
        status: Json = self._send("GET", f"/attack-detection/brute-force/users/{_q(user_id)}")
        return status

    def user_sessions(self, user_id: str) -> list[Json]:
        sessions: list[Json] = self._send("GET", f"/users/{_q(user_id)}/sessions")
        return sessions

    def delete_session(self, session_id: str) -> None:
        self._send("DELETE", f"/sessions/{_q(session_id)}")

    def effective_realm_roles_of_user(self, user_id: str) -> list[Json]:
        """Direct and composite (e.g. through default-roles-<realm>) realm roles."""
        roles: list[Json] = self._send(
            "GET", f"/users/{_q(user_id)}/role-mappings/realm/composite",
            params={"briefRepresentation": "true"})
        return roles

    def user_groups(self, user_id: str) -> list[Json]:
        groups: list[Json] = self._send("GET", f"/users/{_q(user_id)}/groups",
                                        params={"briefRepresentation": "true"})
        return groups

    def set_user_group(self, user_id: str, group_id: str, member: bool) -> None:
        self._send("PUT" if member else "DELETE",
                   f"/users/{_q(user_id)}/groups/{_q(group_id)}")

    # Users' role mappings

    def role_mappings(self, user_id: str) -> Json:
        mappings: Json = self._send("GET", f"/users/{_q(user_id)}/role-mappings")
        return mappings

    def add_realm_role_mappings(self, user_id: str, roles: list[Json]) -> None:
        self._send("POST", f"/users/{_q(user_id)}/role-mappings/realm", roles)

    def remove_realm_role_mappings(self, user_id: str, roles: list[Json]) -> None:
        self._send("DELETE", f"/users/{_q(user_id)}/role-mappings/realm", roles)

    def add_client_role_mappings(self, user_id: str, client_uuid: str,
                                 roles: list[Json]) -> None:
        self._send("POST", f"/users/{_q(user_id)}/role-mappings/clients/{_q(client_uuid)}",
                   roles)

    def remove_client_role_mappings(self, user_id: str, client_uuid: str,
                                    roles: list[Json]) -> None:
        self._send("DELETE", f"/users/{_q(user_id)}/role-mappings/clients/{_q(client_uuid)}",
                   roles)

    # Identity providers and their mappers

    def create_identity_provider(self, representation: Json) -> None:
        self._send("POST", "/identity-provider/instances", representation)

    def update_identity_provider(self, alias: str, representation: Json) -> None:
        self._send("PUT", f"/identity-provider/instances/{_q(alias)}", representation)

    def delete_identity_provider(self, alias: str) -> None:
        self._send("DELETE", f"/identity-provider/instances/{_q(alias)}")

    def import_identity_provider_config(self, provider_id: str, *, from_url: str) -> dict[str, str]:
        """Keycloak's own parse of SAML or OIDC metadata, as an IdP config map."""
        config: dict[str, str] = self._send("POST", "/identity-provider/import-config",
                                            {"providerId": provider_id, "fromUrl": from_url})
        return config

    def import_identity_provider_metadata(self, provider_id: str, name: str,
                                          content: bytes) -> dict[str, str]:
        config: dict[str, str] = self.client.upload(
            f"{self.base}/identity-provider/import-config", {"providerId": provider_id},
            "file", name, content)
        return config

    def create_identity_provider_mapper(self, alias: str, representation: Json) -> None:
        self._send("POST", f"/identity-provider/instances/{_q(alias)}/mappers", representation)

    def update_identity_provider_mapper(self, alias: str, mapper_id: str,
                                        representation: Json) -> None:
        self._send("PUT", f"/identity-provider/instances/{_q(alias)}/mappers/{_q(mapper_id)}",
                   representation)

    def delete_identity_provider_mapper(self, alias: str, mapper_id: str) -> None:
        self._send("DELETE",
                   f"/identity-provider/instances/{_q(alias)}/mappers/{_q(mapper_id)}")
