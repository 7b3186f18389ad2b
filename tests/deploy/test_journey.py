"""The registration journey through the proxy of the production stack, in Chromium: the
seed's registration URL, Keycloak's hosted page, the verification mail signed with both
DKIM keys at the upstream, its short link, a new password, the portal with the country
and timezone of the address the proxy forwarded. One Keycloak node is stopped between
the registration and the link: the rest of the journey runs on the other."""

from __future__ import annotations

import re
import secrets
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.parse import parse_qs, urlsplit

import requests
from playwright.sync_api import Browser, expect

from mail.dkim_keys import load as load_dkim_keys
from tests.deploy.stack import (
    DANISH_ADDRESS,
    KEYCLOAK_HEALTH,
    PUBLIC_URL,
    REALM,
    Deployment,
    accept_the_licence,
    answers,
    wait_for,
)
from tests.e2e.browser import Screenshots
from tests.support.dkim_check import opendkim_results, verifies
from tests.support.portal import LoopbackCookieJar, button_form, form_with
from tests.support.registration import CODE_CHALLENGE
from tests.support.totp import authenticator

STRONG_PASSWORD = "Blue-Kettle-42!"
NODES = {"keycloak-1": "http://127.0.0.1:18082", "keycloak-2": "http://127.0.0.1:18083"}


def mails_to(deployment: Deployment, address: str) -> list[bytes]:
    return [raw for recipients, raw in deployment.mail.raw if address in recipients]


def wait_for_mail(deployment: Deployment, address: str, seconds: float = 60) -> bytes:
    wait_for(f"a mail to {address}", lambda: bool(mails_to(deployment, address)), seconds)
    return mails_to(deployment, address)[0]


def test_the_two_keycloak_nodes_are_one_cluster(deployment: Deployment) -> None:
    """Discovery through the database (jdbc-ping): each node's view holds both."""
    for node in KEYCLOAK_HEALTH:
        log = deployment.logs(node)
        views = re.findall(r"ISPN000094: Received new cluster view .*?\((\d+)\)", log)
        assert "2" in views, f"{node} never saw a cluster of two:\n{log[-2000:]}"


def test_register_through_the_proxy_and_survive_a_keycloak_node_going_down(
        browser: Browser, deployment: Deployment) -> None:
    shots = Screenshots("deploy-journey")
    # The browser comes from Denmark: the balancer in front (the tests, on loopback) says
    # so, the proxy believes it and forwards the address; Keycloak records it.
    context = browser.new_context(ignore_https_errors=True,
                                  extra_http_headers={"X-Forwarded-For": DANISH_ADDRESS})
    page = context.new_page()
    email = f"dora-{secrets.token_hex(3)}@example.org"
    page.goto(f"{PUBLIC_URL}/authenticate/register")  # the seed's registration URL
    page.wait_for_selector("input[name=firstName]")
    assert page.url.startswith(f"{PUBLIC_URL}/realms/{REALM}/")
    shots.take(page, "registration page")
    page.fill("input[name=firstName]", "Dora")
    page.fill("input[name=lastName]", "Hansen")
    page.fill("input[name=email]", email)
    if page.locator("input[name=username]").count():
        page.fill("input[name=username]", email.split("@")[0])
    page.locator("[type=submit]").first.click()
    accept_the_licence(page)  # production's terms, before the mail goes out
    expect(page.get_by_role("link", name="Resend Verification Email")).to_be_visible()

    raw = wait_for_mail(deployment, email)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Verify Email Address"
    keys = load_dkim_keys(deployment.secrets_dir, "idpack")
    assert verifies(raw, keys) == [True, True]
    assert opendkim_results(raw, keys) == {"rsa-sha256": "pass", "ed25519-sha256": "pass"}
    body = message.get_body(preferencelist=("plain", "html"))
    assert body is not None
    found = re.search(rf"{re.escape(PUBLIC_URL)}/s/[A-Za-z0-9_-]+", str(body.get_content()))
    assert found, body.get_content()

    # One node goes down between the registration and the link.
    deployment.stop("keycloak-1")
    try:
        page.goto(found.group(0))  # the short link: the sidecar's 302 to Keycloak's link
        page.wait_for_selector("input[name=password-new]")
        page.fill("input[name=password-new]", STRONG_PASSWORD)
        page.fill("input[name=password-confirm]", STRONG_PASSWORD)
        page.locator("[type=submit]").first.click()
        page.wait_for_url(re.compile(re.escape(PUBLIC_URL) + r"/?(\?.*)?$"))
        deadline = time.monotonic() + 30
        while "Europe/Copenhagen" not in page.content():
            assert time.monotonic() < deadline, page.content()
            time.sleep(1)
            page.reload()
        expect(page.get_by_text(email)).to_be_visible()
        expect(page.get_by_text("DK", exact=True)).to_be_visible()
        shots.take(page, "portal with one keycloak node")
    finally:
        deployment.start("keycloak-1")
        wait_for("keycloak-1 again", lambda: answers(KEYCLOAK_HEALTH["keycloak-1"]), 180)
    context.close()


