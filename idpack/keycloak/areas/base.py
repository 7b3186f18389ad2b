"""What every area of a realm's Admin REST API shares: the realm's base path, one
request, paging, and the escaping of path segments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

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


class RealmEndpoint:
    """One realm's Admin REST API root; each area (users, clients, ...) adds its calls."""

    def __init__(self, client: KeycloakAdminClient, realm: str) -> None:
        self.client = client
        self.name = realm
        self.base = f"/admin/realms/{_q(realm)}"

    def _send(self, method: str, path: str = "", body: Any = None,
              params: dict[str, Any] | None = None) -> Any:
        return self.client.send(method, self.base + path, body, params)

    def _all(self, path: str, params: dict[str, Any] | None = None) -> list[Json]:
        """Every item of a paged collection, a page of PAGE_SIZE per request."""
        items: list[Json] = []
        while True:
            page: list[Json] = self._send("GET", path, params={
                **(params or {}), "first": len(items), "max": PAGE_SIZE})
            items += page
            if len(page) < PAGE_SIZE:
                return items
