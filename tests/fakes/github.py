"""A fake GitHub: what Keycloak's GitHub identity provider calls, and nothing more.

Keycloak's provider (org.keycloak.social.github.GitHubIdentityProvider) builds its URLs
from two settings of the provider's config, as for GitHub Enterprise Server:

- `baseUrl` (default https://github.com): the browser is sent to
  `<baseUrl>/login/oauth/authorize`, Keycloak posts the code to
  `<baseUrl>/login/oauth/access_token`;
- `apiUrl` (default https://api.github.com): Keycloak reads `<apiUrl>/user` and, when
  the profile has no public email, `<apiUrl>/user/emails` for the primary address.

This fake serves both on one port, the API under /api/v3 as GitHub Enterprise Server
does: point `baseUrl` at `url` and `apiUrl` at `api_url`. Like github.com it
- shows the signed-in user an authorization page (an "Authorize" button),
- answers the token request form-encoded unless the Accept header asks for JSON,
- keeps a user's email private in /user (`"email": null`), so the address comes from
  /user/emails, which needs the `user` or `user:email` scope,
and it records what was asked of it, for the tests to check (the scopes above all).
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, jsonify, redirect, render_template_string, request
from werkzeug.wrappers import Response as BaseResponse

from idpack.processes import free_port
from tests.fakes import HOST, serving

API_PREFIX = "/api/v3"
CODE_SECONDS = 600  # github.com: an authorization code lives ten minutes
# The OAuth scopes github.com knows that bear on a profile; others are ignored, as there.
KNOWN_SCOPES = {"user", "read:user", "user:email", "user:follow"}
EMAIL_SCOPES = {"user", "user:email"}

AUTHORIZE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize application · Fake GitHub</title>
<style>body{font-family:sans-serif;max-width:30rem;margin:3rem auto}
button{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}</style></head>
<body>
<h1>Authorize {{ client_id }}</h1>
<p>Signed in to the fake GitHub as <strong>{{ user.login }}</strong> ({{ user.name }}).</p>
<p>The application asks for the scopes: <code>{{ scope or "(none)" }}</code></p>
<form method="post" action="/login/oauth/authorize">
  <input type="hidden" name="client_id" value="{{ client_id }}">
  <input type="hidden" name="redirect_uri" value="{{ redirect_uri }}">
  <input type="hidden" name="state" value="{{ state }}">
  <input type="hidden" name="scope" value="{{ scope }}">
  <button type="submit" name="decision" value="authorize">Authorize</button>
  <button type="submit" name="decision" value="cancel">Cancel</button>
</form>
</body></html>
"""


@dataclass(frozen=True)
class GitHubUser:
    login: str
    name: str
    email: str  # the primary, verified address; private, as most people keep it
    id: int = field(default_factory=lambda: 10_000_000 + secrets.randbelow(90_000_000))

    @property
    def avatar_url(self) -> str:
        return f"https://avatars.githubusercontent.com/u/{self.id}?v=4"

    def profile(self, base_url: str, api_url: str) -> dict[str, Any]:
        """GET /user as GitHub answers it (the fields Keycloak and its mappers read,
        and enough others to look like the real thing)."""
        return {"login": self.login, "id": self.id, "node_id": f"U_{self.id}",
                "avatar_url": self.avatar_url, "gravatar_id": "",
                "url": f"{api_url}/users/{self.login}", "html_url": f"{base_url}/{self.login}",
                "type": "User", "site_admin": False, "name": self.name, "company": None,
                "blog": "", "location": None, "email": None, "bio": None,
                "public_repos": 0, "followers": 0, "following": 0,
                "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"}


@dataclass(frozen=True)
class AuthorizeRequest:
    """One visit of the authorization page, as the browser brought it."""

    client_id: str
    redirect_uri: str
    scope: str  # exactly as sent
    state: str
    query: dict[str, str]


@dataclass(frozen=True)
class TokenRequest:
    client_id: str
    client_auth: str  # "client_secret_post" or "client_secret_basic"
    accept: str
    form: dict[str, str]  # without the client secret


@dataclass
class _Grant:
    user: GitHubUser
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    expires_at: float = 0.0


