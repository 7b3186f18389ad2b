"""A MikroCloud realm whose portal client points at a portal served on a free port, the
real sidecar app beside it, and a requests session that walks Keycloak's hosted pages the
way a browser does (cookies, redirects, HTML forms), without running a browser."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from http.cookiejar import Cookie
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyotp
import requests
from flask import Flask
from werkzeug.serving import make_server

from extensions.portal.app import create_app as create_portal
from extensions.portal.settings import PortalSettings
from extensions.sidecar.app import create_app as create_sidecar
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from idpack.processes import free_port
from tests.support.realm import SECRETS, apply, load
from tests.support.sidecar import SidecarRealm
from tests.support.smtp_peer import Received, smtp_peer
from tests.support.totp import authenticator

# A second portal client whose access tokens live two seconds, to see the portal send
# a user with an expired token through sign-in again.
OVERLAY = """
clients:
  portal-short-lived:
    publicClient: true
    standardFlowEnabled: true
    directAccessGrantsEnabled: false
    redirectUris: ["${env:SHORT_LIVED_PORTAL_URL}/*"]
    attributes:
      pkce.code.challenge.method: S256
      post.logout.redirect.uris: "+"
      access.token.lifespan: 2
    protocolMappers:
      idpack-sidecar-audience: {type: oidc-audience-mapper, config: {
        included.client.audience: idpack-sidecar, access.token.claim: true}}
"""


# Each test user's authenticator app, once it has set one up.
AUTHENTICATORS: dict[str, pyotp.TOTP] = {}


@dataclass(frozen=True)
class PortalStack:
    realm: SidecarRealm
    portal_url: str
    short_lived_portal_url: str
    sidecar_url: str
    mail: Received
    store: str  # the portals' signed-in sessions
    sidecar_app: Flask | None = None

    def settings(self, **overrides: object) -> PortalSettings:
        values: dict[str, object] = {
            "portal_url": self.portal_url, "keycloak_url": self.realm.keycloak.url,
            "realm": self.realm.name, "sidecar_url": self.sidecar_url,
            "secret_key": secrets.token_urlsafe(32), "store": self.store}
        return PortalSettings.from_env({}, stack_file=False, **(values | overrides))


@contextmanager
def serving(app: Flask, port: int) -> Iterator[str]:
    """The app on a real HTTP port in a thread, as Keycloak's redirects need."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def portal_stack(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
                 folder: Path) -> Iterator[PortalStack]:
    """The MikroCloud realm (in a realm of its own), the sidecar and two portals (one
    whose tokens live 2 seconds) on free ports, a real SMTP peer; all gone afterwards."""
    name = f"t-portal-{secrets.token_hex(3)}"
    portal_port, short_lived_port, sidecar_port = free_port(), free_port(), free_port()
    portal_url = f"http://127.0.0.1:{portal_port}"
    short_lived_url = f"http://127.0.0.1:{short_lived_port}"
    overlay: Path = folder / "tests.yaml"
    overlay.write_text(OVERLAY)
    with smtp_peer() as (smtp_port, mail):
        try:
            apply(keycloak_admin, load(name, overlay, env={
                **SECRETS, "IDPACK_PORTAL_URL": portal_url,
                "IDPACK_SMTP_PORT": str(smtp_port), "SHORT_LIVED_PORTAL_URL": short_lived_url}))
            # The portal's flow, not the MikroCloud themes (tested on their own, and
            # still being built), is under test here: Keycloak's built-in ones.
            keycloak_admin.realm(name).update({"loginTheme": "keycloak.v2",
                                               "emailTheme": "keycloak"})
            realm = SidecarRealm(name, keycloak, keycloak_admin.realm(name))
            sidecar = create_sidecar(realm.settings(
                portal_url=portal_url, smtp_port=smtp_port, index_users=False,
                store=str(folder / "store.sqlite"),
                public_url=f"http://127.0.0.1:{sidecar_port}"))
            with serving(sidecar, sidecar_port) as sidecar_url:
                ready = PortalStack(realm, portal_url, short_lived_url, sidecar_url, mail,
                                    store=str(folder / "portal-sessions.sqlite"),
                                    sidecar_app=sidecar)
                with serving(create_portal(ready.settings()), portal_port), \
                        serving(create_portal(ready.settings(
                            portal_url=short_lived_url, client_id="portal-short-lived")),
                            short_lived_port):
                    yield ready
        finally:
            if name in keycloak_admin.realm_names():
                keycloak_admin.delete_realm(name)


