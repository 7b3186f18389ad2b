"""Parts of the production stack fail; nothing the users or the services asked for does.

- A sidecar replica stops under a stream of lookupUsers calls through the proxy.
- Redis goes away: a registration still mails the user, links and health say so, and
  the sidecars and the relays carry on without being restarted.
- A relay is killed with mail in its spool: restarted, it delivers all of it.
(A Keycloak node going down mid-registration is test_journey's.)"""

from __future__ import annotations

import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from playwright.sync_api import Browser, expect

from tests.deploy.mail_client import mail, send
from tests.deploy.stack import (
    DANISH_ADDRESS,
    PUBLIC_URL,
    REALM,
    RELAYS,
    SIDECARS,
    Deployment,
    accept_the_licence,
    answers,
    wait_for,
)
from tests.support.registration import CODE_CHALLENGE


def service_token(deployment: Deployment, session: requests.Session) -> str:
    response = session.post(f"{PUBLIC_URL}/realms/{REALM}/protocol/openid-connect/token",
                            data={"grant_type": "client_credentials",
                                  "client_id": "example-service",
                                  "client_secret": deployment.secret(
                                      "example_service_client_secret")}, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_a_sidecar_replica_stops_under_a_stream_of_lookups(
        deployment: Deployment, public: requests.Session) -> None:
    token = service_token(deployment, public)
    outcomes: list[tuple[float, int | str]] = []
    lock = threading.Lock()
    stop_at, end_at = time.monotonic() + 5, time.monotonic() + 20

    def caller() -> None:
        session = deployment.public_session()
        while time.monotonic() < end_at:
            try:
                response = session.post(f"{PUBLIC_URL}/auth/users/lookup", timeout=10,
                                        headers={"Authorization": f"Bearer {token}"},
                                        json={"users": ["nobody-here", "admin"]})
                outcome: int | str = response.status_code
            except requests.RequestException as exc:
                outcome = type(exc).__name__
            with lock:
                outcomes.append((time.monotonic(), outcome))

    with ThreadPoolExecutor(4) as pool:
        calls = [pool.submit(caller) for _ in range(4)]
        time.sleep(max(0.0, stop_at - time.monotonic()))
        stopped = time.monotonic()
        deployment.stop("sidecar-1")
        for call in calls:
            call.result()
    try:
        failed = [(round(t - stopped, 2), o) for t, o in outcomes if o != 200]
        after = [o for t, o in outcomes if t > stopped]
        print(f"lookupUsers: {len(outcomes)} calls, {len(after)} after sidecar-1 stopped, "
              f"failed: {failed}")
        assert len(after) > 50
        assert failed == []
    finally:
        deployment.start("sidecar-1")
        wait_for("sidecar-1 again", lambda: answers(f"{SIDECARS['sidecar-1']}/readyz"), 60)


def started_at(deployment: Deployment, service: str) -> str:
    return deployment.podman("inspect", "--format", "{{.State.StartedAt}}",
                             deployment.container(service)).strip()


def test_while_redis_is_away_a_registration_still_mails_the_user(
        browser: Browser, deployment: Deployment, public: requests.Session) -> None:
    """Redis stops: a new user registers on Keycloak's page and still gets the
    verification mail (the relays accept it, keep its short link in their spools and
    count the limit themselves); the link answers a 503 page that says to retry, the
    sidecars' health fails; once Redis is back the link works through both sidecars.
    No sidecar or relay was restarted."""
    services = [*SIDECARS, *RELAYS]
    before = {service: started_at(deployment, service) for service in services}
    name = f"redisless-{secrets.token_hex(3)}"
    email = f"{name}@example.org"
    deployment.stop("redis")
    try:
        context = browser.new_context(ignore_https_errors=True,
                                      extra_http_headers={"X-Forwarded-For": DANISH_ADDRESS})
        page = context.new_page()
        page.goto(f"{PUBLIC_URL}/realms/{REALM}/protocol/openid-connect/registrations"
                  f"?client_id=portal&response_type=code&scope=openid"
                  f"&redirect_uri={PUBLIC_URL}/&code_challenge={CODE_CHALLENGE}"
                  "&code_challenge_method=S256")
        page.fill("input[name=firstName]", "Rita")
        page.fill("input[name=lastName]", "Dalgaard")
        page.fill("input[name=email]", email)
        if page.locator("input[name=username]").count():
            page.fill("input[name=username]", name)
        page.locator("[type=submit]").first.click()
        accept_the_licence(page)
        # Keycloak mails the link as it shows this page; the relays take it.
        expect(page.get_by_role("link", name="Resend Verification Email")).to_be_visible()
        context.close()
        wait_for(f"the verification mail to {email}",
                 lambda: any(email in r for r, _ in deployment.mail.raw), 60)
        raw = next(raw for r, raw in deployment.mail.raw if email in r)
        link = re.search(rb"https://localhost:18443/s/[A-Za-z0-9_-]+", raw)
        assert link, raw
        # Every try answers the sidecars' 503 page (a replica's 503 is the shared store's,
        # not the replica's: the proxy neither retries it nor takes the replica out).
        tries = [public.get(link.group(0).decode(), allow_redirects=False, timeout=10)
                 for _ in range(6)]
        assert [away.status_code for away in tries] == [503] * 6
        assert "try again in a minute" in tries[-1].text.lower()
        status = deployment.idpack("deploy", "status", "--no-plan")
        assert status.returncode == 1
        assert re.search(r"sidecar-1\s+running\s+unhealthy", status.stdout), status.stdout
    finally:
        deployment.start("redis")
    # The relays write the short links they kept into Redis once it answers.
    for _ in range(4):  # both sidecars (the proxy alternates between them)
        wait_for("the short link through a sidecar", lambda: public.get(
            link.group(0).decode(), allow_redirects=False, timeout=10).status_code == 302, 30)
    back = public.get(link.group(0).decode(), allow_redirects=False, timeout=10)
    assert "/login-actions/action-token?key=" in back.headers["Location"]
    assert {service: started_at(deployment, service) for service in services} == before


def test_a_relay_killed_with_mail_in_its_spool_delivers_all_of_it(
        deployment: Deployment) -> None:
    recipients = [f"spooled-{n}@example.org" for n in range(20)]
    for recipient in recipients:  # the upstream defers them: they stay in the spool
        deployment.mail.answers[recipient] = "451 4.3.0 Try again later"
    for n, recipient in enumerate(recipients):
        code, text = send(RELAYS["relay-1"], recipient,
                          mail(recipient, f"Spooled {n}", "Kept until delivered.\n"))
        assert code == 250, text
    deployment.kill("relay-1")
    deployment.mail.answers.clear()
    deployment.start("relay-1")
    wait_for("all 20 spooled mails delivered", lambda: all(
        any(recipient in r for r, _ in deployment.mail.raw) for recipient in recipients), 90)
