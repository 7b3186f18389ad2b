"""A small OpenID Provider for tests, built on Authlib's authorization server: the
"further OpenID Connect provider" a realm federates with, on a loopback port.

It serves
- discovery, /.well-known/openid-configuration (checked with Authlib's
  OpenIDProviderMetadata), and the JWKS at /jwks: one RS256 key made at start;
- the authorization endpoint /authorize: the code flow only, with PKCE required
  (S256 only) and the nonce carried into the ID token; the signed-in user sees a page
  with an "Allow" button (and "Deny");
- the token endpoint /token: one confidential client, authenticated by
  client_secret_post or client_secret_basic; an ID token signed with the key above;
- the UserInfo endpoint /userinfo: the claims of the token's scopes.

`sign_in(user)` says who is signed in at the provider in the browser. What clients
asked is recorded for the tests (`authorization_requests`, `token_requests`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from re import Pattern
from typing import Any

from authlib.integrations.flask_oauth2 import (  # type: ignore[import-untyped]
    AuthorizationServer,
    ResourceProtector,
)
from authlib.oauth2 import OAuth2Error  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    ClientMixin,
    InvalidRequestError,
    TokenMixin,
    list_to_scope,
    scope_to_list,
)
from authlib.oauth2.rfc6749.grants import (  # type: ignore[import-untyped]
    AuthorizationCodeGrant as _AuthorizationCodeGrant,
)
from authlib.oauth2.rfc6750 import BearerTokenValidator  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import CodeChallenge  # type: ignore[import-untyped]
from authlib.oidc.core import UserInfo, UserInfoEndpoint  # type: ignore[import-untyped]
from authlib.oidc.core.grants import OpenIDCode  # type: ignore[import-untyped]
from authlib.oidc.core.models import AuthorizationCodeMixin  # type: ignore[import-untyped]
from authlib.oidc.discovery import OpenIDProviderMetadata  # type: ignore[import-untyped]
from flask import Flask, Response, jsonify, render_template_string, request
from joserfc.jwk import RSAKey

from idpack.processes import free_port
from tests.fakes import HOST, serving

SCOPES = ("openid", "profile", "email")
CODE_SECONDS = 60
TOKEN_SECONDS = 300
ALGORITHM = "RS256"

CONSENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in with the Example provider</title>
<style>body{font-family:sans-serif;max-width:30rem;margin:3rem auto}
button{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}</style></head>
<body>
<h1>{{ client_id }} wants to know who you are</h1>
<p>Signed in to the Example OpenID provider as <strong>{{ user.email }}</strong>.</p>
<p>It asks for: <code>{{ scope }}</code></p>
<form method="post">
  <button type="submit" name="decision" value="allow">Allow</button>
  <button type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
"""


@dataclass(frozen=True)
class OidcUser:
    given_name: str
    family_name: str
    email: str
    picture: str
    locale: str = "en"
    sub: str = field(default_factory=lambda: secrets.token_hex(12))

    @property
    def preferred_username(self) -> str:
        return self.email.split("@")[0]

    def claims(self) -> UserInfo:
        return UserInfo(sub=self.sub, name=f"{self.given_name} {self.family_name}",
                        given_name=self.given_name, family_name=self.family_name,
                        preferred_username=self.preferred_username, picture=self.picture,
                        locale=self.locale, email=self.email, email_verified=True)


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: Pattern[str]  # what Keycloak's broker endpoints look like
    client_metadata: dict[str, Any] = field(default_factory=dict)  # for UserInfoEndpoint

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # every request must name its redirect_uri

    def get_allowed_scope(self, scope: str | None) -> str:
        return str(list_to_scope([s for s in scope_to_list(scope or "") or []
                                  if s in SCOPES]))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return bool(self.redirect_uris.fullmatch(redirect_uri))

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: OidcUser
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))
    expires_at: float = field(default_factory=lambda: time.monotonic() + CODE_SECONDS)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass
class Token(TokenMixin):  # type: ignore[misc]
    access_token: str
    client: Client
    user: OidcUser
    scope: str
    issued_at: float = field(default_factory=time.time)
    expires_in: int = TOKEN_SECONDS

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> OidcUser:
        return self.user

    def get_client(self) -> Client:
        return self.client


