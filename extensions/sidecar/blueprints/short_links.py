"""MikroCloud short links, `GET /s/<code>`: the relay stores each e-mailed action link
under a random code (idpack.store.short_links); here a browser follows it. 302 to the stored
target while it is valid, a page saying so when it has expired (410) or never existed
(404); at most 60 requests a minute per client address (429). Only targets on the
configured hosts are followed, so the store can never be made an open redirect.

One kind of link asks first: Keycloak's "Update email" link changes the address as soon
as it is fetched, and mail scanners fetch links on delivery. Its short link shows a page
naming the account and the new address, and only the page's button (a POST) leads on to
Keycloak."""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from extensions.sidecar.context import directory, settings, store
from extensions.sidecar.pages import Form, page
from extensions.sidecar.rpc import rpc
from idpack.keycloak.errors import KeycloakRequestError, KeycloakUnavailable
from idpack.store import StoreUnavailable
from idpack.store.short_links import ShortLinkRecord, ShortLinkStore

blueprint = Blueprint("short_links", __name__)
log = logging.getLogger("idpack.sidecar.short_links")
LIMIT, WINDOW = 60, 60.0  # requests per client address
CODE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # secrets.token_urlsafe: 96 bits or more
UPDATE_EMAIL = "update-email"  # Keycloak's action token type for a changed address


def _not_found() -> WerkzeugResponse:
    return page(404, "This link is not valid",
                "Check that you opened the whole link from the email. Links that are "
                "a long time past their expiry are removed.",
                action=(settings().portal_url, "Go to MikroCloud"))


@blueprint.errorhandler(StoreUnavailable)
def store_away(error: StoreUnavailable) -> WerkzeugResponse:
    """Redis is away (restarting, failing over): the link is not lost, only out of
    reach for a moment; the page says so rather than "not found"."""
    log.warning("short link not followed: %s", error)
    return page(503, "Please try again in a minute",
                "MikroCloud cannot open this link right now. Nothing is wrong with it: "
                "try again in a minute, and it will take you on.",
                headers={"Retry-After": "30"})


def _followable(code: str) -> ShortLinkRecord | WerkzeugResponse:
    """The link behind the code, or the page that says why it is not followed."""
    verdict = store().hit(f"short-link:{request.remote_addr}", WINDOW, LIMIT)
    if not verdict.allowed:
        wait = max(1, round(verdict.retry_after))
        return page(429, "Too many requests",
                    f"Please wait {wait} seconds and open the link again.",
                    headers={"Retry-After": str(wait)})
    if not CODE.match(code):
        return _not_found()
    link = ShortLinkStore(store()).get(code)
    if link is None:
        return _not_found()
    if urlsplit(link.target).hostname not in settings().short_link_hosts:
        log.warning("short link %s points outside the allowed hosts; not followed", code)
        return _not_found()
    if link.expired:
        return page(410, "This link has expired",
                    "Verification links work for 24 hours. Sign in to MikroCloud and "
                    "choose “Resend Verification Email” to get a new one.",
                    action=(settings().portal_url, "Sign in to request a new email"))
    return link


@rpc(blueprint, "followShortLink", "GET", "/s/<code>", roles=None, redirect=True)
def follow(code: str) -> WerkzeugResponse:
    """Follow an e-mailed short link to its target (HTML pages, not JSON)."""
    link = _followable(code)
    if not isinstance(link, ShortLinkRecord):
        return link
    claims = _action_token(link.target)
    if claims.get("typ") == UPDATE_EMAIL:
        return _confirm_page(code, link.target, claims)
    return _onwards(link.target, 302)


@rpc(blueprint, "confirmShortLink", "POST", "/s/<code>", roles=None, redirect=True)
def confirm(code: str) -> WerkzeugResponse:
    """Go on to a short link's target once its page's button was pressed."""
    link = _followable(code)
    if not isinstance(link, ShortLinkRecord):
        return link
    return _onwards(link.target, 303)


def _onwards(target: str, status: int) -> WerkzeugResponse:
    response = redirect(target, code=status)
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    return response


def _confirm_page(code: str, target: str, claims: dict[str, Any]) -> WerkzeugResponse:
    new_email = str(claims.get("newEmail") or "")
    account = _username(str(claims.get("sub") or "")) or str(claims.get("oldEmail") or "")
    return page(200, "Change your MikroCloud email address?",
                f"Account: {account}", f"New email address: {new_email}",
                "Nothing changes until you press the button. If you did not ask for this, "
                "close this page.",
                form=Form(f"/s/{code}", "Use this email address"), form_targets=[target])


def _username(user_id: str) -> str | None:
    if not user_id:
        return None
    try:
        return str(directory().api.user(user_id)["username"])
    except (KeycloakRequestError, KeycloakUnavailable, ValueError, KeyError):
        return None


def _action_token(url: str) -> dict[str, Any]:
    """The claims of the action token (a JWT in `key=`) the link carries, unverified:
    only to choose a page; Keycloak checks the token when the browser brings it."""
    token = (parse_qs(urlsplit(url).query).get("key") or [""])[0]
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}
