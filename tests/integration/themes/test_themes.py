"""The MikroCloud login and email themes (extensions/themes/mikrocloud) as a user meets
them: Keycloak's hosted registration, verify-email and choose-password pages, fetched
over plain HTTP as a browser would (no JavaScript), and the verification mail Keycloak
sends to a real SMTP peer. The realm is realm-config/mikrocloud.yaml under a fresh name.

With email verification on, Keycloak 26.7 asks for the password only after the email
link was opened (the registration form has no password fields), so the password rules
are met on the choose-password page that follows the link."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from provisioning.kinds.required_actions import REQUIRED_ACTIONS
from tests.support.portal import form_with
from tests.support.realm import SECRETS, apply, load
from tests.support.smtp_peer import Received, smtp_peer
from tests.support.totp import authenticator

PORTAL_CALLBACK = "http://127.0.0.1:3000/callback"  # within the portal's redirect URIs
GOOD_PASSWORD = "Cloudy-Pa55word"
# Each breaks exactly one rule of the realm's policy: Keycloak reports one rule at a time.
WEAK_PASSWORDS = {
    "Cl0udy!": "Your password is too short. Use at least 8 characters.",
    "cloudy-pa55": "Your password needs an upper case letter (A-Z). Use at least 1.",
    "CLOUDY-PA55": "Your password needs a lower case letter (a-z). Use at least 1.",
    "Cloudy-pass": "Your password needs a digit (0-9). Use at least 1.",
    "CloudyPa55": "Your password needs a special character, such as ! # % or @. "
                  "Use at least 1.",
}
PROFILE_DETAILS = ("country", "timezone", "organizationFullName", "department",
                   "researchField", "position")


class LoopbackSession(requests.Session):
    """A browser's cookies for a Keycloak on http://127.0.0.1. Keycloak marks its session
    cookies Secure even over HTTP; browsers still send them to loopback (a secure
    context) but requests does not, so the flag is dropped once a response is in."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        for cookie in self.cookies:
            cookie.secure = False
        return response


@dataclass
class Page:
    """What the tests read from one hosted page."""
    status: int
    html: str
    title: str = ""
    header: str = ""  # the h1, e.g. "Create your MikroCloud account"
    forms: dict[str, str] = field(default_factory=dict)  # form id -> action URL
    links: dict[str, str] = field(default_factory=dict)  # link text -> href
    inputs: list[str] = field(default_factory=list)  # names of the visible inputs
    feedback: list[str] = field(default_factory=list)  # field errors and alerts
    styles: list[str] = field(default_factory=list)  # style sheet URLs


