"""Realm roles and the composites of any role."""

from __future__ import annotations

from idpack.keycloak.areas.base import Json, RealmEndpoint, _q


class RolesApi(RealmEndpoint):
    def create_role(self, representation: Json) -> None:
        self._send("POST", "/roles", representation)

    def update_role(self, name: str, representation: Json) -> None:
        self._send("PUT", f"/roles/{_q(name)}", representation)

    def delete_role(self, name: str) -> None:
        self._send("DELETE", f"/roles/{_q(name)}")

    def realm_roles(self) -> list[Json]:
        roles: list[Json] = self._send("GET", "/roles", params={"briefRepresentation": "true"})
        return roles

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

    def role_members(self, role: str) -> list[Json]:
        """The users holding a realm role directly."""
        return self._all(f"/roles/{_q(role)}/users", {"briefRepresentation": "true"})
