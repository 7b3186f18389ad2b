"""The thin admin client: the only place that talks to Keycloak's Admin REST API.

It logs in to the master realm through `admin-cli` (password grant), keeps the token
fresh, and turns connection and authentication failures into messages a user can act
on. It is built directly on requests rather than python-keycloak: that library costs
about half a second of imports on every `idpack` command, which alone would break the
one-second budget of a no-op `idpack realm plan`, and idpack needs only its transport."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import quote

import requests
import requests.adapters

from idpack.errors import IdpackError
from idpack.keycloak.errors import KeycloakRequestError, KeycloakUnavailable
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.target import KeycloakTarget

__all__ = ["KeycloakAdminClient", "KeycloakRequestError", "KeycloakUnavailable",
           "ServiceAccountLogin"]

ADMIN_LOGIN_PATH = "/realms/master/protocol/openid-connect/token"
REFRESH_MARGIN = 15.0  # seconds before expiry at which a token is renewed


@dataclass(frozen=True)
class ServiceAccountLogin:
    """A confidential client's own service account (the sidecar's way in)."""

    realm: str
    client_id: str
    secret: str = field(repr=False)


class KeycloakAdminClient:
    def __init__(self, target: KeycloakTarget, timeout: float = 10.0,
                 service_account: ServiceAccountLogin | None = None,
                 pool_size: int = 10) -> None:
        self.target = target
        self.timeout = timeout
        self.service_account = service_account
        self.requests_made = 0
        self._count_lock = threading.Lock()
        self._token_lock = threading.Lock()
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.hooks["response"].append(self._count)
        self._token: str | None = None
        self._token_expires = 0.0
        # Seconds within which a 503 (a node still starting) is asked again; 0: never.
        self.unavailable_grace = 0.0

    @classmethod
    def for_service_account(cls, url: str, login: ServiceAccountLogin, timeout: float = 5.0,
                            pool_size: int = 32) -> Self:
        """A client acting as a realm's confidential client, through its service account;
        it logs in lazily, on the first request."""
        return cls(KeycloakTarget(url=url.rstrip("/"), admin_user=login.client_id,
                                  admin_password=""),
                   timeout=timeout, service_account=login, pool_size=pool_size)

    @classmethod
    def connect(cls, target: KeycloakTarget, timeout: float = 10.0) -> Self:
        """A client that has already obtained an admin token, so a wrong URL or
        password fails here, at once, with a clear message."""
        client = cls(target, timeout=timeout)
        client.access_token()
        return client

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._count_lock:  # plans read in parallel threads
            self.requests_made += 1

    def access_token(self) -> str:
        token = self._token
        if token is None or time.monotonic() > self._token_expires - REFRESH_MARGIN:
            with self._token_lock:  # one login when many threads find the token stale
                if self._token is None or time.monotonic() > self._token_expires - REFRESH_MARGIN:
                    self._log_in()
            token = self._token
        assert token is not None
        return token

    def _log_in(self) -> None:
        account = self.service_account
        if account is None:
            path, form = ADMIN_LOGIN_PATH, {
                "grant_type": "password", "client_id": "admin-cli",
                "username": self.target.admin_user, "password": self.target.admin_password}
            refused = (f"Keycloak at {self.target.url} refused the admin login of "
                       f"{self.target.admin_user!r}: check KEYCLOAK_ADMIN and "
                       "KEYCLOAK_ADMIN_PASSWORD.")
        else:
            path = f"/realms/{quote(account.realm, safe='')}/protocol/openid-connect/token"
            form = {"grant_type": "client_credentials", "client_id": account.client_id,
                    "client_secret": account.secret}
            refused = (f"Keycloak at {self.target.url} refused client {account.client_id!r} "
                       f"of realm {account.realm}: check its secret.")
        response = self._http("POST", path, data=form)
        if response.status_code in (400, 401):
            raise KeycloakUnavailable(refused)
        if response.status_code == 404 and account is not None and _realm_missing(response):
            raise KeycloakUnavailable(
                f"Keycloak at {self.target.url} has no realm {account.realm} (yet): it is "
                "made by `idpack realm apply` (a deployment's realm job); waiting for it.")
        if response.status_code in (502, 503, 504):
            raise KeycloakUnavailable(
                f"Keycloak at {self.target.url} is not ready yet (HTTP "
                f"{response.status_code}: starting, or no node behind the balancer).")
        if response.status_code != 200:
            raise KeycloakUnavailable(
                f"Keycloak at {self.target.url} answered the admin login with HTTP "
                f"{response.status_code}; is KEYCLOAK_URL the server's base URL?")
        token = response.json()
        self._token = str(token["access_token"])
        self._token_expires = time.monotonic() + float(token.get("expires_in", 60))

    def _http(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(method, self.target.url + path,
                                         timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise KeycloakUnavailable(
                f"Keycloak at {self.target.url} is not reachable ({_reason(exc)}). "
                "Is it running, and is KEYCLOAK_URL right?") from exc

    def send(self, method: str, path: str, body: Any = None,
             params: dict[str, Any] | None = None) -> Any:
        """One Admin API request, e.g. send("GET", "/admin/realms/x/clients"): the
        decoded JSON body (None when empty); KeycloakRequestError on any 4xx/5xx."""
        return self._request(method, path, json=body, params=params)

    def create(self, path: str, body: Any) -> str:
        """A POST that creates an object: the new object's id, from the Location header
        Keycloak answers with."""
        response = self._checked("POST", path, json=body)
        location = response.headers.get("Location", "")
        if not location:
            raise KeycloakRequestError("POST", path, response.status_code,
                                       "no Location header in the answer")
        return location.rstrip("/").rsplit("/", 1)[-1]

    def upload(self, path: str, fields: dict[str, str], file_field: str, file_name: str,
               content: bytes) -> Any:
        """A multipart POST, for the endpoints that take a file."""
        return self._request("POST", path, data=fields, files={file_field: (file_name, content)})

    def _checked(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._authorized(method, path, **kwargs)
        if response.status_code == 401:  # the token was revoked or the server restarted
            self._token = None
            response = self._authorized(method, path, **kwargs)
        # A node behind a balancer that is still starting answers 503 ("Bootstrap in
        # progress") having done nothing: within the grace a caller allows, ask again.
        deadline, pause = time.monotonic() + self.unavailable_grace, 1.0
        while response.status_code == 503 and time.monotonic() + pause < deadline:
            time.sleep(pause)
            pause = min(pause * 2, 10.0)
            response = self._authorized(method, path, **kwargs)
        if response.status_code >= 400:
            raise KeycloakRequestError(method, path, response.status_code, response.text)
        return response

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._checked(method, path, **kwargs)
        if not response.content:
            return None
        if "json" in response.headers.get("Content-Type", ""):
            return response.json()
        return response.text

    def _authorized(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.access_token()}"}
        return self._http(method, path, headers=headers, **kwargs)

    def ready(self, realm: str) -> bool:
        """Keycloak answers now for the realm (a cheap public read, never cached), and
        our login to it works."""
        try:
            response = self._http("GET", f"/realms/{quote(realm, safe='')}")
            if response.status_code != 200:
                return False
            self.access_token()
        except IdpackError:
            return False
        return True

    # Realms

    def realm(self, name: str) -> RealmAdmin:
        """The Admin API of one realm."""
        return RealmAdmin(self, name)

    def realm_names(self) -> list[str]:
        return [r["realm"] for r in self.send("GET", "/admin/realms")]

    def create_realm(self, representation: dict[str, Any]) -> None:
        self.send("POST", "/admin/realms", representation)

    def get_realm(self, name: str) -> dict[str, Any]:
        return self.realm(name).get()

    def delete_realm(self, name: str) -> None:
        self.realm(name).delete()


def _realm_missing(response: requests.Response) -> bool:
    """Keycloak's answer for a realm it does not have: 404 {"error": "Realm does not exist"}."""
    try:
        return "realm does not exist" in str(response.json().get("error", "")).lower()
    except ValueError:
        return False


def _reason(exc: BaseException) -> str:
    """The root cause in a few words, from the chain of exceptions requests raised."""
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
