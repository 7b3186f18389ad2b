"""Clients, their roles and protocol mappers, client scopes, the realm's default
client scopes, and scope mappings (the roles a client's tokens may carry)."""

from __future__ import annotations

from idpack.keycloak.areas.base import Json, RealmEndpoint, _q


class ClientsApi(RealmEndpoint):
    def clients(self) -> list[Json]:
        return self._all("/clients")

    def create_client_scope(self, representation: Json) -> None:
        self._send("POST", "/client-scopes", representation)

    def update_client_scope(self, scope_id: str, representation: Json) -> None:
        self._send("PUT", f"/client-scopes/{_q(scope_id)}", representation)

    def delete_client_scope(self, scope_id: str) -> None:
        self._send("DELETE", f"/client-scopes/{_q(scope_id)}")

    def create_client_scope_protocol_mapper(self, scope_id: str, representation: Json) -> None:
        self._send("POST", f"/client-scopes/{_q(scope_id)}/protocol-mappers/models",
                   representation)

    def update_client_scope_protocol_mapper(self, scope_id: str, mapper_id: str,
                                            representation: Json) -> None:
        self._send("PUT", f"/client-scopes/{_q(scope_id)}/protocol-mappers/models/"
                   f"{_q(mapper_id)}", representation)

    def delete_client_scope_protocol_mapper(self, scope_id: str, mapper_id: str) -> None:
        self._send("DELETE", f"/client-scopes/{_q(scope_id)}/protocol-mappers/models/"
                   f"{_q(mapper_id)}")

    def client_scope_by_name(self, name: str) -> Json | None:
        scopes: list[Json] = self._send("GET", "/client-scopes")
        return next((s for s in scopes if s["name"] == name), None)

    def client_scopes_of(self, client_uuid: str, which: str) -> list[Json]:
        """The client's `which` ("default" or "optional") client scopes."""
        scopes: list[Json] = self._send(
            "GET", f"/clients/{_q(client_uuid)}/{_q(which)}-client-scopes")
        return scopes

    def set_client_scope(self, client_uuid: str, which: str, scope_id: str,
                         present: bool) -> None:
        """Give the client a `which` ("default" or "optional") client scope, or take it."""
        self._send("PUT" if present else "DELETE",
                   f"/clients/{_q(client_uuid)}/{_q(which)}-client-scopes/{_q(scope_id)}")

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
