"""The realm itself and its realm-wide settings: the realm document, partial
import and export, the user profile, required actions, localization texts, client
policies and profiles."""

from __future__ import annotations

from idpack.keycloak.areas.base import Json, RealmEndpoint, _q
from idpack.keycloak.errors import KeycloakRequestError


class RealmDocumentApi(RealmEndpoint):
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

    def partial_import(self, representation: Json, if_exists: str = "SKIP") -> Json:
        """Keycloak's bulk import (users, clients, roles, ...): one request for many."""
        result: Json = self._send("POST", "/partialImport",
                                  {**representation, "ifResourceExists": if_exists})
        return result

    def user_profile(self) -> Json:
        profile: Json = self._send("GET", "/users/profile")
        return profile

    def put_user_profile(self, document: Json) -> None:
        self._send("PUT", "/users/profile", document)

    def required_actions(self) -> list[Json]:
        actions: list[Json] = self._send("GET", "/authentication/required-actions")
        return actions

    def update_required_action(self, alias: str, representation: Json) -> None:
        self._send("PUT", f"/authentication/required-actions/{_q(alias)}", representation)

    def set_required_action_config(self, alias: str, config: dict[str, str]) -> None:
        self._send("PUT", f"/authentication/required-actions/{_q(alias)}/config",
                   {"config": config})

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

    def client_policy_documents(self, which: str) -> list[Json]:
        """The realm's client `which` ("profiles" or "policies")."""
        document: Json = self._send("GET", f"/client-policies/{_q(which)}")
        found: list[Json] = document.get(which) or []
        return found

    def put_client_policy_documents(self, which: str, items: list[Json]) -> None:
        self._send("PUT", f"/client-policies/{_q(which)}", {which: items})
