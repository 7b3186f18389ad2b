"""Components (user federation and its mappers, key providers, ...) and
organizations (Keycloak 26; the realm's organizationsEnabled must be on)."""

from __future__ import annotations

from idpack.keycloak.areas.base import Json, RealmEndpoint, _q


class ComponentsApi(RealmEndpoint):
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
