"""`GET /s/<code>`: the relay's short links, followed in a browser. Run on both store
backends, the SQLite file and a real Redis, as the relay and sidecar share either."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar.app import create_app
from extensions.sidecar.context import STORE
from idpack.store import Store
from idpack.store.short_links import NAMESPACE, ShortLinkRecord
from mail.links import LinkRewriter, ShortLink
from tests.support.redis_server import running_redis
from tests.support.sidecar import SidecarRealm

ACTION = "http://127.0.0.1:8080/realms/mikrocloud/login-actions/action-token?key=abc"


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def links_app(request: pytest.FixtureRequest, sidecar_realm: SidecarRealm,
              tmp_path_factory: pytest.TempPathFactory) -> Flask:
    location = (str(tmp_path_factory.mktemp("links") / "store.sqlite")
                if request.param == "sqlite" else request.getfixturevalue("redis_url"))
    return create_app(sidecar_realm.settings(store=location, index_users=False,
                                             short_link_hosts=frozenset({"127.0.0.1"})))


def browser(app: Flask) -> FlaskClient:
    """A client from an address of its own, so rate-limit windows do not mix: one of
    2^32 in the documentation range (of 250, two clients of one run met in a window)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"
    return client


def link_record(link: ShortLink) -> ShortLinkRecord:
    return ShortLinkRecord(link.code, link.target, link.expires)


def store_of(app: Flask) -> Store:
    found: Store = app.extensions[STORE]
    return found


def test_a_link_the_relay_stored_redirects_to_its_target(links_app: Flask) -> None:
    rewriter = LinkRewriter(store_of(links_app), "https://mkcld.link", frozenset({"127.0.0.1"}))
    mail = (b"From: no-reply@mikrocloud.com\r\nContent-Type: text/plain\r\n\r\n"
            + f"Verify: {ACTION}\r\n".encode())
    _, [link] = rewriter.rewrite(mail)

    response = browser(links_app).get(f"/s/{link.code}")

    assert response.status_code == 302
    assert response.headers["Location"] == ACTION
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_an_unknown_or_malformed_code_is_a_404_page(links_app: Flask) -> None:
    client = browser(links_app)
    for code in (secrets.token_urlsafe(12), "short", "not*a*code*at*all", "x" * 100):
        response = client.get(f"/s/{code}")
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "This link is not valid" in response.text


def test_an_expired_link_is_a_410_page_that_says_what_to_do(links_app: Flask) -> None:
    code = secrets.token_urlsafe(12)
    store_of(links_app).put(NAMESPACE, code, {"target": ACTION, "expires": time.time() - 5},
                            ttl=600)

    response = browser(links_app).get(f"/s/{code}")

    assert response.status_code == 410
    assert "This link has expired" in response.text
    assert "Resend Verification Email" in response.text
    assert "Location" not in response.headers


def test_only_targets_on_allowed_hosts_are_followed(links_app: Flask) -> None:
    code = secrets.token_urlsafe(12)  # as if someone wrote into the store directly
    store_of(links_app).put(NAMESPACE, code, {"target": "https://evil.example/phish",
                                              "expires": time.time() + 600}, ttl=600)

    response = browser(links_app).get(f"/s/{code}")

    assert response.status_code == 404
    assert "Location" not in response.headers


def test_sixty_requests_a_minute_per_address_then_429(links_app: Flask) -> None:
    client = browser(links_app)
    statuses = [client.get(f"/s/{secrets.token_urlsafe(12)}").status_code for _ in range(61)]

    assert statuses[:60] == [404] * 60
    assert statuses[60] == 429
    limited = client.get("/s/anything-at-all-here")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert browser(links_app).get(f"/s/{secrets.token_urlsafe(12)}").status_code == 404


def test_the_relay_keeps_expired_links_long_enough_to_say_so(tmp_path: Path) -> None:
    from idpack.store import open_store

    store = open_store(str(tmp_path / "s.sqlite"))
    rewriter = LinkRewriter(store, "https://mkcld.link", frozenset({"127.0.0.1"}),
                            default_ttl=0.5)
    _, [link] = rewriter.rewrite(b"From: a@mikrocloud.com\r\n\r\n" + ACTION.encode() + b"\r\n")
    time.sleep(0.6)

    kept = store.get(NAMESPACE, link.code)
    assert kept is not None
    assert kept["expires"] < time.time()


def test_while_redis_is_away_a_link_is_a_503_page_that_says_to_retry(
        sidecar_realm: SidecarRealm, tmp_path: Path) -> None:
    with running_redis(tmp_path) as redis:
        app = create_app(sidecar_realm.settings(store=redis.url, index_users=False,
                                                short_link_hosts=frozenset({"127.0.0.1"})))
        rewriter = LinkRewriter(store_of(app), "https://mkcld.link", frozenset({"127.0.0.1"}))
        _, [link] = rewriter.rewrite(b"From: no-reply@mikrocloud.com\r\n"
                                     b"Content-Type: text/plain\r\n\r\n"
                                     + f"Verify: {ACTION}\r\n".encode())
        redis.stop()

        away = browser(app).get(f"/s/{link.code}")
        ready = app.test_client().get("/readyz")
        redis.start()
        rewriter.short_links.save(link_record(link))  # a Redis without persistence
        back = browser(app).get(f"/s/{link.code}")

    assert away.status_code == 503
    assert away.mimetype == "text/html"
    assert away.headers["Retry-After"] == "30"
    assert "try again" in away.get_data(as_text=True).lower()
    assert (ready.status_code, ready.json) == (503, {
        "why": "Shared store unavailable", "errorCode": "STORE_UNAVAILABLE"})
    assert back.status_code == 302
