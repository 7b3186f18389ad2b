"""The thin admin client: the only place that talks to Keycloak's Admin REST API.

It wraps python-keycloak's KeycloakAdmin, grouped by what idpack needs, and turns
connection and authentication failures into messages a user can act on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self, TypeVar

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import (
    KeycloakAuthenticationError,
    KeycloakConnectionError,
)

from idpack.errors import IdpackError
from idpack.keycloak.target import KeycloakTarget

T = TypeVar("T")


class KeycloakUnavailable(IdpackError):
    """Keycloak did not answer, or refused our admin credentials."""


class KeycloakAdminClient:
    def __init__(self, target: KeycloakTarget, timeout: int = 10) -> None:
        self.target = target
        self._connection = KeycloakOpenIDConnection(
            server_url=target.url,
            username=target.admin_user,
            password=target.admin_password,
            realm_name="master",
            user_realm_name="master",
            client_id="admin-cli",
            timeout=timeout,
            max_retries=0,
        )
        self._admin = KeycloakAdmin(connection=self._connection)

    @classmethod
    def connect(cls, target: KeycloakTarget, timeout: int = 10) -> Self:
        """A client that has already obtained an admin token, so a wrong URL or
        password fails here, at once, with a clear message."""
        client = cls(target, timeout=timeout)
        client.access_token()
        return client

    def access_token(self) -> str:
        self._call(self._connection.get_token)
        token = self._connection.token
        if not token:
            raise KeycloakUnavailable(f"Keycloak at {self.target.url} gave no admin token")
        return str(token["access_token"])

    # Realms

    def realm_names(self) -> list[str]:
        return [r["realm"] for r in self._call(self._admin.get_realms)]

    def create_realm(self, representation: dict[str, Any]) -> None:
        self._call(lambda: self._admin.create_realm(payload=representation, skip_exists=False))

    def get_realm(self, name: str) -> dict[str, Any]:
        realm: dict[str, Any] = self._call(lambda: self._admin.get_realm(name))
        return realm

    def delete_realm(self, name: str) -> None:
        self._call(lambda: self._admin.delete_realm(name))

    def _call(self, request: Callable[[], T]) -> T:
        try:
            return request()
        except KeycloakConnectionError as exc:
            raise KeycloakUnavailable(
                f"Keycloak at {self.target.url} is not reachable ({_reason(exc)}). "
                "Is it running, and is KEYCLOAK_URL right?"
            ) from exc
        except KeycloakAuthenticationError as exc:
            raise KeycloakUnavailable(
                f"Keycloak at {self.target.url} refused the admin login of "
                f"{self.target.admin_user!r}: check KEYCLOAK_ADMIN and KEYCLOAK_ADMIN_PASSWORD."
            ) from exc


def _reason(exc: BaseException) -> str:
    """The root cause in a few words: python-keycloak says only "Can't connect to
    server" and keeps the socket's reason in the exceptions it chained."""
    texts = []
    link: BaseException | None = exc
    while link is not None:
        texts.append(str(link))
        link = link.__cause__ or link.__context__
    chain = " ".join(texts).lower()
    for known in ("connection refused", "timed out", "name or service not known",
                  "no route to host", "certificate verify failed", "network is unreachable"):
        if known in chain:
            return known
    return texts[0].splitlines()[0][:200] if texts[0] else type(exc).__name__
