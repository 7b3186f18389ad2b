"""Who is calling: a Bearer JWT issued by the realm, checked against the realm's JWKS,
and still active in Keycloak (ActiveTokens, below).

Signature (asymmetric algorithms only: never `none`, never HMAC, whose key would be a
shared secret), issuer, audience, expiry with a small leeway, and that it is an access
token (`typ` Bearer), not an ID token. The key set is cached and
fetched again once when a token names a key id it does not hold (Keycloak rotated its
keys), at most every few seconds, so garbage key ids cannot make us hammer Keycloak.

joserfc is the JOSE library of Authlib's author; Authlib's own `authlib.jose` is
deprecated in its favour."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idpack.keycloak.oidc import introspect

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                      "ES256", "ES384", "ES512", "EdDSA")
REFETCH_INTERVAL = 10.0  # seconds between two fetches caused by an unknown key id


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why (for logs, not callers)."""


class KeySetUnavailable(Exception):
    """The realm's JWKS could not be fetched."""


@dataclass(frozen=True)
class VerifiedToken:
    claims: dict[str, Any]

    @property
    def subject(self) -> str:
        return str(self.claims.get("sub", ""))

    @property
    def realm_roles(self) -> frozenset[str]:
        return frozenset((self.claims.get("realm_access") or {}).get("roles") or [])

    @property
    def is_service_account(self) -> bool:
        """A token of a client's own service account (client credentials grant): Keycloak
        puts the client's id in `client_id` (a session note that only that grant sets)
        and `azp`. Never decided from the username, which a person may choose."""
        client_id = self.claims.get("client_id")
        return isinstance(client_id, str) and bool(client_id) and \
            client_id == self.claims.get("azp")

    @property
    def email_verified(self) -> bool:
        return bool(self.claims.get("email_verified"))


class TokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, audience: str, leeway: int = 30,
                 fetch: Callable[[str], dict[str, Any]] | None = None,
                 remember_seconds: float = 5.0) -> None:
        self.jwks_url, self.issuer, self.audience, self.leeway = jwks_url, issuer, audience, leeway
        self._fetch = fetch or _fetch_jwks
        self._keys: KeySet | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched_at = 0.0
        self._lock = threading.Lock()
        # A service calls with one token many times a second (lookups in bulk): the same
        # bytes verified moments ago verify again, so for `remember_seconds` (as long as
        # ActiveTokens trusts a service token's introspection) only the expiry is
        # checked again. Persons' tokens are verified every time.
        self.remember_seconds = remember_seconds
        self._verified: dict[str, tuple[float, VerifiedToken]] = {}

    def verify(self, token: str) -> VerifiedToken:
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            remembered = self._verified.get(digest)
        if remembered is not None:
            at, verified = remembered
            expires = float(verified.claims.get("exp", 0)) + self.leeway
            if time.monotonic() - at < self.remember_seconds and time.time() < expires:
                return verified
        verified = self._verify(token)
        if verified.is_service_account:
            with self._lock:
                if len(self._verified) > 4096:
                    self._verified.clear()
                self._verified[digest] = (time.monotonic(), verified)
        return verified

    def _verify(self, token: str) -> VerifiedToken:
        header = _header(token)
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise InvalidToken(f"algorithm {algorithm!r} is not allowed")
        keys = self._key_set(str(header.get("kid", "")))
        try:
            decoded = jwt.decode(token, keys, algorithms=list(ALLOWED_ALGORITHMS))
            jwt.JWTClaimsRegistry(
                leeway=self.leeway,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
                sub={"essential": True},
                # Access tokens only: an ID token (typ "ID") or a refresh token that
                # happens to name this audience is not a credential for an API.
                typ={"essential": True, "value": "Bearer"},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidToken(f"{type(exc).__name__}: {exc}") from None
        return VerifiedToken(dict(decoded.claims))

    def _key_set(self, kid: str) -> KeySet:
        with self._lock:
            stale = kid not in self._kids and time.monotonic() - self._fetched_at > REFETCH_INTERVAL
            if self._keys is None or stale:
                self._keys = KeySet.import_key_set(self._fetch(self.jwks_url))  # type: ignore[arg-type]
                self._kids = frozenset(str(k.kid) for k in self._keys.keys)
                self._fetched_at = time.monotonic()
            if kid not in self._kids:
                raise InvalidToken(f"unknown key id {kid!r}")
            return self._keys


def _header(token: str) -> dict[str, Any]:
    try:
        segment = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, IndexError) as exc:
        raise InvalidToken(f"malformed token: {exc}") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed token header")
    return header


def _fetch_jwks(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=5)
        response.raise_for_status()
        keys: dict[str, Any] = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise KeySetUnavailable(f"{url}: {exc}") from exc
    # Keycloak also publishes encryption keys; only signing keys verify tokens.
    keys["keys"] = [k for k in keys.get("keys", []) if k.get("use", "sig") == "sig"]
    return keys


class ActiveTokens:
    """Whether a token that verified is still good: Keycloak's token introspection, asked
    on every call of a person, so that a user an administrator disabled or signed out,
    and every session a password change ended, is refused at once rather than when the
    token expires. A service's token (client credentials: no session to end) is asked
    about at most every `service_seconds`, which keeps the lookups services make in bulk
    cheap; disabling a service's client takes effect within that time.

    Keycloak not answering is KeySetUnavailable (the RPC answers 503), never a pass."""

    def __init__(self, keycloak_url: str, realm: str, client_id: str, secret: str,
                 timeout: float = 5.0, service_seconds: float = 5.0) -> None:
        self.keycloak_url, self.realm = keycloak_url, realm
        self.client_id, self.secret, self.timeout = client_id, secret, timeout
        self.service_seconds = service_seconds
        self._http = requests.Session()
        self._services: dict[str, float] = {}  # token digest -> monotonic time it was good
        self._lock = threading.Lock()

    def check(self, token: str, verified: VerifiedToken) -> None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        if verified.is_service_account and self._recently_good(digest):
            return
        try:
            response = introspect(self.keycloak_url, self.realm, self.client_id, self.secret,
                                  token, http=self._http, timeout=self.timeout)
            response.raise_for_status()
            active = response.json().get("active") is True
        except (requests.RequestException, ValueError) as exc:
            raise KeySetUnavailable(f"token introspection: {exc}") from exc
        if not active:
            raise InvalidToken("Keycloak says the token is no longer active")
        if verified.is_service_account:
            with self._lock:
                if len(self._services) > 4096:
                    self._services.clear()
                self._services[digest] = time.monotonic()

    def _recently_good(self, digest: str) -> bool:
        with self._lock:
            seen = self._services.get(digest)
        return seen is not None and time.monotonic() - seen < self.service_seconds
