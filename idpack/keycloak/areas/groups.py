"""Groups: the tree, role mappings, default groups."""

from __future__ import annotations

from idpack.keycloak.areas.base import Json, RealmEndpoint, _q


class GroupsApi(RealmEndpoint):
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