def test_a_login_begun_on_one_node_finishes_on_the_other(deployment: Deployment) -> None:
    """Sign-in by hand, each step sent to a node chosen here (not the proxy): the login
    page from keycloak-1, the password to keycloak-2, the terms and TOTP set-up pages
    from keycloak-1, their answers to keycloak-2, which ends with the code for the
    portal. The login's state lives in the cluster's distributed caches, not in one
    node."""
    api = deployment.admin().realm(REALM)
    name = f"cross-{secrets.token_hex(3)}"
    user_id = api.create_user({"username": name, "email": f"{name}@example.org",
                               "emailVerified": True, "enabled": True,
                               "firstName": "Cross", "lastName": "Node"})
    api.reset_password(user_id, STRONG_PASSWORD)
    session = requests.Session()
    session.trust_env = False
    session.cookies = LoopbackCookieJar()  # Keycloak's cookies are Secure; hops are HTTP

    def on(node: str, url: str) -> str:
        """The public URL Keycloak writes into its forms, sent to one node instead."""
        return url.replace(PUBLIC_URL, NODES[node])

    page = session.get(f"{NODES['keycloak-1']}/realms/{REALM}/protocol/openid-connect/auth",
                       params={"client_id": "portal", "response_type": "code",
                               "scope": "openid", "redirect_uri": f"{PUBLIC_URL}/",
                               "code_challenge": CODE_CHALLENGE,
                               "code_challenge_method": "S256"}, timeout=10)
    assert page.status_code == 200, page.text[:500]
    action, _ = form_with(page, "password")
    answer = session.post(on("keycloak-2", action), allow_redirects=False, timeout=10,
                          data={"username": name, "password": STRONG_PASSWORD})
    # keycloak-2 knows the login keycloak-1 began: it goes on to what is left, each page
    # fetched from keycloak-1 (through Keycloak's redirects) and answered to keycloak-2:
    # production's service licence (Keycloak's terms page) and the TOTP set-up.
    done, answered = answer, []
    for _ in range(8):
        if done.status_code == 302:
            if not done.headers["Location"].startswith(f"{PUBLIC_URL}/realms/"):
                break  # back to the portal
            done = session.get(on("keycloak-1", done.headers["Location"]),
                               allow_redirects=False, timeout=10)
            continue
        assert done.status_code == 200, done.text[:1000]
        if "totpSecret" in done.text:
            action, inputs = form_with(done, "totpSecret")
            inputs |= {"totp": authenticator(inputs["totpSecret"]).now(), "userLabel": "tests"}
            answered.append("totp")
        else:
            action, inputs = button_form(done, "accept")
            answered.append("terms")
        done = session.post(on("keycloak-2", action), allow_redirects=False, timeout=10,
                            data=inputs)
    assert sorted(answered) == ["terms", "totp"], answered
    location = done.headers["Location"]
    assert location.startswith(f"{PUBLIC_URL}/")
    assert "code" in parse_qs(urlsplit(location).query)
