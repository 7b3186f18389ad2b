"""Parts of the production stack fail; nothing the users or the services asked for does.

- A sidecar replica stops under a stream of lookupUsers calls through the proxy.
- Redis restarts: the sidecars and the relays carry on without being restarted.
- A relay is killed with mail in its spool: restarted, it delivers all of it.
(A Keycloak node going down mid-registration is test_journey's.)"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.deploy.mail_client import mail, send, verification_mail
from tests.deploy.stack import (
    PUBLIC_URL,
    REALM,
    RELAYS,
    SIDECARS,
    Deployment,
    answers,
    wait_for,
)


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


def test_redis_restarts_and_the_services_carry_on(
        deployment: Deployment, public: requests.Session) -> None:
    services = [*SIDECARS, *RELAYS]
    before = {service: started_at(deployment, service) for service in services}
    deployment.stop("redis")
    deployment.start("redis")
    recipient = "after-redis@example.org"

    # The relays use Redis for each verification mail (the per-address limit) and for its
    # short link; until they reach it again they defer (4xx), then accept.
    def accepted() -> bool:
        return send(12500, recipient, verification_mail(recipient))[0] == 250

    wait_for("a verification mail accepted after Redis restarted", accepted, 60)
    wait_for("its delivery", lambda: any(recipient in r for r, _ in deployment.mail.raw), 30)
    raw = next(raw for r, raw in deployment.mail.raw if recipient in r)
    link = re.search(rb"https://localhost:18443/s/[A-Za-z0-9_-]+", raw)
    assert link, raw
    # Both sidecars (the proxy alternates between them) read the link from Redis.
    for _ in range(4):
        response = public.get(link.group(0).decode(), allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        assert "/login-actions/action-token?key=" in response.headers["Location"]
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
