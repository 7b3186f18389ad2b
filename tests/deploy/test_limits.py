"""The limits hold across replicas, because they are counted in the shared Redis: five
verification mails a minute per address over both relays, sixty short-link requests a
minute per client over both sidecars (the proxy alternates between them)."""

from __future__ import annotations

import requests

from tests.deploy.mail_client import send, verification_mail
from tests.deploy.stack import PUBLIC_URL, RELAYS, Deployment


def test_five_verification_mails_a_minute_per_address_across_both_relays(
        deployment: Deployment) -> None:
    recipient = "limited@example.org"
    ports = [RELAYS["relay-1"], RELAYS["relay-2"]] * 3
    answers = [send(port, recipient, verification_mail(recipient)) for port in ports]
    assert [code for code, _ in answers] == [250, 250, 250, 250, 250, 450], answers
    assert f"Too many mails to <{recipient}>: at most 5 a minute" in answers[-1][1]


def test_sixty_short_link_requests_a_minute_per_client_across_both_sidecars(
        deployment: Deployment, public: requests.Session) -> None:
    # The client's address as the balancer in front says it (the proxy believes it from
    # loopback, see the fixture); another client is not limited by this one.
    client = {"X-Forwarded-For": "198.51.100.60"}
    codes = [public.get(f"{PUBLIC_URL}/s/no-such-code-{n}", headers=client,
                        allow_redirects=False, timeout=10).status_code for n in range(61)]
    assert codes[:60] == [404] * 60
    assert codes[60] == 429
    other = public.get(f"{PUBLIC_URL}/s/no-such-code", allow_redirects=False, timeout=10,
                       headers={"X-Forwarded-For": "198.51.100.61"})
    assert other.status_code == 404