class _PageParser(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.open: list[tuple[str, str, int, list[str], dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for index, (kind, name, depth, text, attributes) in enumerate(self.open):
            if name == tag:
                self.open[index] = (kind, name, depth + 1, text, attributes)
        if tag == "form" and a.get("id"):
            self.page.forms[a["id"]] = a.get("action", "")
        elif tag == "input" and a.get("name") and a.get("type") not in ("hidden", "submit"):
            self.page.inputs.append(a["name"])
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.page.styles.append(a.get("href", ""))
        kind = ("title" if tag == "title" else
                "header" if a.get("id") == "kc-page-title" else
                "link" if tag == "a" else
                "feedback" if "kc-feedback-text" in a.get("class", "").split() else "")
        if kind:
            self.open.append((kind, tag, 1, [], a))

    def handle_endtag(self, tag: str) -> None:
        for index in reversed(range(len(self.open))):
            kind, name, depth, text, attributes = self.open[index]
            if name != tag:
                continue
            if depth > 1:
                self.open[index] = (kind, name, depth - 1, text, attributes)
                continue
            del self.open[index]
            words = " ".join("".join(text).split())
            if kind == "title":
                self.page.title = words
            elif kind == "header":
                self.page.header = words
            elif kind == "link":
                self.page.links[words] = attributes.get("href", "")
            elif words:
                self.page.feedback.append(words)

    def handle_data(self, data: str) -> None:
        for _kind, _name, _depth, text, _attributes in self.open:
            text.append(data)


def read_page(response: requests.Response) -> Page:
    page = Page(response.status_code, response.text)
    parser = _PageParser(page)
    parser.feed(response.text)
    parser.close()
    return page


def registration_url(keycloak: KeycloakTarget, realm: str) -> str:
    """The portal's link to the hosted registration page (with PKCE, as the portal
    client requires)."""
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(secrets.token_urlsafe(48).encode()).digest()).rstrip(b"=").decode()
    request = requests.Request("GET", f"{keycloak.url}/realms/{realm}/protocol/openid-connect"
                               "/registrations", params={
                                   "client_id": "portal", "response_type": "code",
                                   "scope": "openid", "redirect_uri": PORTAL_CALLBACK,
                                   "code_challenge": challenge,
                                   "code_challenge_method": "S256"})
    url = request.prepare().url
    assert url is not None
    return url


def mails_to(received: Received, address: str, count: int,
             timeout: float = 30) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while len(received.to(address)) < count:
        assert time.monotonic() < deadline, f"{count} mail(s) to {address} did not arrive"
        time.sleep(0.1)
    return received.to(address)


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"the mail has no text/{subtype} part"
    assert part.get_content_subtype() == subtype
    content: str = part.get_content()
    return content


def verification_link(message: EmailMessage, keycloak: KeycloakTarget) -> str:
    """Check the MikroCloud verification mail and return its link."""
    assert message["Subject"] == "Verify Email Address"
    assert message["From"].addresses[0].addr_spec == "no-reply@mikrocloud.com"
    text, markup = body(message, "plain"), body(message, "html")

    # The text body: the link alone on its line, for the relay to replace.
    [link] = [line for line in text.splitlines() if "/login-actions/action-token?" in line]
    assert link.startswith(f"{keycloak.url}/realms/")
    assert " " not in link
    assert "MikroCloud" in text
    assert "The link expires after 24 hours." in text

    # The HTML body: the same link is the whole href, on a line of its own.
    [line] = [line for line in markup.splitlines() if "/login-actions/action-token?" in line]
    assert line.startswith("<a ")
    assert line.endswith("</a>")
    assert [html.unescape(href) for href in re.findall(r'href="([^"]*)"', markup)] == [link]
    assert "Welcome to MikroCloud!" in markup
    assert "The link expires after 24 hours." in markup
    return link


def test_registration_verification_mail_and_password_pages_are_mikrocloud(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        fresh_realm_name: str) -> None:
    with smtp_peer() as (port, received):
        loaded = load(fresh_realm_name, env={**SECRETS, "IDPACK_SMTP_PORT": str(port)})
        apply(keycloak_admin, loaded)
        browser = LoopbackSession()

        # The registration page: MikroCloud's name, style sheet and logo.
        page = read_page(browser.get(registration_url(keycloak, fresh_realm_name)))
        assert page.status == 200
        assert page.header == "Create your MikroCloud account"
        assert page.title == "Sign in to MikroCloud"
        assert '<span class="mc-brand">Mikro<strong>Cloud</strong></span>' in page.html
        [style] = [s for s in page.styles if s.endswith("/login/mikrocloud/css/mikrocloud.css")]
        css = browser.get(urljoin(keycloak.url, style))
        assert css.status_code == 200
        assert "mikrocloud-logo.svg" in css.text
        logo = browser.get(urljoin(css.url, "../img/mikrocloud-logo.svg"))
        assert logo.status_code == 200
        assert logo.headers["Content-Type"].startswith("image/svg+xml")
        assert page.inputs[:4] == ["username", "email", "firstName", "lastName"]
        assert "password" not in page.inputs  # chosen after the email link, see above

        # Registering leads to the verify-email page and its resend link.
        username = f"kim-{secrets.token_hex(3)}"
        address = f"{username}@example.org"
        page = read_page(browser.post(page.forms["kc-register-form"], data={
            "username": username, "email": address, "firstName": "Kim",
            "lastName": "Theme"}))
        assert page.status == 200, (
            f"registration answered {page.status} {page.header!r} {page.feedback} (Keycloak "
            "26.7.3 fails here when VERIFY_EMAIL's emailResendCooldownSeconds is 0)")
        assert page.header == "Verify your email address"
        assert f"We sent an email to {address}" in page.html
        resend = page.links["Resend Verification Email"]
        assert "/login-actions/required-action?" in resend
        assert "execution=VERIFY_EMAIL" in resend

        [first] = mails_to(received, address, 1)
        verification_link(first, keycloak)

        # The link is Keycloak's own: opening it (after the resend cooldown) mails again.
        verify_email = REQUIRED_ACTIONS.of(loaded.config)["VERIFY_EMAIL"].config or {}
        time.sleep(float(verify_email.get("emailResendCooldownSeconds", 30)) + 0.5)
        page = read_page(browser.get(urljoin(keycloak.url, resend)))
        assert page.status == 200
        assert page.header == "Verify your email address"
        _, second = mails_to(received, address, 2)
        link = verification_link(second, keycloak)

        # The link verifies the address; then the password, with the rules in plain words.
        page = read_page(browser.get(link))
        assert page.status == 200
        assert page.header == "Choose your MikroCloud password"
        assert "Choose a password to activate your MikroCloud account." in page.feedback
        assert "Use at least 8 characters, with an upper case letter" in page.html
        assert "Your password is too short. Use at least {0} characters." in page.html  # script
        for password, message in WEAK_PASSWORDS.items():
            page = read_page(browser.post(page.forms["kc-passwd-update-form"], data={
                "password-new": password, "password-confirm": password}))
            assert page.status == 200
            assert page.feedback == [message], password
        page = read_page(browser.post(page.forms["kc-passwd-update-form"], data={
            "password-new": GOOD_PASSWORD, "password-confirm": GOOD_PASSWORD + "x"}))
        assert page.feedback == ["The two passwords are not the same."]

        done = browser.post(page.forms["kc-passwd-update-form"], data={
            "password-new": GOOD_PASSWORD, "password-confirm": GOOD_PASSWORD},
            allow_redirects=False)
        assert done.status_code == 302
        back = urlsplit(done.headers["Location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == PORTAL_CALLBACK
        assert "code" in parse_qs(back.query)
        [user] = keycloak_admin.realm(fresh_realm_name).users_by_email(address)
        assert user["emailVerified"] is True


def account_console_token(browser: requests.Session, keycloak: KeycloakTarget, realm: str,
                          username: str, password: str) -> str:
    """Sign in to the account console as a user: its authorization code flow, by hand."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    realm_url = f"{keycloak.url}/realms/{realm}"
    redirect = f"{realm_url}/account/"
    page = read_page(browser.get(f"{realm_url}/protocol/openid-connect/auth", params={
        "client_id": "account-console", "response_type": "code", "scope": "openid",
        "redirect_uri": redirect, "code_challenge": challenge,
        "code_challenge_method": "S256"}))
    assert page.header == "Sign in to MikroCloud"
    signed_in = browser.post(page.forms["kc-form-login"], allow_redirects=False,
                             data={"username": username, "password": password})
    for _ in range(5):  # Keycloak's hops up to the redirect that carries the code
        if signed_in.status_code == 200 and "totpSecret" in signed_in.text:
            # The realm asks every password sign-in for a TOTP code: set one up, as an
            # authenticator app would, from the secret the page holds.
            action, inputs = form_with(signed_in, "totpSecret")
            signed_in = browser.post(action, allow_redirects=False, data=inputs | {
                "totp": authenticator(inputs["totpSecret"]).now(), "userLabel": "tests"})
        assert signed_in.status_code == 302, signed_in.text[:2000]
        if "code" in parse_qs(urlsplit(signed_in.headers["Location"]).query):
            break
        signed_in = browser.get(urljoin(signed_in.url, signed_in.headers["Location"]),
                                allow_redirects=False)
    [code] = parse_qs(urlsplit(signed_in.headers["Location"]).query)["code"]
    tokens = requests.post(f"{realm_url}/protocol/openid-connect/token", timeout=10, data={
        "grant_type": "authorization_code", "client_id": "account-console", "code": code,
        "redirect_uri": redirect, "code_verifier": verifier}).json()
    assert "access_token" in tokens, tokens
    token: str = tokens["access_token"]
    return token


def test_profile_details_stay_off_registration_but_editable(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        fresh_realm_name: str) -> None:
    """realm-config puts the profile details behind the client scope mikrocloud-profile
    (a user-profile selector), which only the account console asks for."""
    apply(keycloak_admin, load(fresh_realm_name))
    browser = LoopbackSession()
    page = read_page(browser.get(registration_url(keycloak, fresh_realm_name)))
    assert page.inputs == ["username", "email", "firstName", "lastName"]

    # Users still see and change the details in the account console ...
    api = keycloak_admin.realm(fresh_realm_name)
    username = f"ada-{secrets.token_hex(3)}"
    user_id = api.create_user({"username": username, "email": f"{username}@example.org",
                               "firstName": "Ada", "lastName": "Profile", "enabled": True,
                               "emailVerified": True, "attributes": {"country": ["DK"]}})
    api.reset_password(user_id, GOOD_PASSWORD)
    token = account_console_token(LoopbackSession(), keycloak, fresh_realm_name, username,
                                  GOOD_PASSWORD)
    account_url = f"{keycloak.url}/realms/{fresh_realm_name}/account/"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    account = requests.get(account_url, params={"userProfileMetadata": "true"},
                           headers=headers, timeout=10).json()
    editable = {a["name"] for a in account["userProfileMetadata"]["attributes"]
                if not a.get("readOnly")}
    assert set(PROFILE_DETAILS) <= editable
    account["attributes"] = {**account.get("attributes", {}),
                             "timezone": ["Europe/Copenhagen"], "department": ["Physics"]}
    del account["userProfileMetadata"]
    assert requests.post(account_url, json=account, headers=headers,
                         timeout=10).status_code == 204

    # ... and the sidecar's Admin API keeps full access.
    api.update_user(user_id, {"attributes": {**api.user(user_id)["attributes"],
                                             "position": ["Professor"]}})
    assert {k: v for k, v in api.user(user_id)["attributes"].items()
            if k in PROFILE_DETAILS} == {"country": ["DK"], "timezone": ["Europe/Copenhagen"],
                                         "department": ["Physics"], "position": ["Professor"]}
