"""A realm's OpenID Connect endpoints, as clients of the realm (not admins) use them."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import requests


def token_endpoint(keycloak_url: str, realm: str) -> str:
    base = keycloak_url.rstrip("/")
    return f"{base}/realms/{quote(realm, safe='')}/protocol/openid-connect/token"


def issuer(keycloak_url: str, realm: str) -> str:
    return f"{keycloak_url.rstrip('/')}/realms/{quote(realm, safe='')}"


def account_api(keycloak_url: str, realm: str) -> str:
    """The account REST API, where a user manages their own profile and credentials."""
    return f"{issuer(keycloak_url, realm)}/account"


def jwks_uri(keycloak_url: str, realm: str) -> str:
    return f"{issuer(keycloak_url, realm)}/protocol/openid-connect/certs"


def introspect(keycloak_url: str, realm: str, client_id: str, secret: str, token: str,
               http: requests.Session | None = None, timeout: float = 5.0) -> requests.Response:
    """Token introspection (RFC 7662) by a confidential client: `active` is false once
    the token's session ended, its user was disabled, or it predates a not-before."""
    return (http or requests.Session()).post(
        f"{issuer(keycloak_url, realm)}/protocol/openid-connect/token/introspect",
        timeout=timeout, data={"token": token, "client_id": client_id,
                               "client_secret": secret})


def logout_session(keycloak_url: str, realm: str, client_id: str, secret: str,
                   refresh_token: str, timeout: float = 10.0) -> requests.Response:
    return requests.post(f"{issuer(keycloak_url, realm)}/protocol/openid-connect/logout",
                         timeout=timeout, data={"client_id": client_id, "client_secret": secret,
                                                "refresh_token": refresh_token})


def password_grant(keycloak_url: str, realm: str, client_id: str, secret: str | None,
                   username: str, password: str, timeout: float = 10.0,
                   totp: str | None = None) -> requests.Response:
    """Resource-owner password grant: how a backend checks a current password. `totp`:
    the code the realm's direct grant flow asks users who set up TOTP for."""
    form = {"grant_type": "password", "client_id": client_id, "username": username,
            "password": password, "scope": "openid"}
    if totp is not None:
        form["totp"] = totp
    if secret is not None:
        form["client_secret"] = secret
    return requests.post(token_endpoint(keycloak_url, realm), data=form, timeout=timeout)


def client_credentials_token(keycloak_url: str, realm: str, client_id: str, secret: str,
                             timeout: float = 10.0) -> requests.Response:
    """The token response for a confidential client's own service account."""
    return requests.post(token_endpoint(keycloak_url, realm), timeout=timeout, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})


def unverified_claims(jwt: str) -> dict[str, Any]:
    """A JWT's payload without checking its signature: for logs and tests only."""
    payload = jwt.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return claims