class Forms(HTMLParser):
    """The forms of an HTML page: action and the inputs with their default values (and,
    apart, the names of their buttons: a button is sent only when it is the one
    pressed)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.buttons: list[set[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((attributes.get("action", ""), {}))
            self.buttons.append(set())
        elif tag == "button" and self.forms and attributes.get("name"):
            self.buttons[-1].add(attributes["name"])
        elif tag == "input" and self.forms and attributes.get("name"):
            if attributes.get("type") in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.forms[-1][1][attributes["name"]] = attributes.get("value", "")


def form_with(page: requests.Response, field: str) -> tuple[str, dict[str, str]]:
    """The page's form that has an input named `field`: its absolute action URL and
    default values (HTMLParser has already unescaped the attributes)."""
    parser = Forms()
    parser.feed(page.text)
    for action, inputs in parser.forms:
        if field in inputs:
            return urljoin(page.url, action), inputs
    raise AssertionError(f"no form with {field!r} on {page.url}:\n{page.text[:3000]}")


def button_form(page: requests.Response, button: str) -> tuple[str, dict[str, str]]:
    """The page's form with a button named `button`: its absolute action URL and its
    fields as a browser sends them when that button is pressed."""
    parser = Forms()
    parser.feed(page.text)
    for (action, inputs), buttons in zip(parser.forms, parser.buttons, strict=True):
        if button in buttons or button in inputs:
            return urljoin(page.url, action), {**inputs, button: ""}
    raise AssertionError(f"no form with a button {button!r} on {page.url}:\n{page.text[:3000]}")


def visible_text(page: requests.Response) -> str:
    """The page's text as a reader sees it: no tags, entities decoded, spaces folded."""
    body = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page.text)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


class LoopbackCookieJar(requests.cookies.RequestsCookieJar):
    """Browsers count http://127.0.0.1 as a secure context and send it Secure cookies,
    which is all Keycloak sets; Python's cookie jar sends those only over https. (A jar
    policy would not do: requests copies the cookies into a jar of its own per request.)"""

    def set_cookie(self, cookie: Cookie, *args: Any, **kwargs: Any) -> None:
        if cookie.domain in ("127.0.0.1", "localhost", "localhost.local"):
            cookie.secure = False
        super().set_cookie(cookie, *args, **kwargs)


class Browser:
    """What the tests need of a browser: cookies, redirects followed, forms submitted."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.http.cookies = LoopbackCookieJar()

    def get(self, url: str, *, follow: bool = True) -> requests.Response:
        return self.http.get(url, allow_redirects=follow, timeout=30)

    def submit(self, page: requests.Response, field: str, **values: str) -> requests.Response:
        action, inputs = form_with(page, field)
        return self.http.post(action, data=inputs | values, timeout=30)

    def sign_in(self, portal_url: str, username: str, password: str) -> requests.Response:
        login_page = self.get(f"{portal_url}/login")
        page = self.submit(login_page, "username", username=username, password=password)
        return self.second_factor(page, username)

    def second_factor(self, page: requests.Response, username: str) -> requests.Response:
        """The realm asks every password sign-in for a TOTP code: the first time, set one
        up as an authenticator app would (from the secret the page holds), later give
        the current code."""
        if "totpSecret" in page.text:
            action, inputs = form_with(page, "totpSecret")
            AUTHENTICATORS[username] = authenticator(inputs["totpSecret"])
            return self.http.post(action, timeout=30, data=inputs | {
                "totp": AUTHENTICATORS[username].now(), "userLabel": "tests"})
        if 'name="otp"' in page.text:
            return self.submit(page, "otp", otp=AUTHENTICATORS[username].now())
        return page