class FakeGitHub:
    """One OAuth app (client_id, client_secret) whose callback URLs start with
    `callback_prefix`; `sign_in(user)` says who is signed in to GitHub in the browser."""

    def __init__(self, client_id: str, client_secret: str, callback_prefix: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.callback_prefix = callback_prefix
        self.port = free_port(HOST)
        self.url = f"http://{HOST}:{self.port}"
        self.api_url = self.url + API_PREFIX
        self.authorize_requests: list[AuthorizeRequest] = []
        self.token_requests: list[TokenRequest] = []
        self.api_requests: list[str] = []  # paths under the API, in order
        self.authorizations: list[tuple[GitHubUser, str]] = []  # who granted what scope
        self._signed_in: GitHubUser | None = None
        self._codes: dict[str, _Grant] = {}
        self._tokens: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self.app = self._create_app()

    def sign_in(self, user: GitHubUser) -> None:
        self._signed_in = user

    @contextmanager
    def running(self) -> Iterator[FakeGitHub]:
        with serving(self.app, self.port):
            yield self

    def scopes_asked_by(self, user: GitHubUser) -> list[str]:
        """The `scope` parameter, exactly as sent, of each authorization `user` gave."""
        return [scope for who, scope in self.authorizations if who == user]

    # The app

    def _create_app(self) -> Flask:
        app = Flask(f"fake-github-{self.port}")

        @app.get("/login/oauth/authorize")
        def authorize_page() -> str | tuple[str, int]:
            query = request.args.to_dict()
            asked = AuthorizeRequest(client_id=query.get("client_id", ""),
                                     redirect_uri=query.get("redirect_uri", ""),
                                     scope=query.get("scope", ""),
                                     state=query.get("state", ""), query=query)
            self.authorize_requests.append(asked)
            problem = self._check_app(asked.client_id, asked.redirect_uri)
            if problem:
                return problem, 400
            if self._signed_in is None:
                return "Nobody is signed in to the fake GitHub (call sign_in first).", 400
            return render_template_string(AUTHORIZE_PAGE, user=self._signed_in,
                                          client_id=asked.client_id, scope=asked.scope,
                                          redirect_uri=asked.redirect_uri, state=asked.state)

        @app.post("/login/oauth/authorize")
        def decide() -> BaseResponse | tuple[str, int]:
            client_id = request.form.get("client_id", "")
            redirect_uri = request.form.get("redirect_uri", "")
            problem = self._check_app(client_id, redirect_uri)
            if problem:
                return problem, 400
            state = request.form.get("state", "")
            user = self._signed_in
            if request.form.get("decision") != "authorize" or user is None:
                return redirect(_with_query(redirect_uri, {
                    "error": "access_denied", "state": state,
                    "error_description": "The user has denied your application access."}))
            self.authorizations.append((user, request.form.get("scope", "")))
            code = secrets.token_hex(10)
            with self._lock:
                self._codes[code] = _Grant(user, client_id, redirect_uri,
                                           _granted(request.form.get("scope", "")),
                                           time.monotonic() + CODE_SECONDS)
            return redirect(_with_query(redirect_uri, {"code": code, "state": state}))

        @app.post("/login/oauth/access_token")
        def access_token() -> Response:
            form = request.form.to_dict()
            client_id, secret, how = _client_credentials(form, request.headers)
            self.token_requests.append(TokenRequest(
                client_id, how, request.headers.get("Accept", ""),
                {k: v for k, v in form.items() if k != "client_secret"}))
            if client_id != self.client_id or not secrets.compare_digest(
                    secret, self.client_secret):
                return _token_answer({"error": "incorrect_client_credentials",
                                      "error_description": "The client_id and/or "
                                      "client_secret passed are incorrect."})
            with self._lock:
                grant = self._codes.pop(form.get("code", ""), None)  # a code works once
            if (grant is None or grant.client_id != client_id
                    or grant.expires_at < time.monotonic()):
                return _token_answer({"error": "bad_verification_code",
                                      "error_description": "The code passed is incorrect "
                                      "or expired."})
            if form.get("redirect_uri") and form["redirect_uri"] != grant.redirect_uri:
                return _token_answer({"error": "redirect_uri_mismatch",
                                      "error_description": "The redirect_uri MUST match "
                                      "the registered callback URL for this application."})
            token = "gho_" + secrets.token_hex(18)
            with self._lock:
                self._tokens[token] = grant
            return _token_answer({"access_token": token, "token_type": "bearer",
                                  "scope": ",".join(grant.scopes)})

        @app.get(f"{API_PREFIX}/user")
        def user() -> Response | tuple[Response, int]:
            grant = self._bearer("/user")
            if grant is None:
                return _api_error(401, "Requires authentication")
            return jsonify(grant.user.profile(self.url, self.api_url))

        @app.get(f"{API_PREFIX}/user/emails")
        def emails() -> Response | tuple[Response, int]:
            grant = self._bearer("/user/emails")
            if grant is None:
                return _api_error(401, "Requires authentication")
            if not EMAIL_SCOPES & set(grant.scopes):
                return _api_error(404, "Not Found")  # what github.com says without the scope
            return jsonify([
                {"email": f"{grant.user.id}+{grant.user.login}@users.noreply.github.com",
                 "primary": False, "verified": True, "visibility": None},
                {"email": grant.user.email, "primary": True, "verified": True,
                 "visibility": "private"},
            ])

        return app

    def _check_app(self, client_id: str, redirect_uri: str) -> str | None:
        if client_id != self.client_id:
            return f"No OAuth app with client_id {client_id!r}."
        if not redirect_uri.startswith(self.callback_prefix):
            return (f"The redirect_uri {redirect_uri!r} is not under the app's callback URL "
                    f"{self.callback_prefix!r}.")
        return None

    def _bearer(self, path: str) -> _Grant | None:
        self.api_requests.append(path)
        kind, _, token = request.headers.get("Authorization", "").partition(" ")
        if kind.lower() not in ("bearer", "token"):
            return None
        with self._lock:
            return self._tokens.get(token.strip())


def _granted(scope: str) -> tuple[str, ...]:
    """GitHub takes scopes separated by spaces or commas and ignores ones it lacks."""
    asked = scope.replace(",", " ").split()
    return tuple(s for s in dict.fromkeys(asked) if s in KNOWN_SCOPES)


def _client_credentials(form: dict[str, str], headers: Any) -> tuple[str, str, str]:
    authorization = str(headers.get("Authorization", ""))
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
        except ValueError:
            return "", "", "client_secret_basic"
        client_id, _, secret = decoded.partition(":")
        return client_id, secret, "client_secret_basic"
    return form.get("client_id", ""), form.get("client_secret", ""), "client_secret_post"


def _token_answer(values: dict[str, str]) -> Response:
    """As github.com: form-encoded unless the client accepts JSON; errors too are 200."""
    if "application/json" in request.headers.get("Accept", ""):
        return jsonify(values)
    return Response(urlencode(values), mimetype="application/x-www-form-urlencoded")


def _api_error(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"message": message,
                    "documentation_url": "https://docs.github.com/rest"}), status


def _with_query(url: str, params: dict[str, str]) -> str:
    joiner = "&" if urlsplit(url).query else "?"
    return url + joiner + urlencode(params)