class S256Required(CodeChallenge):  # type: ignore[misc]
    """PKCE on every authorization request, confidential clients too, by S256 alone."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ("S256",)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required with code_challenge_method S256")
        super().validate_code_challenge(grant, redirect_uri)


class FakeOidcProvider:
    """One confidential client (client_id, client_secret) whose redirect URIs match
    `redirect_uris` (a regular expression over the whole URI)."""

    def __init__(self, client_id: str, client_secret: str, redirect_uris: Pattern[str]) -> None:
        self.port = free_port(HOST)
        self.issuer = f"http://{HOST}:{self.port}"
        self.client = Client(client_id, client_secret, redirect_uris)
        self.key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM},
                                       auto_kid=True)
        self.authorization_requests: list[dict[str, str]] = []  # the query, as sent
        self.token_requests: list[dict[str, str]] = []  # the form, without the secret
        self.userinfo_requests = 0
        self._signed_in: OidcUser | None = None
        self._codes: dict[str, AuthorizationCode] = {}
        self._tokens: dict[str, Token] = {}
        self._used_nonces: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.app = self._create_app()

    def sign_in(self, user: OidcUser) -> None:
        self._signed_in = user

    @contextmanager
    def running(self) -> Iterator[FakeOidcProvider]:
        with serving(self.app, self.port):
            yield self

    def realm_entry(self, alias: str = "example-oidc") -> str:
        """Realm-file YAML (under `identityProviders:`) that switches the realm's provider
        `alias` on and points it at this one (its client id and secret come from the
        realm file's references, EXAMPLE_OIDC_CLIENT_ID and _SECRET)."""
        return f"""
  {alias}:
    enabled: true
    config:
      issuer: {self.issuer}
      authorizationUrl: {self.issuer}/authorize
      tokenUrl: {self.issuer}/token
      userInfoUrl: {self.issuer}/userinfo
      jwksUrl: {self.issuer}/jwks
"""

    def metadata(self) -> dict[str, Any]:
        document = OpenIDProviderMetadata({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce",
                                 "name", "given_name", "family_name",
                                 "preferred_username", "picture", "locale", "email",
                                 "email_verified"],
        })
        document.validate()
        return dict(document)

    # Authlib's pieces, bound to this provider's state

    def _create_server(self, app: Flask) -> AuthorizationServer:
        provider = self

        def query_client(client_id: str) -> Client | None:
            return provider.client if client_id == provider.client.client_id else None

        def save_token(token: dict[str, Any], oauth_request: Any) -> None:
            with provider._lock:
                provider._tokens[token["access_token"]] = Token(
                    token["access_token"], oauth_request.client, oauth_request.user,
                    token.get("scope", ""), expires_in=int(token.get("expires_in",
                                                                     TOKEN_SECONDS)))

        class CodeGrant(_AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

            def save_authorization_code(self, code: str, oauth_request: Any) -> None:
                data = oauth_request.payload.data
                with provider._lock:
                    provider._codes[code] = AuthorizationCode(
                        code=code, client_id=oauth_request.client.client_id,
                        redirect_uri=oauth_request.payload.redirect_uri,
                        scope=oauth_request.scope, user=oauth_request.user,
                        nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
                        code_challenge_method=data.get("code_challenge_method"))
                    if data.get("nonce"):
                        provider._used_nonces.add((oauth_request.client.client_id,
                                                   data["nonce"]))

            def query_authorization_code(self, code: str,
                                         client: Client) -> AuthorizationCode | None:
                with provider._lock:
                    found = provider._codes.get(code)
                if (found is None or found.client_id != client.client_id
                        or found.expires_at < time.monotonic()):
                    return None
                return found

            def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
                with provider._lock:
                    provider._codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: AuthorizationCode) -> OidcUser:
                return authorization_code.user

        class IdToken(OpenIDCode):  # type: ignore[misc]
            def exists_nonce(self, nonce: str, oauth_request: Any) -> bool:
                with provider._lock:
                    return (oauth_request.payload.client_id, nonce) in provider._used_nonces

            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.key

            def get_client_algorithm(self, client: Client) -> str:
                return ALGORITHM

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.client_id],
                        "azp": client.client_id}

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": ALGORITHM, "kid": provider.key.kid or ""}

            def generate_user_info(self, user: OidcUser, scope: str) -> UserInfo:
                return user.claims().filter(scope)

        class Bearer(BearerTokenValidator):  # type: ignore[misc]
            def authenticate_token(self, token_string: str) -> Token | None:
                with provider._lock:
                    return provider._tokens.get(token_string)

        class UserInfoAnswer(UserInfoEndpoint):  # type: ignore[misc]
            def get_issuer(self) -> str:
                return provider.issuer

            def generate_user_info(self, user: OidcUser, scope: str) -> UserInfo:
                return user.claims().filter(scope)

            def resolve_private_key(self) -> RSAKey:
                return provider.key

        server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
        server.register_grant(CodeGrant, [S256Required(required=True),
                                          IdToken(require_nonce=False)])
        protector = ResourceProtector()
        protector.register_token_validator(Bearer())
        server.register_endpoint(UserInfoAnswer(resource_protector=protector))
        return server

    def _create_app(self) -> Flask:
        app = Flask(f"fake-oidc-{self.port}")
        server = self._create_server(app)

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(self.metadata())

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify({"keys": [self.key.as_dict(private=False)]})

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            if request.method == "GET":
                self.authorization_requests.append(request.args.to_dict())
            user = self._signed_in
            try:
                grant = server.get_consent_grant(end_user=user)
            except OAuth2Error as error:
                return server.handle_error_response(request, error)
            if user is None:
                return "Nobody is signed in to the fake OpenID provider.", 400
            if request.method == "GET":
                return render_template_string(CONSENT_PAGE, user=user,
                                              client_id=grant.client.client_id,
                                              scope=grant.request.scope)
            allowed = request.form.get("decision") == "allow"
            return server.create_authorization_response(grant_user=user if allowed else None,
                                                        grant=grant)

        @app.post("/token")
        def token() -> Any:
            self.token_requests.append({k: v for k, v in request.form.items()
                                        if k != "client_secret"})
            return server.create_token_response()

        @app.route("/userinfo", methods=["GET", "POST"])
        def userinfo() -> Any:
            self.userinfo_requests += 1
            return server.create_endpoint_response("userinfo")

        return app
