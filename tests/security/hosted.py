"""Keycloak's hosted pages walked the way a browser does, without one: a sign-in started
for the portal client (PKCE), the links and buttons a page offers, redirects followed up
to the portal's callback (nothing listens there: reaching it with a code means "signed
in"), and the action links Keycloak mails to the tests' SMTP peer."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from tests.support.portal import Browser, Forms, form_with
from tests.support.smtp_peer import Received
from tests.support.totp import authenticator

PORTAL_CALLBACK = "http://127.0.0.1:3000/callback"  # within the portal client's redirect URIs
NEW_PASSWORD = "Rec0vered-Pass!"
ACTION_LINK = re.compile(r"https?://[^\s\"'<>]+/login-actions/action-token\?[^\s\"'<>]+")


@dataclass
class Outcome:
    """Where a walk through the hosted pages ended: a page, or the portal's callback."""
    page: requests.Response
    code: str | None  # the authorization code the portal would redeem: signed in

    @property
    def signed_in(self) -> bool:
        return self.code is not None


def start(browser: Browser, keycloak_url: str, realm: str, **extra: str) -> requests.Response:
    """The sign-in page of the realm for the portal client, as the portal opens it."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {"client_id": "portal", "redirect_uri": PORTAL_CALLBACK, "response_type": "code",
             "scope": "openid", "state": secrets.token_urlsafe(8),
             "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    return browser.get(f"{keycloak_url}/realms/{realm}/protocol/openid-connect/auth?"
                       + urlencode(query))


def walk(browser: Browser, response: requests.Response) -> Outcome:
    """Follow redirects by hand until a page, or the portal's callback."""
    while response.is_redirect:
        target = urljoin(response.url, response.headers["Location"])
        if target.startswith(PORTAL_CALLBACK):
            codes = parse_qs(urlsplit(target).query).get("code") or []
            return Outcome(response, codes[0] if codes else None)
        response = browser.http.get(target, allow_redirects=False, timeout=30)
    return Outcome(response, None)


def post(browser: Browser, url: str, data: dict[str, str]) -> Outcome:
    return walk(browser, browser.http.post(url, data=data, allow_redirects=False, timeout=30))


def open_link(browser: Browser, url: str) -> Outcome:
    return walk(browser, browser.http.get(url, allow_redirects=False, timeout=30))


def link(page: requests.Response, pattern: str) -> str | None:
    """The absolute URL of the page's first link whose href matches `pattern`."""
    for href in re.findall(r'href="([^"]+)"', page.text):
        if re.search(pattern, html.unescape(href)):
            return urljoin(page.url, html.unescape(href))
    return None


def press(browser: Browser, page: requests.Response, **values: str) -> Outcome:
    """Submit the page's first form with `values` added (how a button's name=value is
    sent)."""
    parser = Forms()
    parser.feed(page.text)
    assert parser.forms, f"no form on {page.url}"
    action, inputs = parser.forms[0]
    return post(browser, urljoin(page.url, action), inputs | values)


def fill(browser: Browser, page: requests.Response, field: str, **values: str) -> Outcome:
    """Submit the page's form that has `field`."""
    action, inputs = form_with(page, field)
    return post(browser, action, inputs | values)


def mail_link(mail: Received, address: str, count: int, seconds: float = 15) -> str:
    """The action link of the `count`-th mail to `address` (waits for it to arrive)."""
    deadline = time.monotonic() + seconds
    while len(mail.to(address)) < count:
        assert time.monotonic() < deadline, f"mail {count} to {address} did not arrive"
        time.sleep(0.1)
    found = ACTION_LINK.search(text_of(mail.to(address)[count - 1]))
    assert found, text_of(mail.to(address)[count - 1])
    return html.unescape(found.group(0))


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    assert body is not None
    return str(body.get_content())


def forgot_password(browser: Browser, keycloak_url: str, realm: str, username: str) -> None:
    """Ask for the reset mail from the sign-in page's "Forgot password?" link."""
    login = start(browser, keycloak_url, realm)
    reset = link(login, r"/login-actions/reset-credentials")
    assert reset, "the sign-in page has no Forgot password? link"
    fill(browser, browser.get(reset), "username", username=username)


def finish_setup(browser: Browser, outcome: Outcome, password: str = NEW_PASSWORD,
                 steps: int = 4) -> Outcome:
    """Answer what Keycloak asks next while it asks for a new password or a new
    authenticator (never a code of an existing one): the user's own choices."""
    for _ in range(steps):
        page = outcome.page
        if outcome.signed_in:
            return outcome
        if 'name="password-new"' in page.text:
            outcome = fill(browser, page, "password-new", **{"password-new": password,
                                                              "password-confirm": password})
        elif "totpSecret" in page.text:
            _, inputs = form_with(page, "totpSecret")
            outcome = fill(browser, page, "totpSecret", userLabel="new phone",
                           totp=authenticator(inputs["totpSecret"]).now())
        else:
            return outcome
    return outcome
