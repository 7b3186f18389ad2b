"""Identity providers, their mappers, and Keycloak's parse of a provider's
metadata."""

from __future__ import annotations

from idpack.keycloak.areas.base import Json, RealmEndpoint, _q


class IdentityProvidersApi(RealmEndpoint):
    def identity_provider_aliases(self) -> list[str]:
        providers: list[Json] = self._send("GET", "/identity-provider/instances",
                                           params={"briefRepresentation": "true"})
        return [str(p["alias"]) for p in providers]

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
