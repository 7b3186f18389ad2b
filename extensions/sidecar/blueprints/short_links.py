"""MikroCloud short links, `GET /s/<code>`: the relay stores each e-mailed action link
under a random code (idpack.store.short_links); here a browser follows it. 302 to the stored
target while it is valid, a page saying so when it has expired (410) or never existed
(404); at most 60 requests a minute per client address (429). Only targets on the
configured hosts are followed, so the store can never be made an open redirect."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from extensions.sidecar.context import settings, store
from extensions.sidecar.rpc import rpc
from idpack.store import StoreUnavailable
from idpack.store.short_links import ShortLinkStore

blueprint = Blueprint("short_links", __name__)
log = logging.getLogger("idpack.sidecar.short_links")
LIMIT, WINDOW = 60, 60.0  # requests per client address
CODE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # secrets.token_urlsafe: 96 bits or more


def _page(status: int, title: str, *lines: str, action: tuple[str, str] | None = None,
          headers: dict[str, str] | None = None) -> Response:
    body = render_template("short_link.html", title=title, lines=lines,
                           action_url=action[0] if action else None,
                           action_text=action[1] if action else None)
    response = Response(body, status=status, mimetype="text/html")
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                             **(headers or {})})
    return response


def _not_found() -> Response:
    return _page(404, "This link is not valid",
                 "Check that you opened the whole link from the email. Links that are "
                 "a long time past their expiry are removed.",
                 action=(settings().portal_url, "Go to MikroCloud"))


@blueprint.errorhandler(StoreUnavailable)
def store_away(error: StoreUnavailable) -> Response:
    """Redis is away (restarting, failing over): the link is not lost, only out of
    reach for a moment; the page says so rather than "not found"."""
    log.warning("short link not followed: %s", error)
    return _page(503, "Please try again in a minute",
                 "MikroCloud cannot open this link right now. Nothing is wrong with it: "
                 "try again in a minute, and it will take you on.",
                 headers={"Retry-After": "30"})


@rpc(blueprint, "followShortLink", "GET", "/s/<code>", roles=None, redirect=True)
def follow(code: str) -> WerkzeugResponse:
    """Follow an e-mailed short link to its target (HTML pages, not JSON)."""
    verdict = store().hit(f"short-link:{request.remote_addr}", WINDOW, LIMIT)
    if not verdict.allowed:
        wait = max(1, round(verdict.retry_after))
        return _page(429, "Too many requests",
                     f"Please wait {wait} seconds and open the link again.",
                     headers={"Retry-After": str(wait)})
    if not CODE.match(code):
        return _not_found()
    link = ShortLinkStore(store()).get(code)
    if link is None:
        return _not_found()
    target = link.target
    if urlsplit(target).hostname not in settings().short_link_hosts:
        log.warning("short link %s points outside the allowed hosts; not followed", code)
        return _not_found()
    if link.expired:
        return _page(410, "This link has expired",
                     "Verification links work for 24 hours. Sign in to MikroCloud and "
                     "choose “Resend Verification Email” to get a new one.",
                     action=(settings().portal_url, "Sign in to request a new email"))
    response = redirect(target, code=302)
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    return response
