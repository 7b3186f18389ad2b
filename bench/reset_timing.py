"""How much longer "Forgot password?" takes for an address that has an account.

Keycloak mails the reset link while the browser waits (keycloak/keycloak#26625), so a
known username answers later than an unknown one, which sends nothing: the difference
tells who has an account. This measures the page's POST for known and unknown
usernames, interleaved, with the realm mailing through idpack's relay (links
shortened, DKIM-signed, spooled with fsync) as `make run` does. The baseline, in the
same run, is the unknown username; the ratio is known / unknown (medians).

    .venv/bin/python bench/reset_timing.py [--rounds 20]

Starts its own Keycloak, or uses KEYCLOAK_URL (with KEYCLOAK_ADMIN and
KEYCLOAK_ADMIN_PASSWORD).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from idpack.keycloak.admin import KeycloakAdminClient
from tests.security.hosted import link, start
from tests.support.keycloak import keycloak_for_tests
from tests.support.portal import Browser, form_with
from tests.support.realm import SECRETS, apply, load
from tests.support.relay import running_relay

REALM = "bench-reset"


def reset_post_seconds(keycloak_url: str, username: str) -> float:
    """The POST of the "Forgot password?" form, from a fresh browser."""
    browser = Browser()
    reset = link(start(browser, keycloak_url, REALM), r"/login-actions/reset-credentials")
    assert reset is not None
    action, inputs = form_with(browser.get(reset), "username")
    started = time.perf_counter()
    answer = browser.http.post(action, data=inputs | {"username": username}, timeout=30)
    took = time.perf_counter() - started
    assert answer.status_code == 200, answer.status_code
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder, \
            keycloak_for_tests(Path(folder) / "keycloak") as keycloak, \
            running_relay(Path(folder) / "relay") as relay:
        admin = KeycloakAdminClient.connect(keycloak)
        if REALM in admin.realm_names():
            admin.delete_realm(REALM)
        apply(admin, load(REALM, env={**SECRETS, "IDPACK_SMTP_PORT": str(relay.settings.port)}))
        try:
            api = admin.realm(REALM)
            known = []
            for _ in range(rounds + 2):  # one mail each: well inside the relay's caps
                name = f"known-{secrets.token_hex(4)}"
                api.create_user({"username": name, "email": f"{name}@example.org",
                                 "emailVerified": True, "enabled": True,
                                 "firstName": "Known", "lastName": "User"})
                known.append(name)
            for warm in known[:2]:  # the first requests warm Keycloak's caches up
                reset_post_seconds(keycloak.url, warm)
                reset_post_seconds(keycloak.url, f"nobody-{secrets.token_hex(4)}")
            times: dict[str, list[float]] = {"known": [], "unknown": []}
            for name in known[2:]:
                times["known"].append(reset_post_seconds(keycloak.url, name))
                times["unknown"].append(
                    reset_post_seconds(keycloak.url, f"nobody-{secrets.token_hex(4)}"))
        finally:
            admin.delete_realm(REALM)
    medians = {kind: statistics.median(values) * 1000 for kind, values in times.items()}
    print(f"Forgot password? POST, median of {rounds}: known username "
          f"{medians['known']:.1f} ms, unknown {medians['unknown']:.1f} ms "
          f"(baseline); known / unknown = {medians['known'] / medians['unknown']:.2f}x")


if __name__ == "__main__":
    main()
